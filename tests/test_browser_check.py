"""The browser checker itself (tools/browser_check.py), on tiny synthetic sites.

A real static explorer (``convlab.explore.static_explorer``) must pass in headless
Chromium; a page with its own JavaScript error, or an explorer whose image does not
change, must fail. Skipped where Chromium is not installed (``make browser`` installs it).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil

import numpy as np
import pytest

from convlab.explore import static_explorer

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="no Chromium installed")


def _checker():
    spec = importlib.util.spec_from_file_location("browser_check",
                                                  ROOT / "tools" / "browser_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


def test_a_real_static_explorer_passes(tmp_path):
    explorer = static_explorer(lambda level, size: np.full((size, size, 3), level),
                               {"level": [0.1, 0.5, 0.9], "size": [4, 8]}, fmt="png")
    (tmp_path / "index.html").write_text(_page(explorer.to_html()))
    shots = tmp_path / "shots"
    assert _checker().main(["--site", str(tmp_path), "--screenshots", str(shots),
                            "--chromium", CHROMIUM]) == 0
    assert (shots / "index.png").stat().st_size > 0


def test_own_errors_and_frozen_explorers_fail(tmp_path, capsys):
    frozen = ('<div class="convlab-explorer" id="frozen"><select data-index="0">'
              '<option value="0">a</option><option value="1">b</option></select>'
              '<img class="convlab-frame" src="data:image/png;base64,AAAA"></div>')
    (tmp_path / "index.html").write_text(_page(frozen + "<script>notDefined();</script>"))
    assert _checker().main(["--site", str(tmp_path), "--screenshots", str(tmp_path / "s"),
                            "--chromium", CHROMIUM]) == 1
    out = capsys.readouterr().out
    assert "notDefined is not defined" in out
    assert "explorer frozen: image did not change" in out


def test_failures_to_reach_a_cdn_are_tolerated(tmp_path):
    cdn = '<script src="https://cdn.jsdelivr.net/npm/some-lib/dist/lib.js"></script>'
    (tmp_path / "index.html").write_text(_page(cdn + "<p>offline is fine</p>"))
    assert _checker().main(["--site", str(tmp_path), "--screenshots", str(tmp_path / "s"),
                            "--chromium", CHROMIUM]) == 0
