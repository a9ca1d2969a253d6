"""The ladder benchmark runs on the tiny shape list and writes its table, JSON and plot.

No timing assertions: timings live in the benchmark's saved results, not in tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import convlab
from convlab.ladder import RESNET18, best_rung, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_script_runs_on_tiny_shapes(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ladder.py"), "--quick",
                          "--device", "cpu", "--threads", "1", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "ladder_cpu.json").read_text())
    assert results["shapes"] == "tiny" and results["rungs"] == list(convlab.IMPLEMENTATIONS)
    assert results["sgemm_gflops"] > 0
    for layer in results["layers"]:
        ref = layer["rungs"]["F.conv2d"]
        assert ref["ratio"] == 1.0 and ref["seconds"] > 0
        for name in convlab.IMPLEMENTATIONS:
            r = layer["rungs"][name]
            assert "skipped" in r or {"seconds", "ratio", "gflops", "peak_mib"} <= set(r)
    assert "skipped" in results["layers"][0]["rungs"]["winograd"]  # 5x5/2 is not Winograd's
    table = (tmp_path / "ladder_cpu.md").read_text()
    assert table.startswith("| layer |") and "Best rung vs F.conv2d" in table
    assert (tmp_path / "ladder_cpu.png").read_bytes()[:4] == b"\x89PNG"


def test_resnet18_layers_are_the_distinct_convs():
    assert len(RESNET18) == 11 and RESNET18[0] == ("conv1 7x7/2", 3, 64, 224, 7, 2, 3)


def test_saved_results_are_well_formed():
    path = ROOT / "benchmarks" / "results" / "ladder_cpu.json"
    results = json.loads(path.read_text())
    assert [layer["layer"] for layer in results["layers"]] == [r[0] for r in RESNET18]
    assert markdown_table(results).count("\n|") == len(RESNET18) + 1
    assert all(best_rung(layer)[0] in convlab.IMPLEMENTATIONS for layer in results["layers"])


def test_functional_benchmark_times_every_applicable_backend():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import functional as bench  # benchmarks/functional.py
    finally:
        sys.path.pop(0)
    from convlab import functional, gemm

    times, err, chosen = bench.bench_layer(64, 8, 3, 1, 1, 16, batch=1, repeats=1)
    assert chosen == ("im2col" if gemm.onednn_matmul_available() else "winograd4") and err < 1e-4
    assert all(times[n] > 0 for n in ("torch", "auto", *functional.BACKENDS))
    times, err, chosen = bench.bench_layer(4, 8, 1, 2, 0, 9, batch=2, repeats=1)
    assert chosen == "im2col" and err < 1e-5 and times["im2col"] > 0
    assert times["winograd2"] is None and times["winograd4"] is None  # n/a for 1x1 stride 2
    assert bench._fmt(bench._ms(times["winograd4"])) == "n/a"


def test_paired_rounds_shuffle_each_functions_neighbours():
    """Every function once per round (``once``: the first round only), in orders that give
    each function more than one predecessor, and the same orders for the same seed."""
    from convlab.ladder import paired_times

    calls = []

    def recorder(name):
        return lambda: calls.append(name)

    names = ["F.conv2d", "a", "b", "c"]
    times = paired_times({n: recorder(n) for n in names}, rounds=12, once=("c",))
    timed = calls[len(names):]  # after the warm-up call of each
    assert sorted(timed) == sorted(["F.conv2d", "a", "b"] * 12 + ["c"])
    assert all(len(times[n]) == 12 and None not in times[n] for n in ("F.conv2d", "a", "b"))
    assert times["c"][0] is not None and times["c"][1:] == [None] * 11
    assert sorted(timed[:4]) == sorted(names)  # the first round holds all four
    rounds = [timed[:4]] + [timed[i:i + 3] for i in range(4, len(timed), 3)]
    predecessors = {n: set() for n in names}  # within a round (a rotation keeps just one)
    for order in rounds:
        for before, after in zip(order, order[1:]):
            predecessors[after].add(before)
    assert all(len(predecessors[n]) >= 2 for n in ("F.conv2d", "a", "b"))
    calls.clear()
    paired_times({n: recorder(n) for n in names}, rounds=12, once=("c",))
    assert calls[len(names):] == timed  # seeded: a run can be repeated
