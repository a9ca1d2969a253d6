"""Chapter 4's ladder explorer, driven like a user would (ipywidgets 7.7.1 and 8)."""

import matplotlib

matplotlib.use("Agg")

from convlab.ladder import TINY  # noqa: E402
from convlab.widgets import ladder_explorer, ladder_static_explorer, render_ladder  # noqa: E402
from convlab.widgets.ladder import load_results  # noqa: E402


def test_picking_a_layer_and_batch_remeasures_and_redraws():
    ex = ladder_explorer(layers=TINY, batch=1, rounds=1)
    first = ex.image.value
    assert first[:4] == b"\x89PNG" and ex.error is None
    ex.controls["layer"].value = "tiny 3x3"
    assert ex.error is None and ex.image.value != first
    second = ex.image.value
    ex.controls["batch"].value = 2
    assert ex.error is None and ex.image.value != second
    assert ex.redraws == 3


def fake_results():
    def layer(name, ratio):
        rung = {"seconds": 0.01 * ratio, "ratio": ratio, "gflops": 10 / ratio, "peak_mib": 3.0}
        return {"layer": name, "shape": [3, 8, 16, 3, 1, 1], "flops": 10**8,
                "rungs": {"F.conv2d": {**rung, "ratio": 1.0, "seconds": 0.01},
                          "im2col": rung, "winograd": {"skipped": "n/a"}}}
    return {"machine": "test", "batch": 8, "layers": [layer("a", 2.0), layer("b", 0.5)]}


def test_render_lists_skipped_rungs():
    import matplotlib.pyplot as plt

    fig = render_ladder(fake_results()["layers"][0])
    texts = [t.get_text() for t in fig.texts]
    plt.close(fig)
    assert any("winograd: n/a" in t for t in texts)


def test_static_twin_has_one_frame_per_layer():
    ex = ladder_static_explorer(fake_results())
    assert len(ex.frames) == 2 and len(set(ex.frames.values())) == 2


def test_saved_results_are_found_from_the_book_folder():
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book"
    results = load_results(start=book)
    assert results is not None and results["layers"]
    assert load_results("no_such_file.json", start=book) is None
