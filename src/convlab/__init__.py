"""convlab: convolution in PyTorch from the inside.

The library behind the book *Conv from the inside*: the conv math, stepwise
implementations checked against PyTorch, drop-in ``functional``/``nn`` rebuilds,
and the helpers and widgets the chapters use. Core math modules import only torch;
plotting lives in ``viz``, ``explore`` and ``widgets``.
"""

from .arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    effective_kernel_size,
    receptive_field,
    same_padding,
)
from .data import sample_image
from .viz import UnNormalize, imshow, plot_feature_maps, plot_kernels, show_source

# --- chapters 2-3: the naive loop, counting (issue 3) ---
# --- chapter 4: the fast rungs and IMPLEMENTATIONS (issue 4) ---
from .implementations import IMPLEMENTATIONS
# --- chapters 5-6: backward and transposed (issue 5) ---
# --- chapter 7: functional and nn are imported as submodules: convlab.functional, convlab.nn ---

__version__ = "0.1.0"
