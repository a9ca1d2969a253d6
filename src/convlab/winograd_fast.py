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

With gradients required (or under ``torch.func``, forward-mode AD, ``torch.compile`` or
``torch.jit.trace``), step 4's in-place writes are replaced by ordinary tensor ops, so
every transform sees the whole computation (:func:`convlab.gemm.can_write_out`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
import torch.nn.functional as F

from .gemm import can_write_out

# interpolation points per output tile size m (infinity is always the last point)
POINTS = {2: (0, 1, -1), 4: (0, 1, -1, 1 / 2, -2)}
CHUNK_BYTES = 2**21  # transformed tiles per chunk: about the size of one core's L2 cache


def cook_toom_matrices(points, r=3, dtype=torch.float64, device=None):
    r"""``(B^T, G, A^T)`` of F(m, r) on ``points`` and infinity; ``n = len(points) + 1``.

    With ``m = n - r + 1`` outputs, a 1-D tile is :math:`y = A^T[(G w) \odot (B^T \tilde x)]`
    for a length-``r`` kernel :math:`w` and a length-``n`` input tile :math:`\tilde x`:

    * :math:`A^T_{ij} = a_j^i` (the polynomial evaluated at each point), last column
      :math:`e_{m-1}` for infinity;
    * :math:`G_{jk} = a_j^k / \prod_{l \ne j} (a_j - a_l)` (Lagrange interpolation),
      last row :math:`e_{r-1}`;
    * :math:`B^T` is the unique matrix making the product a correlation,
      :math:`\sum_j A^T_{ij} G_{jk} B^T_{jl} = [l = i + k]`.

    All three are computed exactly, in rational arithmetic (``fractions.Fraction``), then
    rounded once to ``dtype``: no floating-point solver, and nothing for ``torch.compile``
    to trace. Shapes: ``B^T`` (n, n), ``G`` (n, r), ``A^T`` (m, n).
    """
    B_T, G, A_T = _exact_matrices(tuple(points), r)
    return tuple(torch.tensor([[float(v) for v in row] for row in M], dtype=dtype,
                              device=device) for M in (B_T, G, A_T))


def _exact_matrices(points, r=3):
    """:func:`cook_toom_matrices` as lists of rows of ``Fraction``."""
    a = [Fraction(p) for p in points]
    n = len(a) + 1
    m = n - r + 1
    A_T = [[a_j**i for a_j in a] + [int(i == m - 1)] for i in range(m)]
    G = [[a_j**k / math.prod(a_j - a_l for a_l in a if a_l != a_j) for k in range(r)]
         for a_j in a] + [[int(k == r - 1) for k in range(r)]]
    # B^T from sum_j A^T[i][j] G[j][k] B^T[j][l] = [l == i + k], one equation per (i, k)
    coef = [[A_T[i][j] * G[j][k] for j in range(n)] for i in range(m) for k in range(r)]
    target = [[int(l == i + k) for l in range(n)] for i in range(m) for k in range(r)]
    return _solve_exactly(coef, target), G, A_T


def _solve_exactly(coef, target):
    """``X`` with ``coef @ X == target`` (``coef`` of full column rank, the system
    consistent), by Gauss-Jordan elimination on fractions."""
    n = len(coef[0])
    rows = [list(c) + list(t) for c, t in zip(coef, target)]  # the augmented matrix
    for col in range(n):
        pivot = next(i for i in range(col, len(rows)) if rows[i][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for i, row in enumerate(rows):
            if i != col and row[col] != 0:
                rows[i] = [v - row[col] * p for v, p in zip(row, rows[col])]
    assert all(v == 0 for row in rows[n:] for v in row), "inconsistent Cook-Toom system"
    return [row[n:] for row in rows[:n]]


def growth(points, r=3) -> float:
    r"""How much F(m x m, r x r) on ``points`` can grow a value: no number it computes
    exceeds ``growth * C_in * max|x| * max|w|`` in magnitude.

    :math:`\lVert A^T \rVert_\infty^2 \lVert B^T \rVert_\infty^2 \lVert G \rVert_\infty^2`
    (largest absolute row sums): each 1-D transform multiplies the largest magnitude by
    at most its matrix's norm, each 2-D one by the square, and the ``C_in``-term sum of
    products of transformed tiles by ``C_in``. The direct sum's factor is ``r * r``.
    """
    norm = lambda M: max(sum(abs(v) for v in row) for row in M)
    return float(math.prod(norm(M) ** 2 for M in _exact_matrices(tuple(points), r)))


def _kron_form(points):
    """F(m x m, 3 x 3)'s ``B^T``, ``kron(G, G)`` and ``A^T`` in float64."""
    B_T, G, A_T = cook_toom_matrices(points)
    return B_T, torch.kron(G, G), A_T


_DEFAULT_MATRICES = {points: _kron_form(points) for points in POINTS.values()}  # at import
GROWTH = {m: growth(points) for m, points in POINTS.items()}  # per output tile size m


def _matrices(points, dtype, device):
    """``B^T``, ``kron(G, G)``, ``A^T`` in ``dtype`` on ``device``: the default points' are
    built once, at import (constants for ``torch.compile``); other points' on each call."""
    tables = _DEFAULT_MATRICES.get(points) or _kron_form(points)
    return tuple(t.to(dtype=dtype, device=device) for t in tables)


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

        U = G w G^T, \quad V = B^T \tilde x B, \quad M_\xi = V_\xi U_\xi\ (\xi \in n \times n),
        \quad Y = A^T M A

    where :math:`M_\xi` is one :math:`(\text{tiles}, C_\text{in}) \times (C_\text{in},
    C_\text{out})` GEMM per tile position :math:`\xi`. ``points`` (``tile + 1`` numbers)
    replace the default ``POINTS[tile]``. Non-finite or huge values change what is
    finite (``convlab.functional._choose_backend`` only calls it where they cannot).

    Shape:
        - x: :math:`(N, C_\text{in}, H, W)`, batched and already checked (``convlab.functional``)
        - weight: :math:`(C_\text{out}, C_\text{in}, 3, 3)`; padding: ``(p_H, p_W)`` on both sides
        - output: :math:`(N, C_\text{out}, H + 2p_H - 2, W + 2p_W - 2)`, contiguous
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
        d = xc.as_strided((n, n, b, t, T_w, C_in),  # every input tile, overlapping: a view
                          (sH, sW, sN, m * sH, m * sW, sC))  # (from xc's own storage offset)
        tiles = buffer("tiles", n, n * P * C_in)
        tiles = d.reshape(n, -1) if tiles is None else tiles.view(d.shape).copy_(d).view(n, -1)
        rows = torch.mm(B_T, tiles, out=buffer("rows", n, n * P * C_in))  # B^T d
        V = torch.matmul(B_T, rows.view(n, n, -1), out=buffer("tiles", n, n, P * C_in))  # .. B
        M = torch.bmm(V.view(n * n, P, C_in), U, out=buffer("products", n * n, P, C_out))
        rows = torch.mm(A_T, M.view(n, -1), out=buffer("rows_out", m, n * P * C_out))  # A^T M
        Y = torch.matmul(A_T, rows.view(m, n, -1), out=buffer("out_tiles", m, m, P * C_out))
        return Y.view(m, m, b, t, T_w, C_out).permute(2, 5, 3, 0, 4, 1)

    if not can_write_out(x, weight, bias):  # autograd, torch.func, compile: no out=
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
