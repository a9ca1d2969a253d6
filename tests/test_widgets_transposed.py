"""Chapter 6's zero-insertion explorer, driven like a user would (ipywidgets 7.7.1 and 8)."""

import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from frame_helpers import assert_legible  # noqa: E402
from PIL import Image  # noqa: E402

from convlab.explore import min_font_px  # noqa: E402
from convlab.widgets import (  # noqa: E402
    render_zero_insertion,
    zero_insertion_explorer,
    zero_insertion_static_explorer,
)
from convlab.widgets.transposed import PIXEL, zero_insertion_grid  # noqa: E402


@pytest.fixture(autouse=True)
def no_figure_left_open():
    """Every test closes the figures it makes (an explorer closes its own)."""
    before = set(plt.get_fignums())
    yield
    left = set(plt.get_fignums()) - before
    plt.close("all")
    assert not left, f"figures left open: {sorted(left)}"


def test_every_control_redraws_the_image():
    ex = zero_insertion_explorer()
    assert ex.image.value[:4] == b"\x89PNG" and ex.error is None
    for name, value in [("stride", 3), ("padding", 1), ("kernel_size", 4), ("input_size", 2),
                        ("output_padding", 2)]:
        before = ex.image.value
        ex.controls[name].value = value
        assert ex.image.value != before, name
        assert ex.error is None, ex.error


def test_output_padding_stays_below_stride():
    ex = zero_insertion_explorer()
    ex.controls["stride"].value = 3
    ex.controls["output_padding"].value = 2
    ex.controls["stride"].value = 1  # the slider's max drops and clamps the value
    assert ex.controls["output_padding"].value == 0
    assert ex.error is None


def test_padding_that_crops_everything_draws_a_message():
    ex = zero_insertion_explorer()
    ex.controls["stride"].value = 1
    ex.controls["kernel_size"].value = 1
    ex.controls["input_size"].value = 1
    ex.controls["padding"].value = 3
    assert ex.error is None


def test_grid_is_the_zero_insertion_picture():
    """A stride-1 conv over the grid's pixels has the transposed conv's output size."""
    for i, s, p, k, op in [(3, 2, 0, 3, 0), (3, 3, 1, 2, 2), (4, 2, 2, 4, 1), (2, 1, 0, 1, 0)]:
        grid = zero_insertion_grid(i, s, p, k, op)
        assert int((grid == PIXEL).sum()) == i * i
        expected = F.conv_transpose2d(torch.ones(1, 1, i, i), torch.ones(1, 1, k, k), stride=s,
                                      padding=p, output_padding=op)
        assert grid.shape[0] - k + 1 == expected.shape[-1]


def test_render_returns_a_figure():
    fig = render_zero_insertion(stride=2, padding=1, kernel_size=4)
    assert len(fig.axes) == 3
    plt.close(fig)


def test_static_twin_has_every_combination():
    ex = zero_insertion_static_explorer(strides=(1, 2), paddings=(0,), kernels=(2, 3))
    assert len(ex.frames) == 4
    assert len(set(ex.frames.values())) == 4


def test_static_twin_is_legible_at_the_column_width():
    assert_legible(zero_insertion_static_explorer())  # the chapter's grid, crops included


def test_titles_count_zeros_in_words():
    fig = render_zero_insertion(stride=2, padding=0, kernel_size=3)
    titles = [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    assert any(t.startswith("1 zero inserted") for t in titles), titles
    fig = render_zero_insertion(stride=3, padding=0, kernel_size=3)
    titles = [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    assert any(t.startswith("2 zeros inserted") for t in titles), titles


def test_live_figure_is_readable_at_its_natural_size():
    """Jupyter shows the live picture at its natural size: >= 600 px, text >= 10 pt."""
    ex = zero_insertion_explorer()
    assert Image.open(io.BytesIO(ex.image.value)).size[0] >= 600
    for kw in [{}, dict(stride=1, padding=3, kernel_size=1, input_size=1)]:
        fig = render_zero_insertion(**kw)
        assert min_font_px(fig, 72) >= 10, kw
        plt.close(fig)
