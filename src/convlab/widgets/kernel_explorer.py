"""Chapter 1's kernel explorer: a photo, a 3x3 kernel, the feature map it makes."""

from __future__ import annotations

import functools

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import TwoSlopeNorm

from ..data import IMAGE_NAMES, sample_gray
from ..kernels import KERNELS
from ..viz import ink_for, ticks_off
from ._base import Explorer, keep_full_size

PHOTOS = ("grace_hopper", "astronaut", "coffee", "camera")


@functools.lru_cache(maxsize=16)
def _photo(name: str, size: int) -> torch.Tensor:
    return sample_gray(name, size)  # (1, H, W), cached: redraws must not reload the file


def feature_map(photo: torch.Tensor, kernel) -> torch.Tensor:
    """Cross-correlate a ``(1, H, W)`` photo with a ``(3, 3)`` kernel, 'same' size."""
    weight = torch.as_tensor(kernel, dtype=photo.dtype).reshape(1, 1, 3, 3)
    return F.conv2d(photo.unsqueeze(0), weight, padding=1)[0, 0]  # (1,1,H,W) -> (H, W)


def render_kernel(photo: str = "grace_hopper", kernel="sobel x", size: int = 160):
    """Figure: the grayscale photo, the kernel's weights, and the feature map.

    ``kernel`` is a preset name from ``convlab.kernels.KERNELS`` or 9 numbers.
    The map is drawn on a fixed scale, the one the chapter's photo figure uses, and the
    range is written under it: a kernel whose weights sum to zero (edges) gives signed
    output, drawn in a diverging colormap centred on zero up to the 99th percentile of
    ``|y|``; any other kernel is drawn in gray with 0 black and 1 white, like the photo
    (brighter values are clipped), so a map is greyer or more contrasted than the photo
    exactly when the kernel makes it so. The figure is 7.5 inches wide with text of 10 pt
    or more, legible at a page's column width.
    """
    weights = KERNELS[kernel] if isinstance(kernel, str) else torch.tensor(
        kernel, dtype=torch.float32).reshape(3, 3)
    image = _photo(photo, size)
    out = feature_map(image, weights).numpy()  # (H, W)
    image, weights = image[0].numpy(), weights.numpy()
    fig, (ax_in, ax_k, ax_out) = plt.subplots(
        1, 3, figsize=(7.5, 3.0), gridspec_kw={"width_ratios": [3, 1.5, 3]})
    ax_in.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax_in.set_title(f"input: {photo}", fontsize=11)
    ax_in.set_xlabel("0 black … 1 white", fontsize=11)
    limit = float(abs(weights).max()) or 1.0
    norm = TwoSlopeNorm(0.0, -limit, limit)
    ax_k.imshow(weights, cmap="RdBu_r", norm=norm)
    colors = plt.get_cmap("RdBu_r")(norm(weights))  # (3, 3, 4)
    for (u, v), w in zip([(u, v) for u in range(3) for v in range(3)], weights.flatten()):
        ax_k.text(v, u, f"{w:.2g}", ha="center", va="center", fontsize=11,
                  color=ink_for(colors[u, v, :3]))  # black or white, whichever reads better
    ax_k.set_title(kernel if isinstance(kernel, str) else "custom", fontsize=11)
    ax_k.set_xlabel(f"sum {float(weights.sum()):.3g}", fontsize=11)
    if abs(float(weights.sum())) < 1e-6:
        bound = float(np.quantile(abs(out), 0.99)) or 1.0  # robust to a few strong edges
        ax_out.imshow(out, cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax_out.set_title("feature map (red > 0 > blue)", fontsize=11)
        ax_out.set_xlabel(f"−{bound:.2g} blue … 0 white … +{bound:.2g} red", fontsize=11)
    else:  # the photo's scale: a sharper or flatter map shows as such
        ax_out.imshow(out, cmap="gray", vmin=0.0, vmax=1.0)
        ax_out.set_title("feature map", fontsize=11)
        clipped = float(((out < 0) | (out > 1)).mean())
        ax_out.set_xlabel(f"0 black … 1 white; {clipped:.0%} clipped", fontsize=11)
    for ax in (ax_in, ax_k, ax_out):
        ticks_off(ax)
    fig.tight_layout()
    keep_full_size(fig)
    return fig


def kernel_explorer(photos=PHOTOS, size: int = 160) -> Explorer:
    """Live explorer: pick a photo and a preset, or edit the nine weights.

    ``controls``: ``photo`` (Dropdown), ``preset`` (Dropdown, with ``'custom'``) and
    ``w00`` ... ``w22`` (FloatText). Choosing a preset writes its weights into the
    nine boxes; editing a box switches the preset to ``'custom'``.
    """
    unknown = set(photos) - set(IMAGE_NAMES)
    if unknown:
        raise ValueError(f"unknown photos {sorted(unknown)}; choose from {IMAGE_NAMES}")
    photo = widgets.Dropdown(options=list(photos), value=photos[0], description="photo")
    preset = widgets.Dropdown(options=[*KERNELS, "custom"], value="sobel x",
                              description="kernel")
    cells = {f"w{i}{j}": widgets.FloatText(value=float(KERNELS["sobel x"][i, j]),
                                           layout=widgets.Layout(width="64px"))
             for i in range(3) for j in range(3)}
    grid = widgets.GridBox(list(cells.values()),
                           layout=widgets.Layout(grid_template_columns="repeat(3, 70px)"))
    syncing = {"active": False}

    def render(photo, preset, **weights):
        kernel = preset if preset != "custom" else [weights[k] for k in sorted(weights)]
        return render_kernel(photo, kernel, size)

    def on_preset(change):
        if change["new"] == "custom":
            return
        syncing["active"] = True  # one redraw for the preset, not nine for its weights
        try:
            for (i, j), cell in zip([(i, j) for i in range(3) for j in range(3)],
                                    cells.values()):
                cell.value = float(KERNELS[change["new"]][i, j])
        finally:
            syncing["active"] = False

    preset.observe(on_preset, names="value")
    controls = {"photo": photo, "preset": preset, **cells}
    layout = widgets.HBox([widgets.VBox([photo, preset]),
                           widgets.VBox([widgets.Label("3x3 weights"), grid])])
    explorer = Explorer(render, controls, layout_controls=layout)

    def on_cell(change):  # a box edited by hand: exactly one redraw
        if syncing["active"]:
            return  # a preset is writing its weights: the preset redraws once
        if preset.value != "custom":
            preset.value = "custom"  # the preset's change redraws, with the new weight
        else:
            explorer.redraw()

    for cell in cells.values():
        cell.unobserve(explorer._on_change, names="value")
        cell.observe(on_cell, names="value")
    return explorer


def kernel_static_explorer(photos=("grace_hopper", "astronaut"),
                           presets=tuple(KERNELS), size: int = 160):
    """The website twin: every (kernel preset, photo) pair precomputed."""
    from ..explore import static_explorer

    return static_explorer(lambda kernel, photo: render_kernel(photo, kernel, size),
                           {"kernel": list(presets), "photo": list(photos)},
                           title="Kernel explorer", fmt="jpeg")
