"""Live ipywidgets explorers (ipywidgets 7.7.1 in Colab, 8.x elsewhere).

Each builder returns an :class:`Explorer` without displaying it, so tests can drive
it by setting control values. Every explorer has a static twin for the website
(``convlab.explore.static_explorer`` over the same ``render_*`` function).
"""

from ._base import Explorer, figure_to_png
from .kernel_explorer import kernel_explorer, kernel_static_explorer, render_kernel

__all__ = ["Explorer", "figure_to_png", "kernel_explorer", "kernel_static_explorer",
           "render_kernel"]
