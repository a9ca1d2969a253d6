"""Chapter 3's channel-connectivity diagram: which input channels each output channel sees.

Input channels on the left, output channels on the right, one line per kernel slice
``weight[o, c]`` (a ``kH x kW`` array of weights). ``groups`` cuts the channels into
independent blocks: output channel ``o`` of group ``g`` reads only the input channels
of group ``g``, so the number of lines (and parameters) drops by a factor ``groups``.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ._base import Explorer


def connections(in_channels: int, out_channels: int, groups: int = 1):
    """``(c_in, c_out)`` pairs joined by a kernel slice: the nonzero blocks of the weight."""
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    cin_g, cout_g = in_channels // groups, out_channels // groups
    return [(c, o) for o in range(out_channels)
            for c in range((o // cout_g) * cin_g, (o // cout_g + 1) * cin_g)]


def render_groups(in_channels: int = 6, out_channels: int = 6, groups: int = 1,
                  kernel_size: int = 3):
    """Figure: the connectivity of ``nn.Conv2d(in_channels, out_channels, kernel_size,
    groups=groups)``, coloured by group, with its parameter count."""
    try:
        pairs = connections(in_channels, out_channels, groups)
    except ValueError as exc:
        fig, ax = plt.subplots(figsize=(5.5, 1.0))
        ax.text(0.5, 0.5, str(exc), ha="center", va="center", color="#b00", fontsize=9)
        ax.set_axis_off()
        return fig
    colors = plt.get_cmap("tab10")
    height = max(in_channels, out_channels)
    fig, ax = plt.subplots(figsize=(5.5, 0.8 + 0.32 * height))

    def ys(n):  # n points spread over the same height
        return [height - 1 - i * (height - 1) / max(n - 1, 1) for i in range(n)]

    y_in, y_out = ys(in_channels), ys(out_channels)
    cout_g = out_channels // groups
    for c, o in pairs:
        ax.plot([0, 1], [y_in[c], y_out[o]], color=colors((o // cout_g) % 10), lw=1.2,
                alpha=0.75)
    cin_g = in_channels // groups
    ax.scatter([0] * in_channels, y_in, s=120, zorder=3, edgecolor="k",
               c=[colors((c // cin_g) % 10) for c in range(in_channels)])
    ax.scatter([1] * out_channels, y_out, s=120, zorder=3, edgecolor="k",
               c=[colors((o // cout_g) % 10) for o in range(out_channels)])
    ax.text(0, -1.1, "input channels", ha="center", fontsize=9)
    ax.text(1, -1.1, "output channels", ha="center", fontsize=9)
    params = out_channels * cin_g * kernel_size ** 2
    kind = {1: "ordinary conv"}.get(groups, "depthwise" if groups == in_channels else
                                    f"{groups} groups")
    ax.set_title(f"groups={groups} ({kind}): {len(pairs)} kernel slices × {kernel_size}×"
                 f"{kernel_size} = {params} weights", fontsize=9)
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-1.4, height - 0.5)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


def groups_explorer(in_channels: int = 6, out_channels: int = 12) -> Explorer:
    """Live diagram: ``in_channels``, ``out_channels`` (IntSliders) and ``groups``
    (a Dropdown of the values that divide both, updated as the channels change)."""
    def common(a, b):
        return divisors(math.gcd(a, b))

    c_in = widgets.IntSlider(value=in_channels, min=1, max=12, description="in_channels",
                             continuous_update=False)
    c_out = widgets.IntSlider(value=out_channels, min=1, max=12, description="out_channels",
                              continuous_update=False)
    groups = widgets.Dropdown(options=common(in_channels, out_channels), value=1,
                              description="groups")
    explorer = Explorer(render_groups, {"in_channels": c_in, "out_channels": c_out,
                                        "groups": groups})

    def update_groups(change):
        options = common(c_in.value, c_out.value)
        if list(groups.options) != options:
            keep = groups.value if groups.value in options else 1
            groups.unobserve(explorer._on_change, names="value")
            groups.options = options  # may reset the value: no redraw in between
            groups.value = keep
            groups.observe(explorer._on_change, names="value")
            explorer.redraw()

    c_in.observe(update_groups, names="value")
    c_out.observe(update_groups, names="value")
    return explorer


def groups_static_explorer(in_channels: int = 6, out_channels=(6, 12), groups=(1, 2, 3, 6)):
    """The website twin: the diagram for each ``(out_channels, groups)`` pair."""
    from ..explore import static_explorer

    return static_explorer(
        lambda groups, out_channels: render_groups(in_channels, out_channels, groups),
        {"groups": list(groups), "out_channels": list(out_channels)},
        title=f"Channel connectivity (in_channels={in_channels})", fmt="png", dpi=70)
