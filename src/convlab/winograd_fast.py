"""Winograd F(m x m, 3 x 3) for any output tile ``m``: the 3x3 backend of ``convlab.functional``.

Chapter 4's :func:`convlab.winograd.conv2d_winograd` is F(2x2, 3x3), written to be read.
This module is the same algorithm built for speed, in four steps:

1. **Bigger tiles.** F(m x m, 3 x 3) reads an ``n x n`` input tile, ``n = m + 2``, and
   multiplies ``n^2`` numbers per channel pair for ``m^2`` outputs: 16/4 = 4 for
   F(2x2, 3x3), 36/16 = 2.25 for F(4x4, 3x3), against 9 for the direct sum. The matrices
   come from the Cook-Toom construction (:func:`cook_toom_matrices`) on ``n - 1`` points
   and infinity (Lavin & Gray, 2016). The points decide how much float32 accuracy is lost
   (Barabasz et al., 2020); of the sets we measured for F(4x4, 3x3), ``0, 1, -1, 1/2, -2``
   lost the least (chapter 7 compares it with Lavin and Gray's ``0, ±1, ±2``). Bigger
   tiles lose more, so we stop at 4.
2. **One side at a time.** ``B^T d B`` is two products by an ``n x n`` matrix, ``2n``
   multiply-adds per value instead of the ``n^2`` of the Kronecker form
   ``(B^T ⊗ B^T) vec(d)`` that chapter 4 uses.
3. **Chunks.** The transformed tiles take ``(n/m)^2`` times the input's memory; a few
   images at a time (or a few rows of tiles of a big image) keep them in the CPU's cache,
   and every chunk reuses the same scratch buffers (``_Workspace``).
4. **One write of the output.** The inverse transform lands straight in an NCHW tensor,
   bias added on the way, instead of a permute, a copy and an addition.

With gradients required, step 4's in-place write is replaced by ordinary tensor ops, so
autograd differentiates the whole computation.
"""

from __future__ import annotations

import math
from functools import cache

import torch
import torch.nn.functional as F

# interpolation points per output tile size m (infinity is always the last point)
POINTS = {2: (0, 1, -1), 4: (0, 1, -1, 1 / 2, -2)}
CHUNK_BYTES = 2**21  # transformed tiles per chunk: about the size of one core's L2 cache


def cook_toom_matrices(points, r=3, dtype=torch.float64, device=None):
    r"""``(B^T, G, A^T)`` of F(m, r) on ``points`` and infinity; ``n = len(points) + 1``.

    With ``m = n - r + 1`` outputs, a 1-D tile is :math:`y = A^T[(G g) \odot (B^T d)]` for
    a length-``r`` kernel ``g`` and a length-``n`` input ``d``:

    * :math:`A^T_{ij} = a_j^i` (the polynomial evaluated at each point), last column
      :math:`e_{m-1}` for infinity;
    * :math:`G_{jk} = a_j^k / \prod_{l \ne j} (a_j - a_l)` (Lagrange interpolation),
      last row :math:`e_{r-1}`;
    * :math:`B^T` is the unique matrix making the product a correlation,
      :math:`\sum_j A^T_{ij} G_{jk} B^T_{jl} = [l = i + k]`, solved here in float64.

    Shapes: ``B^T`` (n, n), ``G`` (n, r), ``A^T`` (m, n). 2-D tiles use each on both sides.
    """
    a = torch.tensor(points, dtype=torch.float64)
    n = len(points) + 1
    m = n - r + 1
    A_T = torch.zeros(m, n, dtype=torch.float64)
    A_T[:, :-1] = a ** torch.arange(m, dtype=torch.float64)[:, None]
    A_T[-1, -1] = 1
    others = a[:, None] - a[None, :] + torch.eye(n - 1, dtype=torch.float64)  # 1 on diagonal
    G = torch.zeros(n, r, dtype=torch.float64)
    G[:-1] = a[:, None] ** torch.arange(r, dtype=torch.float64) / others.prod(1)[:, None]
    G[-1, -1] = 1
    coef = torch.einsum("ij,jk->ikj", A_T, G).reshape(m * r, n)  # row (i, k), column j
    target = torch.zeros(m, r, n, dtype=torch.float64)  # [l == i + k]
    for i in range(m):
        target[i, torch.arange(r), i + torch.arange(r)] = 1
    B_T = torch.linalg.lstsq(coef, target.reshape(m * r, n)).solution  # consistent: exact
    return tuple(t.to(dtype=dtype, device=device) for t in (B_T, G, A_T))


@cache
def _matrices(points, dtype, device):
    """F(m x m, 3 x 3)'s ``B^T``, ``kron(G, G)`` and ``A^T``, built once per set of points."""
    with torch.inference_mode(False):  # plain tensors, usable by autograd later
        B_T, G, A_T = cook_toom_matrices(points, dtype=dtype, device=device)
        return B_T, torch.kron(G, G), A_T


def needs_grad(*tensors) -> bool:
    """Will autograd record an op on these tensors? (Then no in-place ``out=`` writes.)"""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


class _Workspace:
    """Named scratch buffers, reused by every chunk: no allocation, and memory still in cache.

    ``buffer(name, *shape)`` is a view of the first ``prod(shape)`` elements of buffer
    ``name``, which is allocated by the first (largest) request.
    """

    def __init__(self, like):
        self.like, self.buffers = like, {}

    def __call__(self, name, *shape):
        size = math.prod(shape)
        if name not in self.buffers:
            self.buffers[name] = self.like.new_empty(size)
        return self.buffers[name][:size].view(shape)


def _chunks(N, T_h, bytes_per_tile_row, chunk_bytes):
    """``(images, tile_rows)`` slices covering ``N`` images of ``T_h`` rows of tiles, each
    about ``chunk_bytes``: whole images when one fits, else a few rows of one image."""
    rows = max(1, chunk_bytes // bytes_per_tile_row)
    if rows >= T_h:  # whole images, several at a time
        step = rows // T_h
        return [(slice(i, i + step), slice(0, T_h)) for i in range(0, N, step)]
    return [(slice(i, i + 1), slice(r, min(r + rows, T_h)))
            for i in range(N) for r in range(0, T_h, rows)]


def winograd_conv2d(x, weight, bias=None, padding=(0, 0), tile=4, points=None,
                    chunk_bytes=CHUNK_BYTES):
    r"""3x3, stride-1 cross-correlation by Winograd's F(tile x tile, 3 x 3), NCHW output.

    .. math::

        U = G g G^T, \quad V = B^T d B, \quad M_\xi = V_\xi U_\xi\ (\xi \in n \times n),
        \quad Y = A^T M A

    where ``M_ξ`` is one ``(tiles, C_in) @ (C_in, C_out)`` GEMM per tile position ``ξ``.
    ``points`` (``tile + 1`` numbers) replace the default ``POINTS[tile]``.

    Shape:
        - x: :math:`(N, C_{in}, H, W)`, batched and already checked (``convlab.functional``)
        - weight: :math:`(C_{out}, C_{in}, 3, 3)`; padding: ``(p_h, p_w)`` on both sides
        - output: :math:`(N, C_{out}, H + 2p_h - 2, W + 2p_w - 2)`, contiguous
    """
    N, C_in, H, W = x.shape
    points = POINTS[tile] if points is None else tuple(points)
    C_out, m, n = weight.shape[0], len(points) - 1, len(points) + 1
    B_T, G2, A_T = _matrices(points, x.dtype, x.device)  # G2 = kron(G, G): (n*n, 9)
    (p_h, p_w) = padding
    H_out, W_out = H + 2 * p_h - 2, W + 2 * p_w - 2
    T_h, T_w = -(-H_out // m), -(-W_out // m)  # tiles per column and row, the last may stick out
    U = (G2 @ weight.reshape(C_out * C_in, 9).T).view(n * n, C_out, C_in).transpose(1, 2)
    x = F.pad(x.permute(0, 2, 3, 1),  # (N, m T_h + 2, m T_w + 2, C_in), channels-last
              (0, 0, p_w, p_w + m * T_w - W_out, p_h, p_h + m * T_h - H_out)).contiguous()

    def tiles_out(xc, buffer):  # (b, m t + 2, W_pad, C_in) -> (b, C_out, t, m, T_w, m), a view
        b, t, (sN, sH, sW, sC) = len(xc), (xc.shape[1] - 2) // m, xc.stride()
        P = b * t * T_w  # tiles in this chunk
        d = xc.as_strided((n, n, b, t, T_w, C_in), (sH, sW, sN, m * sH, m * sW, sC),
                          xc.storage_offset())  # every input tile, overlapping: a view
        tiles = buffer("tiles", n, n * P * C_in)
        tiles = d.reshape(n, -1) if tiles is None else tiles.view(d.shape).copy_(d).view(n, -1)
        rows = torch.mm(B_T, tiles, out=buffer("rows", n, n * P * C_in))  # B^T d
        V = torch.matmul(B_T, rows.view(n, n, -1), out=buffer("tiles", n, n, P * C_in))  # .. B
        M = torch.bmm(V.view(n * n, P, C_in), U, out=buffer("products", n * n, P, C_out))
        rows = torch.mm(A_T, M.view(n, -1), out=buffer("rows_out", m, n * P * C_out))  # A^T M
        Y = torch.matmul(A_T, rows.view(m, n, -1), out=buffer("out_tiles", m, m, P * C_out))
        return Y.view(m, m, b, t, T_w, C_out).permute(2, 5, 3, 0, 4, 1)

    if needs_grad(x, weight, bias):  # autograd: no out=
        out = tiles_out(x, lambda *request: None).reshape(N, C_out, m * T_h, m * T_w)
        out = out[..., :H_out, :W_out]
        return (out if bias is None else out + bias.view(-1, 1, 1)).contiguous()
    out = x.new_empty(N, C_out, m * T_h, m * T_w)
    buffer = _Workspace(x)  # the first chunk is the biggest; the others reuse its memory
    for images, tile_rows in _chunks(N, T_h, n * n * T_w * max(C_in, C_out) * x.element_size(),
                                     chunk_bytes):  # V and M of a chunk stay in cache
        rows = slice(m * tile_rows.start, m * tile_rows.stop)
        xc = x[images, rows.start:rows.stop + 2]  # (b, m t + 2, W_pad, C_in), a view
        o = out[images, :, rows].unflatten(2, (-1, m)).unflatten(4, (T_w, m))  # a view
        if bias is None:
            o.copy_(tiles_out(xc, buffer))
        else:
            torch.add(tiles_out(xc, buffer), bias.view(-1, 1, 1, 1, 1), out=o)
    return out if (m * T_h, m * T_w) == (H_out, W_out) else out[..., :H_out, :W_out].contiguous()
