"""imshow, UnNormalize, plot_kernels, plot_feature_maps, show_source: the seed's bugs fixed."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torchvision.transforms import Normalize  # noqa: E402

from convlab import UnNormalize, imshow, plot_feature_maps, plot_kernels, show_source  # noqa: E402
from convlab.viz import (  # noqa: E402
    IMAGENET_MEAN,
    IMAGENET_STD,
    _relative_luminance,
    channel_cmap,
    ink_for,
    signed_rgb,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_unnormalize_inverts_normalize_without_mutating():
    torch.manual_seed(0)
    image = torch.rand(3, 8, 9)
    normalized = Normalize(IMAGENET_MEAN, IMAGENET_STD)(image)
    before = normalized.clone()
    restored = UnNormalize(IMAGENET_MEAN, IMAGENET_STD)(normalized)
    torch.testing.assert_close(restored, image)
    assert torch.equal(normalized, before), "UnNormalize must not modify its input"
    assert restored.data_ptr() != normalized.data_ptr()


def test_unnormalize_batch_and_errors():
    batch = torch.rand(4, 3, 5, 5)
    un = UnNormalize(IMAGENET_MEAN, IMAGENET_STD)
    out = un(Normalize(IMAGENET_MEAN, IMAGENET_STD)(batch))
    torch.testing.assert_close(out, batch)
    with pytest.raises(ValueError, match="channels"):
        un(torch.rand(1, 5, 5))
    with pytest.raises(ValueError, match="C, H, W"):
        un(torch.rand(5, 5))
    with pytest.raises(ValueError, match="same length"):
        UnNormalize((0.5,), (0.1, 0.2))


@pytest.mark.parametrize("shape", [(3, 10, 12), (1, 10, 12), (10, 12), (5, 3, 8, 8), (2, 1, 8, 8)])
def test_imshow_shapes(shape):
    x = torch.rand(*shape)
    ax = imshow(x, mean=None)
    image = ax.get_images()[0].get_array()
    assert image.min() >= 0 and image.max() <= 1
    if len(shape) == 4:  # a grid: wider than one image
        assert image.shape[1] > shape[-1]


def test_imshow_unnormalizes_clips_and_accepts_numpy_and_ax():
    torch.manual_seed(0)
    image = torch.rand(3, 6, 6)
    normalized = Normalize(IMAGENET_MEAN, IMAGENET_STD)(image)
    fig, ax = plt.subplots()
    returned = imshow(normalized, ax=ax, title="t")
    assert returned is ax and ax.get_title() == "t"
    shown = np.asarray(ax.get_images()[0].get_array())
    np.testing.assert_allclose(shown, image.permute(1, 2, 0).numpy(), atol=1e-5)
    ax2 = imshow(np.full((4, 4), 3.0), mean=None)  # clipped to 1
    assert np.asarray(ax2.get_images()[0].get_array()).max() == 1.0
    with pytest.raises(ValueError):
        imshow(torch.rand(2, 5, 5))


@pytest.mark.parametrize("shape", [(64, 3, 7, 7), (6, 1, 5, 5), (1, 1, 3, 3), (16, 8, 3, 3),
                                   (11, 3, 5, 5), (2, 1, 3, 3)])
def test_plot_kernels_shows_every_kernel(shape):
    weight = torch.randn(*shape)
    before = weight.clone()
    fig = plot_kernels(weight, max_kernels=1000)
    tiles = [ax for ax in fig.axes if ax.get_images()]
    C_out, C_in = shape[:2]
    expected = C_out if C_in == 3 else C_out * C_in
    assert len(tiles) == expected
    assert torch.equal(weight, before)
    if C_in == 3:  # RGB tiles
        assert tiles[0].get_images()[0].get_array().shape == (shape[2], shape[3], 3)
    else:  # one diverging tile per (out, in), centred on zero
        norm = tiles[0].get_images()[0].norm
        assert norm.vcenter == 0
        assert tiles[-1].get_title() == f"{C_out - 1},{C_in - 1}"


def test_plot_kernels_limit_is_reported():
    fig = plot_kernels(torch.randn(16, 8, 3, 3), max_kernels=20)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 20
    assert "20 of 128" in fig._suptitle.get_text()


def test_plot_feature_maps():
    fig = plot_feature_maps(torch.rand(1, 6, 9, 9))
    assert len([ax for ax in fig.axes if ax.get_images()]) == 6
    with pytest.raises(ValueError):
        plot_feature_maps(torch.rand(2, 6, 9, 9))


def test_show_source_is_the_real_code():
    src = show_source(plot_kernels)
    assert src.startswith("def plot_kernels(")
    assert "```python" in src._repr_markdown_()
    assert "convlab.viz.plot_kernels" in src._repr_markdown_()


def test_plot_kernels_per_kernel_scale():
    weight = torch.stack([torch.ones(3, 3), 10 * torch.ones(3, 3)]).unsqueeze(1)  # (2, 1, 3, 3)
    fig = plot_kernels(weight, scale="per_kernel")
    norms = [ax.get_images()[0].norm for ax in fig.axes if ax.get_images()]
    assert [n.vmax for n in norms] == [1.0, 10.0]
    fig = plot_kernels(weight)
    assert [ax.get_images()[0].norm.vmax for ax in fig.axes if ax.get_images()] == [10.0, 10.0]
    with pytest.raises(ValueError, match="scale"):
        plot_kernels(weight, scale="nope")


# --- RGB tiles keep zero and sign (issue 12) ------------------------------------------------

def _tiles(fig):
    return [ax for ax in fig.axes if ax.get_images()]


def test_signed_rgb_keeps_zero_and_sign():
    k = torch.zeros(3, 2, 2)
    k[0, 0, 0], k[0, 0, 1], k[1, 1, 0] = 2.0, -2.0, 1.0
    image = signed_rgb(k, bound=2.0)  # (kH, kW, 3)
    assert image.shape == (2, 2, 3)
    assert image[0, 0, 0] == 1.0 and image[0, 1, 0] == 0.0  # +max -> 1, -max -> 0
    assert image[1, 0, 1] == 0.75  # 0.5 + 1 / (2 * 2)
    assert torch.all(image[1, 1] == 0.5)  # zero in every channel: mid-grey
    assert float(signed_rgb(torch.full((3, 1, 1), 9.0), 3.0).max()) == 1.0  # clipped


@pytest.mark.parametrize("scale", ["global", "per_kernel"])
def test_rgb_tiles_constant_kernel_is_not_black_zero_is_grey(scale):
    weight = torch.zeros(3, 3, 3, 3)
    weight[0] = 1 / 9  # a box blur on all three channels: constant and positive
    weight[1, 0] = 0.5  # red only, positive
    weight[1, 2] = -0.5  # blue only, negative
    # weight[2] stays zero
    tiles = _tiles(plot_kernels(weight, scale=scale))
    blur, opponent, zero = (np.asarray(t.get_images()[0].get_array()) for t in tiles)
    assert blur.min() > 0.5, "a constant positive kernel must not be drawn black"
    assert np.ptp(blur) == 0, "a constant kernel is one flat colour"
    np.testing.assert_allclose(zero, 0.5)  # zero weights are mid-grey, whatever the scale
    assert opponent[..., 0].min() > 0.5 and opponent[..., 2].max() < 0.5  # signs kept
    np.testing.assert_allclose(opponent[..., 1], 0.5)  # the unused channel stays at zero
    if scale == "global":  # one scale: 1/9 is smaller than 0.5, so its tile is paler
        assert blur.max() < opponent[..., 0].max()


def test_rgb_tiles_have_names_and_a_key():
    weight = torch.randn(4, 3, 3, 3)
    fig = plot_kernels(weight, names=["a", "b", "c", "d"])
    assert [t.get_title() for t in _tiles(fig)] == ["a", "b", "c", "d"]
    keys = [ax for ax in fig.axes if not ax.get_images() and ax.patches]
    assert len(keys) == 1 and "key" in keys[0].get_title()
    assert {t.get_text() for t in keys[0].texts} >= {"R", "G", "B", "0"}
    with pytest.raises(ValueError, match="names"):
        plot_kernels(weight, names=["too", "few"])
    assert len(plot_kernels(weight, key=False).axes) == 4


def test_single_channel_tiles_print_values_and_have_a_colour_bar():
    from convlab.kernels import KERNELS

    weight = torch.stack([KERNELS["sobel x"], KERNELS["box blur"]]).unsqueeze(1)
    fig = plot_kernels(weight, values=True, names=["sobel x", "box blur"], scale="per_kernel")
    sobel, blur = _tiles(fig)
    assert [t.get_text() for t in sobel.texts] == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    assert {t.get_text() for t in blur.texts} == {".11"}
    # a dark cell gets white ink, a pale one black ink
    inks = {t.get_text(): t.get_color() for t in sobel.texts}
    assert inks["2"] == "white" and inks["0"] == "black"
    assert len(fig.axes) == 3  # two tiles and the colour bar


def test_plot_feature_maps_names_and_font():
    fig = plot_feature_maps(torch.rand(3, 5, 5), names=["a", "b", "c"], fontsize=11)
    tiles = _tiles(fig)
    assert [t.get_title() for t in tiles] == ["a", "b", "c"]
    assert tiles[0].title.get_fontsize() == 11
    with pytest.raises(ValueError, match="names"):
        plot_feature_maps(torch.rand(3, 5, 5), names=["a"])


@pytest.mark.parametrize("shape, title", [
    ((8, 3, 3, 3), "w: 8 kernels (3, 3, 3)"),  # RGB: a tile is a kernel, 3 deep
    ((6, 1, 5, 5), "w: 6 kernels (1, 5, 5)"),
    ((4, 2, 3, 3), "w: 4 kernels (2, 3, 3), 8 slices"),  # a tile is one slice
])
def test_plot_kernels_title_gives_the_shape_of_one_kernel(shape, title):
    assert plot_kernels(torch.randn(*shape), title="w")._suptitle.get_text() == title


def test_plot_feature_maps_signed_is_red_positive_blue_negative_centred_on_zero():
    maps = torch.stack([torch.linspace(-1, 3, 25).view(5, 5), -torch.ones(5, 5)])
    fig = plot_feature_maps(maps, signed=True)
    images = [t.get_images()[0] for t in _tiles(fig)]
    assert [im.get_cmap().name for im in images] == ["RdBu_r", "RdBu_r"]
    assert [(im.norm.vmin, im.norm.vmax) for im in images] == [(-3.0, 3.0), (-1.0, 1.0)]
    assert "red > 0 > blue" in fig._suptitle.get_text()
    plain = [t.get_images()[0] for t in _tiles(plot_feature_maps(maps))]
    assert plain[0].get_cmap().name == "viridis"


def test_ink_for_picks_the_ink_with_more_contrast():
    assert ink_for("white") == "black" and ink_for("black") == "white"
    assert ink_for((0.4, 0.0, 0.12)) == "white"  # RdBu_r's darkest red
    assert ink_for((0.97, 0.97, 0.97)) == "black"
    for grey in np.linspace(0, 1, 41):  # the better ink always reaches WCAG's 4.5
        L = _relative_luminance((grey, grey, grey))
        ratio = (L + 0.05) / 0.05 if ink_for((grey,) * 3) == "black" else 1.05 / (L + 0.05)
        assert ratio >= 4.5


def test_channel_cmap_goes_from_black_to_the_full_colour():
    red = channel_cmap("red")
    assert red(0.0)[:3] == (0.0, 0.0, 0.0) and red(1.0)[:3] == (1.0, 0.0, 0.0)
    assert channel_cmap("green")(1.0)[1] > 0.5 and channel_cmap("blue")(1.0)[2] == 1.0
    with pytest.raises(ValueError, match="channel"):
        channel_cmap("purple")


def test_html_table_escapes_values_and_shows_backticked_values_as_code():
    from convlab.viz import html_table

    table = html_table(["layer", "a<b"], [("`im2col`", "x & y"), (3, "`")])
    assert table._repr_html_() == str(table)
    assert "<th" in table and "a&lt;b</th>" in table
    assert "<code>im2col</code>" in table and "x &amp; y" in table
    assert table.count("<tr>") == 3  # the header row and two rows
    assert ">`</td>" in table  # a lone backtick is text, not an empty code span


def _two_grids_png(switch_off) -> bytes:
    """A two-panel figure of labelled cells with titles, its axes switched off by
    ``switch_off``, as PNG bytes."""
    import io

    fig, axes = plt.subplots(1, 2, figsize=(4, 2))
    for ax in axes:
        ax.imshow(np.arange(9).reshape(3, 3))
        for r in range(3):
            ax.text(r, r, str(r), ha="center", va="center")
        ax.set_title("a title")
        switch_off(ax)
    fig.suptitle("figure")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    plt.close(fig)
    return buffer.getvalue()


def test_axis_off_draws_the_same_pixels_as_set_axis_off_and_hides_both_axes():
    from convlab.viz import axis_off

    fig, ax = plt.subplots()
    axis_off(ax)
    assert not ax.axison and not ax.xaxis.get_visible() and not ax.yaxis.get_visible()
    plt.close(fig)
    assert _two_grids_png(axis_off) == _two_grids_png(lambda ax: ax.set_axis_off())
