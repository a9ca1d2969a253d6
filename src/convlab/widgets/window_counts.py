"""Chapter 5's window-count explorer: how many output windows read each input pixel.

With every weight and every upstream gradient set to one, the input gradient of a
convolution *is* that count: ``conv2d_backward(ones, x, ones)[0]``. The picture shows
the windows of the first output row on the input grid, next to the counts for the
whole input; rows and columns that no window reads get a zero gradient.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..backward import conv2d, conv2d_backward
from ..viz import ticks_off
from ._base import Explorer, keep_full_size

WINDOW_COLORS = ["#c44e52", "#4c72b0", "#55a868", "#8172b2", "#ccb974", "#64b5cd"]


def window_counts(size: int, kernel_size: int, stride: int) -> torch.Tensor:
    """How many ``kernel_size`` windows at ``stride`` read each pixel of a ``size`` square.

    The input gradient of ``conv2d(ones, ones)`` for an upstream gradient of ones.

    Shape: :math:`(H_\\text{in}, W_\\text{in})` with :math:`H_\\text{in} = W_\\text{in} =`
    ``size``.
    """
    x, w = torch.ones(1, 1, size, size), torch.ones(1, 1, kernel_size, kernel_size)
    g = torch.ones_like(conv2d(x, w, stride=stride))  # (1, 1, H_out, W_out)
    return conv2d_backward(g, x, w, stride=stride)[0][0, 0]  # (H_in, W_in)


def _grid(ax, values, vmax, title, numbers=True):
    """``values`` as coloured cells with light cell borders (and their numbers)."""
    ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
    n_rows, n_cols = values.shape
    ax.hlines(np.arange(n_rows + 1) - 0.5, -0.5, n_cols - 0.5, color="#bbbbbb", linewidth=0.6)
    ax.vlines(np.arange(n_cols + 1) - 0.5, -0.5, n_rows - 0.5, color="#bbbbbb", linewidth=0.6)
    for (r, c), v in np.ndenumerate(values if numbers else np.zeros((0, 0))):
        ax.text(c, r, v, ha="center", va="center", fontsize=11,
                color="white" if v > 0.6 * vmax else "black")
    ticks_off(ax)
    ax.set_title(title, fontsize=11)


def render_window_counts(stride: int = 2, kernel_size: int = 3, size: int = 8):
    """Figure: the windows of the first output row (left) and the count per pixel (right)."""
    counts = window_counts(size, kernel_size, stride).int().numpy()  # (H_in, W_in)
    W_out = (size - kernel_size) // stride + 1
    fig, (ax_windows, ax_counts) = plt.subplots(1, 2, figsize=(7.4, 4.1))
    shown = min(W_out, len(WINDOW_COLORS))
    which = (f"the {W_out} window{'' if W_out == 1 else 's'}" if shown == W_out
             else f"the first {shown} of the {W_out} windows")
    _grid(ax_windows, np.zeros_like(counts), 1, f"{which} of output row 0", numbers=False)
    for j in range(shown):  # window (0, j) covers rows 0..k-1 and columns s j .. s j + k - 1
        inset = 0.1 * (j % 2)  # alternate insets, so that overlapping windows stay visible
        ax_windows.add_patch(Rectangle((stride * j - 0.5 + inset, -0.5 + inset),
                                       kernel_size - 2 * inset, kernel_size - 2 * inset,
                                       fill=False, linewidth=2.6, edgecolor=WINDOW_COLORS[j],
                                       zorder=3))
    _grid(ax_counts, counts, max(kernel_size ** 2, 4), "windows that read each pixel")
    unread = int((counts == 0).sum())
    fig.suptitle(f"{size}x{size} input, {kernel_size}x{kernel_size} kernel, stride {stride}: "
                 f"{unread} pixel{'' if unread == 1 else 's'} read by no window", fontsize=12)
    fig.tight_layout()
    keep_full_size(fig)
    return fig


def window_counts_explorer() -> Explorer:
    """Live explorer: sliders for stride, kernel size and input size."""
    return Explorer(render_window_counts, {
        "stride": widgets.IntSlider(value=2, min=1, max=4, description="stride"),
        "kernel_size": widgets.IntSlider(value=3, min=1, max=5, description="kernel"),
        "size": widgets.IntSlider(value=8, min=5, max=10, description="input size")})


def window_counts_static_explorer(strides=(1, 2, 3), kernels=(1, 2, 3, 4, 5), size: int = 8):
    """The website twin: every (stride, kernel size) on a ``size`` x ``size`` input."""
    from ..explore import static_explorer

    return static_explorer(
        lambda stride, kernel_size: render_window_counts(stride, kernel_size, size),
        {"stride": list(strides), "kernel_size": list(kernels)},
        title=f"Windows that read each pixel ({size}x{size} input)",
        initial={"stride": 2 if 2 in strides else strides[0],
                 "kernel_size": 3 if 3 in kernels else kernels[0]})
