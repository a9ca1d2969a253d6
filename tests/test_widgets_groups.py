"""Chapter 3's kernels-as-volumes picture and its explorers, driven like a user would."""


import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from frame_helpers import assert_legible  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from convlab.widgets import (  # noqa: E402
    groups_explorer,
    groups_static_explorer,
    render_kernel_volumes,
)
from convlab.widgets.groups import connections  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_groups_control_redraws():
    ex = groups_explorer(4, 8)
    assert ex.error is None and ex.image.value[:4] == b"\x89PNG"
    assert list(ex.controls["groups"].options) == [1, 2, 4]
    for g in (2, 4):
        before = ex.image.value
        ex.controls["groups"].value = g
        assert ex.image.value != before and ex.error is None


def test_channel_change_updates_group_options():
    ex = groups_explorer(6, 8)
    ex.controls["groups"].value = 2
    before = ex.image.value
    ex.controls["out_channels"].value = 4  # gcd(6, 4) = 2: groups=2 stays valid
    assert list(ex.controls["groups"].options) == [1, 2]
    assert ex.controls["groups"].value == 2
    assert ex.image.value != before and ex.error is None
    ex.controls["in_channels"].value = 3  # gcd(3, 4) = 1: back to groups=1
    assert list(ex.controls["groups"].options) == [1]
    assert ex.controls["groups"].value == 1 and ex.error is None


@pytest.mark.parametrize("c_in, c_out, groups", [(6, 12, 1), (6, 12, 3), (4, 4, 4), (8, 4, 2)])
def test_connections_are_the_nonzero_weight_blocks(c_in, c_out, groups):
    """A grouped conv equals a full conv whose weight is zero off these connections."""
    pairs = set(connections(c_in, c_out, groups))
    assert len(pairs) == c_out * c_in // groups
    w = torch.randn(c_out, c_in // groups, 3, 3, dtype=torch.float64)
    full = torch.zeros(c_out, c_in, 3, 3, dtype=torch.float64)
    for o in range(c_out):
        ins = sorted(c for c, oo in pairs if oo == o)
        full[o, ins] = w[o]
    x = torch.randn(1, c_in, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(torch.nn.functional.conv2d(x, w, groups=groups),
                               torch.nn.functional.conv2d(x, full))


def _slices(fig):
    """Filled squares drawn (input, kernel and output slices)."""
    return [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_fill()]


@pytest.mark.parametrize("c_in, c_out, groups", [(3, 1, 1), (4, 8, 2), (4, 4, 4), (2, 8, 1)])
def test_the_picture_has_every_channel_and_every_kernel_slice(c_in, c_out, groups):
    """C_in input slices, C_out kernels of C_in/G slices each, C_out output maps, plus one
    written pixel per drawn path; the title states the weight's shape and size."""
    fig = render_kernel_volumes(c_in, c_out, groups)
    paths = 2 if groups > 1 else 1
    assert len(_slices(fig)) == c_in + c_out * (c_in // groups) + c_out + paths
    title = fig.axes[0].get_title()
    assert f"weight ({c_out}, {c_in // groups}, 3, 3) = {c_out * c_in // groups * 9}" in title
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert f"C_in = {c_in}" in texts and f"C_out = {c_out}" in texts
    assert f"each {c_in // groups}×3×3" in texts


def test_real_images_and_weights_are_drawn_on_the_slices():
    photo = torch.rand(3, 12, 12)
    weight = torch.randn(1, 3, 3, 3)
    fig = render_kernel_volumes(3, 1, input_images=photo.numpy(), weight=weight.numpy(),
                                output_images=torch.randn(1, 10, 10).numpy(),
                                input_cmaps=["Reds", "Greens", "Blues"])
    images = fig.axes[0].get_images()
    assert len(images) == 3 + 3 + 1
    assert [im.get_cmap().name for im in images[:3]] == ["Blues", "Greens", "Reds"]  # back first


@pytest.mark.parametrize("c_in, c_out, groups", [(6, 4, 4), (2, 8, 4), (4, 2, 4)])
def test_invalid_groups_draw_torchs_error(c_in, c_out, groups):
    with pytest.raises(ValueError) as raised:
        torch.nn.Conv2d(c_in, c_out, 3, groups=groups)
    fig = render_kernel_volumes(c_in, c_out, groups)
    text = fig.axes[0].texts[0].get_text()
    assert f"ValueError: {raised.value}" in text
    with pytest.raises(ValueError):
        connections(c_in, c_out, groups)


def test_static_twin_frames_are_legible():
    ex = groups_static_explorer()
    assert len(ex) == 2 * 3 * 3 and len(ex.to_html()) < 3_000_000
    assert_legible(ex, same_width=False)
    assert list(ex.controls) == ["groups", "in_channels", "out_channels"]
    start = ex.to_html().split("base64,")[1].split('"')[0]  # G=1, C_in=4, C_out=8
    assert start == ex.frames["0_1_2"]
