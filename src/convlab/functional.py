"""N-d drop-ins for ``torch.nn.functional``'s convolutions, built from tensor primitives.

One implementation serves every rank: ``conv1d``, ``conv2d`` and ``conv3d`` are
:func:`conv_nd` with ``dims`` = 1, 2, 3, and the three transposed convolutions are
:func:`conv_transpose_nd`. For a ``d``-dimensional convolution with groups ``G``:

.. math::

    \\text{out}[n, c_o, \\mathbf{o}] = b[c_o] + \\sum_{c_i \\in \\text{group}(c_o)}
    \\sum_{\\mathbf{k}} w[c_o, c_i, \\mathbf{k}]\\;
    x_\\text{pad}[n, c_i, \\mathbf{s} \\odot \\mathbf{o} + \\mathbf{d} \\odot \\mathbf{k}]

Like PyTorch, :func:`conv_nd` picks a backend per call:

* **im2col** (every case): pad, ``unfold`` every spatial dim into windows, copy them into
  ``(prod(k)*C_in/G, L)`` column matrices, then GEMMs whose output is already NCHW;
* **Winograd** F(4x4, 3x3) or F(2x2, 3x3) (``convlab.winograd_fast``; chapter 4 builds
  F(2x2, 3x3)) for float32 3x3 stride-1 convolutions with many channels
  (``_choose_backend``).

Gradients come from autograd over these tensor ops. No PyTorch conv kernel is called.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import parse_conv_args
from .pooling import avg_pool2d, max_pool2d
from .transposed import parse_conv_transpose_args
from .winograd_fast import needs_grad, winograd_conv2d

# "auto" picks per call (see _choose_backend); a name from BACKENDS forces one (benchmarks)
BACKEND = "auto"
BACKENDS = ("im2col", "winograd2", "winograd4")  # winograd<m>: F(m x m, 3 x 3)
PER_IMAGE_GEMM_MIN_L = 128  # output positions per image from which im2col's GEMMs go per image
IM2COL_CHUNK_BYTES = 2**24  # columns per chunk of images, when not differentiating

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv_nd", "conv_transpose_nd", "avg_pool2d", "max_pool2d"]


def _conv_im2col(x, weight, bias, stride, padding, dilation, groups):
    """im2col + GEMM; any stride, padding, dilation, groups and rank; NCHW in and out.

    ``unfold`` views every window; one copy lays them out as the columns of a
    ``(K, L)`` matrix per image and group, ``K = (C_in/G) prod(k)`` in the weight's own
    ``(c, *k)`` order, so ``W (C_out/G, K) @ cols (K, L)`` is already ``(C_out, *S_out)``:
    no transpose of the output. Small images (a short ``L``) make thin per-image GEMMs;
    there the batch goes into the columns instead, ``(K, N*L)``, and the output is
    transposed once.
    """
    N, C_in, *S = x.shape
    d, C_out, G, K = len(S), weight.shape[0], groups, weight[0].numel()
    flat = [p for pair in reversed(padding) for p in pair]
    cols = F.pad(x, flat) if any(flat) else x  # (N, C_in, *S_pad)
    for i, (k, s, dl) in enumerate(zip(weight.shape[2:], stride, dilation)):
        cols = cols.unfold(2 + i, dl * (k - 1) + 1, s)  # (N, C_in, *O, *K_eff) when done
    cols = cols[(Ellipsis, *(slice(None, None, dl) for dl in dilation))]  # (N, C_in, *O, *k)
    O = cols.shape[2:2 + d]
    L, window = math.prod(O), [*range(3 + d, 3 + 2 * d)]  # window: the kernel dims after unflatten
    cols = cols.unflatten(1, (G, C_in // G))  # (N, G, C_in/G, *O, *k), a view
    w = weight.reshape(G, C_out // G, K)  # (G, C_out/G, K)
    b = None if bias is None else bias.view(G, C_out // G, 1)
    if L >= PER_IMAGE_GEMM_MIN_L:  # per image and group: (C_out/G, K) @ (K, L)
        cols = cols.permute(0, 1, 2, *window, *range(3, 3 + d))  # (N, G, K..., L...), a view
        step = max(1, IM2COL_CHUNK_BYTES // (G * K * L * x.element_size()))
        if step >= N or needs_grad(x, weight, bias):  # all at once
            return _per_image_gemm(cols, w, b, L).view(N, C_out, *O)
        out = x.new_empty(N, C_out, *O)  # a few images at a time: their columns stay in cache
        for i in range(0, N, step):
            _per_image_gemm(cols[i:i + step], w, b, L, out=out[i:i + step].view(-1, C_out // G, L))
        return out
    # per group, the batch in the columns: (C_out/G, K) @ (K, N*L)
    cols = cols.permute(1, 2, *window, 0, *range(3, 3 + d)).reshape(G, K, N * L)  # copy
    out = torch.bmm(w, cols) if b is None else torch.baddbmm(b, w, cols)  # (G, C_out/G, N*L)
    return out.view(C_out, N, *O).movedim(1, 0).contiguous()  # (N, C_out, *O)


def _per_image_gemm(cols, w, b, L, out=None):
    """``(N*G, C_out/G, L)`` = ``w (G, C_out/G, K) @ cols (N, G, K..., L...)``, + ``b``."""
    N, G = cols.shape[:2]
    cols = cols.reshape(N * G, w.shape[2], L)  # (N*G, K, L): the im2col copy
    w = w.expand(N, -1, -1, -1).reshape(N * G, *w.shape[1:])  # a view when G == 1
    if b is None:
        return torch.bmm(w, cols, out=out)
    b = b.expand(N, -1, -1, -1).reshape(N * G, w.shape[1], 1)
    return torch.baddbmm(b, w, cols, out=out)


def _choose_backend(x, weight, stride, padding, dilation, groups) -> str:
    """Like ATen's ``select_conv_backend``, on measurements (``benchmarks/functional.py``).

    Winograd's F(4x4, 3x3) does 4x fewer multiplications than im2col and F(2x2, 3x3)
    2.25x, but their GEMMs are short (``C_in`` deep), so they only pay with enough input
    channels; their tiles also waste work at the border of a small image (a 14x14 output
    needs 16x16 with 4x4 tiles, a 7x7 one 8x8 with either), where the transforms of a big
    kernel cost more than they save. im2col does everything else.
    """
    if not _winograd_applies(weight, stride, padding, dilation, groups):
        return "im2col"
    if BACKEND != "auto":  # forced, e.g. by the benchmark
        return BACKEND
    if weight.shape[1] < 64 or x.dtype != torch.float32:  # where it measured faster (CPU)
        return "im2col"
    H_out, W_out = (s + 2 * p - 2 for s, (p, _) in zip(x.shape[2:], padding))
    if min(H_out, W_out) >= 16:
        return "winograd4"
    return "winograd2" if min(H_out, W_out) >= 8 else "im2col"


def _winograd_applies(weight, stride, padding, dilation, groups) -> bool:
    return (weight.dim() == 4 and tuple(weight.shape[2:]) == (3, 3) and set(stride) == {1}
            and set(dilation) == {1} and groups == 1 and all(a == b for a, b in padding)
            and weight.is_floating_point())


def conv_nd(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, dims=2):
    """``conv{dims}d``: checks, a backend choice, and the unbatched case.

    Shape:
        - Input: :math:`(N, C_{in}, *S_{in})` or :math:`(C_{in}, *S_{in})`
        - Weight: :math:`(C_{out}, C_{in}/G, *k)`
        - Output: :math:`(N, C_{out}, *S_{out})` or :math:`(C_{out}, *S_{out})`
    """
    if _is_complex32(input, weight, bias):  # no complex32 GEMM on the CPU: go via complex64
        return conv_nd(*_upcast(input, weight, bias), stride, padding, dilation, groups,
                       dims).to(torch.complex32)
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups, dims=dims)
    x, stride, pads = args.input, args.stride, args.padding
    backend = _choose_backend(x, weight, stride, pads, args.dilation, args.groups)
    if backend.startswith("winograd"):  # winograd2 / winograd4: the output tile size
        out = winograd_conv2d(x, weight, bias, [a for a, _ in pads], tile=int(backend[-1]))
    else:
        out = _conv_im2col(x, weight, bias, stride, pads, args.dilation, args.groups)
    return out.squeeze(0) if args.unbatched else out


def _is_complex32(*tensors) -> bool:
    return all(isinstance(t, torch.Tensor) and t.dtype == torch.complex32
               for t in tensors if t is not None)


def _upcast(*tensors):
    return [None if t is None else t.to(torch.complex64) for t in tensors]


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
    """``conv_transpose{dims}d``: checks, then one of two formulations (chapter 6).

    With stride 1 it is an ordinary convolution of the padded input with the kernel
    flipped in space and in/out channels swapped per group. With a stride, inserting
    ``s - 1`` zeros between input samples would make that convolution multiply mostly
    zeros, so every input value instead stamps the kernel into the output
    (``_conv_transpose_scatter``).

    Shape:
        - Input: :math:`(N, C_{in}, *S_{in})` or :math:`(C_{in}, *S_{in})`
        - Weight: :math:`(C_{in}, C_{out}/G, *k)`
        - Output: :math:`S_{out} = (S_{in} - 1) s - 2p + d (k - 1) + \\text{output\\_padding} + 1`
    """
    if _is_complex32(input, weight, bias):  # no complex32 GEMM on the CPU: go via complex64
        return conv_transpose_nd(*_upcast(input, weight, bias), stride, padding, output_padding,
                                 groups, dilation, dims).to(torch.complex32)
    args = parse_conv_transpose_args(input, weight, bias, stride, padding, output_padding,
                                     groups, dilation, dims=dims)  # chapter 6's checks, N-d
    x, unbatched, stride, padding, output_padding, dilation, groups = args
    bias = None if bias is None else bias.to(x.dtype)  # (N, C_in, *S_in) and (C_out,)
    # zero insertion would multiply mostly zeros; an empty batch may have empty outputs
    if any(s > 1 for s in stride) or x.shape[0] == 0:
        out = _conv_transpose_scatter(x, weight, bias, stride, padding, output_padding, groups,
                                      dilation)
    else:
        out = _conv_transpose_as_conv(x, weight, bias, padding, output_padding, groups, dilation)
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
    return conv_nd(x, w, bias, 1, 0, dilation, groups, dims=dims)


def _conv_transpose_scatter(x, weight, bias, stride, padding, output_padding, groups,
                            dilation):
    """Strided (or empty-batch) case: every input value stamps the kernel into the output.

    ``cols[n, c_o, *k, *i] = sum_{c_i} w[c_i, c_o, *k] x[n, c_i, *i]`` is one GEMM per
    group; one ``scatter_add`` then adds each ``cols`` value into
    ``out[n, c_o, s*i + d*k]``, and the padding is cropped. The work is a
    ``prod(stride)``-th of the zero-insertion convolution's.
    """
    N, C_in, *S = x.shape
    kernel, G, C_og = weight.shape[2:], groups, weight.shape[1]
    w = weight.reshape(G, C_in // G, C_og * math.prod(kernel)).transpose(1, 2)  # (G, C_og*K, C_ig)
    cols = torch.matmul(w, x.reshape(N, G, C_in // G, math.prod(S)))  # (N, G, C_og*K, L_in)
    full = [(i - 1) * s + dl * (k - 1) + 1 + op
            for i, s, dl, k, op in zip(S, stride, dilation, kernel, output_padding)]
    where = _stamp_positions(kernel, S, stride, dilation, full, x.device)  # (K*L_in,)
    out = x.new_zeros(N, G * C_og, math.prod(full)).scatter_add(
        2, where.expand(N, G * C_og, -1), cols.reshape(N, G * C_og, len(where)))  # S_full flat
    out = out.view(N, G * C_og, *full)[(Ellipsis, *(slice(p, f - p)
                                                     for p, f in zip(padding, full)))]
    return out.contiguous() if bias is None else out + bias.view(-1, *[1] * len(S))


def _stamp_positions(kernel, S, stride, dilation, full, device):
    """Flat index into ``full`` of ``s*i + d*k`` for every ``(*k, *i)``, in that order."""
    dims, flat, size = len(S), torch.zeros((), dtype=torch.long, device=device), 1
    for d in reversed(range(dims)):  # row-major: the last dim varies fastest
        shape = [1] * (2 * dims)
        k = torch.arange(kernel[d], device=device).view(*shape[:d], -1, *shape[d + 1:])
        i = torch.arange(S[d], device=device).view(*shape[:dims + d], -1, *shape[dims + d + 1:])
        flat = flat + (stride[d] * i + dilation[d] * k) * size
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
