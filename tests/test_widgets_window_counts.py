"""Chapter 5's window-count explorer: the counts are conv2d_backward's input gradient."""

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
from convlab.widgets.window_counts import (  # noqa: E402
    render_window_counts,
    window_counts,
    window_counts_explorer,
    window_counts_static_explorer,
)


@pytest.mark.parametrize("size,k,s", [(7, 3, 1), (7, 3, 2), (8, 3, 2), (10, 5, 3), (5, 1, 2)])
def test_counts_are_the_gradient_of_ones(size, k, s):
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = F.conv2d(x, torch.ones(1, 1, k, k), stride=s)
    out.backward(torch.ones_like(out))
    torch.testing.assert_close(window_counts(size, k, s), x.grad[0, 0])


def test_stride_two_reads_unevenly_and_leaves_a_border_unread():
    counts = window_counts(8, 3, 2)
    assert set(counts[:7, :7].unique().tolist()) == {1.0, 2.0, 4.0}
    assert counts[7].sum() == 0 and counts[:, 7].sum() == 0


def test_title_counts_unread_pixels():
    fig = render_window_counts(2, 3, 8)
    assert "15 pixels read by no window" in fig._suptitle.get_text()
    assert any("the 3 windows of output row 0" in ax.get_title() for ax in fig.axes)
    fig = render_window_counts(1, 3, 8)
    assert "0 pixels read by no window" in fig._suptitle.get_text()
    plt.close("all")


def test_live_explorer_redraws_on_every_control():
    explorer = window_counts_explorer()
    for name, value in [("stride", 3), ("kernel_size", 5), ("size", 10)]:
        before = explorer.image.value
        explorer.controls[name].value = value
        assert explorer.error is None and explorer.image.value != before, name


def test_static_twin_has_every_combination_and_is_legible():
    static = window_counts_static_explorer()
    assert len(static.frames) == 15 and len(set(static.frames.values())) == 15
    assert_legible(static)


def test_live_figure_is_readable_at_its_natural_size():
    """Jupyter shows the live picture at its natural size: >= 600 px wide, with text of
    at least 10 pt there, whatever the sliders say."""
    explorer = window_counts_explorer()
    for stride, kernel, size in [(2, 3, 8), (1, 1, 5), (4, 5, 10)]:
        explorer.controls["stride"].value = stride
        explorer.controls["kernel_size"].value = kernel
        explorer.controls["size"].value = size
        assert Image.open(io.BytesIO(explorer.image.value)).size[0] >= 600
        fig = render_window_counts(stride, kernel, size)
        assert min_font_px(fig, 72) >= 10
        plt.close(fig)
