"""1-D cross-correlation and convolution with explicit loops: chapter 1's starting point.

For a signal :math:`x` of length :math:`n` and a kernel :math:`w` of length :math:`k`,
both in "valid" mode (only positions where the kernel fits, :math:`n - k + 1` outputs):

.. math::

    (x \\star w)[i] = \\sum_{j=0}^{k-1} x[i + j]\\, w[j]
    \\qquad\\text{(cross-correlation: what deep learning calls "convolution")}

    (x * w)[i] = \\sum_{j=0}^{k-1} x[i + k - 1 - j]\\, w[j]
    \\qquad\\text{(convolution of signal processing: the kernel flipped)}
"""

from __future__ import annotations

import torch


def correlate1d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid cross-correlation of a 1-D signal with a 1-D kernel, one output at a time.

    Shape:
        - x: :math:`(n,)`, w: :math:`(k,)` with :math:`k \\le n`
        - Output: :math:`(n - k + 1,)`
    """
    n, k = x.shape[0], w.shape[0]
    if x.dim() != 1 or w.dim() != 1 or k > n:
        raise ValueError(f"need 1-D x and w with len(w) <= len(x), got {tuple(x.shape)} "
                         f"and {tuple(w.shape)}")
    out = torch.empty(n - k + 1, dtype=x.dtype)  # (n - k + 1,)
    for i in range(n - k + 1):
        out[i] = (x[i:i + k] * w).sum()  # the window under the kernel, weighted
    return out


def convolve1d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid convolution in the signal-processing sense: correlate with the flipped kernel.

    Equals ``numpy.convolve(x, w, mode="valid")``.
    """
    return correlate1d(x, w.flip(0))
