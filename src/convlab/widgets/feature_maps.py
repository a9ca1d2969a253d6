"""Chapter 8's feature-map explorer: pick a test image and a conv layer of a trained
network, see the layer's feature maps and the kernels that made one of them.

Activations are caught with forward hooks, so any ``nn.Module`` whose conv layers
have a 4-D ``weight`` works (``torch.nn.Conv2d`` or ``convlab.nn.Conv2d``).
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

from ._base import Explorer


def conv_layers(model) -> dict:
    """Name -> module for every 2-D conv layer of ``model`` (modules with a 4-D weight)."""
    return {name: m for name, m in model.named_modules()
            if name and isinstance(getattr(m, "weight", None), torch.Tensor)
            and m.weight.dim() == 4}


@torch.no_grad()
def layer_activations(model, x: torch.Tensor) -> dict:
    r"""Run ``model`` on one image and return name -> output of each conv layer.

    A forward hook on each conv layer stores its output; the hooks are removed
    afterwards, even if the forward pass fails.

    Shape:
        - x: :math:`(C_\text{in}, H_\text{in}, W_\text{in})`; each activation:
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`
    """
    outputs, handles = {}, []
    for name, layer in conv_layers(model).items():
        def hook(module, inputs, output, name=name):
            outputs[name] = output[0].detach()  # (1, C_out, H_out, W_out) -> (C_out, H_out, W_out)
        handles.append(layer.register_forward_hook(hook))
    try:
        model.eval()
        model(x.unsqueeze(0))  # (1, C, H, W)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def _keep_full_size(fig) -> None:
    """A white background over the whole figure: saved with ``bbox_inches="tight"``, every
    frame of an explorer keeps the figure's size, so the page does not jump."""
    fig.add_artist(Rectangle((0, 0), 1, 1, transform=fig.transFigure, facecolor="white",
                             edgecolor="none", zorder=-10))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _mosaic(tiles, centred=False):
    """``tiles`` ``(T, H, W)`` as one image, 8 (or 16) to a row, NaN between them.

    Feature maps are scaled each to its own range; kernels (``centred``) share one scale
    centred on zero (0.5 is a zero weight). Returns the image and the top-left corner of
    every tile. One image for all tiles keeps a frame quick to draw.
    """
    T, H, W = tiles.shape
    cols = 8 if T <= 16 else 16
    gap_w = max(1, W // 4)
    gap_h = max(2, round(0.04 * cols * (W + gap_w)))  # room for the tile's number above it
    if centred:
        scaled = 0.5 + tiles / (2 * (float(tiles.abs().max()) or 1.0))
    else:
        low = tiles.amin((1, 2), keepdim=True)
        scaled = (tiles - low) / (tiles.amax((1, 2), keepdim=True) - low + 1e-12)
    rows = -(-T // cols)
    image = torch.full((rows * (H + gap_h), cols * (W + gap_w) - gap_w), float("nan"))
    corners = [(gap_h + (t // cols) * (H + gap_h), (t % cols) * (W + gap_w)) for t in range(T)]
    for t, (top, left) in enumerate(corners):
        image[top:top + H, left:left + W] = scaled[t]
    return image, corners


def _draw_mosaic(ax, image, corners, size, cmap, title, highlight=None):
    H, W = size
    ax.imshow(image.numpy(), cmap=plt.get_cmap(cmap).with_extremes(bad="white"), vmin=0,
              vmax=1, interpolation="nearest")
    for t, (top, left) in enumerate(corners):
        red = t == highlight
        ax.text(left + (W - 1) / 2, top - 0.7, str(t), ha="center", va="bottom", fontsize=11.5,
                color="#c44e52" if red else "black")
        if red:
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), W, H, fill=False, linewidth=2.5,
                                   edgecolor="#c44e52"))
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)


def render_feature_maps(model, images, index: int = 0, layer: str | None = None,
                        channel: int | None = None, labels=None, max_maps: int = 32):
    """Figure: test image ``index``, the maps of conv ``layer`` and the kernels of one map.

    ``channel`` picks the map whose kernels are shown (one ``kH x kW`` slice per input
    channel: the map is their summed cross-correlations plus a bias); ``None`` picks
    the map with the largest mean activation for this image. That map is framed in red;
    the first ``max_maps`` maps are drawn, and the chosen one always among them.
    """
    layers = conv_layers(model)
    layer = layer or next(iter(layers))
    if layer not in layers:
        raise ValueError(f"unknown layer {layer!r}; conv layers are {list(layers)}")
    x = images[index]  # (C, H, W)
    maps = layer_activations(model, x)[layer]  # (C_out, H_out, W_out)
    shown = min(len(maps), max_maps)
    channel = int(maps[:shown].mean((1, 2)).argmax()) if channel is None else channel % shown
    with torch.no_grad():
        guess = int(model(x.unsqueeze(0)).argmax())
    kernels = layers[layer].weight[channel].detach()[:32]  # (C_in, kH, kW): a slice per input
    map_image, map_corners = _mosaic(maps[:shown])
    kernel_image, kernel_corners = _mosaic(kernels, centred=True)
    aspects = [image.shape[0] / image.shape[1] for image in (map_image, kernel_image)]
    fig = plt.figure(figsize=(7.6, 4.6))  # one size for every frame: the page does not jump
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 4], height_ratios=aspects, wspace=0.08,
                            hspace=0.3, left=0.01, right=0.99, top=0.9, bottom=0.02)
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(x.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray_r")
    ax.set_axis_off()
    truth = f"label {int(labels[index])}\n" if labels is not None else ""
    ax.set_title(f"test image {index}\n{truth}predicted {guess}", fontsize=11)
    count = _plural(len(maps), "map") if shown == len(maps) else f"{shown} of {len(maps)} maps"
    _draw_mosaic(fig.add_subplot(grid[0, 1]), map_image, map_corners, maps.shape[1:], "viridis",
                 f"layer {layer}: {count}, {maps.shape[1]}x{maps.shape[2]}", highlight=channel)
    slices = _plural(layers[layer].weight.shape[1], "slice")
    if layers[layer].weight.shape[1] > len(kernels):
        slices += f" ({len(kernels)} shown)"
    _draw_mosaic(fig.add_subplot(grid[1, 1]), kernel_image, kernel_corners, kernels.shape[1:],
                 "RdBu_r", f"the kernel of map {channel}: {slices} of {kernels.shape[1]}x"
                 f"{kernels.shape[2]}, one per input map")
    _keep_full_size(fig)
    return fig


def feature_map_explorer(model, images, labels=None, max_maps: int = 32) -> Explorer:
    """Live explorer: ``image`` (IntSlider over ``images``), ``layer`` (Dropdown of the
    conv layers) and ``channel`` (which map's kernels to show; its range follows the
    layer's number of output channels, up to ``max_maps``)."""
    layers = conv_layers(model)
    names = list(layers)
    image = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
    layer = widgets.Dropdown(options=names, value=names[0], description="layer")
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
    """The website twin: every (test image, layer) pair precomputed; the kernels shown are
    those of the most active map."""
    from ..explore import static_explorer

    names = list(conv_layers(model))
    return static_explorer(
        lambda image, layer: render_feature_maps(model, images, image, layer, None, labels,
                                                 max_maps),
        {"image": list(indices), "layer": names}, title="Feature-map explorer", fmt="png")
