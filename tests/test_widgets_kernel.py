"""Chapter 1's kernel explorer, driven like a user would (ipywidgets 7.7.1 and 8)."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from frame_helpers import assert_legible  # noqa: E402

from convlab.kernels import KERNELS  # noqa: E402
from convlab.viz import _relative_luminance  # noqa: E402
from convlab.widgets import kernel_explorer, kernel_static_explorer, render_kernel  # noqa: E402


def test_preset_photo_and_weights_update_the_image():
    ex = kernel_explorer(size=48)
    first = ex.image.value
    assert first[:4] == b"\x89PNG" and ex.error is None
    ex.controls["preset"].value = "laplacian"
    assert ex.image.value != first
    assert ex.controls["w11"].value == float(KERNELS["laplacian"][1, 1])
    after_preset = ex.image.value
    ex.controls["photo"].value = "astronaut"
    assert ex.image.value != after_preset
    after_photo = ex.image.value
    ex.controls["w00"].value = 2.5  # editing a weight switches to a custom kernel
    assert ex.controls["preset"].value == "custom"
    assert ex.image.value != after_photo
    assert ex.error is None


def test_preset_change_redraws_once():
    ex = kernel_explorer(size=32)
    before = ex.redraws
    ex.controls["preset"].value = "box blur"
    assert ex.redraws == before + 1


def test_every_weight_edit_redraws_once():
    """The first edit switches the preset to 'custom' and redraws once, not twice."""
    ex = kernel_explorer(size=32)
    for name, value in [("w00", 2.0), ("w11", -1.0), ("w22", 0.5)]:
        before = ex.redraws
        ex.controls[name].value = value
        assert ex.redraws == before + 1, name
        assert ex.controls["preset"].value == "custom"
    before = ex.redraws
    ex.controls["preset"].value = "emboss"  # writes nine weights, redraws once
    assert ex.redraws == before + 1
    assert ex.controls["w00"].value == float(KERNELS["emboss"][0, 0])


def _contrast(a, b) -> float:
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("kernel", [*KERNELS, [3, -2, 0.5, 1, 1, 1, -0.3, -0.7, 0]])
def test_every_printed_weight_is_readable_on_its_cell(kernel):
    """Black or white ink, whichever contrasts more with the cell: WCAG's 4.5 at least."""
    fig = render_kernel("grace_hopper", kernel, size=32)
    ax_k = fig.axes[1]
    image = ax_k.get_images()[0]
    colours = image.cmap(image.norm(image.get_array()))  # (3, 3, 4)
    assert len(ax_k.texts) == 9
    for text in ax_k.texts:
        u, v = (int(round(c)) for c in text.get_position()[::-1])
        assert _contrast(text.get_color(), colours[u, v, :3]) >= 4.5, text.get_text()


@pytest.mark.parametrize("kernel, signed", [("sharpen", False), ("emboss", False),
                                            ("box blur", False), ("sobel x", True),
                                            ("laplacian", True)])
def test_feature_map_is_drawn_on_a_fixed_stated_scale(kernel, signed):
    """Not min..max: kernels that keep brightness use the photo's 0..1 gray scale (so
    sharpen looks sharper, not greyer); zero-sum kernels a symmetric scale; both are written
    under the map."""
    fig = render_kernel("grace_hopper", kernel, size=48)
    ax_out = fig.axes[2]
    image = ax_out.get_images()[0]
    label = ax_out.get_xlabel()
    if signed:
        assert image.get_cmap().name == "RdBu_r" and image.norm.vmin == -image.norm.vmax
        assert "blue" in label and "red" in label and f"{image.norm.vmax:.2g}" in label
    else:
        assert (image.norm.vmin, image.norm.vmax) == (0.0, 1.0)
        assert "0 black" in label and "1 white" in label and "clipped" in label


def test_unknown_photo():
    with pytest.raises(ValueError, match="unknown photos"):
        kernel_explorer(photos=("nope",))


def test_static_twin_has_every_pair():
    ex = kernel_static_explorer(photos=("grace_hopper", "camera"), presets=("identity", "sobel x"),
                                size=32)
    assert len(ex) == 4
    assert len(set(ex.frames.values())) == 4


def test_static_frames_are_legible_at_the_column_width():
    """Frames >= 700 px wide; their smallest text >= 10 pt when shown at the column width."""
    ex = kernel_static_explorer(photos=("grace_hopper", "coffee"), presets=("sobel x",))
    assert_legible(ex, same_width=False)
