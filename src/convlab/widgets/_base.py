"""Shared pieces of the live widgets: a figure -> PNG image widget, works on ipywidgets 7.7 and 8.

Pattern every explorer follows (so tests can drive it and the static twin reuses
the same drawing code):

- a ``render_*(**params) -> Figure`` function draws one state (pure: no widgets);
- the live builder wires controls to ``render_*`` through :func:`LiveFigure` and
  returns an :class:`Explorer` (a ``VBox`` with ``.controls`` and ``.image``),
  without displaying it;
- the static twin calls ``convlab.explore.static_explorer(render_*, grid)``.
"""

from __future__ import annotations

import contextlib
import gc
import io
import time
from collections import deque

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

# A figure with this attribute set to True fills its whole canvas (a background over the
# whole figure): saving it with a tight bounding box would change nothing but cost a
# second draw of every artist.
FULL_SIZE = "_convlab_full_size"


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector for the block (if it was on).

    A redraw allocates tens of thousands of short-lived objects (artists, transforms,
    text layouts), enough to start several collections, and a full one walks every object
    of the kernel (torch's, the notebook's): measured, a quarter of a redraw's time. Paused,
    the figure's garbage is collected by the next collection after the block, once the new
    picture has been sent."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep_full_size(fig) -> None:
    """A white background over the whole figure, so that every frame of an explorer keeps
    the figure's size (the page does not jump): a static frame, saved with a tight bounding
    box, cannot shrink, and a live frame is saved without one (``FULL_SIZE``: no second
    draw of every artist)."""
    fig.add_artist(Rectangle((0, 0), 1, 1, transform=fig.transFigure, facecolor="white",
                             edgecolor="none", zorder=-10))
    setattr(fig, FULL_SIZE, True)


def figure_to_png(figure, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib Figure, closing the figure (no leak across redraws).

    The figure is trimmed to a tight bounding box, unless it says that it fills its
    canvas (``FULL_SIZE``): then it is drawn exactly once, on an Agg canvas of its own.
    (``savefig`` would draw it twice after ``tight_layout()``, which leaves a placeholder
    layout engine on the figure, and every layout engine costs a draw before the real one.)
    """
    buffer = io.BytesIO()
    # compress_level=1: a live redraw favours encoding speed over a few more bytes
    png = {"compress_level": 1}
    if getattr(figure, FULL_SIZE, False):
        figure.set_dpi(dpi)
        FigureCanvasAgg(figure).print_png(buffer, pil_kwargs=png)
    else:
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pil_kwargs=png)
    plt.close(figure)
    return buffer.getvalue()


def _fit_label(control, fits: int = 10) -> None:
    """Give a long description the width it needs (unless the control sets one): the
    default label box (80 px in JupyterLab 4) cuts 'out_channels' to 'out_chan...'."""
    style = getattr(control, "style", None)
    if (len(getattr(control, "description", "") or "") > fits
            and getattr(style, "description_width", None) == ""):
        style.description_width = "initial"


class Explorer(widgets.VBox):
    """A live explorer: controls on top, the rendered figure below.

    ``controls`` maps parameter names to widgets whose ``.value`` is passed to
    ``render(**values)``; every change redraws ``image`` (a ``widgets.Image``).
    ``redraws`` counts the redraws, ``redraw_seconds`` keeps how long the last ones took
    (render + PNG, in the kernel) and ``error`` holds the message of the last failed one
    (shown in ``status`` instead of raising inside a callback).
    """

    # The picture shows at its natural size, so ``dpi`` sets its scale: 100 is matplotlib's
    # (and Jupyter's inline figures') default, so a live picture matches the figures around it.
    def __init__(self, render, controls: dict, dpi: int = 100, layout_controls=None):
        self.render = render
        self.controls = controls
        self.dpi = dpi
        # at its natural size (never wider than the output): a column box stretches its
        # children to its width, which blew small figures up 2-4x (blurry, and pushing the
        # picture out of view of its controls)
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.status = widgets.HTML(value="")
        self.redraws = 0
        self.redraw_seconds = deque(maxlen=100)
        self.error = None
        for control in controls.values():
            control.observe(self._on_change, names="value")
            _fit_label(control)
        top = layout_controls if layout_controls is not None else widgets.HBox(
            list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([top, self.image, self.status])
        self.redraw()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        started, opened = time.perf_counter(), set(plt.get_fignums())
        try:
            with collector_paused():
                self.image.value = figure_to_png(self.render(**self.values()), self.dpi)
            self.error = None
            self.status.value = ""
        except Exception as exc:  # keep the widget alive; say what went wrong
            for number in set(plt.get_fignums()) - opened:  # a render that failed half-way
                plt.close(number)  # would leak a figure on every move
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<span style='color:#b00'>{self.error}</span>"
        self.redraws += 1
        self.redraw_seconds.append(time.perf_counter() - started)
