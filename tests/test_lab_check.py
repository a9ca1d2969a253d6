"""The front-end widget check itself (tools/lab_check.py).

The pure parts (ports and tokens, the private Jupyter directories, notebook copies, the
report and what counts as a failure) are tested directly. One end-to-end test runs the
check on a synthetic notebook in a real Jupyter server and headless Chromium: an explorer
that works must pass; one whose render raises, one that stopped updating and one whose
callback prints must each fail; and nothing may be left running afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import psutil
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
COLAB_PYTHON = ROOT / ".venv-colab" / "bin" / "python"


def _load():
    spec = importlib.util.spec_from_file_location("lab_check", ROOT / "tools" / "lab_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["lab_check"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


lab_check = _load()


# ---------------------------------------------------------------- ports, tokens, URLs

def test_free_port_can_be_bound_and_tokens_are_random():
    port = lab_check.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nothing holds it
    tokens = {lab_check.new_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) == 48 and int(t, 16) >= 0 for t in tokens)


def test_page_urls_carry_the_token_after_the_query():
    lab = lab_check.page_url(8888, "abc", lab_check.LAB, "p/book/01.ipynb")
    assert lab == ("http://127.0.0.1:8888/lab/workspaces/lab-check-p-book-01-ipynb/tree/"
                   "p/book/01.ipynb?reset&token=abc")
    classic = lab_check.page_url(9999, "abc", lab_check.CLASSIC, "p/book/01.ipynb")
    assert classic == "http://127.0.0.1:9999/notebooks/p/book/01.ipynb?token=abc"


def test_api_reports_http_errors_as_status(tmp_path):
    # a port where nothing listens: the connection error propagates (the caller retries)
    with pytest.raises(OSError):
        lab_check.api(lab_check.free_port(), "t", "/api/status", timeout=1)


# ---------------------------------------------------------------- private Jupyter dirs

def test_kernelspecs_and_settings_stay_in_the_private_directories(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JUPYTER_PATH", "/somewhere/global")
    nbext = tmp_path / "colab" / "jupyter-js-widgets"
    nbext.mkdir(parents=True)
    (nbext / "extension.js").write_text("define([], function () {});")
    specs = {"k8": lab_check.kernelspec("/py8", "eight"),
             "k7": lab_check.kernelspec("/py7", "seven")}
    env = lab_check.write_environment(tmp_path / "private", specs, nbext)
    base = tmp_path / "private"
    for name, python in (("k8", "/py8"), ("k7", "/py7")):
        spec = json.loads((base / "path" / "kernels" / name / "kernel.json").read_text())
        assert spec["argv"][:3] == [python, "-m", "ipykernel_launcher"]
        assert "{connection_file}" in spec["argv"]
    assert env["JUPYTER_PATH"] == str(base / "path")  # only ours, not the global one
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        assert env[key].startswith(str(base)), key
    assert "MPLBACKEND" not in env  # the kernels use Jupyter's inline backend
    assert (base / "path" / "nbextensions" / "jupyter-js-widgets" / "extension.js").is_file()
    assert not (base / "path" / "nbextensions" / "jupyter-js-widgets").is_symlink()
    nbconfig = json.loads((base / "config" / "nbconfig" / "notebook.json").read_text())
    assert nbconfig == {"load_extensions": {"jupyter-js-widgets/extension": True}}
    tracker = base / "settings" / "@jupyterlab" / "notebook-extension"
    assert json.loads((tracker / "tracker.jupyterlab-settings").read_text()) == {
        "windowingMode": "none"}


def test_notebook_copies_get_the_kernel_and_no_outputs(tmp_path):
    book = tmp_path / "book"
    (book / "images").mkdir(parents=True)
    (book / "images" / "a.png").write_bytes(b"png")
    nb = {"cells": [{"cell_type": "code", "source": ["1"], "metadata": {},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1"]}],
                     "execution_count": 3},
                    {"cell_type": "markdown", "source": ["x"], "metadata": {}}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (book / "01_x.ipynb").write_text(json.dumps(nb))
    copies = lab_check.prepare_notebooks([book / "01_x.ipynb"], tmp_path / "work", "k7", "seven")
    assert copies == ["book/01_x.ipynb"]
    copy = json.loads((tmp_path / "work" / "book" / "01_x.ipynb").read_text())
    assert copy["metadata"]["kernelspec"]["name"] == "k7"
    assert copy["cells"][0]["outputs"] == [] and copy["cells"][0]["execution_count"] is None
    assert (tmp_path / "work" / "book" / "images" / "a.png").read_bytes() == b"png"
    assert json.loads((book / "01_x.ipynb").read_text()) == nb  # the original is untouched


# ---------------------------------------------------------------- report and failures

def _move(changed=True, moved=True, ms=40.0, direction="forward"):
    return {"direction": direction, "from": "1", "to": "2", "moved": moved, "changed": changed,
            "redraw_ms": ms, "loaded_ms": None if ms is None else ms + 2, "redraws": 1,
            "timed_out": False}


def _explorer(**overrides):
    explorer = {"index": 0, "cell": 5, "images": 1, "images_after": 1, "clipped_controls": [],
                "status_errors": [], "latency_exempt": None, "latency_limit_ms": 150.0,
                "controls": [{"control": "slider 'n'", "kind": "slider",
                              "moves": [_move(), _move(direction="back")],
                              "moved": True, "changed": True}]}
    explorer.update(overrides)
    explorer["latency"] = lab_check.summarize_latency(
        [m for c in explorer["controls"] for m in c["moves"]])
    return explorer


def _chapter(**overrides):
    chapter = {"notebook": "book/01_x.ipynb", "setup_failures": [], "not_run": [],
               "stderr": [], "page_errors": [], "console_errors": [],
               "widget_outputs": {5: ["m"]}, "widget_views": {5: 1}, "output_growth": {},
               "explorers": [_explorer()]}
    chapter.update(overrides)
    return chapter


def test_a_clean_chapter_has_no_failures():
    assert lab_check.chapter_failures(_chapter()) == []


@pytest.mark.parametrize("overrides, expected", [
    ({"not_run": [{"index": 7}, {"index": 9}]}, "2 code cell(s) did not run (running all "
                                                "cells stops at an error): 7, 9"),
    ({"stderr": [{"cell": 3, "text": "Traceback ... ValueError"}]}, "cell 3 shows stderr"),
    ({"page_errors": ["widget error box: x"]}, "page error: widget error box"),
    ({"console_errors": ["exception: TypeError"]}, "browser console: exception"),
    ({"widget_views": {}}, "1 widget output(s) saved, 0 rendered"),
    ({"output_growth": {5: [[1, 1], [2, 2]]}}, "went from [1, 1] to [2, 2]"),
    ({"setup_failures": ["still running after 300 s"]}, "still running"),
])
def test_each_kind_of_trouble_is_a_failure(overrides, expected):
    failures = lab_check.chapter_failures(_chapter(**overrides))
    assert len(failures) == 1 and expected in failures[0], failures


@pytest.mark.parametrize("explorer, expected", [
    (dict(images=0, images_after=0), "no picture"),
    (dict(images_after=2), "1 picture(s) before the moves, 2 after"),
    (dict(clipped_controls=["slider 'n'"]), "is clipped"),
    (dict(cut_labels=["out_channels"]), "the label 'out_channels' is cut off"),
    (dict(image_sizes=[[237, 252, 844]]), "picture shown at 3.6x its natural width"),
    (dict(status_errors=["ValueError: boom"]), "red status text: ValueError: boom"),
    (dict(controls=[{"control": "slider 'n'", "kind": "slider", "moved": True,
                     "changed": False, "moves": [_move(changed=False, ms=None)]}]),
     "did not change the picture"),
    (dict(controls=[{"control": "dropdown 'd'", "kind": "dropdown", "moved": False,
                     "changed": False, "moves": [_move(moved=False, changed=False)]}]),
     "did not move"),
    (dict(controls=[{"control": "slider 'n'", "kind": "slider", "moved": True,
                     "changed": True, "moves": [_move(ms=300.0), _move(ms=200.0)]}]),
     "median redraw 250.0 ms > 150.0 ms"),
])
def test_each_kind_of_explorer_trouble_is_a_failure(explorer, expected):
    failures = lab_check.chapter_failures(_chapter(explorers=[_explorer(**explorer)]))
    assert len(failures) == 1 and expected in failures[0], failures


def test_slow_explorers_that_time_code_on_purpose_are_exempt():
    names = ["dropdown 'layer'", "dropdown 'batch'"]
    why = lab_check.latency_exemption("04_from_loops_to_fast_code", names)
    assert why and "benchmark" in why
    assert lab_check.latency_exemption("05_backward_pass", names) is None
    assert lab_check.latency_exemption("04_from_loops_to_fast_code", names[:1]) is None
    slow = _explorer(latency_limit_ms=None, latency_exempt=why, controls=[
        {"control": names[0], "kind": "dropdown", "moved": True, "changed": True,
         "moves": [_move(ms=3000.0), _move(ms=2500.0)]}])
    assert lab_check.chapter_failures(_chapter(explorers=[slow])) == []


def test_the_latency_limit_stretches_only_when_asked_and_oversubscribed():
    assert lab_check.latency_limit(6.0, 2) == lab_check.LATENCY_LIMIT_MS  # the default
    assert lab_check.latency_limit(1.5, 2, scale=True) == lab_check.LATENCY_LIMIT_MS
    assert lab_check.latency_limit(6.0, 2, scale=True) == 3 * lab_check.LATENCY_LIMIT_MS


def test_the_latency_limit_follows_the_reference_figure_on_a_slow_machine():
    fast = lab_check.LATENCY_LIMIT_MS / lab_check.LATENCY_PER_REFERENCE / 2
    assert lab_check.latency_limit(0.5, 2, reference_ms=fast) == lab_check.LATENCY_LIMIT_MS
    slow = 3 * lab_check.LATENCY_LIMIT_MS / lab_check.LATENCY_PER_REFERENCE
    assert lab_check.latency_limit(0.5, 2, reference_ms=slow) == 3 * lab_check.LATENCY_LIMIT_MS
    # both stretches multiply
    assert (lab_check.latency_limit(6.0, 2, scale=True, reference_ms=slow)
            == 9 * lab_check.LATENCY_LIMIT_MS)


def test_the_reference_figure_is_timed_in_milliseconds():
    first, second = lab_check.reference_figure_ms(2), lab_check.reference_figure_ms(2)
    assert 1.0 < first < 10_000.0 and 1.0 < second < 10_000.0


def test_busy_cpus_reads_proc_stat_and_waiting_for_quiet_is_bounded():
    before = lab_check.cpu_times()
    assert before is not None and 0 < before[0] < before[1]
    end = time.monotonic() + 0.3
    while time.monotonic() < end:  # one CPU busy for 0.3 s
        pass
    busy = lab_check.busy_cpus(before, lab_check.cpu_times())
    assert 0.5 <= busy <= os.cpu_count() + 0.01, busy
    assert lab_check.busy_cpus(before, before) is None
    started = time.monotonic()
    quiet = lab_check.wait_until_quiet(max_s=1.0, below=-1.0, step_s=0.2)  # never quiet
    assert 1.0 <= time.monotonic() - started < 2.0 and quiet["waited_s"] >= 1.0


def test_a_failure_in_any_take_counts():
    first = [{"control": "slider 'n'", "kind": "slider", "moved": True, "changed": False,
              "moves": [{"direction": "forward", "from": 1, "to": 2, "moved": True,
                         "changed": False, "status_errors": []}]}]
    explorer = _explorer()
    explorer["takes"] = [{"controls": first}, {"controls": explorer["controls"]}]
    found = lab_check.chapter_failures(_chapter(explorers=[explorer]))
    assert any("did not change the picture" in f for f in found), found


def test_latency_summary_is_median_and_worst_of_the_moves_that_redrew():
    moves = [_move(ms=10.0), _move(ms=30.0), _move(ms=20.0), _move(ms=None, changed=False)]
    assert lab_check.summarize_latency(moves) == {"n": 3, "median_ms": 20.0, "worst_ms": 30.0}
    assert lab_check.summarize_latency([]) == {"n": 0, "median_ms": None, "worst_ms": None}


def test_console_errors_tolerate_only_front_end_noise_and_offline_cdns():
    session = [
        {"method": "Runtime.exceptionThrown", "params": {"exceptionDetails": {
            "text": "Uncaught", "url": "http://127.0.0.1:1/x.js", "lineNumber": 9,
            "exception": {"description": "TypeError: x is null\n    at f (x.js:10:3)"}}}},
        {"method": "Runtime.consoleAPICalled", "params": {"type": "error", "args": [
            {"type": "string", "value": "Error: Module @jupyter-widgets/controls, version "
                                        "^1.5.0 is not registered"}]}},
        {"method": "Runtime.consoleAPICalled", "params": {"type": "warning", "args": [
            {"type": "string", "value": "just a warning"}]}},
        {"method": "Log.entryAdded", "params": {"entry": {
            "level": "error", "source": "network", "text": "Failed to load resource",
            "url": "https://maxcdn.bootstrapcdn.com/font-awesome.css"}}},
        {"method": "Log.entryAdded", "params": {"entry": {
            "level": "error", "source": "network", "text": "Failed to load resource: 404",
            "url": "http://127.0.0.1:1/files/book/images/missing.png"}}},
        {"method": "Log.entryAdded", "params": {"entry": {
            "level": "error", "source": "javascript",
            "text": "Access to font at 'about:blank' from origin 'http://127.0.0.1:1' has "
                    "been blocked by CORS policy", "url": ""}}},
    ]
    errors, tolerated = lab_check.console_errors(session)
    assert len(errors) == 3, errors
    assert errors[0].startswith("exception: TypeError: x is null (http://127.0.0.1:1/x.js:10")
    assert "version ^1.5.0 is not registered" in errors[1]
    assert "missing.png" in errors[2]
    assert len(tolerated) == 2 and "offline" in tolerated[0]


def test_widget_outputs_are_counted_from_the_saved_notebook():
    view = {"output_type": "display_data", "data": {lab_check.WIDGET_VIEW: {"model_id": "m"},
                                                    "text/plain": ["Explorer(...)"]}}
    text = {"output_type": "stream", "name": "stdout", "text": ["hi"]}
    nb = {"cells": [{"cell_type": "markdown", "source": []},
                    {"cell_type": "code", "outputs": [text]},
                    {"cell_type": "code", "outputs": [view, text, view]}]}
    view2 = {"output_type": "display_data", "data": {lab_check.WIDGET_VIEW: {"model_id": "n"}}}
    nb["cells"][2]["outputs"][2] = view2
    assert lab_check.widget_outputs(nb) == {2: ["m", "n"]}


def test_the_report_names_chapters_explorers_controls_and_moves():
    protocol = lab_check.protocols(str(COLAB_PYTHON))["colab"]
    bad = _chapter(notebook="book/02_y.ipynb", explorers=[_explorer(status_errors=["boom"])])
    for c in (good := _chapter(), bad):
        c["failures"] = lab_check.chapter_failures(c)
    report = lab_check.build_report(protocol, [good, bad], {"jupyterlab": "4"}, 12.34, True)
    assert report["protocol"] == "colab" and report["token_enforced"] is True
    assert report["summary"] == {"chapters": 2, "explorers": 2, "controls": 2, "moves": 4,
                                 "changed": 2, "unchanged": 0, "failures": 1}
    assert report["failures"] == ["book/02_y.ipynb: explorer 0 (cell 5): red status text: boom"]
    move = report["chapters"][0]["explorers"][0]["controls"][0]["moves"][0]
    assert {"changed", "redraw_ms", "loaded_ms", "from", "to"} <= set(move)
    json.dumps(report)  # serializable as it is


def test_typed_values_step_numbers_and_go_back_to_the_original():
    assert lab_check._typed_value("-1", True, "-1") == "0"
    assert lab_check._typed_value("0.5", True, "0.5") == "1.5"
    assert lab_check._typed_value("abc", True, "abc") == "abcx"
    assert lab_check._typed_value("0", False, "-1") == "-1"


# ---------------------------------------------------------------- nothing left running

SPAWNER = """
import subprocess, sys, time
# a "kernel" in a session of its own (as jupyter_client starts kernels), with a child
subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                  "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "
                  "time.sleep(300)"], start_new_session=True)
time.sleep(300)
"""


def test_stop_ends_the_server_and_every_process_it_started(tmp_path):
    processes = lab_check.Processes()
    server = processes.start_server([sys.executable, "-c", SPAWNER], dict(os.environ),
                                    tmp_path / "log", tmp_path)
    deadline = time.monotonic() + 20
    while len(processes.descendants()) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    family = processes.descendants()
    assert len(family) == 3  # the server, a "kernel" in its own session, the kernel's child
    assert os.getpgid(server.pid) != os.getpgrp()  # its own process group
    processes.stop()
    assert server.poll() is not None
    assert not [p for p in family if lab_check._alive(p)]


# ---------------------------------------------------------------- end to end

SETUP = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
from convlab.widgets import Explorer


def picture(n=1):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.bar([0], [n])
    ax.set_title(f"n = {n}")
    return fig


def slider():
    return widgets.IntSlider(value=1, min=0, max=4, description="n")


def every_kind(n=1, colour="C0", width=1.0, style="-", grid=False, label=""):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, n], color=colour, lw=width, ls=style)
    ax.grid(grid)
    ax.set_title(f"{n} {label}")
    return fig
"""

CELLS = {
    "works": 'Explorer(every_kind, {"n": slider(), '
             '"colour": widgets.Dropdown(options=["C0", "C1", "C2"], description="colour"), '
             '"width": widgets.FloatText(value=1.0, description="width"), '
             '"style": widgets.ToggleButtons(options=["-", "--", ":"], description="style"), '
             '"grid": widgets.Checkbox(value=False, description="grid"), '
             '"label": widgets.Text(value="a", description="label")})',
    "raises": 'def broken(n=1):\n    if n != 1:\n        raise ValueError("render broke")\n'
              '    return picture(n)\n\n\nExplorer(broken, {"n": slider()})',
    "frozen": 'frozen = Explorer(picture, {"n": slider()})\n'
              'frozen.controls["n"].unobserve(frozen._on_change, names="value")\nfrozen',
    "prints": 'noisy = Explorer(picture, {"n": slider()})\n'
              'noisy.controls["n"].observe(lambda change: print("moved", change["new"]), '
              'names="value")\nnoisy',
}


def _synthetic_notebook(folder: pathlib.Path) -> pathlib.Path:
    def code(source):
        return {"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                "execution_count": None}

    cells = [code(SETUP)] + [code(source) for source in CELLS.values()]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                      "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    folder.mkdir(parents=True)
    path = folder / "01_synthetic.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _our_leftovers() -> list:
    return [p.cmdline() for p in psutil.Process().children(recursive=True) if lab_check._alive(p)]


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="no Chromium installed")
def test_a_real_front_end_tells_working_explorers_from_broken_ones(tmp_path):
    """Both protocols (the Colab one where .venv-colab exists), in a real server + browser."""
    notebook = _synthetic_notebook(tmp_path / "book")
    names = ["ipywidgets8"] + (["colab"] if COLAB_PYTHON.exists() else [])
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "lab_check.py"), str(notebook),
                           "--out", str(out), "--protocols", *names],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert not _our_leftovers()
    for name in names:
        report = json.loads((out / f"{name}.json").read_text())
        chapter = report["chapters"][0]
        failures = chapter["failures"]
        by_cell = {e["cell"]: e for e in chapter["explorers"]}
        assert sorted(by_cell) == [1, 2, 3, 4], (name, failures)
        works, raises, frozen, prints = (by_cell[k] for k in (1, 2, 3, 4))
        kinds = {c["kind"]: c["changed"] and c["moved"] for c in works["controls"]}
        assert kinds == {"slider": True, "dropdown": True, "text": True,
                         "toggle_buttons": True, "checkbox": True}, (name, works["controls"])
        assert len(works["controls"]) == 6 and works["latency"]["n"] >= 6
        assert works["kernel_redraw"]["n"] >= 1 and works["kernel_redraw"]["median_ms"] > 0
        # (its redraw time depends on the machine's load: not asserted here)
        assert not [f for f in failures if "cell 1)" in f and "median redraw" not in f], (
            name, failures)
        assert raises["status_errors"] == ["ValueError: render broke"], name
        assert not raises["controls"][0]["changed"]
        assert not frozen["controls"][0]["changed"]
        assert any("explorer 2 (cell 3)" in f and "did not change" in f for f in failures)
        # the printing callback: a new output in its cell (classic) or a kernel log (Lab)
        assert any("cell 4: its output area went from" in f or "log console" in f
                   for f in failures), (name, failures)
        assert chapter["ipywidgets"].startswith("8." if name == "ipywidgets8" else "7.7")
        assert pathlib.Path(works["screenshot"]).stat().st_size > 10_000
        assert report["token_enforced"] is True
