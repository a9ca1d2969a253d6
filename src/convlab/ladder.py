"""Measuring the performance ladder: every rung of ``IMPLEMENTATIONS`` against ``F.conv2d``.

The benchmark script ``benchmarks/ladder.py`` and chapter 4's widget use these helpers.
Each rung and ``F.conv2d`` run in interleaved rounds (round r calls every function
once, so a slow moment of a shared machine hits all of them); a rung's number per
layer is the median over rounds of ``time(rung) / time(F.conv2d)`` in the same round.
GFLOP/s counts the direct algorithm's ``2 N C_out H_out W_out (C_in/groups) kH kW``
for every rung. Memory is the peak of the bytes allocated through PyTorch's allocator
during one call (output included; oneDNN's private scratch space is invisible): the
profiler's memory events on the CPU, ``max_memory_allocated`` on CUDA.
"""

from __future__ import annotations

import contextlib
import html
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from .arithmetic import conv_output_size
from .implementations import IMPLEMENTATIONS

# (name, C_in, C_out, H_in, kernel, stride, padding): ResNet-18's distinct conv layers
RESNET18 = [
    ("conv1 7x7/2", 3, 64, 224, 7, 2, 3),
    ("layer1 3x3", 64, 64, 56, 3, 1, 1),
    ("layer2.0 3x3/2", 64, 128, 56, 3, 2, 1),
    ("layer2.0 down 1x1/2", 64, 128, 56, 1, 2, 0),
    ("layer2 3x3", 128, 128, 28, 3, 1, 1),
    ("layer3.0 3x3/2", 128, 256, 28, 3, 2, 1),
    ("layer3.0 down 1x1/2", 128, 256, 28, 1, 2, 0),
    ("layer3 3x3", 256, 256, 14, 3, 1, 1),
    ("layer4.0 3x3/2", 256, 512, 14, 3, 2, 1),
    ("layer4.0 down 1x1/2", 256, 512, 14, 1, 2, 0),
    ("layer4 3x3", 512, 512, 7, 3, 1, 1),
]
TINY = [
    ("tiny 5x5/2", 3, 8, 16, 5, 2, 2),
    ("tiny 3x3", 8, 8, 8, 3, 1, 1),
    ("tiny 1x1/2", 8, 16, 8, 1, 2, 0),
]
SHAPES = {"resnet18": RESNET18, "tiny": TINY}
NAIVE_MAX_STEPS = 12_000  # H_out*W_out*kH*kW Python iterations; beyond that naive is skipped


def layer_tensors(layer, batch, device):
    name, C_in, C_out, H, k, stride, padding = layer
    x = torch.randn(batch, C_in, H, H, device=device)
    w = torch.randn(C_out, C_in, k, k, device=device) / (C_in * k * k) ** 0.5
    H_out = conv_output_size(H, k, stride, padding)
    flops = 2 * batch * C_out * H_out * H_out * C_in * k * k
    return x, w, dict(stride=stride, padding=padding), flops, H_out * H_out * k * k


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device):
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def peak_bytes(fn, device):
    """Peak bytes allocated by PyTorch during ``fn()`` (output included)."""
    if device.type == "cuda":
        synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
    with quiet_stderr(), torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak


@contextlib.contextmanager
def quiet_stderr():
    """Send file descriptor 2 to /dev/null: the profiler's C++ side logs there."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def applicable(name, layer):
    _, _, _, _, k, stride, _ = layer
    return name != "winograd" or (k == 3 and stride == 1)


def bench_layer(layer, rungs, batch, rounds, device):
    """Interleaved timing of ``F.conv2d`` and every applicable rung on one layer."""
    x, w, kw, flops, naive_steps = layer_tensors(layer, batch, device)
    fns = {"F.conv2d": lambda: F.conv2d(x, w, **kw)}
    skipped = {}
    for name, fn in rungs.items():
        if not applicable(name, layer):
            skipped[name] = "n/a (3x3 stride 1 only)"
        elif name == "naive" and naive_steps > NAIVE_MAX_STEPS:
            skipped[name] = "skipped (too slow)"
        else:
            fns[name] = lambda fn=fn: fn(x, w, **kw)
    for fn in fns.values():  # warm-up (and first-call allocations) outside the clock
        fn()
    times = {name: [] for name in fns}
    for r in range(rounds):
        for name, fn in fns.items():
            if name == "naive" and r > 0:  # one timed call is plenty for the loop
                continue
            times[name].append(timed(fn, device))
    ref = times["F.conv2d"]
    result = {"layer": layer[0], "shape": list(layer[1:]), "flops": flops, "rungs": {}}
    for name in fns:
        seconds = statistics.median(times[name])
        ratios = [t / r for t, r in zip(times[name], ref)]
        result["rungs"][name] = {
            "seconds": seconds, "ratio": statistics.median(ratios),
            "gflops": flops / seconds / 1e9, "peak_mib": peak_bytes(fns[name], device) / 2**20}
    for name, why in skipped.items():
        result["rungs"][name] = {"skipped": why}
    return result


def sgemm_gflops(device, n=2048):
    """The machine's practical roof: GF/s of one large float32 matrix multiply."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    return 2 * n**3 / min(timed(lambda: a @ b, device) for _ in range(3)) / 1e9


def run(shapes="resnet18", batch=8, rounds=7, device="cpu", threads=None, rungs=None):
    """Benchmark every layer of ``SHAPES[shapes]``; returns the results as a dict."""
    device = torch.device(device)
    if threads:
        torch.set_num_threads(threads)
    rungs = {n: f for n, f in IMPLEMENTATIONS.items() if rungs is None or n in rungs}
    torch.manual_seed(0)
    layers = [bench_layer(layer, rungs, batch, rounds, device) for layer in SHAPES[shapes]]
    return {
        "device": str(device), "shapes": shapes, "batch": batch, "rounds": rounds,
        "dtype": "float32", "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": (torch.cuda.get_device_name(device) if device.type == "cuda"
                    else f"{platform.processor() or platform.machine()}, "
                         f"{torch.get_num_threads()} threads"),
        "sgemm_gflops": sgemm_gflops(device), "rungs": list(rungs), "layers": layers}


def best_rung(layer):
    """The fastest convlab rung on one layer: (name, ratio to F.conv2d)."""
    timed_rungs = {n: r["ratio"] for n, r in layer["rungs"].items()
                   if n != "F.conv2d" and "ratio" in r}
    name = min(timed_rungs, key=timed_rungs.get)
    return name, timed_rungs[name]


def ladder_rows(results):
    """Table of one run: ``(header, rows, note)``, a cell per rung: ratio, GF/s, peak MiB."""
    names = results["rungs"]
    head = ["layer", "F.conv2d ms (GF/s)"] + names + ["best"]
    rows = []
    for layer in results["layers"]:
        ref = layer["rungs"]["F.conv2d"]
        cells = [layer["layer"], f"{ref['seconds'] * 1e3:.1f} ({ref['gflops']:.0f})"]
        for name in names:
            r = layer["rungs"][name]
            cells.append(r["skipped"] if "skipped" in r else
                         f"{r['ratio']:.2f}x ({r['gflops']:.0f} GF/s, {r['peak_mib']:.3g} MiB)")
        best, ratio = best_rung(layer)
        rows.append(cells + [f"{best} {ratio:.2f}x"])
    best = [best_rung(layer)[1] for layer in results["layers"]]
    note = (f"Best rung vs F.conv2d: median {statistics.median(best):.2f}x, "
            f"worst {max(best):.2f}x (ratios are time / F.conv2d's time; < 1 is faster). "
            f"{results['machine']}, torch {results['torch']}, batch {results['batch']}, "
            f"{results['rounds']} interleaved rounds; sgemm roof "
            f"{results['sgemm_gflops']:.0f} GF/s.")
    return head, rows, note


def markdown_table(results):
    """The run as a Markdown table (the ``.md`` file the benchmark writes)."""
    head, rows, note = ladder_rows(results)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines + ["", note]) + "\n"


def html_table(results):
    """The run as an HTML table (notebook outputs render HTML, not Markdown tables)."""
    head, rows, note = ladder_rows(results)
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                  for cells in rows)
    return (f'<table style="font-size:0.75em"><thead><tr>{th}</tr></thead><tbody>{trs}'
            f"</tbody></table><p>{html.escape(note)}</p>")


def plot_ladder(results, path=None):
    """Grouped bars: each rung's time ratio to F.conv2d per layer (log scale)."""
    import matplotlib.pyplot as plt

    layers = results["layers"]
    names = list(results["rungs"])
    fig, ax = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs, ys = [], []
        for j, layer in enumerate(layers):
            r = layer["rungs"][name]
            if "ratio" in r:
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                ys.append(r["ratio"])
        ax.bar(xs, ys, width, label=name)
    ax.axhline(1.0, color="k", lw=1, ls="--", label="F.conv2d")
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)), [layer["layer"] for layer in layers], rotation=30,
                  ha="right", fontsize=8)
    ax.set_ylabel("time / F.conv2d time (log)")
    ax.set_title(f"convlab's ladder vs F.conv2d ({results['device']}, batch {results['batch']})",
                 fontsize=10)
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
        plt.close(fig)
    return fig
