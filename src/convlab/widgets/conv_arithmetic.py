"""Chapter 2's conv-arithmetic explorer: where the kernel window goes, and how many times.

In the spirit of Dumoulin & Visin's figures: the padded input grid (padding drawn as
dashed cells), the dilated kernel window at one output position, and the output grid
with that position marked. One square spatial dimension setting for both axes:
``input_size``, ``kernel_size``, ``stride``, ``padding``, ``dilation``.

- :func:`render_conv_arithmetic` draws one output position (``step``), or with
  ``step=None`` how many windows read each input pixel (the coverage map);
- :func:`conv_arithmetic_explorer` is the live widget (sliders);
- :func:`conv_arithmetic_animation` sweeps over the output positions
  (``.to_jshtml()`` gives the website its animation);
- :func:`conv_arithmetic_static_explorer` precomputes the coverage map over a small
  grid of settings for the website.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..arithmetic import conv_output_size, effective_kernel_size
from ._base import Explorer

_INPUT, _PAD, _TAP, _OUT, _DONE = "#9ecae1", "#ffffff", "#08519c", "#fd8d3c", "#fdd0a2"


def window_taps(out_y: int, out_x: int, kernel_size: int, stride: int, dilation: int):
    """Padded-input cells ``(row, col)`` that output ``(out_y, out_x)`` reads."""
    return [(out_y * stride + i * dilation, out_x * stride + j * dilation)
            for i in range(kernel_size) for j in range(kernel_size)]


def coverage(input_size: int, kernel_size: int, stride=1, padding=0, dilation=1) -> np.ndarray:
    """``(P, P)`` counts of how many output windows read each padded-input cell."""
    P = input_size + 2 * padding
    n_out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    counts = np.zeros((P, P), dtype=int)
    for y in range(n_out):
        for x in range(n_out):
            for r, c in window_taps(y, x, kernel_size, stride, dilation):
                counts[r, c] += 1
    return counts


def _grid(ax, size: int, colors, labels=None, title: str = "", dashed=None):
    for r in range(size):
        for c in range(size):
            ls = "--" if dashed is not None and dashed[r, c] else "-"
            ax.add_patch(Rectangle((c, size - 1 - r), 1, 1, facecolor=colors[r][c],
                                   edgecolor="#555", linestyle=ls, linewidth=0.8))
            if labels is not None and labels[r][c] != "":
                dark = colors[r][c] == _TAP or (isinstance(colors[r][c], tuple)
                                                 and sum(colors[r][c][:3]) < 1.6)
                ax.text(c + 0.5, size - 0.5 - r, labels[r][c], ha="center", va="center",
                        fontsize=8, color="white" if dark else "black")
    ax.set_xlim(-0.1, size + 0.1)
    ax.set_ylim(-0.1, size + 0.1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def _message_figure(text: str):
    fig, ax = plt.subplots(figsize=(6.4, 1.2))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#b00", wrap=True)
    ax.set_axis_off()
    return fig


def render_conv_arithmetic(input_size: int = 5, kernel_size: int = 3, stride: int = 1,
                           padding: int = 0, dilation: int = 1, step: int | None = 0,
                           fig=None):
    """Figure: padded input with the window of output position ``step``, and the output.

    ``step`` counts output positions row by row (clipped to the last one); ``None``
    draws the coverage map instead (how many windows read each cell). A kernel larger
    than the padded input draws a message instead of raising. ``fig``: draw into this
    (cleared) figure instead of a new one (the animation reuses one figure).
    """
    P, k_eff = input_size + 2 * padding, effective_kernel_size(kernel_size, dilation)
    if P < k_eff:
        return _message_figure(f"no output: the dilated kernel ({k_eff} pixels) is larger "
                               f"than the padded input ({P} pixels)")
    n_out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    is_pad = np.ones((P, P), dtype=bool)
    is_pad[padding:padding + input_size, padding:padding + input_size] = False
    if fig is None:
        fig = plt.figure(figsize=(6.4, 3.4))
    fig.clear()
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [P, max(n_out, 2)]})
    formula = (f"o = ⌊({input_size} + 2·{padding} − {k_eff}) / {stride}⌋ + 1 = {n_out}"
               f"   (k_eff = {dilation}·({kernel_size}−1)+1 = {k_eff})")
    if step is None:
        counts = coverage(input_size, kernel_size, stride, padding, dilation)
        top = counts.max()
        cmap = plt.get_cmap("Blues")
        colors = [[cmap(0.2 + 0.55 * v / top) if v else ("#eeeeee" if is_pad[r, c] else "#fff5eb")
                   for c, v in enumerate(row)] for r, row in enumerate(counts)]
        _grid(ax_in, P, colors, [[str(v) if v else "" for v in row] for row in counts],
              "padded input: windows reading each cell", is_pad)
        _grid(ax_out, n_out, [[_DONE] * n_out] * n_out, title=f"output {n_out}×{n_out}")
    else:
        step = min(max(step, 0), n_out * n_out - 1)
        oy, ox = divmod(step, n_out)
        taps = set(window_taps(oy, ox, kernel_size, stride, dilation))
        colors = [[_TAP if (r, c) in taps else (_PAD if is_pad[r, c] else _INPUT)
                   for c in range(P)] for r in range(P)]
        labels = [["" for _ in range(P)] for _ in range(P)]
        for n, (r, c) in enumerate(sorted(taps)):
            labels[r][c] = f"w{n // kernel_size}{n % kernel_size}"
        _grid(ax_in, P, colors, labels, f"padded input {P}×{P} (dashed: padding)", is_pad)
        out_colors = [[_OUT if (r, c) == (oy, ox) else (_DONE if r * n_out + c < step
                                                         else "#ffffff")
                       for c in range(n_out)] for r in range(n_out)]
        _grid(ax_out, n_out, out_colors, title=f"output {n_out}×{n_out}: ({oy}, {ox})")
    fig.suptitle(formula, fontsize=9)
    fig.tight_layout()
    return fig


def conv_arithmetic_explorer(input_size: int = 5, kernel_size: int = 3) -> Explorer:
    """Live explorer: sliders for the five arguments and the output position ``step``.

    ``controls``: ``input_size``, ``kernel_size``, ``stride``, ``padding``, ``dilation``,
    ``step`` (IntSliders). ``step``'s range follows the number of output positions.
    """
    def slider(name, value, lo, hi):
        return widgets.IntSlider(value=value, min=lo, max=hi, description=name,
                                 continuous_update=False)

    controls = {"input_size": slider("input", input_size, 1, 9),
                "kernel_size": slider("kernel", kernel_size, 1, 5),
                "stride": slider("stride", 1, 1, 4), "padding": slider("padding", 0, 0, 3),
                "dilation": slider("dilation", 1, 1, 3), "step": slider("step", 0, 0, 80)}

    def render(step, **args):
        return render_conv_arithmetic(step=step, **args)

    explorer = Explorer(render, controls)

    def update_step_range(change=None):
        args = {n: c.value for n, c in controls.items() if n != "step"}
        P = args["input_size"] + 2 * args["padding"]
        fits = P >= effective_kernel_size(args["kernel_size"], args["dilation"])
        n_out = conv_output_size(**args) if fits else 1
        controls["step"].max = max(n_out * n_out - 1, 0)

    for name, control in controls.items():
        if name != "step":
            control.observe(update_step_range, names="value")
    update_step_range()
    return explorer


def conv_arithmetic_animation(input_size: int = 5, kernel_size: int = 3, stride: int = 1,
                              padding: int = 0, dilation: int = 1, interval: int = 600):
    """``FuncAnimation`` sweeping the window over every output position.

    Display ``anim.to_jshtml()`` (wrapped in ``IPython.display.HTML``) for a player that
    works on a static page. Each frame is a fresh ``render_conv_arithmetic`` image.
    """
    from matplotlib.animation import FuncAnimation

    n_out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    fig = plt.figure(figsize=(6.4, 3.4), dpi=80)

    def update(step):
        render_conv_arithmetic(input_size, kernel_size, stride, padding, dilation, step, fig)

    anim = FuncAnimation(fig, update, frames=n_out * n_out, interval=interval)
    plt.close(fig)
    return anim


def conv_arithmetic_static_explorer(input_size: int = 5, kernel_sizes=(2, 3),
                                    strides=(1, 2), paddings=(0, 1), dilations=(1, 2)):
    """The website twin: the coverage map for every combination of the settings."""
    from ..explore import static_explorer

    return static_explorer(
        lambda kernel_size, stride, padding, dilation: render_conv_arithmetic(
            input_size, kernel_size, stride, padding, dilation, step=None),
        {"kernel_size": list(kernel_sizes), "stride": list(strides),
         "padding": list(paddings), "dilation": list(dilations)},
        title=f"Convolution arithmetic (input {input_size}×{input_size})", fmt="png", dpi=75)
