"""convlab: convolution in PyTorch from the inside.

The library behind the book *Conv from the inside*: the conv math, stepwise
implementations checked against PyTorch, drop-in ``functional``/``nn`` rebuilds,
and the helpers and widgets the chapters use. Core math modules import only torch;
plotting lives in ``viz``, ``explore`` and ``widgets``. ``convlab.functional`` and
``convlab.nn`` are submodules (``from convlab import nn``), like PyTorch's.
"""

from .arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    effective_kernel_size,
    receptive_field,
    same_padding,
)
from .backward import Conv2dFunction, conv2d_backward
from .counting import ConvCost, conv2d_cost, conv2d_params, count_parameters, separable_comparison
from .data import sample_image
from .fft import conv2d_fft
from .im2col import conv2d_im2col
from .implementations import IMPLEMENTATIONS
from .naive import conv2d_naive
from .strided import conv2d_strided
from .transposed import conv_transpose2d
from .viz import UnNormalize, imshow, plot_feature_maps, plot_kernels, show_source
from .winograd import conv2d_winograd

__version__ = "0.1.0"

__all__ = [
    # arithmetic (chapter 2)
    "conv_output_size", "conv_transpose_output_size", "effective_kernel_size",
    "receptive_field", "same_padding",
    # the ladder (chapters 2 and 4)
    "conv2d_naive", "conv2d_im2col", "conv2d_strided", "conv2d_fft", "conv2d_winograd",
    "IMPLEMENTATIONS",
    # counting (chapter 3)
    "ConvCost", "conv2d_cost", "conv2d_params", "count_parameters", "separable_comparison",
    # backward and transposed (chapters 5 and 6)
    "conv2d_backward", "Conv2dFunction", "conv_transpose2d",
    # pictures and data
    "imshow", "UnNormalize", "plot_kernels", "plot_feature_maps", "show_source",
    "sample_image",
]
