"""Load every built page in headless Chromium and check it as a reader would see it.

    python tools/browser_check.py [--site _build/html] [--screenshots _build/screenshots]
                                  [--page 'book/01_*.html' ...]

Each page is opened in a 1280x800 window and FAILS on any of these (nothing is tolerated):

- **formulas**: after MathJax's startup promise resolves, every math node Sphinx emitted
  (``span.math``, ``div.math``) holds a typeset ``mjx-container`` and the page holds
  exactly as many containers as math nodes; no MathJax error (``mjx-merror``,
  ``[data-mjx-error]``, an ``merror`` or an undefined ``\\macro`` in the typeset MathML);
  no raw TeX left in the rendered text (``\\(``, ``\\[``, ``$$``, ``\\begin{``, or a
  ``$...$`` span holding ``\\``, ``_``, ``^`` or braces; code blocks excluded);
- **code blocks**: no ``pre`` (or its box) is wider than it is shown, i.e. scrolls
  sideways (``scrollWidth > clientWidth``), with every collapsed block opened;
- **static explorers** (``div.convlab-explorer``, see ``convlab.explore``): every frame
  (``img.convlab-frame``) is at least ``MIN_FRAME_WIDTH`` px wide at natural size, is
  shown at the column width, and carries ``data-min-font-px`` such that its smallest
  text as shown, ``data-min-font-px * shown width / natural width``, is at least
  ``MIN_TEXT_PX`` (10 pt); EVERY control of every explorer is moved with the keyboard,
  as a reader would, and the frame must change each time;
- **console**: any uncaught exception, ``console.error``/``console.assert`` or browser
  log error;
- **network**: any request to an http(s)/ws(s) URL (recorded from
  ``Network.requestWillBeSent``; such requests are also blocked, so the check is fast and
  sends nothing out), and any local file that fails to load;
- **images**: any of the page's own images that does not load and decode;
- **Chinese text** (pages with ``<html lang="zh-...">``, the Chinese edition under
  ``zh_CN/``): the article's first paragraph with Han characters is drawn with a Chinese
  font (``CSS.getPlatformFontsForNode``), not with boxes or a font without them;

and each edition's search must find pages, offline: ``search.html?q=stride`` finds a
page, and on the Chinese site ``zh_CN/search.html?q=卷积`` and ``?q=转置卷积`` list the
chapters named in ``SEARCHES`` (chapter 1 and chapter 6).
A screenshot of each page goes to ``<screenshots>/<page>.png`` and the findings to
``<screenshots>/browser_report.json``; the exit status is 1 when a page fails.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe``
(JSON messages on file descriptors 3 and 4), so this script needs only the standard
library and ``/usr/bin/chromium`` (or ``$CHROMIUM``).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import fnmatch
import json
import os
import pathlib
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote, urlsplit

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-pipe"]
WIDTH, HEIGHT = 1280, 800  # the reader's window, CSS pixels
MAX_SHOT_HEIGHT = 8000  # screenshots of taller pages are cut
SKIP_DIRS = {"_static", "_sources", "_images"}
MIN_FRAME_WIDTH = 700  # px at natural size (convlab.explore.MIN_FRAME_WIDTH)
MIN_TEXT_PX = 13.3  # 10 pt at 96 px per inch: the smallest text of a frame as shown
MATH_TIMEOUT_MS = 20000
EXTERNAL = ("http://", "https://", "ws://", "wss://")
# Each edition's search: (directory under the site, query, the page it must list or None)
SEARCHES = [
    ("", "stride", None),
    ("zh_CN", "卷积", "book/01_what_is_a_convolution.html"),  # 什么是卷积
    ("zh_CN", "转置卷积", "book/06_transposed_convolution.html"),  # chapter 6: 转置卷积
]
# families of fonts that have Chinese characters (Linux, macOS, Windows)
CHINESE_FONT = re.compile(r"CJK|Source Han|Noto (Sans|Serif) (SC|TC|HK)|PingFang|Hiragino|"
                          r"YaHei|SimSun|SimHei|WenQuanYi|Heiti|Songti|Kaiti|STHeiti|DengXian")


class Browser:
    """One headless Chromium process and a DevTools-protocol connection over pipes."""

    def __init__(self, executable: str, timeout: float = 30.0):
        self.profile = tempfile.mkdtemp(prefix="convlab-chromium-")
        to_child_r, self._to_child = os.pipe()  # we write commands -> Chromium's fd 3
        self._from_child, from_child_w = os.pipe()  # Chromium's fd 4 -> we read replies

        def wire_fds():  # runs in the child: put the pipe ends on fds 3 and 4
            # first above 9, so that neither dup2 below overwrites the other pipe end
            r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)  # dup2 makes 3 and 4 inheritable: they survive the exec
            os.dup2(w, 4)

        # close_fds=False: pass_fds=(3, 4) would need fds 3 and 4 open in this process
        # (they are not, e.g. under a plain `python`); every other fd Python opened is
        # non-inheritable and closes on exec anyway.
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=wire_fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.timeout = timeout
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and wait for its reply (events seen meanwhile go to ``events``)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(f"no reply to {method} within {self.timeout} s")

    def _read(self, timeout: float | None = None) -> dict | None:
        """The next message, or None when ``timeout`` seconds pass without one."""
        while b"\0" not in self._buffer:
            if timeout is not None and not select.select([self._from_child], [], [], timeout)[0]:
                return None
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (did it crash?)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str, session: str, timeout: float) -> bool:
        """Wait until an event ``method`` arrives for ``session`` (True) or time runs out."""
        deadline = time.monotonic() + timeout
        seen = lambda: any(e.get("method") == method and e.get("sessionId") == session
                           for e in self.events)
        while not seen() and (left := deadline - time.monotonic()) > 0:
            message = self._read(timeout=left)
            if message is not None:
                self.events.append(message)
        return seen()

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_child, self._from_child):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


def evaluate(browser: Browser, session: str, expression: str):
    """Evaluate JavaScript in the page (awaiting a returned promise); return its value."""
    result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True}, session)
    if "exceptionDetails" in result:
        raise RuntimeError(f"evaluating {expression[:60]!r}: {result['exceptionDetails']}")
    return result["result"].get("value")


# Runs in the page: wait for MathJax's startup promise, then compare what Sphinx emitted
# (math nodes) with what MathJax typeset, and look for errors and raw TeX.
MATH_JS = r"""
(async function () {
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function ready() { return window.MathJax && MathJax.startup && MathJax.startup.promise; }
  var nodes = Array.from(document.querySelectorAll("span.math, div.math")).filter(
      function (e) { return !e.parentElement || !e.parentElement.closest(".math"); });
  var result = {nodes: nodes.length, typeset: 0, mathjax: false, untypeset: [],
                errors: [], raw_tex: []};
  var loader = document.querySelector('script[src*="mathjax" i]');
  var deadline = Date.now() + (loader ? MATH_TIMEOUT : 2000);
  while ((nodes.length || loader) && !ready() && Date.now() < deadline) { await sleep(50); }
  if (ready()) {
    result.mathjax = true;
    var finished = await Promise.race([
        MathJax.startup.promise.then(function () { return true; }),
        sleep(MATH_TIMEOUT).then(function () { return false; })]);
    if (!finished) { result.errors.push("MathJax did not finish typesetting"); }
  }
  result.typeset = document.querySelectorAll("mjx-container").length;
  nodes.forEach(function (n) {
    if (!n.querySelector("mjx-container")) {
      result.untypeset.push(n.textContent.trim().slice(0, 80));
    }
  });
  document.querySelectorAll("mjx-merror, [data-mjx-error]").forEach(function (e) {
    var text = "MathJax error: " + (e.getAttribute("data-mjx-error") || e.textContent);
    if (result.errors.indexOf(text) < 0) { result.errors.push(text); }
  });
  if (result.mathjax && MathJax.startup.document && MathJax.startup.toMML) {
    for (var item of MathJax.startup.document.math) {
      var mml = MathJax.startup.toMML(item.root);
      var undefinedMacro = mml.match(/<mtext[^>]*mathcolor="red"[^>]*>(\\[^<]*)</);
      if (undefinedMacro) {
        result.errors.push("undefined " + undefinedMacro[1] + " in " + item.math.slice(0, 60));
      } else if (/<merror/.test(mml)) {
        result.errors.push("merror in " + item.math.slice(0, 60));
      }
    }
  }
  var skip = /^(SCRIPT|STYLE|PRE|CODE|TEXTAREA|NOSCRIPT|MJX-CONTAINER)$/;
  var raw = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\s][^$\n]*[\\^_{}][^$\n]*\$/;
  // a redirect page (index.html) may be between two documents: no body yet
  var walker = document.createTreeWalker(document.body || document.documentElement,
                                         NodeFilter.SHOW_TEXT, {
    acceptNode: function (t) {
      for (var e = t.parentElement; e; e = e.parentElement) {
        if (skip.test(e.tagName)) { return NodeFilter.FILTER_REJECT; }
      }
      return NodeFilter.FILTER_ACCEPT;
    }});
  for (var t = walker.nextNode(); t; t = walker.nextNode()) {
    var m = raw.exec(t.nodeValue);
    if (m) {
      var at = Math.max(0, m.index - 30);
      result.raw_tex.push(t.nodeValue.slice(at, m.index + 50).replace(/\s+/g, " ").trim());
    }
  }
  return result;
})()
""".replace("MATH_TIMEOUT", str(MATH_TIMEOUT_MS))

# Runs in the page: every code block (pre) that is wider than its box, collapsed ones opened.
OVERFLOW_JS = r"""
(function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach(function (e) {
    e.classList.remove("toggle-hidden"); });
  var found = [], hidden = 0;
  document.querySelectorAll("pre").forEach(function (pre) {
    if (!pre.getClientRects().length) { hidden += 1; return; }
    [pre, pre.parentElement].forEach(function (box) {
      if (box && box.scrollWidth > box.clientWidth + 1) {
        found.push({scroll: box.scrollWidth, client: box.clientWidth,
                    text: pre.textContent.split("\n")[0].slice(0, 60)});
      }
    });
  });
  var unique = {}, overflows = [];
  found.forEach(function (f) { if (!unique[f.text]) { unique[f.text] = 1; overflows.push(f); } });
  return {overflows: overflows, hidden: hidden, blocks: document.querySelectorAll("pre").length};
})()
"""

# Runs in the page: every explorer's frames (sizes, text size) and controls (position).
EXPLORERS_JS = """
(function () {
  function digest(text) {  // a 32-bit string hash: enough to tell two frames apart
    var h = 0;
    for (var k = 0; k < text.length; k++) { h = (h * 31 + text.charCodeAt(k)) | 0; }
    return text.length + ":" + h;
  }
  return Array.from(document.querySelectorAll("div.convlab-explorer")).map(function (root, i) {
    var column = root.closest("article") || document.body;
    var style = getComputedStyle(column);
    var columnWidth = column.clientWidth - parseFloat(style.paddingLeft)
                      - parseFloat(style.paddingRight);
    var images = Array.from(root.querySelectorAll("img.convlab-frame"));
    var frames = images.map(function (img) {
      var font = img.getAttribute("data-min-font-px");
      return {natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
              min_font_px: font === null ? null : parseFloat(font)};
    });
    var controls = Array.from(root.querySelectorAll("select[data-index], input[data-index]"))
        .map(function (c, k) {
      var select = c.tagName === "SELECT", step = +c.step || 1;
      return {index: k, kind: select ? "select" : "range",
              name: c.getAttribute("aria-label") || c.name || ("control " + k),
              values: select ? c.options.length : Math.round((+c.max - +c.min) / step) + 1,
              at: select ? c.selectedIndex : Math.round((+c.value - +c.min) / step)};
    });
    return {id: root.id, index: i, column: columnWidth, frames: frames, controls: controls,
            src: digest(images.map(function (img) { return img.src; }).join(" "))};
  });
})()
"""

# Runs in the page: the page's own images (external ones are network failures) that
# do not load and decode.
BROKEN_IMAGES_JS = """
(async function () {
  var own = Array.from(document.images).filter(function (i) {
    return !/^(https?|wss?):/.test(i.currentSrc || i.src || ""); });
  var wait = new Promise(function (r) { setTimeout(r, 10000); });
  await Promise.race([wait, Promise.all(own.map(function (i) {
    return i.decode().catch(function () {}); }))]);
  return own.filter(function (i) { return !i.complete || i.naturalWidth === 0; })
            .map(function (i) { return (i.getAttribute("src") || "").slice(0, 80); });
})()
"""


# Runs in the page: waits until explorer %d's frames are decoded (naturalWidth is final).
DECODED_JS = """
Promise.all(Array.from(document.querySelectorAll("div.convlab-explorer")[%d]
    .querySelectorAll("img.convlab-frame")).map(function (i) {
  return i.decode().catch(function () {}); })).then(function () { return true; })
"""


def _press(browser: Browser, session: str, key: str, code: int) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key,
                                                "windowsVirtualKeyCode": code}, session)


def _frame_digest(browser: Browser, session: str, index: int) -> str:
    return evaluate(browser, session, EXPLORERS_JS)[index]["src"]


def move_control(browser: Browser, session: str, explorer: dict, control: dict) -> dict:
    """Move one control a step with the keyboard (back when at its end); did the frame change?"""
    moved = {"control": control["name"], "kind": control["kind"], "ok": False, "why": ""}
    if control["values"] < 2:
        moved["why"] = "has a single value"
        return moved
    focus = (f'(function () {{ var c = document.querySelectorAll("div.convlab-explorer")'
             f'[{explorer["index"]}].querySelectorAll("select[data-index], input[data-index]")'
             f'[{control["index"]}]; c.scrollIntoView({{block: "center"}}); c.focus();'
             f' return document.activeElement === c; }})()')
    if not evaluate(browser, session, focus):
        moved["why"] = "could not be focused"
        return moved
    before = _frame_digest(browser, session, explorer["index"])
    back = control["at"] >= control["values"] - 1
    if control["kind"] == "select":
        _press(browser, session, *(("ArrowUp", 38) if back else ("ArrowDown", 40)))
    else:
        _press(browser, session, *(("ArrowLeft", 37) if back else ("ArrowRight", 39)))
    deadline = time.monotonic() + 2.0  # the swap is synchronous; allow a slow machine
    while (after := _frame_digest(browser, session, explorer["index"])) == before \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    moved["ok"] = after != before
    moved["why"] = "" if moved["ok"] else "moving it did not change the frame"
    if moved["ok"]:  # the new frame must be as legible as the first (they can differ in size)
        evaluate(browser, session, DECODED_JS % explorer["index"])
        state = evaluate(browser, session, EXPLORERS_JS)[explorer["index"]]
        moved["frames"] = state["frames"]
        moved["problems"] = [f"after moving {control['name']!r}: {p}"
                             for p in frame_problems(state)]
    return moved


def frame_problems(explorer: dict) -> list[str]:
    """What is wrong with an explorer's frames: size, width as shown, smallest text."""
    found = [] if explorer["frames"] else ["has no img.convlab-frame"]
    column = explorer["column"]
    for k, frame in enumerate(explorer["frames"]):
        natural, shown, font = frame["natural"], frame["shown"], frame["min_font_px"]
        if natural < MIN_FRAME_WIDTH:
            found.append(f"frame {k} is {natural} px wide at natural size "
                         f"(needs >= {MIN_FRAME_WIDTH} px)")
        if abs(shown - column) > 1.5:
            found.append(f"frame {k} is shown {shown:.0f} px wide; the column is "
                         f"{column:.0f} px")
        if font is None:
            found.append(f"frame {k} has no data-min-font-px (its smallest text is unknown)")
        elif natural and font * shown / natural < MIN_TEXT_PX:
            found.append(f"frame {k}'s smallest text is {font * shown / natural:.1f} px as "
                         f"shown (needs >= {MIN_TEXT_PX} px, 10 pt): {font:.1f} px at "
                         f"{natural} px natural, shown at {shown:.0f} px")
    return found


def check_explorers(browser: Browser, session: str) -> list[dict]:
    """Measure every explorer's frames, then move each of its controls in turn."""
    results = []
    for explorer in evaluate(browser, session, EXPLORERS_JS):
        problems = frame_problems(explorer)
        if not explorer["controls"]:
            problems.append("has no controls")
        moves = [move_control(browser, session, explorer, c) for c in explorer["controls"]]
        problems += [f"control {m['control']!r}: {m['why']}" for m in moves if not m["ok"]]
        problems += [p for m in moves for p in m.get("problems", []) if p not in problems]
        results.append({"id": explorer["id"], "column": round(explorer["column"], 1),
                        "frames": explorer["frames"], "controls": moves,
                        "problems": problems, "ok": not problems})
    return results


def _session_events(events: list[dict], session: str) -> list[dict]:
    return [e for e in events if e.get("sessionId") == session]


def console_errors(events: list[dict], session: str) -> list[str]:
    """Every exception, console error/assert and browser log error of the page.

    Log entries for external requests are left to ``network_problems`` (which fails
    them anyway), so that one blocked request is not reported twice.
    """
    found = []
    for event in _session_events(events, session):
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            first_line = (text.splitlines() or [""])[0]
            found.append(f"exception: {first_line} ({details.get('url', '')})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            found.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            if entry.get("source") == "network" and entry.get("url", "").startswith(EXTERNAL):
                continue
            found.append(f"log ({entry.get('source')}): {entry.get('text')} "
                         f"{entry.get('url', '')}".rstrip())
    return found


def network_problems(events: list[dict], session: str) -> tuple[list[str], list[str]]:
    """``(external URLs requested, local files that failed to load)`` by the page."""
    external, failed, urls = [], [], {}
    for event in _session_events(events, session):
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if url.startswith(EXTERNAL) and url not in external:
                external.append(url)
        elif method == "Network.webSocketCreated" and params["url"] not in external:
            external.append(params["url"])
        elif method == "Network.loadingFailed" and not params.get("blockedReason"):
            url = urls.get(params["requestId"], "?")
            if not url.startswith(EXTERNAL) and not params.get("canceled"):
                failed.append(f"{url} ({params.get('errorText', '')})")
    return external, failed


def _screenshot(browser: Browser, session: str, shot: pathlib.Path) -> None:
    evaluate(browser, session, "window.scrollTo(0, 0)")
    height = evaluate(browser, session, "document.documentElement.scrollHeight") or HEIGHT
    browser.send("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": min(int(height), MAX_SHOT_HEIGHT), "deviceScaleFactor": 1,
        "mobile": False}, session)
    png = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(base64.b64decode(png))
    browser.send("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session)


# Runs in the page: mark the article's first paragraph that holds Han characters.
MARK_CHINESE_JS = """
(function () {
  if (!/^zh/i.test(document.documentElement.lang)) { return null; }
  var found = Array.from(document.querySelectorAll("article p, article h1")).find(
      function (e) { return /[\\u4e00-\\u9fff]/.test(e.textContent); });
  if (!found) { return ""; }
  found.setAttribute("data-convlab-font-probe", "1");
  return found.textContent.trim().slice(0, 40);
})()
"""


def chinese_fonts(browser: Browser, session: str, attempts: int = 2) -> dict | None:
    """On a Chinese page, the fonts Chromium draws its first Chinese paragraph with.

    (A redirect page, index.html, can be between two documents: then it tries again.)
    """
    for attempt in range(attempts):
        try:
            return _chinese_fonts(browser, session)
        except RuntimeError as error:
            if attempt == attempts - 1:
                return {"text": "?", "fonts": [], "error": str(error)[:200]}
            time.sleep(0.5)


def _chinese_fonts(browser: Browser, session: str) -> dict | None:
    text = evaluate(browser, session, MARK_CHINESE_JS)
    if text is None:
        return None  # not a Chinese page
    if not text:
        return {"text": "", "fonts": []}
    browser.send("DOM.enable", {}, session)
    browser.send("CSS.enable", {}, session)
    root = browser.send("DOM.getDocument", {"depth": 0}, session)["root"]["nodeId"]
    node = browser.send("DOM.querySelector", {"nodeId": root,
                                              "selector": "[data-convlab-font-probe]"},
                        session)["nodeId"]
    fonts = browser.send("CSS.getPlatformFontsForNode", {"nodeId": node}, session)["fonts"]
    return {"text": text, "fonts": [{"family": f["familyName"], "glyphs": f["glyphCount"]}
                                    for f in fonts]}


def font_problems(fonts: dict | None) -> list[str]:
    """A Chinese paragraph drawn without any Chinese font (empty boxes for its characters)."""
    if not fonts or not fonts["text"]:
        return []
    if fonts.get("error"):
        return [f"could not measure the fonts of the Chinese text: {fonts['error']}"]
    if any(CHINESE_FONT.search(f["family"]) and f["glyphs"] for f in fonts["fonts"]):
        return []
    used = ", ".join(f"{f['family']} ({f['glyphs']} glyphs)" for f in fonts["fonts"])
    return [f"Chinese text {fonts['text']!r} is drawn without a Chinese font (with {used}; "
            f"install one, e.g. Debian's fonts-noto-cjk: make chromium)"]


def check_page(browser: Browser, page: pathlib.Path, shot: pathlib.Path) -> dict:
    """Open ``page`` in a fresh tab and run every check on it; return the findings."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target,
                                                     "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", {}, session)
    # External requests are recorded (and fail the page) before they are blocked here.
    browser.send("Network.setBlockedURLs", {"urls": [f"{s}*" for s in EXTERNAL]}, session)
    browser.send("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session)
    started = time.monotonic()
    browser.send("Page.navigate", {"url": page.as_uri()}, session)
    loaded = browser.wait_for("Page.loadEventFired", session, timeout=30)
    time.sleep(0.3)  # let deferred scripts run and report
    math = evaluate(browser, session, MATH_JS) if loaded else {}
    fonts = chinese_fonts(browser, session) if loaded else None
    _screenshot(browser, session, shot)
    explorers = check_explorers(browser, session) if loaded else []
    broken_images = evaluate(browser, session, BROKEN_IMAGES_JS) if loaded else []
    code = evaluate(browser, session, OVERFLOW_JS) if loaded else {}
    time.sleep(0.2)  # late console messages
    errors = console_errors(browser.events, session)
    external, failed_files = network_problems(browser.events, session)
    browser.send("Target.closeTarget", {"targetId": target})
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    return {"page": str(page), "loaded": loaded, "seconds": round(time.monotonic() - started, 2),
            "math": math, "fonts": fonts, "code": code, "explorers": explorers,
            "errors": errors,
            "external_requests": external, "failed_local_files": failed_files,
            "broken_images": broken_images, "screenshot": str(shot)}


def failures(result: dict) -> list[str]:
    """Every problem ``check_page`` found, one line each (empty: the page passes)."""
    if not result["loaded"]:
        return ["the page did not finish loading"]
    found = []
    math = result["math"]
    if math["nodes"] and not math["mathjax"]:
        found.append(f"{math['nodes']} formulas but MathJax did not start")
    if math["typeset"] != math["nodes"]:
        found.append(f"MathJax typeset {math['typeset']} formulas; Sphinx emitted "
                     f"{math['nodes']} math nodes")
    found += [f"formula not typeset: {text!r}" for text in math["untypeset"]]
    found += [f"formula error: {text}" for text in math["errors"]]
    found += [f"raw TeX in the text: {text!r}" for text in math["raw_tex"]]
    found += font_problems(result.get("fonts"))
    found += [f"code block scrolls sideways ({o['scroll']} px in {o['client']} px): "
              f"{o['text']!r}" for o in result["code"]["overflows"]]
    for explorer in result["explorers"]:
        found += [f"explorer {explorer['id']}: {p}" for p in explorer["problems"]]
    found += [f"console error: {e}" for e in result["errors"]]
    found += [f"external request: {url}" for url in result["external_requests"]]
    found += [f"local file did not load: {f}" for f in result["failed_local_files"]]
    found += [f"image did not load: {src}" for src in result["broken_images"]]
    return found


# Runs in the search page: the result links, and whether Sphinx's search has finished (it
# writes its summary, "Search finished, found N page(s)", in the page's language, at the end).
SEARCH_STATE_JS = """
(function () {
  var hrefs = Array.from(document.querySelectorAll("#search-results li a, ul.search li a"))
      .map(function (a) { return a.getAttribute("href"); });
  var done = !!(window.Search && Search.status && Search.status.innerText.trim()
                && Search._pulse_status === -1);
  return {done: done, hrefs: hrefs};
})()
"""


def check_search(browser: Browser, site: pathlib.Path, query: str = "stride",
                 edition: str = "", expected: str | None = None) -> dict:
    """Search works offline: ``<edition>/search.html?q=...`` lists pages (``expected`` among them).

    ``expected`` is a page's path relative to the edition's directory.
    """
    root = site / edition if edition else site
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target,
                                                     "flatten": True})["sessionId"]
    browser.send("Page.enable", {}, session)
    browser.send("Page.navigate", {"url": f"{(root / 'search.html').as_uri()}?q={quote(query)}"},
                 session)
    browser.wait_for("Page.loadEventFired", session, timeout=30)
    state, deadline = {}, time.monotonic() + 15
    while not state.get("done") and time.monotonic() < deadline:  # filled in one by one
        time.sleep(0.25)
        state = evaluate(browser, session, SEARCH_STATE_JS)
    found = state.get("hrefs", [])
    browser.send("Target.closeTarget", {"targetId": target})
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    pages = list(dict.fromkeys(urlsplit(href).path for href in found if href))
    return {"edition": edition or "en", "query": query, "results": len(pages),
            "pages": pages, "expected": expected,
            "failures": search_failures(query, pages, expected)}


def search_failures(query: str, pages: list[str], expected: str | None) -> list[str]:
    if not pages:
        return [f"searching {query!r} found nothing"]
    if expected and expected not in pages:
        return [f"searching {query!r} did not list {expected} (it listed {pages[:6]})"]
    return []


def site_pages(site: pathlib.Path, patterns: list[str] | None = None) -> list[pathlib.Path]:
    """The site's pages (theme assets and source copies excluded), optionally filtered."""
    pages = sorted(p for p in site.rglob("*.html")
                   if not SKIP_DIRS & set(p.relative_to(site).parts[:-1]))
    if patterns:
        pages = [p for p in pages
                 if any(fnmatch.fnmatch(p.relative_to(site).as_posix(), g) for g in patterns)]
    return pages


def _summary(result: dict) -> str:
    math, explorers = result["math"], result["explorers"]
    moved = sum(m["ok"] for x in explorers for m in x["controls"])
    controls = sum(len(x["controls"]) for x in explorers)
    return (f"{result['seconds']:.1f} s, formulas {math.get('typeset', 0)}/"
            f"{math.get('nodes', 0)}, code blocks {result['code'].get('blocks', 0)}, "
            f"explorers {sum(x['ok'] for x in explorers)}/{len(explorers)} "
            f"(controls {moved}/{controls}), console errors {len(result['errors'])}, "
            f"external requests {len(result['external_requests'])}")


def check_pages(chromium: str, site: pathlib.Path, pages: list, screenshots: pathlib.Path,
                jobs: int) -> list:
    """Every page checked (:func:`check_page`), ``jobs`` at a time, each worker with its
    own Chromium; results and printed lines in the order of ``pages``."""
    from concurrent.futures import ThreadPoolExecutor

    def worker(share: list) -> dict:
        browser = Browser(chromium)
        done = {}
        try:
            browser.send("Target.setDiscoverTargets", {"discover": False})
            for page in share:
                shot = (screenshots / page.relative_to(site)).with_suffix(".png")
                result = check_page(browser, page, shot)
                result["failures"] = failures(result)
                done[page] = result
        finally:
            browser.close()
        return done

    shares = [pages[k::jobs] for k in range(jobs)]  # round robin: similar pages spread out
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        checked = {}
        for done in pool.map(worker, [share for share in shares if share]):
            checked.update(done)
    results = []
    for page in pages:
        result = checked[page]
        results.append(result)
        status = "ok" if not result["failures"] else "FAIL"
        print(f"{status:4} {page.relative_to(site)}  {_summary(result)}")
        for problem in result["failures"]:
            print(f"     - {problem}")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshots", type=pathlib.Path,
                        default=ROOT / "_build" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--page", action="append", metavar="GLOB",
                        help="check only pages matching GLOB (relative to --site; repeatable)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="pages checked at once, one Chromium each (default: 2 or the "
                             "number of CPUs)")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    pages = site_pages(site, args.page)
    if not pages:
        print(f"no pages under {site}: run `make build` first", file=sys.stderr)
        return 2
    if not shutil.which(args.chromium):
        print(f"no Chromium at {args.chromium}", file=sys.stderr)
        return 2
    started = time.monotonic()
    results = check_pages(args.chromium, site, pages, args.screenshots, max(1, args.jobs))
    browser = Browser(args.chromium)
    try:
        browser.send("Target.setDiscoverTargets", {"discover": False})
        for edition, query, expected in SEARCHES if not args.page else []:
            if not ((site / edition) / "search.html").exists():
                continue
            search = check_search(browser, site, query, edition, expected)
            print(f"{'ok' if not search['failures'] else 'FAIL':4} search "
                  f"{edition + '/' if edition else ''}search.html?q={query}: "
                  f"{search['results']} pages" + (f", {expected} among them" if expected
                                                  and not search["failures"] else ""))
            for problem in search["failures"]:
                print(f"     - {problem}")
            results.append({"page": f"search {edition} {query}".replace("  ", " "), **search})
    finally:
        browser.close()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    report = args.screenshots / "browser_report.json"
    report.write_text(json.dumps(results, indent=1))
    failed = [r for r in results if r["failures"]]
    print(f"{len(pages)} pages in {time.monotonic() - started:.1f} s; "
          f"{len(failed)} failed; screenshots and report in {args.screenshots}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
