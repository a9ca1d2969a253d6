"""Measurements and figures of chapter 4: where the machine's roofs are and what the ladder does.

Everything here measures the machine that runs it (the page is rebuilt, the numbers
move with the CPU) or draws a saved run of ``benchmarks/ladder.py`` labelled with the
machine it ran on. Timings are minima over a few calls (the least disturbed), GFLOP/s
count the direct algorithm's ``2 N C_out H_out W_out C_in k_H k_W`` flops, and the
*arithmetic intensity* of a convolution counts its compulsory memory traffic: read
``x`` and ``w`` once, write ``y`` once (float32, 4 bytes each).
"""

from __future__ import annotations

import platform
import re
import statistics
import time

import torch

ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "asimd", "sve")
RUNG_COLORS = {"F.conv2d": "k", "naive": "#8c564b", "im2col": "#1f77b4", "strided": "#ff7f0e",
               "fft": "#2ca02c", "winograd": "#d62728"}
FONT = 11  # pt; figures here are at most 7.5 inches wide: 1.39 * 7.5 = 10.4 pt is legible


def best_seconds(fn, repeat=3):
    """The fastest of ``repeat`` timed calls of ``fn()`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_description() -> dict:
    """The CPU and the libraries that do the arithmetic: model, vendor, ISA, threads, versions.

    Reads ``/proc/cpuinfo`` (Linux; elsewhere the model falls back to ``platform``) and
    ``torch.__config__.show()``, whose lines name the MKL and oneDNN builds.
    """
    model, vendor, flags = "", "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not model:
                    model = value.strip()
                elif key.strip() == "vendor_id" and not vendor:
                    vendor = value.strip()  # GenuineIntel, AuthenticAMD, ...
                elif key.strip() in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version ([\w.\-]+)", config)
    onednn = re.search(r"MKL-DNN (v[\w.]+)", config)
    return {"model": model or platform.processor() or platform.machine(), "vendor": vendor,
            "isa": [f for f in ISA_FLAGS if f in flags],
            "capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "mkl": mkl.group(1) if mkl else None, "onednn": onednn.group(1) if onednn else None}


def onednn_linear():
    """oneDNN's matmul as ``f(a, w) = a @ w.T``, or ``None`` where this torch lacks it.

    ``torch.ops.mkldnn._linear_pointwise`` is a private operator of PyTorch's CPU build
    (it backs ``torch.compile``'s fused linear layers); a build without oneDNN, or a
    version that renamed it, gets ``None`` and callers say so.
    """
    op = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available():
        return None

    def linear(a, w):
        return op(a, w, None, "none", [], "")

    try:
        a = torch.randn(4, 3)
        if not torch.allclose(linear(a, a), a @ a.T, atol=1e-5):
            return None
    except RuntimeError:
        return None
    return linear


def gemm_roofs(sizes=(256, 512, 1024), repeat=4) -> dict:
    """GFLOP/s of a float32 ``a @ w`` on square sizes, by MKL (``torch.matmul``) and oneDNN.

    Returns ``{"sizes": [...], "MKL": [...], "oneDNN": [...] or None}``: the same product
    of the same tensors, only the library differs. The two are timed in alternation
    (a busy moment of a shared machine hits both) and each keeps its fastest call.
    """
    dnnl = onednn_linear()
    fns = {"MKL": torch.matmul}
    if dnnl is not None:
        fns["oneDNN"] = lambda a, w: dnnl(a, w.T)  # dnnl(a, v) = a @ v.T
    roofs = {"sizes": list(sizes), "MKL": [], "oneDNN": [] if dnnl else None}
    for n in sizes:
        a, w = torch.randn(n, n), torch.randn(n, n).T.contiguous().T  # w.T is contiguous
        best = {name: float("inf") for name in fns}
        for fn in fns.values():  # warm-up: first-call allocations, oneDNN's primitive
            fn(a, w)
        for _ in range(repeat):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn(a, w)
                best[name] = min(best[name], time.perf_counter() - start)
        for name in fns:
            roofs[name].append(2 * n**3 / best[name] / 1e9)
    return roofs


def copy_bandwidth(mib=64, repeat=3) -> float:
    """GB/s of copying a ``mib``-MiB float32 tensor into another: bytes read plus written."""
    src = torch.randn(mib * 2**18)
    dst = torch.empty_like(src)
    return 2 * src.numel() * 4 / best_seconds(lambda: dst.copy_(src), repeat) / 1e9


def conv_intensity(shape, batch) -> float:
    """Flops per byte of a convolution layer, counting only its compulsory traffic.

    ``shape`` is ``(C_in, C_out, H_in, k, stride, padding)`` (a ``RESNET18`` entry
    without its name): ``2 N C_out H_out W_out C_in k^2`` flops over
    ``4 (|x| + |w| + |y|)`` bytes.
    """
    C_in, C_out, H_in, k, s, p = shape
    H_out = (H_in + 2 * p - k) // s + 1
    flops = 2 * batch * C_out * H_out**2 * C_in * k * k
    elements = batch * C_in * H_in**2 + C_out * C_in * k * k + batch * C_out * H_out**2
    return flops / (4 * elements)


def plain_log_ticks(axis, lo, hi):
    """Label a log ``axis`` at 1-2-5 steps between ``lo`` and ``hi`` as plain numbers.

    Matplotlib's default labels a log axis only at powers of ten (``10^0``, ``10^1``);
    a reader reads ``0.2, 0.5, 1, 2, 5`` faster. Returns the ticks used.
    """
    from matplotlib.ticker import FixedLocator, NullFormatter

    ticks = []
    for steps in ((1, 2, 5), (1, 1.5, 2, 3, 4, 5, 6, 8)):  # the finer steps for a short range
        ticks = [m * 10.0**e for e in range(-4, 7) for m in steps if lo <= m * 10.0**e <= hi]
        if len(ticks) >= 3:
            break
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_ticklabels([f"{t:g}" for t in ticks])
    axis.set_minor_formatter(NullFormatter())
    return ticks


def plot_roofline(peak_gflops, bandwidth_gbs, points, title="", columns=()):
    """A roofline: attainable GFLOP/s = min(peak, bandwidth x intensity), log-log.

    ``points``: a list of ``(label, intensity flops/byte, GFLOP/s, color, marker)``.
    Labels repeat across points of one method; the legend shows each label once.
    ``columns``: ``(name, intensity)`` pairs drawn as labelled dotted verticals (the
    layers whose methods share one intensity); points on one vertical are drawn a
    little apart, in the order given, so that none hides another.
    """
    import matplotlib.pyplot as plt

    intensities = [p[1] for p in points] + [peak_gflops / bandwidth_gbs]
    lo, hi = min(intensities) / 3, max(intensities) * 3
    ridge = peak_gflops / bandwidth_gbs
    fig, ax = plt.subplots(figsize=(7, 5.6))
    ax.plot([lo, ridge], [bandwidth_gbs * lo, peak_gflops], color="0.3", lw=2, ls="--",
            label=f"memory roof {bandwidth_gbs:.0f} GB/s")
    ax.plot([ridge, hi], [peak_gflops, peak_gflops], color="0.3", lw=2,
            label=f"compute roof {peak_gflops:.0f} GFLOP/s")
    seen, on_column = set(), {}
    for label, ai, gflops, color, marker in points:
        shift = 1.0
        if any(ai == c for _, c in columns):  # side by side: 4 % of a step per method
            rank = on_column.setdefault(ai, [])
            shift = 1.04 ** (len(rank) - 1.5)
            rank.append(label)
        ax.plot(ai * shift, gflops, marker, color=color, ms=8, ls="none", mec="w", mew=0.5,
                label=None if label in seen else label, zorder=3)
        seen.add(label)
    bottom = min(p[2] for p in points) / 2.5
    for name, ai in columns:
        ax.axvline(ai, color="0.6", ls=":", lw=1, zorder=1)
        ax.text(ai / 1.07, bottom * 1.15, name, rotation=90, ha="right", va="bottom",
                fontsize=FONT, color="0.35")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom, peak_gflops * 2)
    plain_log_ticks(ax.yaxis, bottom, peak_gflops * 2)
    plain_log_ticks(ax.xaxis, lo, hi)
    ax.set_xlabel("arithmetic intensity (flops per byte of compulsory traffic)", fontsize=FONT)
    ax.set_ylabel("GFLOP/s (direct-method flops)", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.legend(fontsize=FONT, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax.set_title(title, fontsize=FONT)
    fig.tight_layout()
    return fig


def plot_gemm_roofs(roofs, title=""):
    """GFLOP/s of MKL's and oneDNN's GEMM over the square sizes of :func:`gemm_roofs`."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, marker in (("MKL", "o-"), ("oneDNN", "s-")):
        if roofs.get(name):
            ax.plot(roofs["sizes"], roofs[name], marker, label=f"{name}", lw=2, ms=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(roofs["sizes"], [str(n) for n in roofs["sizes"]])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("n (float32 n x n times n x n)", fontsize=FONT)
    ax.set_ylabel("GFLOP/s", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.legend(fontsize=FONT)
    ax.set_title(title, fontsize=FONT)
    fig.tight_layout()
    return fig


def plot_kernel_sweep(ks, ms, title=""):
    """Time per call over the kernel size, one line per method (``ms``: name -> list)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for name, times in ms.items():
        ax.plot(ks, times, "o-", label=name, color=RUNG_COLORS.get(name), lw=2, ms=7)
    ax.set_yscale("log")
    everything = [t for times in ms.values() for t in times]
    ax.set_ylim(min(everything) / 1.3, max(everything) * 1.3)
    plain_log_ticks(ax.yaxis, min(everything) / 1.3, max(everything) * 1.3)
    ax.set_xticks(ks)
    ax.set_xlabel("kernel size k (k x k, 'same' padding)", fontsize=FONT)
    ax.set_ylabel("ms per call (log)", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.legend(fontsize=FONT)
    ax.set_title(title, fontsize=FONT)
    fig.tight_layout()
    return fig


def kernel_size_sweep(fns, x, ks, rounds=5):
    """ms per call of every ``fns[name](x, w, padding=k // 2)`` over square kernel sizes ``ks``.

    Rounds are interleaved (each round calls every method at every k once) and each cell
    keeps its fastest call, so a busy moment of a shared machine does not spoil one cell.
    Returns ``{name: [ms at ks[0], ms at ks[1], ...]}``.
    """
    C = x.shape[1]
    weights = {k: torch.randn(C, C, k, k) for k in ks}
    best = {(name, k): float("inf") for name in fns for k in ks}
    for r in range(rounds + 1):  # round 0 warms up and is not kept
        for k in ks:
            for name, fn in fns.items():
                start = time.perf_counter()
                fn(x, weights[k], padding=k // 2)
                if r > 0:
                    best[name, k] = min(best[name, k], time.perf_counter() - start)
    return {name: [best[name, k] * 1e3 for k in ks] for name in fns}


def first_win(ks, ms, method, other):
    """The smallest k from which on ``method`` is faster than ``other`` at every larger k.

    ``None`` if ``method`` is not faster at the largest k measured.
    """
    win = None
    for k, a, b in zip(reversed(ks), reversed(ms[method]), reversed(ms[other])):
        if a >= b:
            break
        win = k
    return win


def ratio_grid(results):
    """``(layers, rungs, grid)``: each timed rung's median time ratio to F.conv2d per layer.

    ``grid[i][j]`` is ``None`` where rung ``j`` was skipped on layer ``i``
    (:func:`skip_reason` says why).
    """
    layers = [layer["layer"] for layer in results["layers"]]
    rungs = [n for n in results["rungs"]
             if any("ratio" in layer["rungs"].get(n, {}) for layer in results["layers"])]
    grid = [[layer["rungs"].get(n, {}).get("ratio") for n in rungs]
            for layer in results["layers"]]
    return layers, rungs, grid


def skip_reason(layer, rung):
    """``"slow"`` if ``rung`` was skipped on ``layer`` for its time, else ``"n/a"``."""
    return "slow" if "slow" in layer["rungs"].get(rung, {}).get("skipped", "") else "n/a"


def plot_ratio_heatmap(results, title=""):
    """Layers x rungs, each cell the rung's time / F.conv2d's time, on a diverging log scale.

    The colour is ``log10(ratio)`` centred at a tie (ratio 1, white): blue cells are faster
    than F.conv2d, red ones slower, the deeper the further from a tie (0.5x to 50x).
    """
    import math

    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    layers, rungs, grid = ratio_grid(results)
    lo, hi = 0.5, 50.0
    values = [[math.log10(min(max(v, lo), hi)) if v is not None else float("nan") for v in row]
              for row in grid]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(layers) + 1.6))
    norm = TwoSlopeNorm(vmin=math.log10(lo), vcenter=0.0, vmax=math.log10(hi))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.88")  # skipped: grey, not a tie's white
    image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            label = (skip_reason(results["layers"][i], rungs[j]) if v is None
                     else f"{v:.2f}x" if v < 10 else f"{v:.0f}x")
            dark = v is not None and (v >= 12 or v <= 0.6)  # white text on deep red or blue
            ax.text(j, i, label, ha="center", va="center", fontsize=FONT,
                    color="0.3" if v is None else "w" if dark else "k")
    ax.set_xticks(range(len(rungs)), rungs, fontsize=FONT)
    ax.set_yticks(range(len(layers)), layers, fontsize=FONT)
    ax.xaxis.tick_top()
    bar = fig.colorbar(image, ax=ax, pad=0.02)
    ticks = [0.5, 0.7, 1, 3, 10, 50]  # the halves are drawn equally long: spread out on each
    bar.set_ticks([math.log10(t) for t in ticks], labels=[f"{t:g}" for t in ticks])
    bar.ax.minorticks_off()
    bar.ax.tick_params(labelsize=FONT)
    bar.set_label("blue faster, red slower", fontsize=FONT)
    ax.set_title(title, fontsize=FONT, pad=24)
    fig.tight_layout()
    return fig


def ladder_facts(results) -> dict:
    """Take-aways of one ladder run, computed: best rung per layer, wins, FFT, Winograd.

    Returns ``best`` (layer -> (rung, ratio)), ``median_best``, ``worst_best`` (layer,
    ratio), ``wins`` (layers where some rung is faster than F.conv2d), ``most_often``
    (the rung that is best on most layers, with its count), ``fft_median`` and
    ``winograd`` (layer -> ratio on the layers where it applies).
    """
    layers, rungs, grid = ratio_grid(results)
    best = {}
    for name, row in zip(layers, grid):
        timed = {r: v for r, v in zip(rungs, row) if v is not None and r != "F.conv2d"}
        rung = min(timed, key=timed.get)
        best[name] = (rung, timed[rung])
    ratios = [v for _, v in best.values()]
    worst = max(best, key=lambda name: best[name][1])
    counts = {r: sum(b == r for b, _ in best.values()) for r in rungs}
    column = {r: [row[j] for row in grid] for j, r in enumerate(rungs)}
    fft = [v for v in column.get("fft", []) if v is not None]
    winograd = zip(layers, column.get("winograd", []))
    return {
        "best": best, "median_best": statistics.median(ratios),
        "worst_best": (worst, best[worst][1]),
        "wins": [name for name, (_, v) in best.items() if v < 1],
        "most_often": max(counts.items(), key=lambda item: item[1]),
        "fft_median": statistics.median(fft) if fft else None,
        "winograd": {name: v for name, v in winograd if v is not None},
    }


def run_label(results) -> str:
    """Where and when a saved run was measured, from what the results file records."""
    info = results.get("machine_info") or {}
    if info.get("cpu"):
        isa = ", ".join(info.get("isa_flags") or [])
        where = f"{info['cpu']}{f' ({isa})' if isa else ''}, {results.get('threads')} threads"
    else:
        where = f"{results.get('machine', 'an unnamed machine')} (no CPU model recorded)"
    when = (info.get("date") or results.get("date") or "")[:10]
    return (f"{where}, torch {results.get('torch', '?')}, batch {results.get('batch', '?')}, "
            + (f"measured {when}" if when else "date not recorded in the file"))


def gemm_verdict(roofs) -> str:
    """What :func:`gemm_roofs` says about the two libraries, as sentences for the page."""
    if not roofs.get("oneDNN"):
        return ("This torch build has no `torch.ops.mkldnn._linear_pointwise`, so only MKL's "
                "GEMM is measured here.")
    speedups = [d / m for d, m in zip(roofs["oneDNN"], roofs["MKL"])]
    typical = statistics.median(speedups)
    text = (f"oneDNN's GEMM runs at {', '.join(f'{r:.2f}x' for r in speedups)} MKL's speed "
            f"for n = {', '.join(map(str, roofs['sizes']))} (median {typical:.2f}x). ")
    if typical > 1.2:
        return text + (f"A rung that ends in `torch.matmul` here starts about {typical:.1f}x "
                       "behind a library that uses oneDNN throughout, before any copy of its own.")
    if typical < 1 / 1.2:
        return text + ("MKL is the faster GEMM here: what separates the rungs from `F.conv2d` "
                       "on this machine is their copies, not the GEMM library.")
    return text + ("The two libraries are within 20 % of each other here, so the GEMM library "
                   "does not separate the rungs from `F.conv2d` on this machine.")
