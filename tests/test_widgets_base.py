"""The shared live-widget machinery (convlab.widgets._base), under ipywidgets 8 and 7.7.

What the front-end check (tools/lab_check.py) found and _base.py fixes: pictures shown at
their natural size (not stretched to the output's width), long labels not cut off, no
figure leaked by a render that fails half-way; and the redraw times it reads.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
from PIL import Image

from convlab.widgets import Explorer, figure_to_png

matplotlib.use("Agg")


def picture(n=1):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, n])
    return fig


def test_the_picture_keeps_its_natural_size_at_matplotlibs_dpi():
    explorer = Explorer(picture, {"n": widgets.IntSlider(value=1, description="n")})
    assert explorer.image.layout.align_self == "flex-start"  # a column box stretches it
    width, height = Image.open(io.BytesIO(explorer.image.value)).size
    # a 3 x 2 inch figure at 100 dpi, cropped to what is drawn
    assert 200 <= width <= 300 and 130 <= height <= 200, (width, height)
    assert explorer.dpi == 100 and not plt.get_fignums()


def test_long_labels_get_the_width_they_need_unless_the_control_sets_one():
    controls = {"a": widgets.IntSlider(description="in_channels"),
                "b": widgets.IntSlider(description="out_channels"),
                "c": widgets.IntSlider(description="stride"),
                "d": widgets.IntSlider(description="output_padding",
                                       style={"description_width": "120px"})}
    Explorer(lambda a, b, c, d: picture(), controls)
    widths = {name: c.style.description_width for name, c in controls.items()}
    assert widths == {"a": "initial", "b": "initial", "c": "", "d": "120px"}


def test_a_render_that_fails_half_way_leaks_no_figure_and_says_why():
    def broken(n=1):
        fig = picture(n)
        if n != 1:
            raise ValueError(f"no picture for n={n}")
        return fig

    explorer = Explorer(broken, {"n": widgets.IntSlider(value=1)})
    first = explorer.image.value
    for n in (2, 3, 4):
        explorer.controls["n"].value = n
    assert not plt.get_fignums()
    assert explorer.error == "ValueError: no picture for n=4"
    assert "no picture for n=4" in explorer.status.value and "#b00" in explorer.status.value
    assert explorer.image.value == first  # the last good picture stays
    explorer.controls["n"].value = 1
    assert explorer.error is None and explorer.status.value == ""
    assert explorer.redraws == 5 and len(explorer.redraw_seconds) == 5
    assert all(t > 0 for t in explorer.redraw_seconds)


def test_figure_to_png_closes_the_figure():
    fig = picture()
    png = figure_to_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG") and not plt.fignum_exists(fig.number)


def test_a_full_size_figure_is_drawn_once_at_its_own_size():
    # tight_layout() leaves a layout engine on the figure, and savefig draws such a
    # figure twice; a FULL_SIZE figure is drawn once, at dpi x its size in inches
    from matplotlib.figure import Figure

    from convlab.widgets._base import keep_full_size

    draws, draw = [], Figure.draw

    def counting(self, renderer):
        draws.append(self)
        return draw(self, renderer)

    fig = picture()
    fig.tight_layout()
    keep_full_size(fig)
    Figure.draw = counting
    try:
        png = figure_to_png(fig, dpi=50)
    finally:
        Figure.draw = draw
    assert len(draws) == 1
    assert Image.open(io.BytesIO(png)).size == (150, 100)
    assert not plt.get_fignums()


def test_the_garbage_collector_is_paused_only_while_a_picture_is_drawn():
    import gc

    seen = []

    def render(n=1):
        seen.append(gc.isenabled())
        if n == 2:
            raise ValueError("no picture for n = 2")
        return picture(n)

    slider = widgets.IntSlider(value=1, description="n")
    explorer = Explorer(render, {"n": slider})
    assert seen == [False] and gc.isenabled()
    slider.value = 2  # a failing render restores it too
    assert seen == [False, False] and gc.isenabled() and explorer.error
    gc.disable()  # a kernel that switched it off keeps it off
    try:
        slider.value = 3
        assert not gc.isenabled()
    finally:
        gc.enable()
