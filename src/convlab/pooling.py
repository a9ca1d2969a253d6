r"""Pooling as window operations: drop-ins for ``F.max_pool2d`` and ``F.avg_pool2d``.

A pooling layer slides a :math:`k_H \times k_W` window over every channel, like a
convolution, but has no weights: it reduces each window to one number.

.. math::

    y[n, c, i, j] = \max_{u, v}\; x_p[n, c,\; s_H i + d_H u,\; s_W j + d_W v]
    \quad\text{(max, } x_p \text{ padded with } -\infty\text{)}

    y[n, c, i, j] = \frac{1}{D[i, j]} \sum_{u, v} x_p[n, c,\; s_H i + u,\; s_W j + v]
    \quad\text{(average, } x_p \text{ padded with zeros)}

The average is a *depthwise* convolution (groups = channels, chapter 3) with a constant
kernel of ones, divided by :math:`D[i, j]`, the number of cells the window counts
(:math:`k_H k_W` inside the image; fewer at the border with ``count_include_pad=False``
or where ``ceil_mode`` lets the last window hang over the edge). Both read their
windows the chapter 4 way, with ``unfold`` views; no PyTorch pooling or convolution
kernel runs. Arguments, results, indices (ties and NaN included), gradients and
errors follow PyTorch's CPU kernels.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["pool_output_size", "max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d"]

# PyTorch's names for the dtypes that its pooling kernels reject, for the same message
_SCALAR_NAMES = {torch.bool: "Bool", torch.uint8: "Byte", torch.int8: "Char",
                 torch.int16: "Short", torch.int32: "Int", torch.complex32: "ComplexHalf",
                 torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble"}
_MAX_POOL_INTS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
_MAX_POOL_POSITIONS = {"kernel_size": 2, "stride": 3, "padding": 4, "dilation": 5}


def pool_output_size(input_size: int, kernel_size: int, stride: int, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    r"""Number of window positions along one dimension (PyTorch's ``pooling_output_shape``).

    .. math::

        H_\text{out} = \left\lfloor \frac{H_\text{in} + 2p - d\,(k - 1) - 1
        \;[+\, s - 1 \text{ with ceil\_mode}]}{s} \right\rfloor + 1

    With ``ceil_mode`` the last window may hang over the bottom/right edge, but it must
    start inside the input or its left padding: a window that would start in the right
    padding is dropped.
    """
    extra = stride - 1 if ceil_mode else 0
    out = (input_size + 2 * padding - dilation * (kernel_size - 1) - 1 + extra) // stride + 1
    if ceil_mode and (out - 1) * stride >= input_size + padding:
        out -= 1
    return out


def _int_tuple(value, name: str, arg: str, what: str, empty_ok: bool = False) -> tuple:
    """``value`` as a tuple of 1 or 2 ints, with PyTorch's TypeError/RuntimeError."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    try:
        items = tuple(operator.index(v) for v in items)
    except TypeError:
        bad = next(v for v in items if not hasattr(v, "__index__"))
        where = f" (position {_MAX_POOL_POSITIONS[arg]})" if name == "max_pool2d" else ""
        raise TypeError(f"{name}(): argument '{arg}'{where} must be tuple of ints, "
                        f"not {type(bad).__name__}") from None
    if not (1 <= len(items) <= 2 or (empty_ok and not items)):
        raise RuntimeError(f"{name}: {arg} must {what}")
    return items


def _trunc_div(a: int, b: int) -> int:
    return -(-a // b) if a < 0 else a // b  # C++ integer division rounds towards zero


def _pool_args(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check the arguments in PyTorch's order; return ``(k, s, p, d, out)`` as pairs."""
    pair = lambda t: (t[0], t[-1])  # noqa: E731  (one int means both dimensions)
    either = "either be a single int, or a tuple of two ints"
    k = pair(_int_tuple(kernel_size, name, "kernel_size", either))
    s = _int_tuple(() if stride is None else stride, name, "stride",
                   "either be omitted, a single int, or a tuple of two ints", empty_ok=True)
    s = pair(s) if s else k  # stride defaults to the kernel size
    p = pair(_int_tuple(padding, name, "padding", either))
    d = pair(_int_tuple(dilation, name, "dilation", "be either a single int, or a tuple of two "
                                                    "ints"))
    if name == "max_pool2d" and input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    C, H, W = input.size(-3), input.size(-2), input.size(-1)  # IndexError below 3 dims
    out = []
    for size, k_, s_, p_, d_ in zip((H, W), k, s, p, d):
        if s_ == 0:
            raise RuntimeError("stride should not be zero")
        if p_ < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p_}")
        if p_ > _trunc_div((k_ - 1) * d_ + 1, 2):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p_}, kernel_size={k_} and dilation={d_}")
        out.append(pool_output_size(size, k_, s_, p_, d_, ceil_mode))
    _shape_check(input, k, s, p, d, (C, H, W), out)
    return k, s, p, d, tuple(out)


def _shape_check(input, k, s, p, d, sizes, out) -> None:
    """PyTorch's ``pool2d_shape_check``: sizes and the input's shape."""
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} "
                           f"kW: {k[1]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    batch_ok = input.dim() == 4 or (input.dim() == 3 and input.shape[0] != 0)
    if not batch_ok or 0 in input.shape[-3:]:  # only the batch may be empty
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    if k[1] // 2 < p[1] or k[0] // 2 < p[0]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    if min(out) < 1:
        C, H, W = sizes
        raise RuntimeError(f"Given input size: ({C}x{H}x{W}). Calculated output size: "
                           f"({C}x{out[0]}x{out[1]}). Output size is too small")


def _check_dtype(name: str, input, allowed) -> None:
    if not (input.is_floating_point() and input.element_size() > 1) and input.dtype not in allowed:
        label = _SCALAR_NAMES.get(input.dtype, str(input.dtype).removeprefix("torch."))
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{label[0].upper() + label[1:]}'")


def _divisor_arg(divisor_override):
    """``avg_pool2d``'s ``divisor_override``: ``None`` or a non-zero int, as PyTorch checks."""
    if divisor_override is None:
        return None
    if not hasattr(divisor_override, "__index__"):
        raise TypeError(f"avg_pool2d(): argument 'divisor_override' must be int, "
                        f"not {type(divisor_override).__name__}")
    if operator.index(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    return operator.index(divisor_override)


def _padded(x, k, s, p, d, out, value):
    """``x`` padded by ``p`` on each side, plus what ceil_mode's last window needs."""
    extra = [max(0, (o - 1) * s_ + d_ * (k_ - 1) + 1 - (size + 2 * p_))
             for o, s_, d_, k_, size, p_ in zip(out, s, d, k, x.shape[-2:], p)]
    pads = (p[1], p[1] + extra[1], p[0], p[0] + extra[0])
    return F.pad(x, pads, value=value) if any(pads) else x  # no copy when nothing to pad


def _windows(x_p, k, s, d, out):
    """Every window of a padded ``(N, C, H_p, W_p)`` input, a view (chapter 4).

    Shape: :math:`(N, C, H_\\text{out}, W_\\text{out}, k_H, k_W)`, with
    ``windows[n, c, i, j, u, v] = x_p[n, c, s_H i + d_H u, s_W j + d_W v]``.
    """
    # k_eff: the span of a dilated window
    span = [d_ * (k_ - 1) + 1 for k_, d_ in zip(k, d)]
    # (N, C, ., ., kH_eff, kW_eff): every window position, no copy
    windows = x_p.unfold(2, span[0], s[0]).unfold(3, span[1], s[1])
    # the first H_out x W_out positions, every d-th tap:
    # (N, C, H_out, W_out, kH, kW)
    return windows[:, :, :out[0], :out[1], ::d[0], ::d[1]]


def _like_input(out, input):
    """PyTorch returns channels-last outputs for channels-last inputs."""
    if input.dim() == 4 and not input.is_contiguous() and input.is_contiguous(
            memory_format=torch.channels_last):
        return out.contiguous(memory_format=torch.channels_last)
    return out


def _tap_rows(size: int, k: int, s: int, p: int, d: int, out: int, device):
    """Input row (or column) ``s i - p + d u`` of tap ``u`` of window ``i``: ``(out, k)``.

    Also returns where PyTorch's loop starts in each window, ``(out,)``: the first tap row
    at or after 0 (``while (start < 0) start += d``), which can lie past the input.
    """
    start = torch.arange(out, device=device) * s - p  # (out,)
    rows = start[:, None] + torch.arange(k, device=device) * d  # (out, k)
    first = start + d * ((-start).clamp(min=0) + d - 1).div(d, rounding_mode="floor")
    return rows, first


def _scan_taps(taps, rows, cols, W: int, low, start):
    """PyTorch's loop over the taps of one window, run for every window at once.

    ``taps`` ``(N, C, H_out, W_out, kH, kW)`` are the windows of the input
    padded with ``low``, ``rows`` ``(H_out, kH)`` and ``cols`` ``(W_out, kW)``
    the input row and column of each tap, ``start`` ``(H_out, W_out)`` the flat
    index the loop starts from, with ``low`` as its best value. A tap takes over
    if it is larger than the best so far, or a NaN: so ties keep the *first*
    maximum in row-major order, a NaN beats everything and the *last* NaN wins,
    and a padded tap (``low``, equal to the start) never does.

    Returns the flat index ``i' W_in + j'`` of every window's winner,
    ``(N, C, H_out, W_out)``.
    """
    N, C, H_out, W_out, kH, kW = taps.shape
    best = taps.new_full((N, C, H_out, W_out), low)
    index = start.expand(N, C, H_out, W_out)
    for u in range(kH):
        for v in range(kW):
            # tap (u, v) of every window: (N, C, H_out, W_out)
            tap = taps[..., u, v]
            take = (tap > best) | tap.isnan()
            best = torch.where(take, tap, best)
            where = rows[:, u, None] * W + cols[None, :, v]  # (H_out, W_out)
            index = torch.where(take, where, index)
    return index


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False, return_indices=False):
    r"""2-D max pooling, ``unfold`` + a max over each window: ``F.max_pool2d``.

    ``y[n, c, i, j] = max_{u,v} x_p[n, c, s_H i + d_H u, s_W j + d_W v]`` over a
    ``-inf``-padded input (the smallest integer for integer dtypes). Like
    PyTorch, each window keeps its *first* largest value in row-major order, or
    its *last* NaN (``_scan_taps``); the indices count positions in the
    unpadded ``H_in x W_in`` plane. The value is gathered from the input at that
    index, so the gradient flows to the winner alone.

    Shape:
        - input: :math:`(N, C, H_\text{in}, W_\text{in})` or unbatched
          :math:`(C, H_\text{in}, W_\text{in})`
        - output (and indices): :math:`(N, C, H_\text{out}, W_\text{out})` or
          unbatched
    """
    k, s, p, d, out = _pool_args("max_pool2d", input, kernel_size, stride,
                                 padding, dilation, ceil_mode)
    _check_dtype("max_pool2d", input, _MAX_POOL_INTS)
    x = input if input.dim() == 4 else input[None]  # (N, C, H_in, W_in)
    N, C, H, W = x.shape
    low = -float("inf") if x.is_floating_point() else torch.iinfo(x.dtype).min
    x_p = _padded(x.detach(), k, s, p, d, out, low)  # (N, C, H_p, W_p)
    taps = _windows(x_p, k, s, d, out)  # (N, C, H_out, W_out, kH, kW), a view
    # the input row (column) of every tap: (H_out, kH) and (W_out, kW)
    rows, first_row = _tap_rows(H, k[0], s[0], p[0], d[0], out[0], x.device)
    cols, first_col = _tap_rows(W, k[1], s[1], p[1], d[1], out[1], x.device)
    start = first_row[:, None] * W + first_col  # (H_out, W_out)
    indices = _scan_taps(taps, rows, cols, W, low, start)
    flat = indices.flatten(2).clamp(0, H * W - 1)  # (N, C, H_out * W_out)
    values = x.flatten(2).gather(2, flat).view_as(indices)
    # a dilated window can have every tap in the padding: PyTorch returns -inf
    # there (and its backward adds the gradient into the next channel; ours
    # sends it nowhere)
    row_in = ((rows >= 0) & (rows < H)).any(1)  # (H_out,)
    col_in = ((cols >= 0) & (cols < W)).any(1)  # (W_out,)
    empty = ~(row_in[:, None] & col_in)
    if empty.any():
        values = torch.where(empty, torch.full_like(values, low), values)
    if input.dim() == 3:
        values, indices = values[0], indices[0]
    values, indices = _like_input(values, input), _like_input(indices, input)
    return (values, indices) if return_indices else values


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    r"""2-D average pooling, a depthwise convolution of ones: ``F.avg_pool2d``.

    ``y[n, c, i, j] = (1 / D[i, j]) sum_{u,v} x_p[n, c, s_H i + u, s_W j + v]``:
    the sum is a convolution with ``groups = C`` whose kernel
    ``w[c, 0, u, v] = 1``, built from ``unfold`` windows. ``D[i, j]`` (the
    divisor) is the same window sum over a mask of the cells that count: the
    padded input (``count_include_pad``) or the input alone, never the cells
    past the edge that ceil_mode adds. ``divisor_override`` replaces it.

    Shape:
        - input: :math:`(N, C, H_\text{in}, W_\text{in})` or unbatched
          :math:`(C, H_\text{in}, W_\text{in})`
        - output: :math:`(N, C, H_\text{out}, W_\text{out})` or unbatched
    """
    divisor_override = _divisor_arg(divisor_override)
    k, s, p, d, out = _pool_args("avg_pool2d", input, kernel_size, stride,
                                 padding, 1, ceil_mode)
    _check_dtype("avg_pool2d", input, (torch.int64,))
    x = input if input.dim() == 4 else input[None]  # (N, C, H_in, W_in)
    N, C, H, W = x.shape
    low_precision = x.dtype in (torch.float16, torch.bfloat16)
    acc = torch.float32 if low_precision else x.dtype  # like torch
    x_p = _padded(x.to(acc), k, s, p, d, out, 0)  # (N, C, H_p, W_p)
    windows = _windows(x_p, k, s, d, out)  # (N, C, H_out, W_out, kH, kW)
    # one kernel of ones per channel: (C, kH, kW)
    ones = torch.ones(C, *k, dtype=acc, device=x.device)
    # the depthwise convolution: (N, C, H_out, W_out)
    sums = torch.einsum("ncijuv,cuv->ncij", windows, ones)
    if divisor_override is not None:
        divisor = torch.tensor(divisor_override, dtype=acc, device=x.device)
    else:  # count the cells each window covers, padding included or not
        # (1, 1, H_in, W_in), padded with ones or zeros
        cells = torch.ones(1, 1, H, W, dtype=acc, device=x.device)
        pad_value = int(bool(count_include_pad))
        cells = F.pad(cells, (p[1], p[1], p[0], p[0]), value=pad_value)
        # ceil_mode's overhang never counts
        cells = _padded(cells, k, s, (0, 0), d, out, 0)
        # (1, 1, H_out, W_out)
        divisor = _windows(cells, k, s, d, out).sum((-2, -1))
    if acc.is_floating_point:
        y = sums / divisor
    else:  # integers: PyTorch's C++ division, rounding towards zero
        y = torch.div(sums, divisor, rounding_mode="trunc")
    y = y.to(x.dtype)
    return _like_input(y[0] if input.dim() == 3 else y, input)


class MaxPool2d(nn.MaxPool2d):
    """``torch.nn.MaxPool2d`` (same arguments, attributes and repr), computed by
    :func:`max_pool2d`."""

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(nn.AvgPool2d):
    """``torch.nn.AvgPool2d`` (same arguments, attributes and repr), computed by
    :func:`avg_pool2d`."""

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)
