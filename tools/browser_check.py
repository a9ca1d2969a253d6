"""Load every built page in headless Chromium and check it as a reader would see it.

    python tools/browser_check.py [--site _build/html] [--screenshots _build/screenshots]

For each page of the built site:

- collect the JavaScript errors of the page's own (uncaught exceptions, ``console.error``);
  requests to external hosts (CDNs: MathJax, require.js, the widget manager) are blocked
  so that the check is fast and the same offline and online, and errors that only follow
  from such a missing script are tolerated (listed, not failed);
- check that the page's own images load and decode;
- move the FIRST control (``select`` or ``input[type=range]``) of every static explorer
  (``div.convlab-explorer``, see ``convlab.explore``) with the keyboard, as a reader
  would, and check that the explorer's ``img.convlab-frame`` changes;
- save a screenshot to ``<screenshots>/<page>.png``;

and that the site's search finds pages (``search.html?q=stride``), which runs offline.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe``
(JSON messages on file descriptors 3 and 4), so this script needs only the standard
library and ``/usr/bin/chromium`` (or ``$CHROMIUM``). It writes ``browser_report.json``
next to the screenshots and exits non-zero when a page fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-pipe"]
WIDTH, MAX_HEIGHT = 1200, 8000  # screenshot size in CSS pixels (tall pages are cut)
SKIP_DIRS = {"_static", "_sources", "_images"}
# Globals that scripts from CDNs define; a page's own code failing on them is a CDN failure.
CDN_GLOBALS = ("require", "define", "MathJax", "thebelab", "thebe", "jQuery", "$")
# Errors of the toolchain's own scripts that we cannot fix from the book, tolerated by name:
# sphinx-thebe 0.3.1 registers its inline config script on every `env-before-read-docs`,
# and Jupyter Book 1.x reads twice, so `const THEBE_JS_URL` is declared twice (thebe,
# the in-page kernel, is not used by this book).
KNOWN_TOOLCHAIN_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


class Browser:
    """One headless Chromium process and a DevTools-protocol connection over pipes."""

    def __init__(self, executable: str, timeout: float = 30.0):
        self.profile = tempfile.mkdtemp(prefix="convlab-chromium-")
        to_child_r, self._to_child = os.pipe()  # we write commands -> Chromium's fd 3
        self._from_child, from_child_w = os.pipe()  # Chromium's fd 4 -> we read replies

        def wire_fds():  # runs in the child: put the pipe ends on fds 3 and 4
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=wire_fds, pass_fds=(3, 4),  # kept open after wire_fds
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


# Runs in the page: for every explorer, focus its first control and report its state.
EXPLORERS_JS = """
function digest(text) {  // a 32-bit string hash: enough to tell two frames apart
  var h = 0;
  for (var k = 0; k < text.length; k++) { h = (h * 31 + text.charCodeAt(k)) | 0; }
  return text.length + ":" + h;
}
Array.from(document.querySelectorAll("div.convlab-explorer")).map(function (root, i) {
  var control = root.querySelector("select[data-index], input[data-index]");
  var img = root.querySelector("img.convlab-frame");
  var count = !control ? 0 : (control.tagName === "SELECT" ? control.options.length
                                                           : (+control.max - +control.min + 1));
  return {id: root.id, index: i, control: control ? control.tagName.toLowerCase() : null,
          values: count, src: img ? digest(img.src) : null};
})
"""

# Runs in the page: the book's own images (not a CDN's) that the browser could not decode.
BROKEN_IMAGES_JS = """
Array.from(document.images).filter(function (i) {
  return i.complete && i.naturalWidth === 0 && !/^https?:/.test(i.getAttribute("src") || "");
}).map(function (i) { return (i.getAttribute("src") || "").slice(0, 80); })
"""


def evaluate(browser: Browser, session: str, expression: str):
    result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True}, session)
    if "exceptionDetails" in result:
        raise RuntimeError(f"evaluating {expression[:60]!r}: {result['exceptionDetails']}")
    return result["result"].get("value")


def press(browser: Browser, session: str, key: str, code: int) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key,
                                                "windowsVirtualKeyCode": code}, session)


def check_explorers(browser: Browser, session: str) -> list[dict]:
    """Move each explorer's first control with the keyboard; did its image change?"""
    results = []
    for explorer in evaluate(browser, session, EXPLORERS_JS):
        if explorer["control"] is None or explorer["values"] < 2:
            explorer["ok"], explorer["why"] = False, "first control missing or has one value"
            results.append(explorer)
            continue
        focus = (f'(function () {{ var c = document.querySelectorAll("div.convlab-explorer")'
                 f'[{explorer["index"]}].querySelector("select[data-index], input[data-index]");'
                 f' c.scrollIntoView({{block: "center"}}); c.focus();'
                 f' return document.activeElement === c; }})()')
        focused = evaluate(browser, session, focus)
        if explorer["control"] == "select":
            press(browser, session, "ArrowDown", 40)
        else:
            press(browser, session, "ArrowRight", 39)
        deadline = time.monotonic() + 2.0  # the swap is synchronous; allow a slow machine
        while True:
            after = evaluate(browser, session, EXPLORERS_JS)[explorer["index"]]["src"]
            if after != explorer["src"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        explorer["ok"] = bool(focused) and after != explorer["src"]
        explorer["why"] = "" if explorer["ok"] else (
            "could not focus the control" if not focused else "image did not change")
        results.append(explorer)
    return results


def _is_external(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def classify_errors(events: list[dict], session: str) -> tuple[list[str], list[str]]:
    """Split the page's error events into its own errors and tolerated CDN failures."""
    external_failed = any(
        e.get("method") == "Network.loadingFailed" or (
            e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("source") == "network"
            and _is_external(e["params"]["entry"].get("url", "")))
        for e in events if e.get("sessionId") == session)
    own, tolerated = [], []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            url = details.get("url", "")
            cdn = _is_external(url) or (external_failed and any(
                f"{name} is not defined" in text for name in CDN_GLOBALS)) or any(
                known in text for known in KNOWN_TOOLCHAIN_ERRORS)
            first_line = (text.splitlines() or [""])[0]
            (tolerated if cdn else own).append(f"exception: {first_line} ({url})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            (tolerated if external_failed and "http" in text else own).append(f"console: {text}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            (tolerated if _is_external(entry.get("url", "")) else own).append(
                f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
    return own, tolerated


def check_page(browser: Browser, page: pathlib.Path, shot: pathlib.Path,
               block_external: bool) -> dict:
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target,
                                                     "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", {}, session)
    if block_external:
        browser.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]}, session)
    browser.send("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    started = time.monotonic()
    browser.send("Page.navigate", {"url": page.as_uri()}, session)
    loaded = browser.wait_for("Page.loadEventFired", session, timeout=30)
    time.sleep(0.3)  # let deferred scripts run and report
    explorers = check_explorers(browser, session) if loaded else []
    broken_images = evaluate(browser, session, BROKEN_IMAGES_JS) if loaded else []
    evaluate(browser, session, "window.scrollTo(0, 0)")
    height = evaluate(browser, session, "document.documentElement.scrollHeight") or 900
    browser.send("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": min(int(height), MAX_HEIGHT), "deviceScaleFactor": 1,
        "mobile": False}, session)
    png = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(base64.b64decode(png))
    own, tolerated = classify_errors(browser.events, session)
    browser.send("Target.closeTarget", {"targetId": target})
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    return {"page": str(page), "loaded": loaded, "seconds": round(time.monotonic() - started, 2),
            "errors": own, "tolerated": tolerated, "explorers": explorers,
            "broken_images": broken_images,
            "screenshot": str(shot)}


def check_search(browser: Browser, site: pathlib.Path, query: str = "stride") -> dict:
    """Search works offline: ``search.html?q=...`` lists at least one page."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target,
                                                     "flatten": True})["sessionId"]
    browser.send("Page.enable", {}, session)
    browser.send("Page.navigate", {"url": f"{(site / 'search.html').as_uri()}?q={query}"},
                 session)
    browser.wait_for("Page.loadEventFired", session, timeout=30)
    count, deadline = 0, time.monotonic() + 15
    while not count and time.monotonic() < deadline:  # results are filled in after load
        time.sleep(0.25)
        count = evaluate(browser, session, 'document.querySelectorAll("#search-results li, '
                                           'ul.search li").length')
    browser.send("Target.closeTarget", {"targetId": target})
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    return {"query": query, "results": count}


def site_pages(site: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in site.rglob("*.html")
                  if not SKIP_DIRS & set(p.relative_to(site).parts[:-1]))


def failures(result: dict) -> list[str]:
    found = [] if result["loaded"] else ["the page did not finish loading"]
    found += [f"page error: {e}" for e in result["errors"]]
    found += [f"explorer {x['id']}: {x['why']}" for x in result["explorers"] if not x["ok"]]
    found += [f"image did not load: {src}" for src in result["broken_images"]]
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshots", type=pathlib.Path,
                        default=ROOT / "_build" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--allow-external", action="store_true",
                        help="let pages fetch from CDNs (default: block, as offline)")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    pages = site_pages(site)
    if not pages:
        print(f"no pages under {site}: run `make build` first", file=sys.stderr)
        return 2
    if not shutil.which(args.chromium):
        print(f"no Chromium at {args.chromium}", file=sys.stderr)
        return 2
    browser = Browser(args.chromium)
    results, started = [], time.monotonic()
    try:
        browser.send("Target.setDiscoverTargets", {"discover": False})
        for page in pages:
            shot = (args.screenshots / page.relative_to(site)).with_suffix(".png")
            result = check_page(browser, page, shot,
                                not args.allow_external)
            result["failures"] = failures(result)
            results.append(result)
            moved = sum(x["ok"] for x in result["explorers"])
            status = "ok" if not result["failures"] else "FAIL"
            print(f"{status:4} {page.relative_to(site)}  {result['seconds']:.1f} s, "
                  f"explorers {moved}/{len(result['explorers'])}, "
                  f"errors {len(result['errors'])}, tolerated {len(result['tolerated'])}")
            for problem in result["failures"]:
                print(f"     - {problem}")
        if (site / "search.html").exists():
            search = check_search(browser, site)
            print(f"{'ok' if search['results'] else 'FAIL':4} search for {search['query']!r}: "
                  f"{search['results']} results")
            results.append({"page": "search", **search, "failures": [] if search["results"]
                            else ["the search page found nothing"]})
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
