"""Chapter 2's conv-arithmetic explorer, driven in headless Chromium on the built page.

The explorer computes in the page (``convlab.widgets.conv_arithmetic_page_explorer``):
this test moves its sliders to many random settings, as a reader would, and checks what
the page then shows against the library and against PyTorch:

- the output size it prints equals ``convlab.conv_output_size`` and it draws that many
  output cells;
- for the chosen output position, the highlighted input cells are the ones whose
  gradient is non-zero in PyTorch (the cells ``F.conv1d`` reads for that output), and
  the "windows reading each cell" counts are the gradient of the sum of all outputs;
- a setting PyTorch rejects shows, instead of a picture, the exception type and text
  that ``F.conv1d`` raises for it.

Run after the build (``make build && make site-check``). It fails, and never skips,
when Chromium or the built page is missing.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import sys
import time

import pytest
import torch
import torch.nn.functional as F
from sitelib import ROOT

from convlab import conv_output_size
from convlab.widgets.conv_arithmetic import LIMITS

sys.path.insert(0, str(ROOT / "tools"))
from browser_check import Browser, evaluate  # noqa: E402

PAGE = "book/02_naive_loop_and_arithmetic.html"
COMBINATIONS = 60  # random settings, a quarter of them invalid
PARAMS = ["input_size", "kernel_size", "stride", "padding", "dilation"]

# Runs in the page: move the explorer's sliders (firing the events a drag fires) and
# report what the explorer shows.
SET_AND_READ_JS = """
(function (settings) {
  var root = document.querySelector("div.convlab-arithmetic");
  function move(name, value) {
    var slider = root.querySelector('input[data-param="' + name + '"]');
    slider.value = value;
    slider.dispatchEvent(new Event("input", {bubbles: true}));
    return +slider.value;
  }
  __PARAMS__.forEach(function (name) { move(name, settings[name]); });
  var position = move("position", settings.position);
  var error = root.querySelector(".convlab-arith-error");
  var svg = root.querySelector("svg");
  var cells = Array.from(svg.querySelectorAll("rect[data-cell]"));
  return JSON.stringify({
    size: root.querySelector(".convlab-arith-size").dataset.outputSize,
    sizeText: root.querySelector(".convlab-arith-size").textContent,
    outputs: svg.querySelectorAll("rect.out").length,
    pictureShown: svg.style.display !== "none" && svg.getBoundingClientRect().height > 0,
    errorShown: !error.hidden && error.getBoundingClientRect().height > 0,
    errorType: error.querySelector(".type").textContent,
    errorMessage: error.querySelector(".message").textContent,
    position: position,
    chosen: cells.filter(function (c) { return c.classList.contains("chosen"); })
                 .map(function (c) { return +c.dataset.cell; }),
    reads: cells.map(function (c) { return +c.dataset.reads; })
  });
})
""".replace("__PARAMS__", json.dumps(PARAMS))


def torch_error(n, k, s, p, d) -> tuple[str, str] | None:
    """``(type name, message)`` of what ``F.conv1d`` raises for this setting, or None."""
    try:
        F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    except Exception as exc:  # the oracle: whatever torch raises, the page must show
        return type(exc).__name__, str(exc)
    return None


def torch_reads(n, k, s, p, d, position) -> tuple[list[int], list[int]]:
    """Padded-input cells that output ``position`` reads, and how many outputs read each
    cell, from PyTorch's gradients of an all-ones kernel."""
    x_p = torch.zeros(1, 1, n + 2 * p, dtype=torch.float64, requires_grad=True)
    y = F.conv1d(x_p, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    (one,) = torch.autograd.grad(y[0, 0, position], x_p, retain_graph=True)
    (every,) = torch.autograd.grad(y.sum(), x_p)
    return one[0, 0].nonzero().flatten().tolist(), every[0, 0].round().long().tolist()


def settings_to_try(seed: int = 20260214) -> list[dict]:
    rng = random.Random(seed)
    grid = list(itertools.product(*(range(lo, hi + 1) for lo, hi in LIMITS.values())))
    invalid = [g for g in grid if torch_error(*g)]
    valid = [g for g in grid if not torch_error(*g)]
    chosen = rng.sample(valid, COMBINATIONS - COMBINATIONS // 4) + \
        rng.sample(invalid, COMBINATIONS // 4)
    rng.shuffle(chosen)
    tries = []
    for combination in chosen:
        settings = dict(zip(PARAMS, combination))
        valid_size = not torch_error(*combination)
        n_out = conv_output_size(*combination) if valid_size else 1
        settings["position"] = rng.randrange(n_out)
        tries.append(settings)
    return tries


@pytest.fixture(scope="module")
def page(site):
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not shutil.which(chromium):
        pytest.fail(f"no Chromium at {chromium}: the arithmetic explorer cannot be checked")
    path = site / PAGE
    if not path.exists():
        pytest.fail(f"no built page {path}: run `make build` first")
    browser = Browser(chromium)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target,
                                                         "flatten": True})["sessionId"]
        browser.send("Page.enable", {}, session)
        browser.send("Network.enable", {}, session)
        browser.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]}, session)
        browser.send("Page.navigate", {"url": path.as_uri()}, session)
        if not browser.wait_for("Page.loadEventFired", session, timeout=60):
            pytest.fail(f"{PAGE} did not finish loading")
        time.sleep(0.3)
        yield browser, session
    finally:
        browser.close()


def test_the_page_has_one_arithmetic_explorer_with_every_control(page):
    browser, session = page
    found = json.loads(evaluate(browser, session, """JSON.stringify(Array.from(
        document.querySelectorAll("div.convlab-arithmetic")).map(function (root) {
          return Array.from(root.querySelectorAll("input[data-param]")).map(function (e) {
            return [e.dataset.param, +e.min, +e.max]; }); }))"""))
    assert len(found) == 1, f"expected one arithmetic explorer on {PAGE}, found {len(found)}"
    ranges = {name: (lo, hi) for name, lo, hi in found[0] if name != "position"}
    assert ranges == LIMITS


def test_random_settings_show_what_pytorch_computes(page):
    browser, session = page
    tries = settings_to_try()
    invalid = 0
    for settings in tries:
        shown = json.loads(evaluate(browser, session, f"{SET_AND_READ_JS}({json.dumps(settings)})"))
        combination = [settings[name] for name in PARAMS]
        where = f"setting {settings}"
        error = torch_error(*combination)
        if error:
            invalid += 1
            assert shown["errorShown"] and not shown["pictureShown"], where
            assert (shown["errorType"], shown["errorMessage"]) == error, where
            assert shown["size"] == "" and shown["outputs"] == 0, where
            continue
        n_out = conv_output_size(*combination)
        assert not shown["errorShown"] and shown["pictureShown"], where
        assert int(shown["size"]) == n_out and f"= {n_out}" in shown["sizeText"], where
        assert shown["outputs"] == n_out, where
        assert shown["position"] == settings["position"], where
        cells, reads = torch_reads(*combination, settings["position"])
        assert sorted(shown["chosen"]) == cells, where
        assert shown["reads"] == reads, where
    assert len(tries) >= 50 and invalid >= 10
