"""Chapter 6's zero-insertion explorer: a transposed convolution drawn as an ordinary one.

A stride-``s`` transposed convolution of an ``i x i`` input with a ``k x k`` kernel and
padding ``p`` equals a stride-1 convolution over the input with ``s - 1`` zeros inserted
between its pixels and a border of ``k - 1 - p`` zeros (a negative border crops). The
picture shows the input, that stretched-and-padded grid with the first kernel window
on it, and the output grid.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from ..viz import axis_off, ticks_off
from ._base import Explorer, keep_full_size

INSERTED, PIXEL, BORDER = 0, 1, 2
COLORS = ListedColormap(["#ffffff", "#4c72b0", "#e5e5e5"])  # inserted zero, pixel, border


def zero_insertion_grid(input_size: int, stride: int, padding: int, kernel_size: int,
                        output_padding: int = 0) -> torch.Tensor:
    """Codes of the grid the ordinary convolution runs over: ``PIXEL``, ``INSERTED`` or ``BORDER``.

    Shape: :math:`(U, U)`, :math:`U = (i - 1) s + 1 + 2 (k - 1 - p) + \\text{output\\_padding}`.
    """
    up = (input_size - 1) * stride + 1
    codes = torch.full((up, up), INSERTED)
    codes[::stride, ::stride] = PIXEL  # stride - 1 inserted zeros between pixels
    border = kernel_size - 1 - padding  # negative: padding crops the stretched input
    return F.pad(codes[None], (border, border + output_padding) * 2, value=BORDER)[0]


def _draw_grid(ax, codes, labels=None, title=""):
    ax.imshow(codes.numpy(), cmap=COLORS, vmin=0, vmax=2)
    n_rows, n_cols = codes.shape
    # cell borders as two line collections: a minor tick per line costs ~5 ms each
    ax.hlines([y - 0.5 for y in range(n_rows + 1)], -0.5, n_cols - 0.5, color="#999999",
              linewidth=0.6)
    ax.vlines([x - 0.5 for x in range(n_cols + 1)], -0.5, n_rows - 0.5, color="#999999",
              linewidth=0.6)
    ticks_off(ax)
    for (r, c), text in (labels or {}).items():
        ax.text(c, r, text, ha="center", va="center", color="white", fontsize=11.5)
    ax.set_title(title, fontsize=11.5)


def render_zero_insertion(stride: int = 2, padding: int = 0, kernel_size: int = 3,
                          input_size: int = 3, output_padding: int = 0):
    """Figure: input, zero-inserted + bordered grid with the first window, output grid."""
    out_size = (input_size - 1) * stride - 2 * padding + kernel_size + output_padding
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 3.7),
                             gridspec_kw={"width_ratios": [1, 2.3, 2]})
    names = "abcdefghijklmnopqrstuvwxyz"
    pixels = {(r, c): names[r * input_size + c] for r in range(input_size)
              for c in range(input_size)}
    _draw_grid(axes[0], torch.full((input_size, input_size), PIXEL), pixels,
               f"input {input_size}x{input_size}")
    if out_size < 1:
        for ax in axes[1:]:
            axis_off(ax)
        axes[1].text(0.5, 0.5, f"padding {padding} crops everything:\noutput size "
                     f"{out_size}", ha="center", va="center", fontsize=11,
                     transform=axes[1].transAxes)
        keep_full_size(fig)
        return fig
    codes = zero_insertion_grid(input_size, stride, padding, kernel_size, output_padding)
    border = kernel_size - 1 - padding
    placed = {(border + stride * r, border + stride * c): t for (r, c), t in pixels.items()}
    placed = {rc: t for rc, t in placed.items() if 0 <= min(rc) and max(rc) < codes.shape[0]}
    zeros = f"{stride - 1} zero{'' if stride == 2 else 's'} inserted"
    _draw_grid(axes[1], codes, placed, f"{zeros}, border {border}: "
               f"{codes.shape[0]}x{codes.shape[0]}")
    axes[1].add_patch(Rectangle((-0.5, -0.5), kernel_size, kernel_size, fill=False,
                                edgecolor="#dd4444", linewidth=2.2))
    output = torch.full((out_size, out_size), INSERTED)
    output[0, 0] = PIXEL
    _draw_grid(axes[2], output, title=f"output {out_size}x{out_size}")
    axes[2].add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="#dd4444",
                                linewidth=2.2))
    extra = f", output_padding={output_padding}" if output_padding else ""
    fig.suptitle(f"conv_transpose2d(stride={stride}, padding={padding}{extra}, "
                 f"{kernel_size}x{kernel_size} kernel)\n= a stride-1 convolution over the middle "
                 f"grid with the flipped kernel (red: its first window)", fontsize=11)
    fig.tight_layout()
    keep_full_size(fig)
    return fig


def zero_insertion_explorer() -> Explorer:
    """Live explorer: sliders for stride, padding, kernel size, input size, output_padding."""
    style = {"description_width": "initial"}
    controls = {
        "stride": widgets.IntSlider(value=2, min=1, max=4, description="stride", style=style),
        "padding": widgets.IntSlider(value=0, min=0, max=3, description="padding",
                                     style=style),
        "kernel_size": widgets.IntSlider(value=3, min=1, max=5, description="kernel size",
                                         style=style),
        "input_size": widgets.IntSlider(value=3, min=1, max=5, description="input size",
                                        style=style),
        "output_padding": widgets.IntSlider(value=0, min=0, max=3,
                                            description="output_padding", style=style),
    }
    stride, output_padding = controls["stride"], controls["output_padding"]

    def keep_output_padding_valid(change):  # PyTorch: output_padding < stride (dilation 1)
        output_padding.max = max(stride.value - 1, 0)

    stride.observe(keep_output_padding_valid, names="value")
    keep_output_padding_valid(None)
    return Explorer(render_zero_insertion, controls)


def zero_insertion_static_explorer(strides=(1, 2, 3), paddings=(0, 1, 2), kernels=(2, 3, 4)):
    """The website twin: every (stride, padding, kernel size) of a 3x3 input precomputed."""
    from ..explore import static_explorer

    return static_explorer(
        lambda stride, padding, kernel_size: render_zero_insertion(stride, padding,
                                                                   kernel_size),
        {"stride": list(strides), "padding": list(paddings), "kernel_size": list(kernels)},
        title="Transposed convolution as zero insertion + convolution", fmt="png",
        initial={"stride": 2 if 2 in strides else strides[0],
                 "kernel_size": 3 if 3 in kernels else kernels[0]})
