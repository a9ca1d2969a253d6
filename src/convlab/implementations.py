"""The performance ladder: every stepwise ``conv2d`` implementation, in the book's order.

Each entry has exactly ``F.conv2d``'s signature and semantics; the property tests
and the benchmark iterate over this dict. The order is the one chapter 4 climbs:
the loop, then im2col, strided views, and the two specialists, FFT (pays for large
kernels) and Winograd (3x3, stride 1, dilation 1 only; ``ValueError`` otherwise).
"""

from collections import OrderedDict

from .fft import conv2d_fft
from .im2col import conv2d_im2col
from .naive import conv2d_naive
from .strided import conv2d_strided
from .winograd import conv2d_winograd

IMPLEMENTATIONS = OrderedDict(
    naive=conv2d_naive,
    im2col=conv2d_im2col,
    strided=conv2d_strided,
    fft=conv2d_fft,
    winograd=conv2d_winograd,
)
