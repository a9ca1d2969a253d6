"""Chapter 3's kernels as volumes: which input channels each output channel sees.

A convolution's weight ``(C_out, C_in/G, kH, kW)`` is ``C_out`` kernels, each a volume
``C_in/G`` channels deep. :func:`render_kernel_volumes` draws the input stack, the
kernels and the output stack, with one kernel where it sits in the input; ``groups``
cuts the stacks into ``G`` slabs: output channel ``o`` of group ``q`` reads only the
input channels of group ``q`` (:func:`connections`), so the weight (and the work) is
``G`` times smaller. :func:`groups_explorer` is the live widget and
:func:`groups_static_explorer` its website twin.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.patches import Rectangle

from ..viz import axis_off
from ._base import Explorer, keep_full_size


def connections(in_channels: int, out_channels: int, groups: int = 1):
    """``(c, o)`` pairs joined by a kernel slice ``weight[o, c - q C_in/G]`` (``q`` the
    group of ``o``): the nonzero blocks of the equivalent full weight."""
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    cin_g, cout_g = in_channels // groups, out_channels // groups
    return [(c, o) for o in range(out_channels)
            for c in range((o // cout_g) * cin_g, (o // cout_g + 1) * cin_g)]


def divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


def groups_explorer(in_channels: int = 4, out_channels: int = 8) -> Explorer:
    """Live picture: ``in_channels``, ``out_channels`` (IntSliders, 1 to 8) and ``groups``
    (a Dropdown of the values that divide both, updated as the channels change)."""
    def common(a, b):
        return divisors(math.gcd(a, b))

    c_in = widgets.IntSlider(value=in_channels, min=1, max=8, description="in_channels",
                             continuous_update=False)
    c_out = widgets.IntSlider(value=out_channels, min=1, max=8, description="out_channels",
                              continuous_update=False)
    groups = widgets.Dropdown(options=common(in_channels, out_channels), value=1,
                              description="groups")
    explorer = Explorer(render_kernel_volumes, {"in_channels": c_in, "out_channels": c_out,
                                                "groups": groups})

    def on_channels(change):  # one redraw per move, with groups already valid for it
        options = common(c_in.value, c_out.value)
        if list(groups.options) != options:
            keep = groups.value if groups.value in options else 1
            groups.unobserve(explorer._on_change, names="value")
            groups.options = options  # may reset the value: no redraw in between
            groups.value = keep
            groups.observe(explorer._on_change, names="value")
        explorer.redraw()

    for channels in (c_in, c_out):  # not the generic redraw: it would draw the old groups
        channels.unobserve(explorer._on_change, names="value")
        channels.observe(on_channels, names="value")
    return explorer


def groups_static_explorer(in_channels=(2, 4), out_channels=(2, 4, 8), groups=(1, 2, 4)):
    """The website twin: the picture for every ``(in_channels, out_channels, groups)``;
    settings that ``nn.Conv2d`` rejects show its error text."""
    from ..explore import static_explorer

    # groups first: the control the chapter is about (and the one a reader moves first)
    return static_explorer(
        lambda groups, in_channels, out_channels: render_kernel_volumes(
            in_channels, out_channels, groups),
        {"groups": list(groups), "in_channels": list(in_channels),
         "out_channels": list(out_channels)},
        title="Kernels as volumes", fmt="png", initial={"in_channels": 4, "out_channels": 8})

# --- kernels as volumes ----------------------------------------------------------------

_DEPTH = np.array([0.42, 0.30])  # how a step in depth (one channel) is drawn: right and up


def _group_colour(group: int, lighten: float = 0.0):
    r, g, b, _ = plt.get_cmap("tab10")(group % 10)
    return (r + (1 - r) * lighten, g + (1 - g) * lighten, b + (1 - b) * lighten)


def _depths(channels: int, groups: int, step: float) -> list:
    """Depth of each channel's slice in a stack, with a gap between groups (the cut)."""
    per_group = channels // groups
    return [step * (c + 0.8 * (c // per_group) * (groups > 1)) for c in range(channels)]


def _slab(ax, corner, size: float, depths, colours, images=None, cmaps=None, z0=0,
          edges=None, gid=None):
    """A stack of square slices, back to front; slice ``c`` is shifted by ``depths[c]``.

    Without ``images`` the slices are filled with ``colours``; with them, each image is
    framed in ``edges[c]`` (its channel's colour) or else ``colours[c]``."""
    for c in reversed(range(len(depths))):
        x, y = corner + depths[c] * _DEPTH / _DEPTH[0]
        z = z0 + 2 * (len(depths) - c)
        if images is None:
            ax.add_patch(Rectangle((x, y), size, size, facecolor=colours[c], edgecolor="0.25",
                                   lw=0.8, zorder=z, gid=gid))
        else:
            ax.imshow(images[c], cmap=cmaps[c], extent=(x, x + size, y, y + size), zorder=z,
                      interpolation="bilinear" if images[c].shape[-1] > 8 else "nearest",
                      **_image_range(images[c], cmaps[c]))
            ax.add_patch(Rectangle((x, y), size, size, fill=False, zorder=z + 0.5, gid=gid,
                                   edgecolor=colours[c] if edges is None else edges[c],
                                   lw=1.6 if edges is None else 2.2))


def _image_range(image, cmap: str) -> dict:
    if cmap == "RdBu_r":  # signed feature map: zero is white
        bound = float(np.abs(image).max()) or 1.0
        return {"vmin": -bound, "vmax": bound}
    return {"vmin": 0.0, "vmax": 1.0}


def _box(ax, corner, size: float, depth_front: float, depth_back: float, colour, z: float,
         lw: float = 2.0, halo: bool = False):
    """The outline of a cuboid: a square at two depths and the four edges between them
    (with a white ``halo``, it stays visible on a dark photo)."""
    front = corner + depth_front * _DEPTH / _DEPTH[0]
    back = corner + depth_back * _DEPTH / _DEPTH[0]
    effects = [patheffects.withStroke(linewidth=lw + 2.5, foreground="white")] if halo else None
    for base in (back, front):
        ax.add_patch(Rectangle(base, size, size, fill=False, edgecolor=colour, lw=lw, zorder=z,
                               path_effects=effects))
    for dx, dy in [(0, 0), (size, 0), (0, size), (size, size)]:
        ax.plot([front[0] + dx, back[0] + dx], [front[1] + dy, back[1] + dy], color=colour,
                lw=lw, zorder=z, path_effects=effects)
    return front, back


def _torch_rejects(in_channels: int, out_channels: int, groups: int, kernel_size: int):
    """The exception ``nn.Conv2d`` raises for these arguments, or None."""
    try:
        torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, device="meta")
    except (ValueError, RuntimeError) as exc:
        return exc
    return None


def _framed_message(text: str, width: float = 7.5):
    fig = plt.figure(figsize=(width, 1.6))
    ax = fig.add_axes((0, 0, 1, 1))  # the whole figure: the frame is as wide as the others
    ax.add_patch(Rectangle((0.005, 0.02), 0.99, 0.96, transform=ax.transAxes, fill=False,
                           edgecolor="0.8"))  # keeps the frame as wide as the others
    ax.text(0.5, 0.5, text, ha="center", va="center", color="#b00", fontsize=12, wrap=True)
    axis_off(ax)
    return fig


def _kernel_grid(count: int, size: float, depth: float, width: float, height: float):
    """Scale and corners that fit ``count`` kernel volumes (``size`` square, ``depth`` deep)
    in a ``width x height`` area, one column up to 3 kernels, else two."""
    ncols = 1 if count <= 3 else 2
    nrows = -(-count // ncols)
    w, h = size + depth, size + depth * _DEPTH[1] / _DEPTH[0]
    scale = min(1.0, width / (ncols * w * 1.25), height / (nrows * h * 1.2))
    corners = [np.array([(o // nrows) * w * scale * 1.25,
                         height - ((o % nrows) + 1) * h * scale * 1.2]) for o in range(count)]
    return scale, corners


def _cells(ax, corner, size: float, n: int, z: float, colour="0.35"):
    """Grid lines of an ``n x n`` face (the taps of a kernel or the pixels of a window)."""
    for t in range(1, n):
        ax.plot([corner[0] + t * size / n] * 2, [corner[1], corner[1] + size], color=colour,
                lw=0.6, zorder=z)
        ax.plot([corner[0], corner[0] + size], [corner[1] + t * size / n] * 2, color=colour,
                lw=0.6, zorder=z)


def _route(ax, points, colour, gid: str) -> None:
    """A line through ``points`` with an arrow head on its last segment."""
    xs, ys = zip(*points)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=colour, lw=1.4, zorder=102, solid_capstyle="round",
                gid=gid)
    ax.annotate("", xy=points[-1], xytext=points[-2], zorder=102, gid=gid,
                arrowprops=dict(arrowstyle="->", color=colour, lw=1.4, shrinkA=0, shrinkB=1))


def render_kernel_volumes(in_channels: int = 3, out_channels: int = 1, groups: int = 1,
                          kernel_size: int = 3, input_images=None, output_images=None,
                          input_cmaps=None, weight=None):
    """Figure: a convolution's kernels as volumes, from the input stack to the output stack.

    Left, the input: ``C_in`` channels stacked in depth. Middle, the ``C_out`` kernels,
    numbered, each a ``C_in/G`` deep volume of ``k x k`` slices (``weight[o]``). Right,
    the ``C_out`` output maps. Kernel 0 is drawn where it sits in the input: a ``k x k``
    window as deep as the channels of its group; at every position it slides to it makes
    one number of map 0. With ``groups = G`` the stacks are cut into ``G`` slabs
    (colours): a kernel of slab ``q`` reads only the input channels of slab ``q`` and
    writes a map of slab ``q`` (the last kernel's path is drawn too). The lines of a path
    go around the other kernels, never through them. Settings that ``nn.Conv2d`` rejects
    draw its error text instead. The drawing is a diagram, not to scale.

    ``input_images`` (``(C_in, H, W)`` in [0, 1]) and ``output_images`` (``(C_out, H, W)``,
    signed) draw real channels on the slices; ``input_cmaps`` names (or gives) their
    colormaps, whose colour also frames each input slice and the kernel slices that read
    it; ``weight`` (``(C_out, C_in/G, k, k)``) draws the real weights on the kernels' slices.
    """
    error = _torch_rejects(in_channels, out_channels, groups, kernel_size)
    if error is not None:
        return _framed_message(f"nn.Conv2d({in_channels}, {out_channels}, {kernel_size}, "
                               f"groups={groups}) raises\n{type(error).__name__}: {error}")
    G, C_in_g, C_out_g = groups, in_channels // groups, out_channels // groups
    k = min(kernel_size, 5)  # drawn taps per side
    fig, ax = plt.subplots(figsize=(7.5, 4.3))
    S, S_out, n_px = 3.0, 2.4, 6  # input and output slice sizes; input drawn as 6 x 6 cells
    cell = S / n_px
    # depth steps that keep each stack, gaps between groups included, within its lane
    gaps = 0.8 * (G - 1) if G > 1 else 0.0
    step_in = min(0.4, 1.9 / max(1.0, in_channels - 1 + gaps))
    step_out = min(0.4, 2.1 / max(1.0, out_channels - 1 + gaps))
    d_in, d_out = _depths(in_channels, G, step_in), _depths(out_channels, G, step_out)
    corner_in, corner_out = np.array([0.0, 0.8]), np.array([10.2, 1.0])
    cmaps = list(input_cmaps or ["gray"] * in_channels)
    # a channel's colour (its colormap near full value) frames its slices, when given
    edges = [plt.get_cmap(c)(0.85)[:3] for c in cmaps] if input_cmaps else None
    _slab(ax, corner_in, S, d_in, [_group_colour(c // C_in_g, 0.6) for c in range(in_channels)],
          input_images, cmaps, edges=edges)
    _slab(ax, corner_out, S_out, d_out,
          [_group_colour(o // C_out_g, 0.6) for o in range(out_channels)],
          output_images, ["RdBu_r"] * out_channels)

    # the kernels: weight[o] is C_in/G slices of k x k; a back slice shows at least one
    # column of taps (up to 4 slices), so that every slice can be seen
    kernel_step = max(step_in, 1.1 * cell) if C_in_g <= 4 else step_in
    depth = kernel_step * (C_in_g - 1)
    scale, corners = _kernel_grid(out_channels, k * cell, depth, width=3.8, height=5.7)
    corners = [c + np.array([5.6, 0.55]) for c in corners]
    size = scale * k * cell  # a kernel's front face
    lift = scale * depth * _DEPTH[1] / _DEPTH[0]  # how far its back slice is drawn up
    for o, corner in enumerate(corners):
        q = o // C_out_g
        colours = [_group_colour(q, 0.3)] * C_in_g
        slices = [scale * kernel_step * c for c in range(C_in_g)]
        own = None if edges is None else edges[q * C_in_g:(q + 1) * C_in_g]
        if weight is None:
            _slab(ax, corner, size, slices, colours, gid=f"kernel {o}")
        else:
            _slab(ax, corner, size, slices, colours, np.asarray(weight[o]),
                  ["RdBu_r"] * C_in_g, edges=own, gid=f"kernel {o}")
        _cells(ax, corner, size, k, z=2 * C_in_g + 1)
        ax.text(corner[0] - 0.05, corner[1], str(o), ha="right", va="bottom", fontsize=11)
    left = min(c[0] for c in corners) - 0.45  # the free lanes around the kernels
    right = max(c[0] for c in corners) + size + scale * depth + 0.22
    top = max(c[1] for c in corners) + size + lift + 0.22
    bottom = min(c[1] for c in corners) - 0.22
    two_columns = len({round(float(c[0]), 6) for c in corners}) > 1

    paths = [(0, 0, (0, 1))] + ([(G - 1, out_channels - 1, (2, 3))] if G > 1 else [])
    for q, o, (row, col) in paths:  # group q: its window in the input, kernel o, map o
        colour = "black" if q == 0 else _group_colour(q)
        window = corner_in + np.array([col, n_px - k - row]) * cell
        _, back = _box(ax, window, k * cell, d_in[q * C_in_g], d_in[(q + 1) * C_in_g - 1],
                       colour, z=100, lw=2.2, halo=input_images is not None)
        kernel = corners[o]
        in_column_2 = two_columns and kernel[0] > min(c[0] for c in corners)
        start = back + np.array([k * cell, k * cell / 2])  # the window's right face
        if in_column_2:  # below the kernels, then up into this one's bottom face
            below = kernel[0] + size / 2
            _route(ax, [start, (left, bottom), (below, bottom), (below, kernel[1])], "0.15",
                   gid=f"path {o}")
        else:
            _route(ax, [start, kernel + np.array([0, 0.9 * size])], "0.15",  # above its number
                   gid=f"path {o}")
        pixel = corner_out + d_out[o] * _DEPTH / _DEPTH[0] + np.array(
            [col + (k - 1) / 2, n_px - 1 - row - (k - 1) / 2]) * S_out / n_px
        ax.add_patch(Rectangle(pixel, S_out / n_px, S_out / n_px, facecolor=colour,
                               edgecolor="white", zorder=101 + o))
        target = pixel + S_out / n_px / 2
        if two_columns and not in_column_2:  # above the kernels, then to the map
            above = kernel[0] + scale * depth + size / 2
            _route(ax, [(above, kernel[1] + size + lift), (above, top), (right, top), target],
                   "0.15", gid=f"path {o}")
        else:
            _route(ax, [kernel + np.array([size + scale * depth, size / 2]), target], "0.15",
                   gid=f"path {o}")
    ax.text(0.0, 0.4, f"input x: C_in = {in_channels}", fontsize=11, va="top")
    kernels = (f"{out_channels} kernels, each " if out_channels > 1 else "1 kernel, ")
    ax.text(5.6, 0.1, f"{kernels}{C_in_g}×{kernel_size}×{kernel_size}", fontsize=11, va="top")
    ax.text(10.2, 0.6, f"output y: C_out = {out_channels}", fontsize=11, va="top")
    params = out_channels * C_in_g * kernel_size ** 2
    kind = ", depthwise" if G == in_channels > 1 else ""
    scale_note = " (not to scale)" if input_images is not None else ""  # a real photo
    ax.set_title(f"weight ({out_channels}, {C_in_g}, {kernel_size}, {kernel_size}) = {params} "
                 f"weights" + (f", groups = {G}{kind}" if G > 1 else "") + scale_note,
                 fontsize=12)
    ax.set_xlim(-0.2, 15.0)
    ax.set_ylim(-0.6, 6.8)
    ax.set_aspect("equal")
    axis_off(ax)
    # fixed margins (the axes holds everything but the title): tight_layout would
    # measure every artist on each redraw
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    keep_full_size(fig)
    return fig
