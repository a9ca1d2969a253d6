"""Live ipywidgets explorers (ipywidgets 7.7.1 in Colab, 8.x elsewhere).

Each builder returns an :class:`Explorer` without displaying it, so tests can drive
it by setting control values. Every explorer has a twin for the website: a static
explorer (``convlab.explore.static_explorer`` over the same ``render_*`` function), or,
for the conv arithmetic, an explorer that computes in the page
(:func:`conv_arithmetic_page_explorer`).
"""

from ._base import Explorer, figure_to_png
from .conv_arithmetic import (
    conv_arithmetic_explorer,
    conv_arithmetic_page_explorer,
    render_conv_arithmetic,
)
from .groups import groups_explorer, groups_static_explorer, render_kernel_volumes
from .kernel_explorer import kernel_explorer, kernel_static_explorer, render_kernel
from .ladder import ladder_explorer, ladder_static_explorer, render_ladder
from .transposed import (
    render_zero_insertion,
    zero_insertion_explorer,
    zero_insertion_static_explorer,
)

__all__ = ["Explorer", "figure_to_png", "kernel_explorer", "kernel_static_explorer",
           "render_kernel", "render_zero_insertion", "zero_insertion_explorer",
           "zero_insertion_static_explorer",
           "conv_arithmetic_explorer", "conv_arithmetic_page_explorer", "render_conv_arithmetic",
           "groups_explorer", "groups_static_explorer", "render_kernel_volumes",
           "ladder_explorer", "ladder_static_explorer", "render_ladder"]
