"""The performance ladder: every stepwise ``conv2d`` implementation, slowest first.

Each entry has exactly ``F.conv2d``'s signature and semantics; the property tests
and the benchmark iterate over this dict.
"""

from collections import OrderedDict

from .naive import conv2d_naive

IMPLEMENTATIONS = OrderedDict(
    naive=conv2d_naive,
)
