"""Static explorers: one frame per grid point, self-contained HTML."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from convlab.explore import static_explorer  # noqa: E402


def _render(value, name):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.text(0.5, 0.5, f"{name}{value}")
    return fig


def test_frames_cover_the_grid_and_html_is_self_contained():
    plt.close("all")  # only this test's figures are counted below
    ex = static_explorer(_render, {"value": [1, 2, 3], "name": ["a", "b"]}, title="demo")
    assert len(ex) == 6
    assert set(ex.frames) == {f"{i}_{j}" for i in range(3) for j in range(2)}
    assert len(set(ex.frames.values())) == 6  # every frame differs
    html = ex._repr_html_()
    assert 'type="range"' in html and "<select" in html
    assert "<script src" not in html and "http" not in html  # no external scripts
    assert html.count("data-index") >= 2
    assert re.search(r'src="data:image/png;base64,', html)
    assert not plt.get_fignums(), "figures must be closed after encoding"


def test_arrays_and_jpeg_and_initial_value():
    ex = static_explorer(lambda level: np.full((4, 4), level), {"level": [0.0, 0.5, 1.0]},
                         fmt="jpeg", initial={"level": 0.5})
    html = ex.to_html()
    assert "image/jpeg" in html
    assert 'value="1"' in html  # the slider starts at index 1
    assert ex.id.startswith("convlab-explorer-")


def test_animation_html_links_nothing_from_a_cdn():
    from matplotlib import animation

    from convlab.explore import animation_html

    figure, axes = plt.subplots(figsize=(2, 2))
    (line,) = axes.plot([0, 1], [0, 0])
    anim = animation.FuncAnimation(figure, lambda k: line.set_ydata([k, k]), frames=3)
    raw = anim.to_jshtml()
    assert "font-awesome" in raw  # what matplotlib's template links (the test's premise)
    html = animation_html(anim, default_mode="loop")
    assert "<link" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert 'class="fa fa-play"' in html and html._repr_html_() == html
    plt.close(figure)
