"""Chapter 1's kernel explorer, driven like a user would (ipywidgets 7.7.1 and 8)."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from frame_helpers import assert_legible  # noqa: E402

from convlab.kernels import KERNELS  # noqa: E402
from convlab.widgets import kernel_explorer, kernel_static_explorer  # noqa: E402


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
