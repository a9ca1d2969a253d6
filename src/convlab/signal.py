r"""1-D cross-correlation and convolution with explicit loops, and translation: chapter 1.

For a signal :math:`x` of :math:`W_\text{in}` samples and a kernel :math:`w` of
:math:`k` taps, both in "valid" mode (only the :math:`W_\text{in} - k + 1` positions
where the kernel fits):

.. math::

    (x \star w)[i] = \sum_{u=0}^{k-1} x[i + u]\, w[u]
    \qquad\text{(cross-correlation: what deep learning calls "convolution")}

    (x * w)[i] = \sum_{u=0}^{k-1} x[i + k - 1 - u]\, w[u]
    \qquad\text{(convolution of signal processing: the kernel flipped)}

:func:`translate` moves an image or signal by ``t`` samples with zeros coming in, the
shift under which a convolution is equivariant (away from the border).
"""

from __future__ import annotations

import torch


def correlate1d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    r"""Valid cross-correlation of a 1-D signal with a 1-D kernel, one
    output at a time.

    Shape:
        - x: :math:`(W_\text{in},)`
        - w: :math:`(k,)` with :math:`k \le W_\text{in}`
        - Output: :math:`(W_\text{in} - k + 1,)`
    """
    W_in, k = x.shape[0], w.shape[0]
    if x.dim() != 1 or w.dim() != 1 or k > W_in:
        raise ValueError(f"need 1-D x and w with len(w) <= len(x), got "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    W_out = W_in - k + 1
    y = torch.empty(W_out, dtype=x.dtype)  # (W_out,)
    for i in range(W_out):
        y[i] = (x[i:i + k] * w).sum()  # the window under the kernel
    return y


def convolve1d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid convolution in the signal-processing sense: correlate with the
    flipped kernel.

    Equals ``numpy.convolve(x, w, mode="valid")``.
    """
    return correlate1d(x, w.flip(0))


def translate(x: torch.Tensor, t: int, dim: int = -1) -> torch.Tensor:
    """Move ``x`` by ``t`` positions along ``dim`` (right or down for
    ``t > 0``); zeros come in.

    ``translate(x, t)[..., i'] = x[..., i' - t]`` if ``0 <= i'-t < size``,
    else 0: what moving the camera does to a photo, with nothing known
    beyond its edge. The shape stays the same; ``|t| >= size`` gives zeros.

    Shape:
        - x: any shape; Output: the same shape
    """
    size = x.shape[dim]
    y = torch.zeros_like(x)
    if abs(t) >= size:
        return y
    kept = x.narrow(dim, max(-t, 0), size - abs(t))  # stays in the frame
    y.narrow(dim, max(t, 0), size - abs(t)).copy_(kept)
    return y
