"""Chapter 8's feature-map explorer: pick a test image and a conv layer of a trained
network, see the layer's feature maps and the kernels that made one of them.

Activations are caught with forward hooks, so any ``nn.Module`` whose conv layers
have a 4-D ``weight`` works (``torch.nn.Conv2d`` or ``convlab.nn.Conv2d``).
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch

from ..viz import plot_feature_maps, plot_kernels
from ._base import Explorer


def conv_layers(model) -> dict:
    """Name -> module for every 2-D conv layer of ``model`` (modules with a 4-D weight)."""
    return {name: m for name, m in model.named_modules()
            if name and isinstance(getattr(m, "weight", None), torch.Tensor)
            and m.weight.dim() == 4}


@torch.no_grad()
def layer_activations(model, x: torch.Tensor) -> dict:
    """Run ``model`` on one image and return name -> output of each conv layer.

    A forward hook on each conv layer stores its output; the hooks are removed
    afterwards, even if the forward pass fails.

    Shape:
        - x: :math:`(C, H, W)`; each activation: :math:`(C_{out}, H_{out}, W_{out})`
    """
    outputs, handles = {}, []
    for name, layer in conv_layers(model).items():
        def hook(module, inputs, output, name=name):
            outputs[name] = output[0].detach()  # (1, C_out, H, W) -> (C_out, H, W)
        handles.append(layer.register_forward_hook(hook))
    try:
        model.eval()
        model(x.unsqueeze(0))  # (1, C, H, W)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def _as_array(figure) -> np.ndarray:
    """Rasterize a Figure into an ``(H, W, 4)`` RGBA array and close it."""
    figure.canvas.draw()
    array = np.asarray(figure.canvas.buffer_rgba()).copy()
    plt.close(figure)
    return array


def render_feature_maps(model, images, index: int = 0, layer: str | None = None,
                        channel: int | None = None, labels=None, max_maps: int = 16):
    """Figure: test image ``index``, the maps of conv ``layer`` and the kernels of one map.

    ``channel`` picks the map whose kernels are shown (one ``kH x kW`` slice per input
    channel: the map is their summed cross-correlations plus a bias); ``None`` picks
    the map with the largest mean activation for this image.
    """
    layers = conv_layers(model)
    layer = layer or next(iter(layers))
    if layer not in layers:
        raise ValueError(f"unknown layer {layer!r}; conv layers are {list(layers)}")
    x = images[index]  # (C, H, W)
    maps = layer_activations(model, x)[layer]  # (C_out, H_out, W_out)
    channel = int(maps.mean((1, 2)).argmax()) if channel is None else channel % len(maps)
    with torch.no_grad():
        guess = int(model(x.unsqueeze(0)).argmax())
    truth = f"label {int(labels[index])}, " if labels is not None else ""
    maps_fig = plot_feature_maps(maps, max_maps=max_maps, ncols=8, title=f"{layer}")
    kernels_fig = plot_kernels(layers[layer].weight[channel], max_kernels=16, ncols=8,
                               title=f"kernels of map {channel}")
    for ax in kernels_fig.axes:  # tiles of weight[channel] are titled 'i,0': input channel i
        ax.set_title(ax.get_title().split(",")[0], fontsize=8)
    fig = plt.figure(figsize=(9.5, 4.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 4.2], height_ratios=[1.3, 1])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(x.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray_r")
    ax.set_title(f"test image {index}\n{truth}predicted {guess}", fontsize=9)
    for cell, panel in ((grid[0, 1], maps_fig), (grid[1, 1], kernels_fig)):
        ax_panel = fig.add_subplot(cell)
        ax_panel.imshow(_as_array(panel))
    for ax in fig.axes:
        ax.set_axis_off()
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01, wspace=0.02, hspace=0.02)
    return fig


def feature_map_explorer(model, images, labels=None, max_maps: int = 16) -> Explorer:
    """Live explorer: ``image`` (IntSlider over ``images``), ``layer`` (Dropdown of the
    conv layers) and ``channel`` (which map's kernels to show; its range follows the
    layer's number of output channels)."""
    layers = conv_layers(model)
    names = list(layers)
    image = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
    layer = widgets.Dropdown(options=names, value=names[0], description="layer")
    channel = widgets.IntSlider(value=0, min=0, max=layers[names[0]].weight.shape[0] - 1,
                                description="map")

    def on_layer(change):  # runs before the explorer's redraw (observers fire in order)
        channel.max = layers[change["new"]].weight.shape[0] - 1

    layer.observe(on_layer, names="value")

    def render(image, layer, channel):
        return render_feature_maps(model, images, image, layer, channel, labels, max_maps)

    return Explorer(render, {"image": image, "layer": layer, "channel": channel})


def feature_map_static_explorer(model, images, labels=None, indices=(0, 1, 2, 3),
                                max_maps: int = 16):
    """The website twin: every (test image, layer) pair precomputed; the kernels shown are
    those of the most active map."""
    from ..explore import static_explorer

    names = list(conv_layers(model))
    return static_explorer(
        lambda image, layer: render_feature_maps(model, images, image, layer, None, labels,
                                                 max_maps),
        {"image": list(indices), "layer": names}, title="Feature-map explorer",
        fmt="png", dpi=60)
