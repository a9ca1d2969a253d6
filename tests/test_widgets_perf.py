"""Every live widget survives a sweep of its controls, and redraws fast enough to feel live.

Discovers the builders in ``convlab.widgets.__all__`` (functions named ``*_explorer``
that return an :class:`~convlab.widgets.Explorer` when called with their defaults),
moves every control through a few values (every option of a drop-down, a few points of
a slider, a toggle of a check box, nudges of a number box) and fails if an update raises
or leaves ``explorer.error`` set. Prints the median redraw time and writes
``_build/widget_perf.json`` (``widget_perf_ipywidgets7.json`` under ipywidgets 7, the
Colab environment). Target: median under 100 ms on 2 cores; the test fails only above
``CONVLAB_REDRAW_BUDGET_MS`` (default 1000 ms), since shared machines are noisy.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import os
import pathlib
import statistics
import time
import uuid

import ipywidgets
import matplotlib
import pytest

import convlab.widgets as cw
from convlab.ladder import TINY

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUDGET_MS = float(os.environ.get("CONVLAB_REDRAW_BUDGET_MS", "1000"))
# Explorers whose redraw *is* a measurement (the ladder times every rung on the reader's
# machine): their redraw time is reported, never bounded.
MEASURES_BY_DESIGN = {"ladder_explorer"}
# Arguments that keep a sweep short without changing what is swept: the ladder benchmarks
# every rung on each redraw, so it sweeps the small layers (chapter 4 uses ResNet-18's).
SWEEP_ARGS = {"ladder_explorer": {"layers": TINY, "initial": "tiny 3x3"}}
MAJOR = int(ipywidgets.__version__.split(".")[0])
REPORT = ROOT / "_build" / ("widget_perf.json" if MAJOR >= 8 else
                            f"widget_perf_ipywidgets{MAJOR}.json")
# One id for the whole test run, shared by pytest-xdist's workers.
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
BUILDERS = sorted(name for name in cw.__all__
                  if name.endswith("_explorer") and not name.endswith("static_explorer")
                  and inspect.isfunction(getattr(cw, name)))


def sweep_values(control) -> list:
    """A few values to move ``control`` through (its starting value comes last)."""
    start = control.value
    if hasattr(control, "options") and hasattr(control, "index"):  # Dropdown and friends
        values = [("index", i) for i in range(len(control.options))]
        return [*values, ("index", control.index)]
    if isinstance(control, ipywidgets.Checkbox):
        return [("value", not start), ("value", start)]
    if hasattr(control, "min") and hasattr(control, "max"):  # sliders, bounded boxes
        lo, hi = control.min, control.max
        points = [lo, lo + (hi - lo) / 3, lo + 2 * (hi - lo) / 3, hi]
        if isinstance(start, int):
            points = sorted({int(round(p)) for p in points})
        return [*(("value", p) for p in points), ("value", start)]
    if isinstance(start, (int, float)) and not isinstance(start, bool):  # FloatText, IntText
        step = 1 if isinstance(start, int) else 0.5
        return [("value", start + step), ("value", start - step), ("value", start)]
    return []


def drive(explorer) -> tuple[list[float], list[str]]:
    """Sweep every control; return the redraw times (ms) and the problems seen."""
    times, problems = [], []
    for name, control in explorer.controls.items():
        for attribute, value in sweep_values(control):
            before = explorer.redraws
            started = time.perf_counter()
            try:
                setattr(control, attribute, value)
            except Exception as exc:  # an update must never raise
                problems.append(f"{name}.{attribute}={value!r} raised {type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if explorer.redraws > before:
                times.append(elapsed / (explorer.redraws - before))
            if explorer.error is not None:
                problems.append(f"{name}.{attribute}={value!r} set error: {explorer.error}")
    return times, problems


def _record(name: str, entry: dict) -> None:
    """Add one explorer's numbers to the report (locked: pytest-xdist workers share it)."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with open(REPORT.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
        if report.get("run") != RUN:  # a previous run's numbers: start afresh
            report = {"run": RUN}
        report.update(ipywidgets=ipywidgets.__version__, cpus=os.cpu_count(),
                      load_average=round(os.getloadavg()[0], 1), target_ms=100)
        report.setdefault("explorers", {})[name] = entry
        every = [t for e in report["explorers"].values() for t in e["times_ms"]]
        report["median_ms"] = round(statistics.median(every), 1)
        REPORT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


def test_widget_builders_are_discovered():
    assert BUILDERS, "no *_explorer builders in convlab.widgets.__all__"


@pytest.mark.parametrize("name", BUILDERS)
def test_sweep_every_control(name):
    explorer = getattr(cw, name)(**SWEEP_ARGS.get(name, {}))
    if not isinstance(explorer, cw.Explorer):
        pytest.skip(f"{name}() returns {type(explorer).__name__}, not an Explorer")
    assert explorer.error is None, f"{name}() starts with an error: {explorer.error}"
    times, problems = drive(explorer)
    assert times, f"sweeping {name}'s controls never redrew it"
    median = statistics.median(times)
    entry = {"controls": len(explorer.controls), "redraws": len(times),
             "median_ms": round(median, 1), "max_ms": round(max(times), 1),
             "times_ms": [round(t, 1) for t in times]}
    _record(name, entry)
    print(f"\n{name}: {len(times)} redraws, median {median:.0f} ms, max {max(times):.0f} ms "
          f"(target < 100 ms), ipywidgets {ipywidgets.__version__}")
    assert not problems, f"{name}: " + "; ".join(problems)
    if name in MEASURES_BY_DESIGN:
        return
    assert median < BUDGET_MS, f"{name}: median redraw {median:.0f} ms > {BUDGET_MS:.0f} ms"
