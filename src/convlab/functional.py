r"""N-d drop-ins for ``torch.nn.functional``'s convolutions, built from tensor primitives.

One implementation serves every rank: ``conv1d``, ``conv2d`` and ``conv3d`` are
:func:`conv_nd` with ``dims`` = 1, 2, 3, and the three transposed convolutions are
:func:`conv_transpose_nd`. For a ``d``-dimensional convolution with groups :math:`G`,
output position :math:`\mathbf{i}` and kernel tap :math:`\mathbf{u}` (``d``-tuples):

.. math::

    y[n, o, \mathbf{i}] = b[o] + \sum_{c \in \text{group}(o)}
    \sum_{\mathbf{u}} w[o, c, \mathbf{u}]\;
    x_p[n, c, \mathbf{s} \odot \mathbf{i} + \mathbf{d} \odot \mathbf{u}]

Like PyTorch, :func:`conv_nd` picks a backend per call (``_choose_backend``):

* **im2col** (every case): pad, ``unfold`` every spatial dim into windows, copy them into
  ``(prod(k)*C_in/G, L)`` column matrices, then GEMMs whose output is already NCHW, on
  oneDNN or torch.matmul (``im2col_blas``), whichever a large layer's first call timed
  faster where both can run;
* **Winograd** F(4x4, 3x3) or F(2x2, 3x3) (``convlab.winograd_fast``; chapter 4 builds
  F(2x2, 3x3)) for float32 3x3 stride-1 convolutions with many channels, where it is
  faster (by rules, or timed once per layer shape where the GEMMs run on oneDNN) and
  cannot change which outputs are finite;
* **taps**, one GEMM per kernel tap over in-range input only, for non-finite weights where
  PyTorch's oneDNN kernel never multiplies its padding.

They behave like PyTorch's under what users do with a convolution: ``torch.autocast``
(computed in the autocast dtype), every dtype PyTorch's CPU kernels accept (and its
errors for the others), ``torch.func`` transforms and forward-mode AD, channels-last
memory formats (the output's is PyTorch's), ``torch.compile(fullgraph=True)`` and
``torch.jit.trace``. Gradients come from autograd over these tensor ops. No PyTorch conv
kernel is called.
"""

from __future__ import annotations

import cmath
import itertools
import math
import random
import time
import warnings

import torch
import torch.nn.functional as F

from . import gemm
from ._checks import (
    empty_conv_output,
    empty_output,
    output_sizes,
    parse_conv_args,
    parse_conv_transpose_args,
    upcast_complex32,
)
from .gemm import can_write_out, is_functorch_wrapped_tensor
from .pooling import avg_pool2d, max_pool2d
from .winograd_fast import GROWTH, winograd_conv2d

# "auto" picks per call (see _choose_backend); a name from BACKENDS forces one (benchmarks)
BACKEND = "auto"
# im2col_blas: im2col on torch.matmul's GEMMs (the BLAS library) where im2col's are oneDNN's
BACKENDS = ("im2col", "im2col_blas", "winograd2", "winograd4")  # winograd<m>: F(m x m, 3 x 3)
PER_IMAGE_GEMM_MIN_L = 128  # output positions per image from which im2col's GEMMs go per image
IM2COL_CHUNK_BYTES = 2**24  # columns per chunk of images, when not differentiating
ONEDNN_CHUNK_BYTES = 2**21  # columns per chunk on oneDNN's GEMMs: they stay in cache
FRESH_PAGES_BYTES = 2**25  # glibc returns larger allocations as fresh pages (slow to touch)
ONEDNN_MIN_GEMM = 256  # C_out/G * K from which a group's GEMM goes to oneDNN (not depthwise)
ONEDNN_MIN_COLUMNS = 1024  # columns per oneDNN GEMM at least, chunk size permitting
PHASES_MIN_COPIES = 8  # im2col splits a strided input into phases from prod(k)/prod(s) = 8
WIDE_MAX_WASTE = 1 / 16  # oneDNN's im2col computes whole input rows up to this extra work
# Where im2col's GEMMs run on oneDNN, which backend is fastest depends on the CPU: the
# first call of each such layer times them (``_measured_backend``); False: im2col there
MEASURE = True
MEASURE_MIN_FLOPS = 10**8  # a direct convolution's flops from which a layer is timed
MEASURE_MAX_IMAGES = 8  # the first images of a bigger batch are timed
MEASURE_ROUNDS = 5  # interleaved rounds; each backend's fastest round counts
MEASURE_MARGIN = 0.95  # Winograd must take under this fraction of im2col's time
_measured = {}  # (shapes, input strides, conv arguments, threads) -> the fastest backend
# ATen backends that write contiguous outputs whatever the input's memory format
_CONTIGUOUS_BACKENDS = {"Slow3d", "SlowDilated3d", "SlowTranspose3d", "Empty", "MkldnnEmpty",
                        "NnpackSpatial", "Xnnpack2d", "Winograd3x3Depthwise",
                        "CudaDepthwise2d", "CudaDepthwise3d"}

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv_nd", "conv_transpose_nd", "avg_pool2d", "max_pool2d"]


def _conv_im2col(x, weight, bias, stride, padding, dilation, groups, onednn=True):
    """im2col + GEMM; any stride, padding, dilation, groups and rank; NCHW in and out.

    ``unfold`` views every window; one copy lays them out as the columns of a
    ``(K, L)`` matrix per image and group, ``K = (C_in/G) prod(k)`` in the weight's own
    ``(c, *k)`` order, so ``w (C_out/G, K) @ cols (K, L)`` is already ``(C_out, *S_out)``:
    no transpose of the output. Small images (a short ``L``) make thin per-image GEMMs;
    there the batch goes into the columns instead, ``(K, N*L)``, and the output is
    transposed once. Where :func:`convlab.gemm.onednn_applies` (and ``onednn``), the
    GEMMs go to oneDNN instead (:func:`_conv_columns`, :func:`_conv_pointwise`).
    """
    N, C_in, *S = x.shape
    d, C_out, G, K = len(S), weight.shape[0], groups, weight[0].numel()
    if onednn and gemm.onednn_applies(x, weight, bias) and C_out // G * K >= ONEDNN_MIN_GEMM:
        if G == 1 and K == C_in and not any(a or b for a, b in padding):  # a 1x1 kernel
            return _conv_pointwise(x, weight, bias, stride)
        return _conv_columns(x, weight, bias, stride, padding, dilation, groups)
    flat = [p for pair in reversed(padding) for p in pair]
    cols = F.pad(x, flat) if any(flat) else x  # (N, C_in, *S_pad)
    for i, (k, s, dl) in enumerate(zip(weight.shape[2:], stride, dilation)):
        # (N, C_in, *O, *K_eff) when done; a stride beyond the padded size leaves one window
        cols = cols.unfold(2 + i, dl * (k - 1) + 1, min(s, cols.shape[2 + i]))  # (no overflow)
    cols = cols[(Ellipsis, *(slice(None, None, dl) for dl in dilation))]  # (N, C_in, *O, *k)
    O = cols.shape[2:2 + d]
    L, window = math.prod(O), [*range(3 + d, 3 + 2 * d)]  # window: the kernel dims after unflatten
    cols = cols.unflatten(1, (G, C_in // G))  # (N, G, C_in/G, *O, *k), a view
    w = weight.reshape(G, C_out // G, K)  # (G, C_out/G, K)
    b = None if bias is None else bias.view(G, C_out // G, 1)
    if L >= PER_IMAGE_GEMM_MIN_L:  # per image and group: (C_out/G, K) @ (K, L)
        cols = cols.permute(0, 1, 2, *window, *range(3, 3 + d))  # (N, G, K..., L...), a view
        step = max(1, IM2COL_CHUNK_BYTES // (G * K * L * x.element_size()))
        if step >= N or not can_write_out(x, weight, bias):  # all at once
            return _per_image_gemm(cols, w, b, L).view(N, C_out, *O)
        out = x.new_empty(N, C_out, *O)  # a few images at a time: their columns stay in cache
        for i in range(0, N, step):
            _per_image_gemm(cols[i:i + step], w, b, L, out=out[i:i + step].view(-1, C_out // G, L))
        return out
    # per group, the batch in the columns: (C_out/G, K) @ (K, N*L)
    cols = cols.permute(1, 2, *window, 0, *range(3, 3 + d)).reshape(G, K, N * L)  # copy
    out = torch.bmm(w, cols) if b is None else torch.baddbmm(b, w, cols)  # (G, C_out/G, N*L)
    return out.view(C_out, N, *O).movedim(1, 0).contiguous()  # (N, C_out, *O)


def _conv_pointwise(x, weight, bias, stride):
    r"""A 1x1 kernel without padding or groups on oneDNN: one GEMM per chunk of images.

    .. math::

        y[n, o, l] = b[o] + \sum_c w[o, c]\, x[n, c, s\, l],

    so the columns are the input's every ``s``-th positions, ``(C_in, n L)`` for a chunk
    of ``n`` images (one strided copy), and ``w (C_out, C_in) @ cols`` is ``(C_out, n L)``:
    its rows, ``L`` long, are already the NCHW output's rows, which one copy that adds the
    bias puts in place. Chunks keep the columns under ``FRESH_PAGES_BYTES``. Only
    :func:`_conv_im2col` calls it, where :func:`convlab.gemm.onednn_applies` held.

    Shape: input (N, C_in, *S), weight (C_out, C_in, 1, ...); output (N, C_out, *O).
    """
    x = x[(Ellipsis, *[slice(None, None, s) for s in stride])]  # (N, C_in, *O), a view
    N, C_in, *O = x.shape
    C_out, L = weight.shape[0], math.prod(O)
    w = weight.reshape(C_out, C_in)
    out = x.new_empty(N, C_out, *O)
    step = min(N, max(1, FRESH_PAGES_BYTES // (max(C_in, C_out) * L * x.element_size())))
    for i in range(0, N, step):
        n = min(step, N - i)
        cols = x[i:i + n].transpose(0, 1).reshape(C_in, n * L)  # (C_in, n*L): the one copy
        y = gemm.linear(w, cols.T, checked=True)  # (C_out, n*L) = w cols
        y = y.view(C_out, n, *O).transpose(0, 1)  # (n, C_out, *O), a view
        if bias is None:
            out[i:i + n].copy_(y)
        else:
            torch.add(y, bias.view(-1, *[1] * len(O)), out=out[i:i + n])
    return out


def _column_chunks(x, kernel, stride, padding, dilation, groups, wide=False):
    r"""im2col's columns, a chunk of images and one group at a time, in one reused buffer.

    An ``as_strided`` view of the padded input holds every window, ordered
    ``(c, *k, n, *O)``; each chunk of ``n`` images is copied into ``cols``, ``(K, n L)``
    with ``K = (C_in/G) prod(k)`` in the weight's own ``(c, *k)`` order. A chunk is about
    ``ONEDNN_CHUNK_BYTES`` (it stays in cache for its GEMM), but at least
    ``ONEDNN_MIN_COLUMNS`` columns (a wide enough GEMM).

    ``wide``: where the windows step one element along the last two dims (stride 1 there,
    or one phase of a strided input, :func:`_phase_windows`) and the input's rows are at
    most ``1 + WIDE_MAX_WASTE`` times the output's, each output row is taken as long as
    an input row, ``W`` positions instead of ``O_w``. Output position :math:`(i, j)` is
    then column :math:`l = i W + j` and tap :math:`(u, v)` reads input element
    :math:`l + u W + v` of the flattened rows, so one tap's row of ``cols`` is one
    contiguous run of the input: the copy is a few long runs instead of ``O_h`` short
    ones. The last :math:`W - O_w` columns of each row are junk, for the caller to drop.

    Yields ``(images, group, cols, width)``, ``images`` a slice, ``width`` the columns per
    output row (``O_w``, or ``W`` where wide); ``cols`` is overwritten by the next chunk.
    Shape: input (N, C_in, *S); cols (K, n L), L = prod(O[:-1]) * width.
    """
    N, C_in, *S = x.shape
    d, C_g = len(S), C_in // groups
    O = output_sizes(S, kernel, stride, padding, dilation)
    phased = set(dilation) == {1} and math.prod(kernel) >= PHASES_MIN_COPIES * math.prod(stride) > 1
    steps_one = phased or tuple(stride[-2:]) == (1, 1)  # the windows' last two dims step by 1
    row = -(-(S[-1] + sum(padding[-1])) // stride[-1]) if phased else S[-1] + sum(padding[-1])
    wide = wide and d >= 2 and steps_one and O[-1] < row <= O[-1] * (1 + WIDE_MAX_WASTE)
    width = row if wide else O[-1]
    flat = [p for pair in reversed(padding) for p in pair]
    if wide:  # one more (phase) row: the last row's junk columns read past the windows
        flat[3] += stride[-2] if phased else 1
    if phased:  # whole phases: _phase_windows then needs no second padded copy
        for i, (s, st) in enumerate(zip(reversed(S), reversed(stride))):
            flat[2 * i + 1] += -(s + flat[2 * i] + flat[2 * i + 1]) % st
    xp = F.pad(x, flat) if any(flat) else x  # (N, C_in, *S_pad)
    if wide and not phased and xp.stride(-2) != width * xp.stride(-1):  # rows not one run
        wide, width = False, O[-1]
    positions = [*O[:-2], O[-2] * width] if wide else O  # the merged (i, j) of the wide rows
    L, K = math.prod(positions), math.prod(kernel) * C_g
    if phased:
        pieces = _phase_windows(xp, kernel, stride, O, positions)
    else:
        sN, sC, *sS = xp.stride()
        steps = [st * s for st, s in zip(stride, sS)]
        pieces = [((), xp.as_strided((C_in, *kernel, N, *positions),  # every window, a view
                                     (sC, *[dl * s for dl, s in zip(dilation, sS)], sN,
                                      *(steps[:-2] + [sS[-1]] if wide else steps)),
                                     xp.storage_offset()))]
    step = max(ONEDNN_CHUNK_BYTES // (K * L * x.element_size()), -(-ONEDNN_MIN_COLUMNS // L))
    step = min(N, max(1, step))
    buffer = x.new_empty(K * step * L)
    for i in range(0, N, step):
        n = min(step, N - i)
        for g in range(groups):
            cols = buffer[:K * n * L].view(C_g, *kernel, n, *positions)
            for taps, windows in pieces:  # the im2col copy
                part = windows.narrow(0, g * C_g, C_g).narrow(1 + d, i, n)
                cols[(slice(None), *taps)].copy_(part)
            yield slice(i, i + n), g, cols.view(K, n * L), width


def _phase_windows(xp, kernel, stride, O, positions=None):
    r"""im2col's windows for a strided kernel as views with unit inner steps, one per phase.

    With stride :math:`s`, input index :math:`s i + u` of output :math:`i` and tap
    :math:`u = s q + r` is :math:`s (i + q) + r`: position :math:`i + q` of the *phase*
    :math:`x[r::s]`. One copy splits the padded input into its :math:`\prod s` phases
    (contiguous); each phase's taps :math:`u = r, r + s, \dots` then view windows whose
    last dimension steps by one element, which copy several times faster than every
    :math:`s`-th one. Taken where the columns are at least ``PHASES_MIN_COPIES`` times the
    input (:math:`\prod k / \prod s`: 12.25 for a 7x7 stride-2 stem), so the extra pass
    over the input costs little.

    ``positions``: the output positions' shape, ``O`` or, for :func:`_column_chunks`'s
    wide rows, ``(*O[:-2], O[-2] * W)`` with ``W`` a phase's row length (one flat index
    over the last two dims).

    Returns ``[(taps, windows)]``: ``taps`` a slice per kernel dim (``u = r, r + s, ...``),
    ``windows`` a view ``(C_in, *k_r, N, *positions)`` with ``k_r`` the taps of that phase.
    """
    N, C_in, *S = xp.shape
    positions = O if positions is None else positions
    Q = [-(-s // st) for s, st in zip(S, stride)]  # positions per phase
    extra = [q for s, st, n in zip(reversed(S), reversed(stride), reversed(Q))
             for q in (0, n * st - s)]
    xq = F.pad(xp, extra) if any(extra) else xp  # a whole number of phases (never read past S)
    split = xq.view(N, C_in, *[a for n, st in zip(Q, stride) for a in (n, st)])
    d = len(S)
    phases = split.permute(*range(3, 3 + 2 * d, 2), 0, 1, *range(2, 2 + 2 * d, 2)).contiguous()
    pieces = []
    for residues in itertools.product(*map(range, stride)):  # (r_1, ..., r_d)
        taps = [len(range(r, k, st)) for r, k, st in zip(residues, kernel, stride)]
        if 0 in taps:
            continue
        phase = phases[residues]  # (N, C_in, *Q), contiguous
        sN, sC, *sQ = phase.stride()
        windows = phase.as_strided((C_in, *taps, N, *positions),
                                   (sC, *sQ, sN, *sQ[:len(positions) - 1], sQ[-1]),
                                   phase.storage_offset())
        pieces.append(([slice(r, None, st) for r, st in zip(residues, stride)], windows))
    return pieces


def _conv_columns(x, weight, bias, stride, padding, dilation, groups):
    r"""im2col with every image's columns side by side (:func:`_column_chunks`, wide rows
    where they apply), its GEMMs on oneDNN: ``w (C_out/G, K) @ cols (K, n L)``
    (:func:`convlab.gemm.linear`) is ``(C_out/G, n, L)``, rows of ``L`` outputs that are
    already NCHW's rows (less a wide row's junk), which one copy that adds the bias puts
    in place. Only :func:`_conv_im2col` calls it, where :func:`convlab.gemm.onednn_applies`
    held.

    Shape: input (N, C_in, *S), weight (C_out, C_in/G, *k); output (N, C_out, *O).
    """
    N, C_out, kernel, d = x.shape[0], weight.shape[0], weight.shape[2:], x.dim() - 2
    C_og = C_out // groups
    O = output_sizes(x.shape[2:], kernel, stride, padding, dilation)
    w = weight.reshape(groups, C_og, -1)  # (G, C_out/G, K)
    b = [None] * groups if bias is None else bias.view(groups, C_og, *[1] * d)
    out = x.new_empty(N, C_out, *O)
    chunks = _column_chunks(x, kernel, stride, padding, dilation, groups, wide=True)
    for images, g, cols, width in chunks:
        y = gemm.linear(w[g], cols.T, checked=True)  # (C_out/G, n*L) = w cols
        y = y.view(C_og, -1, *O[:-1], width)[..., :O[-1]]  # (C_out/G, n, *O), a view
        y, part = y.transpose(0, 1), out[images, g * C_og:(g + 1) * C_og]  # (n, C_out/G, *O)
        part.copy_(y) if b[g] is None else torch.add(y, b[g], out=part)
    return out


def conv_weight_grad(input, grad_output, weight_shape, stride, padding, dilation, groups):
    r""":math:`\partial L / \partial w` of a convolution, on oneDNN where it applies.

    .. math::

        \frac{\partial L}{\partial w}[o, (c, u, v)] = \sum_{n, l} g[n, o, l]\,
        \text{cols}[n, (c, u, v), l]

    the forward's im2col columns (``_column_chunks``) times the upstream gradient,
    summed over chunks of images: one ``(C_out/G, n L) @ (n L, K)`` GEMM per chunk and
    group. Returns ``None`` where :func:`convlab.gemm.onednn_applies` does not hold (the
    caller's own formula runs there). ``padding`` is ``((p_before, p_after), ...)``.

    Shape: input (N, C_in, *S), grad_output (N, C_out, *O); output ``weight_shape``,
    (C_out, C_in/G, *k).
    """
    if not gemm.onednn_applies(input, grad_output):
        return None
    C_out, kernel = weight_shape[0], weight_shape[2:]
    C_og = C_out // groups
    g_mat = grad_output.unflatten(1, (groups, C_og)).movedim(0, 2)  # (G, C_out/G, N, *O)
    grad = input.new_zeros(groups, C_og, math.prod(weight_shape[1:]))  # (G, C_out/G, K)
    for images, g, cols, _ in _column_chunks(input, kernel, stride, padding, dilation,
                                             groups):
        g_chunk = g_mat[g, :, images].reshape(C_og, -1)  # (C_out/G, n*L), a copy
        grad[g] += gemm.linear(g_chunk, cols, checked=True)  # (C_out/G, n L) @ (n L, K)
    return grad.view(weight_shape)


def _per_image_gemm(cols, w, b, L, out=None):
    """``(N*G, C_out/G, L)`` = ``w (G, C_out/G, K) @ cols (N, G, K..., L...)``, + ``b``."""
    N, G = cols.shape[:2]
    cols = cols.reshape(N * G, w.shape[2], L)  # (N*G, K, L): the im2col copy
    w = w.expand(N, -1, -1, -1).reshape(N * G, *w.shape[1:])  # a view when G == 1
    if b is None:
        return torch.bmm(w, cols, out=out)
    b = b.expand(N, -1, -1, -1).reshape(N * G, w.shape[1], 1)
    return torch.baddbmm(b, w, cols, out=out)


def _conv_taps(x, weight, bias, stride, padding, dilation, groups):
    """The direct sum one kernel tap at a time, over in-range input only (oneDNN's rule).

    For each tap ``u``, ``y[n, o, i] += w[o, c, u] x[n, c, s*i + d*u - p]`` over the
    output positions ``i`` whose input index exists: a tap that would read padding adds
    nothing, so ``0 * inf`` never happens there. The odd extra pad of ``'same'`` with an
    even kernel stays real zeros, as PyTorch pads it explicitly. One GEMM per tap;
    ``_choose_backend`` uses it only for non-finite weights, where this matters.
    """
    extra = [q for a, b in reversed(padding) for q in (0, b - a)]
    x = F.pad(x, extra) if any(extra) else x  # (N, C_in, *S)
    N, C_in, *S = x.shape
    C_out, kernel, p = weight.shape[0], weight.shape[2:], [a for a, _ in padding]
    O = [(s + 2 * q - dl * (k - 1) - 1) // st + 1
         for s, q, k, dl, st in zip(S, p, kernel, dilation, stride)]
    xg = x.unflatten(1, (groups, C_in // groups))  # (N, G, C_in/G, *S)
    wg = weight.unflatten(0, (groups, C_out // groups))  # (G, C_out/G, C_in/G, *k)
    out = x.new_zeros(N, groups, C_out // groups, *O)
    for tap in itertools.product(*map(range, kernel)):
        first = [max(0, -((dl * u - q) // st)) for u, q, dl, st in zip(tap, p, dilation, stride)]
        stop = [min(o, (s - 1 + q - dl * u) // st + 1)
                for u, q, dl, st, s, o in zip(tap, p, dilation, stride, S, O)]
        if any(a >= b for a, b in zip(first, stop)):
            continue  # this tap reads only padding
        reads = [slice(st * a + dl * u - q, st * (b - 1) + dl * u - q + 1, st)
                 for a, b, u, q, dl, st in zip(first, stop, tap, p, dilation, stride)]
        part = torch.einsum("ngc...,goc->ngo...", xg[(Ellipsis, *reads)], wg[(Ellipsis, *tap)])
        out = out + F.pad(part, [q for a, b, o in zip(reversed(first), reversed(stop),
                                                      reversed(O)) for q in (a, o - b)])
    out = out.flatten(1, 2)  # (N, C_out, *O)
    return out if bias is None else out + bias.view(-1, *[1] * len(S))


def _fastest_backend(x, weight, stride, padding, dilation, groups) -> str:
    """Like ATen's ``select_conv_backend``, on measurements (``benchmarks/functional.py``).

    Winograd's F(4x4, 3x3) does 4x fewer multiplications than im2col and F(2x2, 3x3)
    2.25x, but their GEMMs are short (``C_in`` deep), so they only pay with enough input
    channels; their tiles also waste work at the border of a small image (a 14x14 output
    needs 16x16 with 4x4 tiles, a 7x7 one 8x8 with either), where transforming a weight
    of many channels costs more than it saves. im2col does everything else. Those rules
    hold on torch.matmul's GEMMs. Where im2col's GEMMs run on oneDNN
    (:func:`convlab.gemm.onednn_applies`), the answer depends on the CPU: on Zen 5
    (square GEMMs, 2 threads: oneDNN 422 against MKL's 208 GF/s) im2col was as fast as
    F(4x4, 3x3) on ResNet-18's 3x3 layers, and rounds less; on Zen 4 (206 against 175
    GF/s) a forced F(4x4, 3x3) beat it on the 56x56 and 28x28 layers (1.47 and 1.05
    against 1.61 and 1.45 times F.conv2d); on an AVX2 Zen 3 (both about 130 GF/s
    on the same square GEMMs)
    Winograd beat it on the 56x56, 28x28 and 14x14 ones, and im2col on MKL's GEMMs beat
    im2col on oneDNN's on every layer but the stem, conv1 (0.85-1.05 against 0.99-1.24 times
    F.conv2d on layer4's three shapes, one run at 2 threads). So there a large enough layer's
    first call times the candidates (``_measured_backend``), as
    ``torch.backends.cudnn.benchmark`` does on a GPU.
    """
    winograd = _winograd_applies(weight, stride, padding, dilation, groups)
    if BACKEND != "auto":  # forced, e.g. by the benchmark (Winograd where it applies)
        return "im2col" if BACKEND.startswith("winograd") and not winograd else BACKEND
    if gemm.onednn_applies(x, weight):  # two GEMM libraries: the fastest on this CPU, measured
        O = output_sizes(x.shape[2:], weight.shape[2:], stride, padding, dilation)
        flops = 2 * weight.numel() * x.shape[0] * math.prod(O)
        timed = MEASURE and flops >= MEASURE_MIN_FLOPS and not \
            torch.are_deterministic_algorithms_enabled()  # a timing may differ between runs
        return _measured_backend(x, weight, stride, padding, dilation, groups) if timed \
            else "im2col"
    if not winograd or weight.shape[1] < 64 or x.dtype != torch.float32:  # (as measured)
        return "im2col"
    H_out, W_out = output_sizes(x.shape[2:], (3, 3), stride, padding, dilation)
    if min(H_out, W_out) >= 16:
        return "winograd4"
    return "winograd2" if min(H_out, W_out) >= 8 else "im2col"


def _choose_backend(x, weight, bias, stride, padding, dilation, groups) -> str:
    """The fastest backend (``_fastest_backend``) that gives PyTorch's answer.

    **Finite where PyTorch is finite.** Winograd's transforms add and subtract input
    values before any product: one ``inf`` becomes ``inf - inf = nan`` across a whole
    tile, an ``inf`` weight a whole output channel, and values near the dtype's largest
    number overflow where the direct sum does not. So Winograd runs only where every
    value of ``x``, ``w`` and ``b`` is finite and no partial sum can overflow:
    ``GROWTH[m] * C_in * max|x| * max|w| + max|b|`` (``winograd_fast.growth``: the
    transforms' norms) below the dtype's largest finite value. Then every intermediate
    is finite, and so is PyTorch's direct sum, whose bound is smaller; im2col, which
    forms the same products as PyTorch, does the rest.

    The test costs two reductions over ``x`` and ``w`` (``amax``, ``amin``): about 1% of a
    Winograd layer.

    **Padding.** PyTorch's slow kernels multiply the padding's zeros (``0 * inf = nan``);
    oneDNN's direct kernels, which it runs (measured) for ungrouped float32/bfloat16
    convolutions whose padding is narrower than the dilated kernel in every dimension,
    skip padded positions. With a non-finite weight and padding there
    (``torch._C._select_conv_backend`` says oneDNN), ``'taps'`` sums over in-range input
    only. (For other shapes oneDNN's own choice of algorithm, and with it PyTorch's
    ``nan`` pattern at the border, varies.)

    Under ``vmap``, ``torch.compile`` and ``torch.jit.trace`` no value can steer a branch
    (a graph break, or a trace that would not hold for other values): im2col.
    """
    backend = _fastest_backend(x, weight, stride, padding, dilation, groups)
    if backend.startswith("winograd") and _values_readable(x, weight, bias):
        if _winograd_keeps_finite(x, weight, bias, tile=int(backend[-1])):
            return backend
    direct = groups == 1 and all(a < d * (k - 1) + 1  # where oneDNN runs its direct kernels
                                 for k, (a, _), d in zip(weight.shape[2:], padding, dilation))
    if direct and any(a or b for a, b in padding) and _values_readable(weight):
        if not _all_finite(weight) and _aten_backend(
                x, weight, False, stride, padding, dilation, (0,) * len(stride), 1) == "Mkldnn":
            return "taps"
    return backend if backend.startswith("im2col") else "im2col"


def _measured_backend(x, weight, stride, padding, dilation, groups) -> str:
    """The fastest backend for this layer on this machine, timed at the layer's first call,
    then remembered (``_measured``).

    The candidates are im2col on oneDNN's GEMMs and on torch.matmul's (``im2col_blas``),
    and for a 3x3 stride-1 layer F(2x2, 3x3) and F(4x4, 3x3). Key: input and weight
    shapes, the input's strides (its memory layout), the convolution's arguments and
    ``torch.get_num_threads()``. Each of ``MEASURE_ROUNDS`` rounds calls every candidate
    once on the first ``MEASURE_MAX_IMAGES`` images (``_time_backends``); a candidate's
    time is its fastest round, after one untimed call of each (without it, a cold first
    im2col made a slower Winograd look faster in 2 of 6 fresh processes on a 128-channel
    28x28 layer). Winograd wins only below ``MEASURE_MARGIN`` times the faster im2col's
    time, since im2col rounds less (chapter 7 measures both Winograd tiles' errors in
    units of F.conv2d's). The choice is a timing, so two runs on a noisy machine can
    choose differently where two candidates are that close. ``MEASURE = False`` keeps
    im2col, like ``torch.backends.cudnn.benchmark = False``, and so does
    ``torch.use_deterministic_algorithms(True)`` (``_fastest_backend``).
    """
    key = (tuple(x.shape), x.stride(), tuple(weight.shape), tuple(stride), tuple(padding),
           tuple(dilation), groups, torch.get_num_threads())
    if key not in _measured:
        winograd = _winograd_applies(weight, stride, padding, dilation, groups)
        candidates = [b for b in BACKENDS if winograd or not b.startswith("winograd")]
        seconds = _time_backends(x[:MEASURE_MAX_IMAGES], weight, stride, padding, dilation,
                                 groups, candidates)
        im2col = min(("im2col", "im2col_blas"), key=seconds.get)
        fastest = min(seconds, key=seconds.get)
        winograd_wins = seconds[fastest] < MEASURE_MARGIN * seconds[im2col]
        _measured[key] = fastest if winograd_wins else im2col
    return _measured[key]


def _time_backends(x, weight, stride, padding, dilation, groups, candidates) -> dict:
    """Seconds per call of each of ``candidates`` (names from ``BACKENDS``) on this layer:
    the fastest of ``MEASURE_ROUNDS`` interleaved rounds (``time.perf_counter``), each in
    its own order (seeded), so that no candidate always runs after the same neighbour."""
    for backend in candidates:  # untimed: first-touch pages, oneDNN's kernel generation
        _run_backend(backend, x, weight, None, stride, padding, dilation, groups)
    seconds = dict.fromkeys(candidates, math.inf)
    rng = random.Random(0)
    for _ in range(MEASURE_ROUNDS):
        for backend in rng.sample(candidates, len(candidates)):
            start = time.perf_counter()
            _run_backend(backend, x, weight, None, stride, padding, dilation, groups)
            seconds[backend] = min(seconds[backend], time.perf_counter() - start)
    return seconds


def _run_backend(backend, x, weight, bias, stride, padding, dilation, groups):
    """The convolution by the backend ``_choose_backend`` named (NCHW output)."""
    if backend.startswith("winograd"):  # winograd2 / winograd4: the output tile size
        return winograd_conv2d(x, weight, bias, [a for a, _ in padding], tile=int(backend[-1]))
    if backend == "taps":
        return _conv_taps(x, weight, bias, stride, padding, dilation, groups)
    return _conv_im2col(x, weight, bias, stride, padding, dilation, groups,
                        onednn=backend != "im2col_blas")


def _winograd_applies(weight, stride, padding, dilation, groups) -> bool:
    return (weight.dim() == 4 and tuple(weight.shape[2:]) == (3, 3) and set(stride) == {1}
            and set(dilation) == {1} and groups == 1 and all(a == b for a, b in padding)
            and weight.is_floating_point())


def _values_readable(*tensors) -> bool:
    """Can Python branch on these tensors' values? Not while ``torch.compile`` or
    ``jit.trace`` records, nor under ``vmap`` (tried: ``.item()`` raises there);
    ``grad``/``jvp`` wrappers can."""
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return False
    tensors = [t for t in tensors if t is not None]
    if not any(is_functorch_wrapped_tensor(t) for t in tensors):
        return True
    try:
        for t in tensors:
            if t.numel():
                t.reshape(-1)[0].item()
    except RuntimeError:
        return False
    return True


def _max_abs(t) -> float:
    """``max |t|`` as a Python float; ``inf`` if ``t`` holds an ``inf`` or a ``nan``."""
    hi, lo = t.amax().item(), t.amin().item()  # two passes, no temporary tensor
    return max(hi, -lo) if math.isfinite(hi) and math.isfinite(lo) else math.inf


def _winograd_keeps_finite(x, weight, bias, tile) -> bool:
    """May F(tile x tile, 3 x 3) run? Every value finite, and the largest magnitude any
    partial sum can reach (:data:`~convlab.winograd_fast.GROWTH`) below the dtype's maximum."""
    if x.numel() == 0:
        return False
    bound = GROWTH[tile] * x.shape[1] * _max_abs(x) * _max_abs(weight)
    if bias is not None:
        bound += _max_abs(bias)
    return bound < torch.finfo(x.dtype).max  # False for inf (and nan)


def _all_finite(t) -> bool:
    """Every value of ``t`` finite? (A sum is finite only then; an overflow errs safe.)"""
    return cmath.isfinite(t.sum().item()) if t.is_floating_point() or t.is_complex() else True


def _aten_backend(x, weight, transposed, stride, padding, dilation, output_padding,
                  groups) -> str | None:
    """The name of the kernel ATen would pick for this call (``None`` if it cannot say).

    Complex convolutions run as real ones in PyTorch, so their real parts are asked."""
    real = [t.real if t.is_complex() else t for t in (x, weight)]
    try:
        backend = torch._C._select_conv_backend(
            *real, None, list(stride), [a for a, _ in padding], list(dilation), transposed,
            list(output_padding), groups, None)
    except (AttributeError, RuntimeError, TypeError):  # private API: absent or changed
        return None
    return "MkldnnTranspose" if backend.name == "???" else backend.name  # unnamed in 2.14


def _channels_last_like(t) -> bool:
    """``t.suggest_memory_format()`` is channels-last: c10's ``is_channels_last_strides``.

    Strides must grow from channels to width, height (depth) and batch; ties, such as a
    contiguous tensor with one channel, count as contiguous; empty tensors are contiguous.
    """
    if t.dim() not in (4, 5) or t.stride(1) == 0:
        return False
    lowest = 0
    for d in (1, *range(t.dim() - 1, 1, -1), 0):  # C, W, H (, D), N
        if t.shape[d] == 0 or t.stride(d) < lowest or (d == 0 and lowest == t.stride(1)):
            return False
        lowest = t.stride(d) * (t.shape[d] if t.shape[d] > 1 else 1)
    return True


def _memory_format(x, weight, transposed, stride, padding, dilation, output_padding, groups):
    """The memory format of PyTorch's output (ATen's ``determine_backend_memory_format``).

    Channels-last if the input or the weight is, unless the kernel ATen picks always writes
    contiguous outputs (its slow 3-D kernels, empty inputs) or cuDNN gets float64. Under
    ``torch.compile``, ``torch.func`` and ``jit.trace``: the input's and weight's rule alone.
    """
    if x.dim() not in (4, 5) or (x.is_contiguous() and weight.is_contiguous()):
        return torch.contiguous_format  # (contiguous tensors are never channels-last-like)
    if not (_channels_last_like(x) or _channels_last_like(weight)):
        return torch.contiguous_format
    fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
    if (torch.compiler.is_compiling() or torch.jit.is_tracing()
            or is_functorch_wrapped_tensor(x) or is_functorch_wrapped_tensor(weight)):
        return fmt
    backend = _aten_backend(x, weight, transposed, stride, padding, dilation, output_padding,
                            groups)
    if backend in _CONTIGUOUS_BACKENDS or (backend in ("Cudnn", "CudnnTranspose")
                                           and x.dtype == torch.float64):
        return torch.contiguous_format
    return fmt


def _autocast_dtype(input) -> torch.dtype | None:
    """The dtype ``torch.autocast`` has convolutions on ``input``'s device compute in, or
    ``None`` when autocast is off there (or does not know the device)."""
    if not isinstance(input, torch.Tensor):
        return None
    try:
        if not torch.is_autocast_enabled(input.device.type):
            return None
    except RuntimeError:  # e.g. meta tensors: autocast has no such device type
        return None
    return torch.get_autocast_dtype(input.device.type)


def _autocast_cast(dtype, *tensors):
    """Autocast's cast for convolutions: floating-point tensors to ``dtype``, except
    float64 (which autocast leaves alone); anything else unchanged."""
    return [t.to(dtype) if isinstance(t, torch.Tensor) and t.is_floating_point()
            and t.dtype != torch.float64 else t for t in tensors]


def _quiet_if_tracing(fn, *args):
    """``jit.trace`` warns at every Python ``if`` on a size; ours hold for every shape."""
    if not torch.jit.is_tracing():
        return fn(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return fn(*args)


def conv_nd(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, dims=2):
    """``conv{dims}d``: autocast, checks, a backend choice, PyTorch's memory format, and the
    unbatched case.

    Shape:
        - Input: :math:`(N, C_\\text{in}, *S_\\text{in})` or unbatched
        - Weight: :math:`(C_\\text{out}, C_\\text{in}/G, *k)`
        - Output: :math:`(N, C_\\text{out}, *S_\\text{out})` or unbatched
    """
    dtype = _autocast_dtype(input)
    if dtype is not None:  # PyTorch's autocast rule for convolutions: compute in its dtype
        with torch.autocast(input.device.type, enabled=False):
            return conv_nd(*_autocast_cast(dtype, input, weight, bias), stride, padding,
                           dilation, groups, dims)
    return _quiet_if_tracing(_conv_nd, input, weight, bias, stride, padding, dilation, groups,
                             dims)


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, dims):
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups, dims=dims)
    x, stride, pads, dilation, groups = (args.input, args.stride, args.padding, args.dilation,
                                         args.groups)
    if x.numel() == 0:  # an empty batch or no input channels: PyTorch's "empty" backend
        return empty_conv_output(args, weight, bias)
    if x.dtype == torch.complex32:  # no complex32 GEMM on the CPU: compute in complex64
        x, weight, bias = upcast_complex32(x, weight, bias)
    backend = _choose_backend(x, weight, bias, stride, pads, dilation, groups)
    out = _run_backend(backend, x, weight, bias, stride, pads, dilation, groups)
    fmt = _memory_format(args.input, weight, False, stride, pads, dilation, (0,) * dims, groups)
    out = out.to(args.input.dtype).contiguous(memory_format=fmt)
    return out.squeeze(0) if args.unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Drop-in for ``torch.nn.functional.conv1d``: input ``(N, C_in, L)`` or ``(C_in, L)``."""
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, dims=1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Drop-in for ``torch.nn.functional.conv2d``: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``."""
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, dims=2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Drop-in for ``torch.nn.functional.conv3d``: input ``(N, C_in, D, H, W)`` or unbatched."""
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, dims=3)


def conv_transpose_nd(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                      groups=1, dilation=1, dims=2):
    """``conv_transpose{dims}d``: autocast, checks, then one of two formulations (chapter 6).

    With stride 1 it is an ordinary convolution of the padded input with the kernel
    flipped in space and in/out channels swapped per group. With a stride, inserting
    ``s - 1`` zeros between input samples would make that convolution multiply mostly
    zeros, so every input value instead stamps the kernel into the output
    (``_conv_transpose_scatter``), which also serves non-finite weights: PyTorch's
    transposed kernels never multiply padding, and the scatter does not either.

    Shape:
        - Input: :math:`(N, C_\\text{in}, *S_\\text{in})` or :math:`(C_\\text{in}, *S_\\text{in})`
        - Weight: :math:`(C_\\text{in}, C_\\text{out}/G, *k)`
        - Output: :math:`S_\\text{out} = (S_\\text{in} - 1) s - 2p + d (k - 1) + p_\\text{out} + 1`
    """
    dtype = _autocast_dtype(input)
    if dtype is not None:  # PyTorch's autocast rule for convolutions: compute in its dtype
        with torch.autocast(input.device.type, enabled=False):
            return conv_transpose_nd(*_autocast_cast(dtype, input, weight, bias), stride,
                                     padding, output_padding, groups, dilation, dims)
    return _quiet_if_tracing(_conv_transpose_nd, input, weight, bias, stride, padding,
                             output_padding, groups, dilation, dims)


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation,
                       dims):
    args = parse_conv_transpose_args(input, weight, bias, stride, padding, output_padding,
                                     groups, dilation, dims=dims)  # chapter 6's checks, N-d
    x, unbatched, stride, padding, output_padding, dilation, groups = args
    if x.numel() == 0:  # an empty batch: PyTorch's "empty" backend (its strides included)
        sizes = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d in zip(
            x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)]
        out = empty_output(x, weight, bias, weight.shape[1] * groups, sizes).to(x.dtype)
        return out.squeeze(0) if unbatched else out
    dtype = x.dtype
    x, weight, bias = upcast_complex32(x, weight, bias)  # no complex32 GEMM on the CPU
    bias = None if bias is None else bias.to(x.dtype)  # (N, C_in, *S_in) and (C_out,)
    # zero insertion would multiply mostly zeros; padding must not multiply an inf weight
    if any(s > 1 for s in stride) or (_values_readable(weight) and not _all_finite(weight)):
        out = _conv_transpose_scatter(x, weight, bias, stride, padding, output_padding, groups,
                                      dilation)
    else:
        out = _conv_transpose_as_conv(x, weight, bias, padding, output_padding, groups, dilation)
    fmt = _memory_format(args.input, weight, True, stride, [(p, p) for p in padding], dilation,
                         output_padding, groups)
    out = out.to(dtype).contiguous(memory_format=fmt)
    return out.squeeze(0) if unbatched else out


def _conv_transpose_as_conv(x, weight, bias, padding, output_padding, groups, dilation):
    """Stride 1: pad by ``d (k - 1) - p`` (``output_padding`` more after; negative crops) and
    run an ordinary convolution, kernel flipped, in/out channels swapped per group."""
    C_in, kernel, dims = x.shape[1], weight.shape[2:], x.dim() - 2
    pads = [(dl * (k - 1) - p, dl * (k - 1) - p + op)
            for k, p, op, dl in zip(kernel, padding, output_padding, dilation)]
    x = F.pad(x, [q for pair in reversed(pads) for q in pair])
    # (C_in, C_out/G, *k) -> (G, C_in/G, C_out/G, *k) -> (C_out, C_in/G, *k), flipped
    w = weight.reshape(groups, C_in // groups, *weight.shape[1:]).transpose(1, 2)
    w = w.reshape(-1, C_in // groups, *kernel).flip(list(range(2, 2 + dims)))
    return _conv_nd(x, w, bias, 1, 0, dilation, groups, dims)


def _conv_transpose_scatter(x, weight, bias, stride, padding, output_padding, groups,
                            dilation):
    """Strided case (or a non-finite weight): every input value stamps the kernel into the
    output.

    ``cols[n, o, *u, *i'] = sum_c w[c, o, *u] x[n, c, *i']`` is one GEMM per group; one
    ``scatter_add`` then adds each ``cols`` value into ``y[n, o, s*i' + d*u]``, and the
    padding is cropped. The work is a ``prod(stride)``-th of the zero-insertion
    convolution's. Where :func:`convlab.gemm.onednn_applies`, the GEMMs run on oneDNN, a
    chunk of images at a time (:func:`_stamp_on_onednn`).
    """
    N, C_in, *S = x.shape
    kernel, G, C_og = weight.shape[2:], groups, weight.shape[1]
    w = weight.reshape(G, C_in // G, C_og * math.prod(kernel)).transpose(1, 2)  # (G, C_og*K, C_ig)
    full = [(i - 1) * s + dl * (k - 1) + 1 + op
            for i, s, dl, k, op in zip(S, stride, dilation, kernel, output_padding)]
    where = _stamp_positions(kernel, S, stride, dilation, full, x.device)  # (K*L_in,)
    if gemm.onednn_applies(x, weight, bias) and w.shape[1] * w.shape[2] >= ONEDNN_MIN_GEMM:
        out = _stamp_on_onednn(x, w, C_og, where, math.prod(full))
    else:
        cols = torch.matmul(w, x.reshape(N, G, C_in // G, math.prod(S)))  # (N, G, C_og*K, L_in)
        out = x.new_zeros(N, G * C_og, math.prod(full)).scatter_add(
            2, where.expand(N, G * C_og, -1), cols.reshape(N, G * C_og, -1))  # S_full flat
    out = out.view(N, G * C_og, *full)[(Ellipsis, *(slice(p, f - p)
                                                     for p, f in zip(padding, full)))]
    return out.contiguous() if bias is None else out + bias.view(-1, *[1] * len(S))


def _stamp_on_onednn(x, w, C_og, where, full):
    r"""``_conv_transpose_scatter``'s stamps with the GEMMs on oneDNN, a chunk of images
    and one group at a time (:func:`_conv_transpose_scatter` checked
    :func:`convlab.gemm.onednn_applies`).

    .. math::

        \text{cols}[(o, u), (n, i')] = \sum_c w[c, o, u]\, x[n, c, i'], \qquad
        y[n, o, s i' + d u] \mathrel{+}= \text{cols}[(o, u), (n, i')]

    ``w (C_og K, C_ig) @ x (C_ig, n L_in)`` for a chunk of ``n`` images (one image: a view
    of ``x``, no copy), then one ``scatter_add_`` at the flat positions ``where`` (shifted
    by ``full`` per image of the chunk). Chunks keep ``cols`` near ``ONEDNN_CHUNK_BYTES``
    with at least ``ONEDNN_MIN_COLUMNS`` columns.

    Shape: x (N, C_in, *S_in), w (G, C_og*K, C_ig), where (K*L_in,); output
    (N, G*C_og, full), ``full`` the flat size of the uncropped output.
    """
    N, L_in = x.shape[0], math.prod(x.shape[2:])
    G, rows, C_ig = w.shape  # rows = C_og * K
    x = x.reshape(N, G, C_ig, L_in)
    out = x.new_zeros(N, G * C_og, full)
    by_size = ONEDNN_CHUNK_BYTES // (rows * L_in * x.element_size())
    step = min(N, max(1, by_size, -(-ONEDNN_MIN_COLUMNS // L_in)))
    for i in range(0, N, step):
        n = min(step, N - i)
        images = torch.arange(n, device=x.device).view(1, n, 1) * full  # (1, n, 1)
        at = (where.view(-1, 1, L_in) + images).reshape(-1).expand(C_og, -1)  # (C_og, K*n*L_in)
        for g in range(G):
            # (C_ig, n*L_in): the images' columns side by side (a view for one image)
            x_g = x[i:i + n, g].transpose(0, 1).reshape(C_ig, n * L_in)
            cols = gemm.linear(w[g], x_g.T, checked=True)  # (C_og*K, n*L_in)
            cols = cols.view(C_og, -1)  # (C_og, K*n*L_in), in (u, image, i') order
            if n == 1:  # straight into the output's rows
                out[i, g * C_og:(g + 1) * C_og].scatter_add_(1, at, cols)
                continue
            stamps = x.new_zeros(C_og, n * full).scatter_add_(1, at, cols)
            out[i:i + n, g * C_og:(g + 1) * C_og] = stamps.view(C_og, n, full).transpose(0, 1)
    return out


def _stamp_positions(kernel, S, stride, dilation, full, device):
    """Flat index into ``full`` of ``s*i' + d*u`` for every ``(*u, *i')``, in that order."""
    dims, flat, size = len(S), torch.zeros((), dtype=torch.long, device=device), 1
    for d in reversed(range(dims)):  # row-major: the last dim varies fastest
        shape = [1] * (2 * dims)
        u = torch.arange(kernel[d], device=device).view(*shape[:d], -1, *shape[d + 1:])
        i = torch.arange(S[d], device=device).view(*shape[:dims + d], -1, *shape[dims + d + 1:])
        flat = flat + (stride[d] * i + dilation[d] * u) * size
        size *= full[d]
    return flat.expand(*kernel, *S).reshape(-1)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Drop-in for ``torch.nn.functional.conv_transpose1d``."""
    return conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, dims=1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Drop-in for ``torch.nn.functional.conv_transpose2d``."""
    return conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, dims=2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Drop-in for ``torch.nn.functional.conv_transpose3d``."""
    return conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, dims=3)


for _fn in (conv_nd, conv1d, conv2d, conv3d, conv_transpose_nd, conv_transpose1d,
            conv_transpose2d, conv_transpose3d):  # torch.jit.script's own "not supported"
    _fn.__script_unsupported = (f"convlab.functional.{_fn.__name__} is plain PyTorch code "
                                f"that TorchScript cannot compile; use torch.jit.trace or "
                                f"torch.compile")
