"""Chapter 8's feature maps: what every conv layer of a trained network makes of one image.

Activations are caught with forward hooks, so any ``nn.Module`` whose conv layers
have a 4-D ``weight`` works (``torch.nn.Conv2d`` or ``convlab.nn.Conv2d``). The maps are
the conv layers' outputs, *before* the ReLU that usually follows them, drawn on one
colour scale per layer centred on zero: red is what the ReLU lets through.

- :func:`plot_layer_maps`: one figure, the image and the maps of every conv layer;
- :func:`render_feature_maps`: one explorer frame, the image, the maps of one layer and
  every kernel of that layer (one mosaic image each, drawn with
  ``torchvision.utils.make_grid``, so a frame is quick to redraw);
- :func:`feature_map_explorer` (live) and :func:`feature_map_static_explorer` (the
  website's twin).
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from torchvision.utils import make_grid

from ..viz import axis_off
from ._base import Explorer, keep_full_size

MAP_COLORS = plt.get_cmap("RdBu_r").with_extremes(bad="white")  # NaN: the gaps between tiles
RED = "#c44e52"


def conv_layers(model) -> dict:
    """Name -> module for every 2-D conv layer of ``model`` (modules with a 4-D weight)."""
    return {name: m for name, m in model.named_modules()
            if name and isinstance(getattr(m, "weight", None), torch.Tensor)
            and m.weight.dim() == 4}


def layer_labels(model) -> dict:
    """Name -> a label for people: ``'conv1 (layer 0)'`` is the first conv layer, which
    ``nn.Sequential`` calls ``'0'`` (its index in the Sequential)."""
    def where(name):
        return f"layer {name}" if name.isdigit() else name

    return {name: f"conv{k + 1} ({where(name)})" for k, name in enumerate(conv_layers(model))}


@torch.no_grad()
def layer_activations(model, x: torch.Tensor) -> dict:
    r"""Run ``model`` on one image and return name -> output of each conv layer.

    A forward hook on each conv layer stores its output (before any ReLU that
    follows); the hooks are removed afterwards, even if the forward pass fails.

    Shape:
        - x: :math:`(C_\text{in}, H_\text{in}, W_\text{in})`; each activation:
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`
    """
    outputs, handles = {}, []
    for name, layer in conv_layers(model).items():
        def hook(module, inputs, output, name=name):
            # (1, C_out, H_out, W_out) -> (C_out, H_out, W_out)
            outputs[name] = output[0].detach()
        handles.append(layer.register_forward_hook(hook))
    try:
        model.eval()
        model(x.unsqueeze(0))  # (1, C, H, W)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _mosaic(tiles: torch.Tensor, nrow: int, room: int = 0) -> torch.Tensor:
    r"""``tiles`` ``(T, H, W)`` as one image: ``torchvision.utils.make_grid`` lays them out
    in rows of ``nrow``, 1 px apart, each with ``room`` empty rows above it (for its
    number). Empty cells are NaN (drawn white).

    Shape: :math:`(R (\text{room} + H + 1) + 1,\ \text{nrow} (W + 1) + 1)`, with
    :math:`R` rows of tiles.
    """
    nan = float("nan")
    tiles = F.pad(tiles.float(), (0, 0, room, 0), value=nan)  # (T, room + H, W)
    return make_grid(tiles[:, None], nrow=nrow, padding=1, pad_value=nan)[0]


def _corner(t: int, nrow: int, size, room: int = 0) -> tuple:
    """Top-left corner of tile ``t`` in the mosaic's pixel coordinates."""
    H, W = size
    return 0.5 + (t % nrow) * (W + 1), 0.5 + (t // nrow) * (room + H + 1) + room


def _color_key(ax, bound: float, label: str, size) -> None:
    """A colour bar right of the ``size = (rows, columns)`` image that ``ax`` shows, drawn
    in the same axes (in the image's pixel coordinates) with three numbers, -bound, 0
    and +bound: a colorbar's own axes and ticks would cost more than the rest of a
    frame."""
    rows, cols = size
    width = 0.025 * cols  # as wide as 2.5 % of the image
    height = max(rows, 0.25 * cols)  # as tall as the image, and room for 3 numbers
    left, top = cols + width, -0.5
    ax.imshow(torch.linspace(bound, -bound, 64)[:, None].numpy(), cmap=MAP_COLORS,
              vmin=-bound, vmax=bound, aspect="auto",
              extent=(left, left + width, top + height, top))
    for value, y, va in ((bound, top, "top"), (0.0, top + height / 2, "center"),
                         (-bound, top + height, "bottom")):
        ax.text(left + 1.6 * width, y, f"{value:+.2g}" if value else "0", ha="left",
                va=va, fontsize=11)
    ax.text(left + width / 2, top - 0.02 * cols, label, ha="center", va="bottom",
            fontsize=11)
    ax.set_xlim(-0.5, left + width)
    ax.set_ylim(top + height, top)
    ax.set_aspect("equal")


def _title(ax, text: str, pad: float) -> None:
    # an explicit y: no automatic title placement, which would build every tick of
    # the axes to find room and cost more than the rest of a frame
    ax.set_title(text, fontsize=11, y=1.0, pad=pad)


def _draw_maps(ax, maps, title, highlight=None, nrow=None):
    """The maps ``(C, H, W)`` as one mosaic on one scale centred on zero, ``nrow`` to a
    row (8, or 16 for more than 16 maps), each numbered, ``highlight`` framed in red,
    with a colour key."""
    C, H, W = maps.shape
    nrow = nrow or (8 if C <= 16 else 16)
    # room above each tile for its number: 11-pt text is about 0.17 inch, and the
    # mosaic is drawn about 5 inches wide
    room = math.ceil(0.17 / (5 / (nrow * (W + 1) + 1)))
    bound = float(maps.abs().max()) or 1.0
    image = _mosaic(maps, nrow, room)
    ax.imshow(image.numpy(), cmap=MAP_COLORS, vmin=-bound, vmax=bound,
              interpolation="nearest")
    for t in range(C):
        left, top = _corner(t, nrow, (H, W), room)
        ax.text(left + W / 2, top - 0.2, str(t), ha="center", va="bottom", fontsize=11,
                color=RED if t == highlight else "black")
    if highlight is not None:
        ax.add_patch(Rectangle(_corner(highlight, nrow, (H, W), room), W, H, fill=False,
                               linewidth=2.5, edgecolor=RED))
    axis_off(ax)
    ax.set_anchor("NW")  # the picture at the top left of its box, whatever its shape
    _title(ax, title, pad=2)
    _color_key(ax, bound, "value", image.shape)


def _draw_kernels(ax, weight, title, highlight=None):
    """Every kernel of a layer, ``weight`` ``(C_out, C_in, kH, kW)``: column ``o`` holds
    the ``C_in`` slices that make map ``o`` (one row per input map), on one scale centred
    on zero; the column of map ``highlight`` is framed in red."""
    C_out, C_in, kH, kW = weight.shape
    slices = weight.transpose(0, 1).reshape(C_in * C_out, kH, kW)  # row c, column o
    bound = float(weight.abs().max()) or 1.0
    image = _mosaic(slices, C_out)
    ax.imshow(image.numpy(), cmap=MAP_COLORS, vmin=-bound, vmax=bound,
              interpolation="nearest")
    for o in range(0, C_out, 1 if C_out <= 16 else 4):  # the map each column makes
        left, top = _corner(o, C_out, (kH, kW))
        ax.text(left + kW / 2, top - 0.6, str(o), ha="center", va="bottom", fontsize=11,
                color=RED if o == highlight else "black")
    for c in range(0, C_in, 1 if C_in <= 8 else 4):  # the input map each row reads
        left, top = _corner(c * C_out, C_out, (kH, kW))
        ax.text(left - 0.8, top + kH / 2, str(c), ha="right", va="center", fontsize=11)
    if highlight is not None:
        ax.add_patch(Rectangle(_corner(highlight, C_out, (kH, kW)), kW,
                               C_in * (kH + 1) - 1, fill=False, linewidth=2.5,
                               edgecolor=RED))
    axis_off(ax)
    ax.set_anchor("NW")
    _title(ax, title, pad=18)
    _color_key(ax, bound, "weight", image.shape)


def _draw_image(ax, x, title: str) -> None:
    ax.imshow(x.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray_r")
    axis_off(ax)
    ax.set_anchor("N")
    _title(ax, title, pad=4)


def _image_title(model, images, index: int, labels) -> str:
    with torch.no_grad():
        guess = int(model(images[index].unsqueeze(0)).argmax())
    truth = f"label {int(labels[index])}\n" if labels is not None else ""
    return f"test image {index}\n{truth}predicted {guess}"


def plot_layer_maps(model, images, index: int = 0, labels=None, max_maps: int = 32):
    """Figure: test image ``index`` and, one row per conv layer, that layer's maps (up to
    ``max_maps``) before the ReLU, each layer on one colour scale centred on zero."""
    maps = layer_activations(model, images[index])
    names = layer_labels(model)
    rows = {name: m[:max_maps] for name, m in maps.items()}
    heights = [0.35 + 0.62 * -(-len(m) // 8) for m in rows.values()]  # 8 maps a row
    fig = plt.figure(figsize=(7.4, 0.5 + 1.25 * sum(heights)))
    grid = fig.add_gridspec(len(rows), 2, width_ratios=[1.2, 5], height_ratios=heights,
                            wspace=0.12, hspace=0.3, left=0.01, right=0.87, top=0.92,
                            bottom=0.02)
    _draw_image(fig.add_subplot(grid[:, 0]), images[index],
                _image_title(model, images, index, labels))
    for r, (name, m) in enumerate(rows.items()):
        count = _plural(len(m), "map") if len(m) == len(maps[name]) else \
            f"{len(m)} of {len(maps[name])} maps"
        _draw_maps(fig.add_subplot(grid[r, 1]), m,
                   f"{names[name]}: {count}, {m.shape[1]}x{m.shape[2]}, before ReLU",
                   nrow=8)
    return fig


def render_feature_maps(model, images, index: int = 0, layer: str | None = None,
                        channel: int | None = None, labels=None, max_maps: int = 32):
    """Figure: test image ``index``, the maps of conv ``layer`` and all its kernels.

    The kernels are drawn one column per map, one row per input map: column ``o`` holds
    the ``kH x kW`` slices whose cross-correlations with the layer's input maps, summed
    with a bias, make map ``o``. ``channel`` picks the map framed in red, with its column
    of kernels; ``None`` picks the map with the largest mean activation for this image.
    The first ``max_maps`` maps (and inputs of the kernels) are drawn, the chosen map
    among them.
    """
    layers = conv_layers(model)
    layer = layer or next(iter(layers))
    if layer not in layers:
        raise ValueError(f"unknown layer {layer!r}; conv layers are {list(layers)}")
    maps = layer_activations(model, images[index])[layer]  # (C_out, H_out, W_out)
    shown = min(len(maps), max_maps)
    channel = int(maps[:shown].mean((1, 2)).argmax()) if channel is None else channel % shown
    weight = layers[layer].weight.detach()[:shown, :max_maps]  # (C_out, C_in/G, kH, kW)
    # one size for every frame (the page does not jump): the panels keep their boxes
    fig = plt.figure(figsize=(7.6, 5.4))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.05, 5], height_ratios=[1.55, 2.45],
                            wspace=0.1, hspace=0.3, left=0.01, right=0.86, top=0.9,
                            bottom=0.02)
    _draw_image(fig.add_subplot(grid[:, 0]), images[index],
                _image_title(model, images, index, labels))
    count = _plural(len(maps), "map") if shown == len(maps) else \
        f"{shown} of {len(maps)} maps"
    _draw_maps(fig.add_subplot(grid[0, 1]), maps[:shown],
               f"{layer_labels(model)[layer]}: {count}, {maps.shape[1]}x{maps.shape[2]}, "
               f"before ReLU", highlight=channel)
    C_out, C_in, kH, kW = layers[layer].weight.shape
    rows = "one row per input map" if weight.shape[1] == C_in else \
        f"a row for each of the first {weight.shape[1]} of {C_in} input maps"
    _draw_kernels(fig.add_subplot(grid[1, 1]), weight,
                  f"its kernels ({kH}x{kW}): one column per map, {rows};\n"
                  f"column {channel} (red) makes map {channel}", highlight=channel)
    keep_full_size(fig)
    return fig


def feature_map_explorer(model, images, labels=None, max_maps: int = 32) -> Explorer:
    """Live explorer: ``image`` (IntSlider over ``images``), ``layer`` (Dropdown of the
    conv layers, labelled like ``'conv1 (layer 0)'``) and ``channel`` (the map framed in
    red with its kernels; its range follows the layer's number of output channels, up to
    ``max_maps``)."""
    layers = conv_layers(model)
    labels_of = layer_labels(model)
    names = list(layers)
    image = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
    layer = widgets.Dropdown(options=[(labels_of[n], n) for n in names], value=names[0],
                             description="layer")

    def last_map(name):  # the slider reaches the maps that are drawn
        return min(layers[name].weight.shape[0], max_maps) - 1

    channel = widgets.IntSlider(value=0, min=0, max=last_map(names[0]), description="map")

    def on_layer(change):  # runs before the explorer's redraw (observers fire in order)
        channel.max = last_map(change["new"])

    layer.observe(on_layer, names="value")

    def render(image, layer, channel):
        return render_feature_maps(model, images, image, layer, channel, labels, max_maps)

    return Explorer(render, {"image": image, "layer": layer, "channel": channel})


def feature_map_static_explorer(model, images, labels=None, indices=(0, 1, 2, 3),
                                max_maps: int = 32):
    """The website twin: every (test image, layer) pair precomputed; the map framed in
    red is the most active one."""
    from ..explore import static_explorer

    by_label = {label: name for name, label in layer_labels(model).items()}
    return static_explorer(
        lambda image, layer: render_feature_maps(model, images, image, by_label[layer],
                                                 None, labels, max_maps),
        {"image": list(indices), "layer": list(by_label)}, title="Feature-map explorer",
        fmt="png")
