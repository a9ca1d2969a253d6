"""The feature-map explorer: hooks catch every conv layer, the live widget redraws on every
control, the static twin precomputes a frame per (image, layer)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from frame_helpers import assert_legible  # noqa: E402
from torch import nn  # noqa: E402

from convlab.widgets.feature_maps import (  # noqa: E402
    conv_layers,
    feature_map_explorer,
    feature_map_static_explorer,
    layer_activations,
    render_feature_maps,
)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 10))


@pytest.fixture(scope="module")
def images():
    return torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def test_conv_layers_and_activations(net, images):
    assert list(conv_layers(net)) == ["0", "3"]
    acts = layer_activations(net, images[0])
    assert acts["0"].shape == (4, 8, 8) and acts["3"].shape == (6, 4, 4)
    torch.testing.assert_close(acts["0"], net[0](images[:1])[0].detach())
    assert all(not m._forward_hooks for m in net.modules())  # hooks are removed


def test_convlab_conv_layers_are_found(images):
    from convlab.nn import Conv2d

    torch.manual_seed(0)
    model = nn.Sequential(Conv2d(1, 3, 3), nn.Flatten(), nn.Linear(3 * 36, 10))
    assert list(layer_activations(model, images[0])) == ["0"]


def test_render_returns_a_figure(net, images):
    fig = render_feature_maps(net, images, 2, "3", None, labels=torch.arange(5))
    assert isinstance(fig, plt.Figure)
    plt.close(fig)
    with pytest.raises(ValueError, match="conv layers"):
        render_feature_maps(net, images, 0, "nope")


def test_live_explorer_redraws_on_every_control(net, images):
    explorer = feature_map_explorer(net, images, labels=torch.arange(5))
    assert set(explorer.controls) == {"image", "layer", "channel"}
    assert explorer.error is None and explorer.image.value
    for name, value in [("image", 3), ("layer", "3"), ("channel", 5)]:
        before, count = explorer.image.value, explorer.redraws
        explorer.controls[name].value = value
        assert explorer.error is None, explorer.error
        assert explorer.redraws > count and explorer.image.value != before
    assert explorer.controls["channel"].max == 5  # follows the layer's C_out
    explorer.controls["layer"].value = "0"
    assert explorer.controls["channel"].max == 3 and explorer.error is None
    small = feature_map_explorer(net, images, max_maps=4)
    small.controls["layer"].value = "3"
    assert small.controls["channel"].max == 3  # only the maps that are drawn


def test_static_twin_has_a_frame_per_image_and_layer(net, images):
    static = feature_map_static_explorer(net, images, indices=(0, 1))
    assert len(static.frames) == 4
    html = static.to_html()
    assert "Feature-map explorer" in html and len(html) < 600_000


def test_static_twin_is_legible_at_the_column_width(net, images):
    assert_legible(feature_map_static_explorer(net, images, labels=torch.arange(5),
                                               indices=(0, 1)))


def _texts(fig):
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_text()]


def test_captions_count_in_words(net, images):
    """One kernel slice is '1 slice', never '1 slices'; every count agrees with the model."""
    first = " ".join(_texts(render_feature_maps(net, images, 0, "0", 2, torch.arange(5))))
    assert "4 maps, 8x8" in first and "kernel of map 2: 1 slice of 3x3" in first, first
    assert "1 slices" not in first and "1 kernels" not in first
    second = " ".join(_texts(render_feature_maps(net, images, 1, "3", None, torch.arange(5))))
    assert "6 maps, 4x4" in second and "4 slices of 3x3" in second, second
    assert "label 1" in second and "predicted" in second
    few = " ".join(_texts(render_feature_maps(net, images, 1, "3", 5, None, max_maps=4)))
    assert "4 of 6 maps" in few and "kernel of map 1" in few  # 5 is not drawn: wraps to 1
    plt.close("all")
