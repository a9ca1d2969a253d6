"""Chapter 2's conv-arithmetic explorer, driven like a user would (ipywidgets 7.7.1 and 8)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402

from convlab import conv_output_size  # noqa: E402
from convlab.widgets import (  # noqa: E402
    conv_arithmetic_explorer,
    conv_arithmetic_page_explorer,
    render_conv_arithmetic,
)
from convlab.widgets.conv_arithmetic import LIMITS, coverage, window_taps  # noqa: E402


def test_every_control_redraws():
    ex = conv_arithmetic_explorer()
    assert ex.image.value[:4] == b"\x89PNG" and ex.error is None
    for name, value in [("step", 4), ("stride", 2), ("padding", 1), ("dilation", 2),
                        ("kernel_size", 2), ("input_size", 7)]:
        before = ex.image.value
        ex.controls[name].value = value
        assert ex.image.value != before, name
        assert ex.error is None, ex.error


def test_step_range_follows_output_size():
    ex = conv_arithmetic_explorer(input_size=5, kernel_size=3)
    assert ex.controls["step"].max == 3 * 3 - 1
    ex.controls["stride"].value = 2
    assert ex.controls["step"].max == 2 * 2 - 1
    ex.controls["padding"].value = 1  # (5 + 2 - 3) // 2 + 1 = 3
    assert ex.controls["step"].max == 3 * 3 - 1


def test_kernel_too_large_draws_a_message_not_an_error():
    ex = conv_arithmetic_explorer(input_size=2, kernel_size=3)
    assert ex.error is None and ex.image.value[:4] == b"\x89PNG"
    ex.controls["dilation"].value = 3
    assert ex.error is None


def test_window_taps_are_the_pixels_conv2d_reads():
    """A one-hot input at each tap lights up exactly this output position."""
    i, k, s, p, d = 6, 3, 2, 1, 2
    n = conv_output_size(i, k, s, p, d)
    for oy in range(n):
        for ox in range(n):
            for r, c in window_taps(oy, ox, k, s, d):
                x = torch.zeros(1, 1, i + 2 * p, i + 2 * p, dtype=torch.float64)
                x[0, 0, r, c] = 1.0
                out = F.conv2d(x, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s,
                               dilation=d)
                assert out[0, 0, oy, ox] == 1.0


def test_coverage_counts_windows():
    counts = coverage(5, 3, 1, 0, 1)
    ones = torch.ones(1, 1, 5, 5, dtype=torch.float64)
    # transposed conv of an all-ones output spreads one count per window and tap
    expected = F.conv_transpose2d(torch.ones(1, 1, 3, 3, dtype=torch.float64),
                                  torch.ones(1, 1, 3, 3, dtype=torch.float64))
    assert np.array_equal(counts, expected[0, 0].numpy().astype(int))
    assert counts.sum() == 9 * 9 and ones.sum() == 25


def test_render_none_and_steps():
    for step in (None, 0, 100):
        fig = render_conv_arithmetic(5, 3, 2, 1, 1, step)
        assert fig.axes
        matplotlib.pyplot.close(fig)


def test_live_sliders_cover_the_explorer_limits():
    ex = conv_arithmetic_explorer()
    for name, (lo, hi) in LIMITS.items():
        assert (ex.controls[name].min, ex.controls[name].max) == (lo, hi), name


def test_page_explorer_is_self_contained_html_with_every_control():
    """The website's explorer: controls for every argument within LIMITS, an SVG, and an
    inline script (no src, no kernel). tests/site/test_arithmetic_explorer.py runs it."""
    page = conv_arithmetic_page_explorer(input_size=6, kernel_size=3, stride=3, padding=1)
    soup = BeautifulSoup(page._repr_html_(), "html.parser")
    root = soup.select_one("div.convlab-arithmetic")
    assert root is not None and root.get("id") == page.id
    sliders = {e["data-param"]: e for e in root.select("input[type=range][data-param]")}
    assert set(sliders) == set(LIMITS) | {"position"}
    for name, (lo, hi) in LIMITS.items():
        assert (int(sliders[name]["min"]), int(sliders[name]["max"])) == (lo, hi)
    assert [int(sliders[n]["value"]) for n in LIMITS] == [6, 3, 3, 1, 1]
    assert root.select_one("svg") is not None and root.select_one(".convlab-arith-error")
    scripts = root.select("script")
    assert len(scripts) == 1 and not scripts[0].get("src") and page.id in scripts[0].string
    assert "http" not in page.to_html().replace("http://www.w3.org/2000/svg", "")


def test_page_explorer_rejects_settings_outside_its_limits():
    with pytest.raises(ValueError, match="kernel_size=8"):
        conv_arithmetic_page_explorer(kernel_size=8)
    a, b = conv_arithmetic_page_explorer(), conv_arithmetic_page_explorer(input_size=5)
    assert a.id != b.id


@pytest.mark.parametrize("args", [(5, 3, 1, 0, 1), (5, 3, 2, 1, 1), (6, 2, 1, 1, 2)])
def test_printed_values_are_what_conv2d_computes(args):
    """With values, each finished output cell prints F.conv2d's number for it."""
    n, k, s, p, d = args
    gen = torch.Generator().manual_seed(sum(args))
    x = torch.randint(-3, 5, (n, n), generator=gen).double()
    w = torch.randint(-2, 3, (k, k), generator=gen).double()
    y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    n_out = y.shape[0]
    step = n_out * n_out - 1  # every output done
    fig = render_conv_arithmetic(n, k, s, p, d, step, input_values=x, weight_values=w)
    ax_in, ax_out = fig.axes
    shown = [t.get_text().replace("−", "-") for t in ax_out.texts]
    assert [float(v) for v in shown] == y.flatten().tolist()
    assert ax_out.get_title().endswith(f"= {shown[-1].replace('-', '−')}")
    window = [t.get_text() for t in ax_in.texts if "×" in t.get_text()]
    assert len(window) == k * k  # pixel and weight in every cell of the window
    matplotlib.pyplot.close(fig)


def test_titles_of_a_plain_convolution_say_no_more_than_it_needs():
    fig = render_conv_arithmetic(5, 3, step=0)
    assert fig._suptitle.get_text() == "output size 5 − 3 + 1 = 3"
    assert fig.axes[0].get_title() == "input 5×5"
    fig = render_conv_arithmetic(5, 3, 2, 1, 1, step=0)
    assert "⌊(5 + 2·1 − 3) / 2⌋ + 1 = 3" in fig._suptitle.get_text()
    assert fig.axes[0].get_title() == "padded input 7×7 (dashed: padding)"
    matplotlib.pyplot.close("all")
