"""The browser checker itself (tools/browser_check.py), on small synthetic pages.

One synthetic site holds a page that must pass (real MathJax from sphinx-mathjax-offline,
a real static explorer, wrapped code) and one page per problem the checker must catch:
an unrendered formula, a MathJax error, an overflowing code block, a small frame, small
text, a frame without ``data-min-font-px``, a control that changes nothing, a console
error, a duplicate ``const`` (the old THEBE_JS_URL error, no longer tolerated), an
external request, a broken image. Chromium runs once for the whole site. The event
classifiers are also tested on hand-made DevTools events, without Chromium.

Skipped where Chromium is missing, except under ``CONVLAB_REQUIRE_CHROMIUM=1``
(``make browser``), where a missing Chromium fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convlab.explore import (  # noqa: E402
    MIN_FRAME_WIDTH,
    StaticExplorer,
    encode_figure,
    static_explorer,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = bool(shutil.which(CHROMIUM))
needs_chromium = pytest.mark.skipif(
    not HAVE_CHROMIUM and not os.environ.get("CONVLAB_REQUIRE_CHROMIUM"),
    reason="no Chromium installed (make browser installs it)")


def _checker():
    spec = importlib.util.spec_from_file_location("browser_check",
                                                  ROOT / "tools" / "browser_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bc = _checker()


def _mathjax_dir() -> pathlib.Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    return pathlib.Path(spec.origin).parent / "static" / "mathjax"


# What Sphinx + myst write into a page with math (sphinx.ext.mathjax, myst's mathjax3_config).
MATHJAX_HEAD = ('<script>window.MathJax = {"options": {"processHtmlClass": '
                '"tex2jax_process|mathjax_process|math|output_area"}}</script>'
                '<script defer src="_static/mathjax/tex-chtml.js"></script>')


def _page(body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>{head}</head>"
            f"<body><article style='width:752px'>{body}</article></body></html>")


def _inline(tex: str) -> str:
    return f'<span class="math notranslate nohighlight">\\({tex}\\)</span>'


def _figure(width_in: float, font_pt: float, level: float = 0.5):
    figure = plt.figure(figsize=(width_in, width_in / 3))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.imshow(np.full((4, 12), level), cmap="gray", vmin=0, vmax=1, aspect="auto")
    axes.axis("off")
    figure.text(0.5, 0.5, f"level {level}", fontsize=font_pt, ha="center", color="red")
    return figure


def _explorer(width_in: float, font_pt: float) -> str:
    """A real static explorer: a range slider and a drop-down, figures ``width_in`` wide."""
    shades = {"full": 1.0, "half": 0.5}
    return static_explorer(lambda level, shade: _figure(width_in, font_pt, level * shades[shade]),
                           {"level": [0.1, 0.5, 0.9], "shade": list(shades)}).to_html()


def _long_line(wrap: bool) -> str:
    style = "" if wrap else ' style="white-space:pre;overflow:auto"'
    css = "<style>pre { white-space: pre-wrap; overflow-wrap: anywhere; }</style>" if wrap else ""
    return f'{css}<div class="highlight"><pre{style}>x = ' + "1 + " * 200 + "1</pre></div>"


def _good_page() -> str:
    body = ("<p>An inline formula " + _inline(r"y[i] = \sum_u x[i + u]\, w[u]") + ".</p>"
            # \cancel is autoloaded: MathJax fetches input/tex/extensions/cancel.js
            '<div class="math notranslate nohighlight">\\[\\frac{a}{b} = k_\\text{eff}'
            " + \\cancel{0}\\]</div>" + _long_line(wrap=True) + _explorer(9, 14)
            + '<p>Costs $5 and $6.</p><pre><code>re.sub(r"\\(", "", s)  # $$</code></pre>')
    return _page(body, MATHJAX_HEAD)


def _frozen_second_control() -> str:
    """An explorer whose first control works and whose second changes nothing."""
    frames = {}
    for i, level in enumerate((0.2, 0.8)):
        encoded = encode_figure(_figure(9, 14, level))
        frames[f"{i}_0"] = frames[f"{i}_1"] = encoded
    explorer = StaticExplorer({"level": [0.2, 0.8], "unused": ["a", "b"]}, frames,
                              min_font_px=14 * 110 / 72)
    return explorer.to_html()


def _small_second_frame() -> str:
    """An explorer whose first frame is legible and whose second is too narrow."""
    frames = {"0": encode_figure(_figure(9, 14, 0.2)), "1": encode_figure(_figure(4, 14, 0.8))}
    explorer = StaticExplorer({"level": [0.2, 0.8]}, frames, min_font_px=14 * 110 / 72)
    return explorer.to_html()


BAD_PAGES = {
    # page name: (body, head, a piece of the failure the checker must report)
    "raw_tex": (_inline("x") + '<p class="mathjax_ignore">see \\(a + b\\) here</p>',
                MATHJAX_HEAD, "raw TeX in the text"),
    "no_mathjax": (_inline("x^2"), "", "MathJax did not start"),
    "tex_error": (_inline(r"\frac{a}"), MATHJAX_HEAD, "formula error"),
    "undefined_macro": (_inline(r"\notamacro{x}"), MATHJAX_HEAD, "undefined \\notamacro"),
    "math_outside_nodes": (_inline("x") + "<p>\\(z\\) typeset outside a math node</p>",
                           MATHJAX_HEAD, "MathJax typeset 2 formulas; Sphinx emitted 1"),
    "overflowing_pre": (_long_line(wrap=False), "", "code block scrolls sideways"),
    "small_frame": (_explorer(3, 14), "", "px wide at natural size"),
    "small_text": (_explorer(9, 6), "", "smallest text is"),
    "no_font_attribute": (static_explorer(lambda level: np.full((8, 80, 3), level),
                                          {"level": [0.2, 0.8]}).to_html()
                          .replace('<img class="convlab-frame"',
                                   '<img class="convlab-frame" style="width:752px"'),
                          "", "has no data-min-font-px"),
    "not_column_width": (_explorer(9, 14).replace("width:100%", "width:50%"), "",
                         "the column is 752 px"),
    "small_second_frame": (_small_second_frame(), "",
                           "after moving 'level': frame 0 is"),
    "frozen_control": (_frozen_second_control(), "",
                       "control 'unused': moving it did not change the frame"),
    "console_error": ('<script>console.error("boom")</script>', "", "console.error: boom"),
    "exception": ("<script>notDefined();</script>", "", "notDefined is not defined"),
    "duplicate_const": ('<script>const THEBE_JS_URL = "x"</script>'
                        '<script>const THEBE_JS_URL = "x"</script>', "",
                        "Identifier 'THEBE_JS_URL' has already been declared"),
    "external_request": ('<img src="https://cdn.example.invalid/pixel.png" alt="">'
                         '<script src="https://cdn.example.invalid/lib.js"></script>', "",
                         "external request: https://cdn.example.invalid/lib.js"),
    "broken_image": ('<img src="missing.png" alt="">', "", "image did not load: missing.png"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not HAVE_CHROMIUM:
        if os.environ.get("CONVLAB_REQUIRE_CHROMIUM"):
            pytest.fail(f"no Chromium at {CHROMIUM}: `make chromium` installs it")
        pytest.skip("no Chromium installed")
    site = tmp_path_factory.mktemp("site")
    (site / "_static").mkdir()
    (site / "_static" / "mathjax").symlink_to(_mathjax_dir())
    (site / "good.html").write_text(_good_page())
    (site / "chinese.html").write_text(_page("<p>卷积核在图像上滑动，逐点相乘再相加。</p>")
                                       .replace("<html>", '<html lang="zh-CN">'))
    for name, (body, head, _) in BAD_PAGES.items():
        (site / f"{name}.html").write_text(_page(body, head))
    shots = site / "shots"
    status = bc.main(["--site", str(site), "--screenshots", str(shots), "--chromium", CHROMIUM])
    results = json.loads((shots / "browser_report.json").read_text())
    return {"status": status, "shots": shots,
            "pages": {pathlib.Path(r["page"]).stem: r for r in results}}


@needs_chromium
def test_a_good_page_passes_every_check(report):
    good = report["pages"]["good"]
    assert good["failures"] == [], good["failures"]
    assert good["math"]["nodes"] == good["math"]["typeset"] == 2  # MathJax really ran
    (explorer,) = good["explorers"]
    assert [c["ok"] for c in explorer["controls"]] == [True, True]  # both controls moved
    assert explorer["frames"][0]["natural"] >= MIN_FRAME_WIDTH
    assert good["code"]["blocks"] == 2 and not good["code"]["overflows"]
    assert (report["shots"] / "good.png").stat().st_size > 0


@needs_chromium
def test_a_chinese_page_is_drawn_with_a_chinese_font(report):
    """The Chinese edition's pages need a font with Han characters (make chromium)."""
    page = report["pages"]["chinese"]
    assert page["failures"] == [], page["failures"]
    assert page["fonts"]["text"].startswith("卷积核")
    assert any(bc.CHINESE_FONT.search(f["family"]) for f in page["fonts"]["fonts"])
    assert report["pages"]["good"]["fonts"] is None  # an English page is not probed


@needs_chromium
@pytest.mark.parametrize("name", BAD_PAGES)
def test_each_problem_fails_its_page(report, name):
    failures = report["pages"][name]["failures"]
    expected = BAD_PAGES[name][2]
    assert any(expected in f for f in failures), (name, failures)


@needs_chromium
def test_the_run_fails_and_every_bad_page_fails(report):
    assert report["status"] == 1
    assert all(report["pages"][name]["failures"] for name in BAD_PAGES)


@needs_chromium
def test_external_requests_are_recorded_not_sent(report):
    page = report["pages"]["external_request"]
    assert set(page["external_requests"]) == {"https://cdn.example.invalid/pixel.png",
                                              "https://cdn.example.invalid/lib.js"}
    assert page["errors"] == []  # the blocked loads are not counted twice as console errors


def test_the_frame_width_is_the_library_s():
    assert bc.MIN_FRAME_WIDTH == MIN_FRAME_WIDTH
    assert bc.MIN_TEXT_PX == pytest.approx(10 * 96 / 72, abs=0.05)


def _event(method: str, session: str = "s", **params) -> dict:
    return {"method": method, "sessionId": session, "params": params}


def test_console_errors_are_all_reported_nothing_tolerated():
    events = [
        _event("Runtime.exceptionThrown", exceptionDetails={
            "text": "Uncaught", "url": "https://unpkg.com/x.js",
            "exception": {"description": "SyntaxError: Identifier 'THEBE_JS_URL' has "
                                         "already been declared"}}),
        _event("Runtime.consoleAPICalled", type="error", args=[{"value": "boom"}]),
        _event("Runtime.consoleAPICalled", type="log", args=[{"value": "fine"}]),
        _event("Log.entryAdded", entry={"level": "error", "source": "network",
                                        "text": "Failed to load", "url": "file:///a.png"}),
        _event("Log.entryAdded", entry={"level": "error", "source": "network",
                                        "text": "blocked", "url": "https://cdn.x/a.js"}),
        _event("Runtime.consoleAPICalled", session="other", type="error", args=[]),
    ]
    found = bc.console_errors(events, "s")
    assert len(found) == 3
    assert "THEBE_JS_URL" in found[0] and "boom" in found[1] and "file:///a.png" in found[2]


def test_every_external_request_is_reported():
    events = [
        _event("Network.requestWillBeSent", requestId="1",
               request={"url": "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"}),
        _event("Network.loadingFailed", requestId="1", blockedReason="inspector",
               errorText="net::ERR_BLOCKED_BY_CLIENT"),
        _event("Network.requestWillBeSent", requestId="2", request={"url": "file:///p.html"}),
        _event("Network.requestWillBeSent", requestId="3", request={"url": "file:///gone.js"}),
        _event("Network.loadingFailed", requestId="3", errorText="net::ERR_FILE_NOT_FOUND"),
        _event("Network.webSocketCreated", url="wss://kernel.example/ws"),
        _event("Network.requestWillBeSent", requestId="4", request={"url": "data:image/png,"}),
    ]
    external, failed = bc.network_problems(events, "s")
    assert external == ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
                        "wss://kernel.example/ws"]
    assert failed == ["file:///gone.js (net::ERR_FILE_NOT_FOUND)"]


def test_frame_problems_measure_size_width_and_text():
    good = {"column": 752, "frames": [{"natural": 990, "shown": 752, "min_font_px": 21.4}]}
    assert bc.frame_problems(good) == []
    small = {"column": 752, "frames": [{"natural": 600, "shown": 752, "min_font_px": 8.0}]}
    assert [p.split(" ")[2] for p in bc.frame_problems(small)] == ["is", "smallest"]
    narrow = {"column": 752, "frames": [{"natural": 990, "shown": 500, "min_font_px": 40}]}
    assert "the column is 752 px" in bc.frame_problems(narrow)[0]
    unknown = {"column": 752, "frames": [{"natural": 990, "shown": 752, "min_font_px": None}]}
    assert "no data-min-font-px" in bc.frame_problems(unknown)[0]
    assert bc.frame_problems({"column": 752, "frames": []}) == ["has no img.convlab-frame"]


def test_chinese_text_without_a_chinese_font_fails():
    boxes = {"text": "卷积核", "fonts": [{"family": "DejaVu Sans", "glyphs": 3}]}
    assert "drawn without a Chinese font" in bc.font_problems(boxes)[0]
    drawn = {"text": "卷积核", "fonts": [{"family": "Noto Sans CJK SC", "glyphs": 3}]}
    assert bc.font_problems(drawn) == [] and bc.font_problems(None) == []


def test_search_must_list_the_expected_chapter():
    chapter6 = "book/06_transposed_convolution.html"
    assert bc.search_failures("转置卷积", [chapter6, "book/intro.html"], chapter6) == []
    assert "did not list" in bc.search_failures("转置卷积", ["book/intro.html"], chapter6)[0]
    assert "found nothing" in bc.search_failures("stride", [], None)[0]
    assert ("zh_CN", "转置卷积", chapter6) in bc.SEARCHES
