"""Chapter 4's ladder explorer: pick a layer shape, see each rung's time and memory.

The live explorer measures on the reader's machine (``convlab.ladder.bench_layer``,
a few interleaved rounds); the static twin for the website shows the benchmark's saved
results (``benchmarks/results/ladder_cpu.json``), one frame per ResNet-18 layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import NullFormatter

from ..implementations import IMPLEMENTATIONS
from ..ladder import RESNET18, TINY, bench_layer
from ._base import Explorer

COLORS = {"F.conv2d": "#444444", "naive": "#d62728", "im2col": "#1f77b4",
          "strided": "#2ca02c", "fft": "#9467bd", "winograd": "#ff7f0e"}


def load_results(name: str = "ladder_cpu.json", start: Path | None = None):
    """The saved benchmark results, looked up in ``benchmarks/results`` above ``start``
    (default: the working directory); ``None`` when they are not there (e.g. in Colab)."""
    here = Path.cwd() if start is None else Path(start)
    for folder in (here, *here.parents):
        path = folder / "benchmarks" / "results" / name
        if path.is_file():
            return json.loads(path.read_text())
    return None


def render_ladder(layer_result: dict, title: str = ""):
    """Figure: each rung's time (ms, log scale) and peak memory (MiB) on one layer.

    ``layer_result`` is one entry of ``results["layers"]`` (``bench_layer``'s output).
    Skipped rungs are listed under the bars with the reason.
    """
    rungs = layer_result["rungs"]
    timed = [n for n, r in rungs.items() if "seconds" in r]
    skipped = [f"{n}: {r['skipped']}" for n, r in rungs.items() if "skipped" in r]
    ms = [rungs[n]["seconds"] * 1e3 for n in timed]
    mib = [rungs[n]["peak_mib"] for n in timed]
    colors = [COLORS.get(n, "#7f7f7f") for n in timed]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(8, 3.6))  # text 12 pt >= 1.39 x 8 in
    ax_t.barh(timed, ms, color=colors)
    ax_t.set_xscale("log")
    ax_t.xaxis.set_minor_formatter(NullFormatter())  # crowded minor labels on a short log axis
    ax_t.axvline(rungs["F.conv2d"]["seconds"] * 1e3, color="k", lw=0.8, ls="--")
    for y, n in enumerate(timed):
        ax_t.text(ms[y], y, f" {rungs[n]['ratio']:.2f}x", va="center", fontsize=12)
    ax_t.set_xlabel("ms per call (log); ratio to F.conv2d", fontsize=12)
    ax_t.tick_params(labelsize=12)
    ax_m.tick_params(labelsize=12)
    ax_t.set_xlim(right=max(ms) * 12)  # room for the ratio labels
    ax_m.barh(timed, mib, color=colors)
    ax_m.set_xlabel("peak MiB allocated by PyTorch", fontsize=12)
    ax_m.set_yticks([])
    ax_t.invert_yaxis()
    ax_m.invert_yaxis()
    name, shape = layer_result["layer"], layer_result["shape"]
    fig.suptitle(title or f"{name}: C_in={shape[0]}, C_out={shape[1]}, H=W={shape[2]}, "
                          f"k={shape[3]}, stride={shape[4]}", fontsize=12)
    if skipped:
        fig.text(0.01, -0.02, "; ".join(skipped), fontsize=12, color="#555555", va="top")
    fig.tight_layout()
    return fig


def ladder_explorer(layers=RESNET18 + TINY, batch: int = 1, rounds: int = 3,
                    initial: str = "layer4 3x3") -> Explorer:
    """Live explorer: pick a layer (and a batch size), measure every rung on this machine.

    ``controls``: ``layer`` (Dropdown of layer names), ``batch`` (Dropdown). Each redraw
    runs ``bench_layer`` with ``rounds`` interleaved rounds (about a second per layer
    at batch 1 on two cores; the naive loop is skipped on large layers).
    """
    by_name = {layer[0]: layer for layer in layers}
    start = initial if initial in by_name else layers[0][0]
    layer = widgets.Dropdown(options=list(by_name), value=start, description="layer")
    batch_control = widgets.Dropdown(options=sorted({1, 2, 8, batch}), value=batch,
                                     description="batch")

    def render(layer, batch):
        result = bench_layer(by_name[layer], IMPLEMENTATIONS, batch, rounds, torch.device("cpu"))
        return render_ladder(result, f"{layer}, batch {batch}, measured now ({rounds} rounds)")

    return Explorer(render, {"layer": layer, "batch": batch_control})


def ladder_static_explorer(results: dict):
    """The website twin: the saved benchmark's numbers, one frame per layer."""
    from ..explore import static_explorer

    by_name = {layer["layer"]: layer for layer in results["layers"]}
    return static_explorer(lambda layer: render_ladder(by_name[layer]), {"layer": list(by_name)},
                           title=f"The ladder per layer (saved run: {results['machine']}, "
                                 f"batch {results['batch']})", fmt="png", dpi=90)

