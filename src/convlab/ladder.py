"""Measuring the performance ladder: every rung of ``IMPLEMENTATIONS`` against ``F.conv2d``.

The benchmark scripts (``benchmarks/*.py``), chapter 4's live measurements and its widget
use these helpers. The method, the same everywhere:

* **Paired, interleaved rounds** (:func:`paired_times`): round r calls every function
  once, in an order shuffled afresh each round (seeded, so a run can be repeated), so a slow
  moment of a shared machine hits every function of that round, and no function always
  runs right after the same neighbour: a rotation would keep the cyclic order, and with it
  each function's predecessor, whose caches and freed memory it inherits.
* **Ratios per round** (:func:`paired_ratio`): a function's number is the median over
  rounds of ``time(function) / time(F.conv2d)`` in the same round.
* **Busy rounds dropped and counted**: a round counts as busy for a pair when either
  time in it is more than ``BUSY`` (1.5) times that function's median over all rounds;
  such rounds are left out of that pair's ratio, and their number is reported.
* **Where it ran** (:func:`machine_info`): CPU model, ISA, threads, torch, the GEMM
  libraries and the date go with every result.

GFLOP/s counts the direct algorithm's ``2 N C_out H_out W_out (C_in/groups) kH kW`` for
every rung. Memory is the peak of the bytes allocated through PyTorch's allocator
during one call (output included; oneDNN's private scratch space is invisible): the
profiler's memory events on the CPU, ``max_memory_allocated`` on CUDA.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import os
import platform
import random
import re
import statistics
import time

import torch
import torch.nn.functional as F

from . import gemm
from .arithmetic import conv_output_size
from .implementations import IMPLEMENTATIONS

BUSY = 1.5  # a round is busy for a function when its time exceeds BUSY x its median
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "asimd",
             "sve")  # the /proc/cpuinfo flags that decide which GEMM kernels can run

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


def _cpuinfo() -> dict:
    """``model name`` and ``flags`` of the first CPU in ``/proc/cpuinfo`` (Linux), else {}."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "flags", "Features", "vendor_id", "cpu family", "model") \
                and key not in fields:
            fields[key] = value.strip()
    return fields


def amd_core(family: int, model: int) -> str | None:
    """The Zen generation of an AMD CPU from its ``cpu family`` and ``model`` numbers.

    A virtual machine often reports only "AMD EPYC" as the model name, and the generation
    matters here: Zen 4 runs AVX-512 on 256-bit units, Zen 5 on 512-bit ones, so oneDNN's
    speed (and every ratio to ``F.conv2d``) differs between them. Families 0x17-0x1A,
    after AMD's processor programming references; None for anything else.
    """
    if family == 0x17:
        return "Zen 2" if model >= 0x30 else "Zen/Zen+"
    if family == 0x19:
        return "Zen 4" if 0x10 <= model <= 0x1F or 0x60 <= model <= 0xAF else "Zen 3"
    if family == 0x1A:
        return "Zen 5"
    return None


def machine_info(device="cpu") -> dict:
    """Where a measurement ran: CPU model, ISA, threads, torch, GEMM libraries, date."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    device = torch.device(device)
    family, model = info.get("cpu family"), info.get("model")
    family = int(family) if family and family.isdigit() else None
    model = int(model) if model and model.isdigit() else None
    core = (amd_core(family, model) if info.get("vendor_id") == "AuthenticAMD"
            and family is not None and model is not None else None)
    result = {
        "cpu": info.get("model name") or platform.processor() or platform.machine(),
        "cpu_family": family, "cpu_model": model, "core": core,
        "isa": torch.backends.cpu.get_cpu_capability(),
        "isa_flags": [f for f in ISA_FLAGS if f in flags],
        "cores": os.cpu_count(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, **gemm.describe(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
        "loadavg": _loadavg(), "device": str(device)}
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)
    return result


def _loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return None


def _processor(info: dict, numbers: bool = True) -> str:
    """The GPU, or the CPU with its core where known (and its family and model numbers)."""
    if info.get("gpu"):
        return info["gpu"]
    details = [info["core"]] if info.get("core") else []
    if numbers and info.get("cpu_family") is not None:
        details.append(f"family {info['cpu_family']} model {info['cpu_model']}")
    return info["cpu"] + (f" ({', '.join(details)})" if details else "")


def machine_line(info: dict) -> str:
    """One line naming the machine of ``machine_info``, for tables and captions."""
    where = _processor(info)
    flags = ", ".join(info.get("isa_flags") or []) or "no flags listed"
    blas = re.sub(r"-Product Build.*|\(R\)|oneAPI ", "", info.get("blas") or "unknown BLAS")
    blas = blas.replace("Intel Math Kernel Library Version", "MKL").strip()
    onednn = re.sub(r"\s*\(Git Hash.*|Intel\(R\) MKL-DNN", "", info.get("onednn") or "")
    onednn = f"oneDNN {onednn.strip()}" if onednn else "no oneDNN"
    gemm_used = ("oneDNN or torch.matmul, the faster per layer" if info.get("onednn_matmul")
                 else "torch.matmul")
    return (f"{where}; ISA {info['isa']} ({flags}); {info['threads']} of {info['cores']} "
            f"threads; torch {info['torch']}; {blas}, {onednn}; convlab.functional's im2col "
            f"GEMMs on {gemm_used}; {info['date'][:10]}")


def machine_brief(info: dict) -> str:
    """A few words for a sentence: the CPU (its core where known) or GPU, ISA and threads."""
    threads = f"{info['threads']} thread{'s' * (info['threads'] != 1)}"
    where = _processor(info, numbers=False)
    return f"{where}, ISA {info['isa']}, {threads} of {info['cores']} CPUs"


def paired_times(fns: dict, rounds: int, device="cpu", once=(), seed=0) -> dict:
    """Time every function once per round, in an order shuffled afresh every round.

    ``fns`` maps names to zero-argument callables; each is called once first, outside the
    clock (warm-up: first-call allocations, oneDNN's kernel generation). Names in
    ``once`` are timed in the first round only (the naive loop). The orders come from
    ``random.Random(seed)``, so each function follows different neighbours (round order
    matters: measured, a function timed right after ``F.conv2d`` ran up to 15% slower than
    the same function timed after another one). Returns name -> list of seconds, one per
    round (``None`` where a function was not timed).
    """
    device = torch.device(device)
    for fn in fns.values():
        fn()
    names = list(fns)
    rng = random.Random(seed)
    times = {name: [None] * rounds for name in names}
    for r in range(rounds):
        for name in rng.sample(names, len(names)):
            if name in once and r > 0:
                continue
            times[name][r] = timed(fns[name], device)
    return times


def paired_ratio(times: dict, name: str, reference: str = "F.conv2d",
                 busy: float = BUSY) -> dict:
    """Median over rounds of ``times[name] / times[reference]``, busy rounds dropped.

    A round is busy for this pair when either time exceeds ``busy`` times that
    function's median over all rounds. Returns ``ratio``, ``seconds`` (the function's
    median time over the kept rounds), ``kept`` and ``busy`` (rounds dropped).
    """
    pairs = [(t, r) for t, r in zip(times[name], times[reference]) if t is not None]
    med_t, med_r = (statistics.median(v) for v in zip(*pairs))
    kept = [(t, r) for t, r in pairs if t <= busy * med_t and r <= busy * med_r]
    kept = kept or pairs  # (every round busy: a machine too busy to say; keep them all)
    return {"ratio": statistics.median(t / r for t, r in kept),
            "seconds": statistics.median(t for t, _ in kept),
            "kept": len(kept), "busy": len(pairs) - len(kept)}


def applicable(name, layer):
    _, _, _, _, k, stride, _ = layer
    return name != "winograd" or (k == 3 and stride == 1)


def bench_layer(layer, rungs, batch, rounds, device, memory=True):
    """Paired, interleaved timing of ``F.conv2d`` and every applicable rung on one layer.

    Returns the layer's ratios, times, GF/s, peak memory (``memory=False`` skips the
    profiler run that measures it) and the raw seconds of every round.
    """
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
    times = paired_times(fns, rounds, device, once=("naive",))
    result = {"layer": layer[0], "shape": list(layer[1:]), "flops": flops, "rungs": {},
              "raw_seconds": times}
    for name in fns:
        if name == "naive":  # timed once: its ratio is to F.conv2d's median
            seconds = times[name][0]
            stats = {"seconds": seconds, "kept": 1, "busy": 0,
                     "ratio": seconds / statistics.median(times["F.conv2d"])}
        else:
            stats = paired_ratio(times, name)
        stats["gflops"] = flops / stats["seconds"] / 1e9
        if memory:
            stats["peak_mib"] = peak_bytes(fns[name], device) / 2**20
        result["rungs"][name] = stats
    for name, why in skipped.items():
        result["rungs"][name] = {"skipped": why}
    return result


def gemm_roofs(device="cpu", n=2048, rounds=5) -> dict:
    """GF/s of one square float32 ``n x n`` GEMM through ``torch.matmul`` and, on a CPU
    whose torch has it, through oneDNN's matmul (:mod:`convlab.gemm`): the two roofs that
    convlab's GEMMs can reach. Paired rounds; the fastest round of each."""
    device = torch.device(device)
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    fns = {"torch.matmul": lambda: a @ b}
    if device.type == "cpu" and gemm.onednn_matmul_available():
        fns["oneDNN matmul"] = lambda: torch.ops.mkldnn._linear_pointwise(
            a, b.T, None, "none", [], "")  # a (b^T)^T = a @ b
    times = paired_times(fns, rounds, device)
    return {name: 2 * n**3 / min(t) / 1e9 for name, t in times.items()}


def stream_gbs(device="cpu", mib=256, rounds=5) -> float:
    """Memory bandwidth in GB/s: bytes read plus bytes written by one large copy (STREAM's
    "copy"), the fastest of a few rounds; the arrays are far larger than the caches."""
    device = torch.device(device)
    src = torch.randn(mib * 2**18, device=device)  # mib MiB of float32
    dst = torch.empty_like(src)
    times = paired_times({"copy": lambda: dst.copy_(src)}, rounds, device)["copy"]
    return 2 * src.numel() * 4 / min(times) / 1e9


def live_ratios(layers=("layer2 3x3", "layer4.0 3x3/2"), functions=None, batch=8, rounds=5,
                device="cpu") -> dict:
    """A small live measurement: paired ratios to ``F.conv2d`` on a few ResNet-18 layers.

    For a chapter that must compute its performance sentences on the reader's machine:
    ``layers`` are names from ``RESNET18`` (or whole layer tuples), ``functions`` maps
    names to callables with ``F.conv2d``'s signature (default: ``convlab.functional.conv2d``
    and every rung of ``IMPLEMENTATIONS`` but the naive loop). Each layer runs ``rounds``
    paired, shuffled rounds (:func:`paired_times`); about a second per layer at the defaults.

    Returns ``{"machine": machine_line(...), "machine_info": ..., "rows": [...]}``, one row
    per layer: ``{"layer", "F.conv2d ms", name: {"ratio", "busy", "kept"} ...}``; render it
    with :func:`live_table`.
    """
    from . import functional  # (functional imports nothing from here; no cycle at import)

    if functions is None:
        functions = {"convlab.functional.conv2d": functional.conv2d,
                     **{n: f for n, f in IMPLEMENTATIONS.items() if n != "naive"}}
    device = torch.device(device)
    by_name = {layer[0]: layer for layer in RESNET18 + TINY}
    rows = [_live_row(by_name[layer] if isinstance(layer, str) else layer, functions, batch,
                      rounds, device) for layer in layers]
    info = machine_info(device)
    return {"machine": machine_line(info), "machine_info": info, "rows": rows,
            "batch": batch, "rounds": rounds}


def _live_row(layer, functions, batch, rounds, device) -> dict:
    x, w, kw, _, _ = layer_tensors(layer, batch, device)
    fns = {"F.conv2d": lambda: F.conv2d(x, w, **kw)}
    fns.update({name: (lambda fn=fn: fn(x, w, **kw)) for name, fn in functions.items()
                if applicable(name, layer)})
    with torch.no_grad():
        times = paired_times(fns, rounds, device)
    row = {"layer": layer[0], "F.conv2d ms": 1e3 * paired_ratio(times, "F.conv2d")["seconds"]}
    row.update({name: paired_ratio(times, name) for name in fns if name != "F.conv2d"})
    return row


def live_table(result) -> str:
    """:func:`live_ratios`' result as an HTML table, the machine line under it."""
    names = [k for k in result["rows"][0] if k not in ("layer", "F.conv2d ms")]
    head = ["layer", "F.conv2d ms"] + [f"{n} / F.conv2d" for n in names]
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in
                         [row["layer"], f"{row['F.conv2d ms']:.1f}"]
                         + [f"{row[n]['ratio']:.2f}x" if n in row else "n/a" for n in names])
        + "</tr>" for row in result["rows"])
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>Batch {result['batch']}, float32, median of {result['rounds']} paired rounds; "
            f"measured now on {html.escape(result['machine'])}.</p>")


def sgemm_gflops(device, n=2048):
    """The machine's practical roof: GF/s of one large float32 matrix multiply."""
    return max(gemm_roofs(device, n).values())


def run(shapes="resnet18", batch=8, rounds=7, device="cpu", threads=None, rungs=None,
        memory=True):
    """Benchmark every layer of ``SHAPES[shapes]``; returns the results as a dict."""
    device = torch.device(device)
    if threads:
        torch.set_num_threads(threads)
    rungs = {n: f for n, f in IMPLEMENTATIONS.items() if rungs is None or n in rungs}
    torch.manual_seed(0)
    info = machine_info(device)
    layers = [bench_layer(layer, rungs, batch, rounds, device, memory)
              for layer in SHAPES[shapes]]
    roofs = gemm_roofs(device)
    return {
        "device": str(device), "shapes": shapes, "batch": batch, "rounds": rounds,
        "dtype": "float32", "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": machine_line(info), "machine_info": info, "busy_factor": BUSY,
        "gemm_roofs": roofs, "sgemm_gflops": max(roofs.values()), "rungs": list(rungs),
        "layers": layers}


def best_rung(layer):
    """The fastest convlab rung on one layer: (name, ratio to F.conv2d)."""
    timed_rungs = {n: r["ratio"] for n, r in layer["rungs"].items()
                   if n != "F.conv2d" and "ratio" in r}
    name = min(timed_rungs, key=timed_rungs.get)
    return name, timed_rungs[name]


def _cell(r):
    if "skipped" in r:
        return r["skipped"]
    memory = f", {r['peak_mib']:.3g} MiB" if "peak_mib" in r else ""
    return f"{r['ratio']:.2f}x ({r['gflops']:.0f} GF/s{memory})"


def ladder_rows(results):
    """Table of one run: ``(header, rows, note)``, a cell per rung: ratio, GF/s, peak MiB."""
    names = results["rungs"]
    head = ["layer", "F.conv2d ms (GF/s)"] + names + ["best", "busy rounds"]
    rows = []
    for layer in results["layers"]:
        ref = layer["rungs"]["F.conv2d"]
        cells = [layer["layer"], f"{ref['seconds'] * 1e3:.1f} ({ref['gflops']:.0f})"]
        cells += [_cell(layer["rungs"][name]) for name in names]
        best, ratio = best_rung(layer)
        busy = max(r.get("busy", 0) for r in layer["rungs"].values())
        rows.append(cells + [f"{best} {ratio:.2f}x", f"{busy} of {results['rounds']}"])
    best = [best_rung(layer)[1] for layer in results["layers"]]
    roofs = ", ".join(f"{name} {gf:.0f} GF/s" for name, gf in
                      results.get("gemm_roofs", {"sgemm": results["sgemm_gflops"]}).items())
    note = (f"Best rung vs F.conv2d: median {statistics.median(best):.2f}x, "
            f"worst {max(best):.2f}x (ratios are time / F.conv2d's time; < 1 is faster). "
            f"Measured on {results['machine']}; batch {results['batch']}, "
            f"{results['rounds']} paired rounds, busy rounds (a time over "
            f"{results.get('busy_factor', BUSY)}x its median) dropped; square-GEMM roofs: "
            f"{roofs}.")
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
