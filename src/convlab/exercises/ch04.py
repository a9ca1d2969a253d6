"""Chapter 4 exercises: im2col by hand, strided windows, FFT correlation, a Winograd tile."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..winograd import winograd_matrices
from .core import Case, Exercise, register


def _im2col_solution(x, kernel_size):
    C, H, W = x.shape
    k = kernel_size
    H_out, W_out = H - k + 1, W - k + 1
    taps = [x[:, u:u + H_out, v:v + W_out] for u in range(k) for v in range(k)]  # (C, H_out, W_out)
    return torch.stack(taps, 1).reshape(C * k * k, H_out * W_out)  # rows ordered (c, u, v)


def _im2col_cases():
    g = torch.Generator().manual_seed(4)
    shapes = [("one channel, 3x3", 1, 4, 5, 3), ("three channels, 2x2", 3, 5, 4, 2),
              ("kernel as large as the input", 2, 3, 3, 3), ("1x1 kernel", 4, 3, 2, 1)]
    cases = []
    for name, C, H, W, k in shapes:
        x = torch.randn(C, H, W, generator=g)
        cases.append(Case(name, (x, k), expected=F.unfold(x[None], k)[0],
                          hint="one column per output position (row-major), rows ordered "
                               "(channel, kernel row, kernel column) as F.unfold does"))
    return cases


register(Exercise(
    id="im2col_by_hand", chapter=4, title="im2col by hand",
    prompt="Write im2col(x, kernel_size) for an unbatched (C, H, W) input, a square kernel, "
           "stride 1 and no padding: a (C*k*k, H_out*W_out) matrix whose column l holds the "
           "receptive field of output position l, exactly as F.unfold(x[None], k)[0].",
    solution=_im2col_solution, cases=_im2col_cases,
    hint="slice the input once per kernel tap (i, j), then stack and reshape"))


def _windows_solution(x, kernel_size, stride):
    N, H, W, C = x.shape  # channels-last and contiguous
    k, s = kernel_size, stride
    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
    sN, sH, sW, sC = x.stride()
    return x.as_strided((N, H_out, W_out, k, k, C), (sN, s * sH, s * sW, sH, sW, sC))


def _windows_cases():
    g = torch.Generator().manual_seed(5)
    cases = []
    for name, (N, H, W, C), k, s in [("stride 1", (1, 5, 5, 2), 3, 1),
                                     ("stride 2", (2, 7, 6, 3), 3, 2),
                                     ("stride larger than kernel", (1, 9, 9, 1), 2, 3)]:
        x = torch.randn(N, H, W, C, generator=g)
        expected = F.unfold(x.permute(0, 3, 1, 2), k, stride=s)  # (N, C*k*k, L)
        H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
        expected = expected.view(N, C, k, k, H_out, W_out).permute(0, 4, 5, 2, 3, 1)
        cases.append(Case(name, (x, k, s), expected=expected,
                          hint="window (i, j) starts s*i rows and s*j columns in; "
                               "inside a window, taps are 1 row / 1 column apart"))
    return cases


register(Exercise(
    id="strided_windows", chapter=4, title="Windows as a strided view",
    prompt="Write windows(x, kernel_size, stride) for a contiguous channels-last (N, H, W, C) "
           "tensor: the (N, H_out, W_out, k, k, C) view of every window, with "
           "x.as_strided and no copy (no padding, dilation 1).",
    solution=_windows_solution, cases=_windows_cases,
    hint="the strides are (sN, s*sH, s*sW, sH, sW, sC)"))


def _fft_correlate1d_solution(x, w):
    size, k = len(x), len(w)
    y = torch.fft.irfft(torch.fft.rfft(x) * torch.fft.rfft(w, n=size).conj(), n=size)  # circular
    return y[:size - k + 1]  # the outputs that did not wrap around


def _fft_correlate1d_cases():
    g = torch.Generator().manual_seed(6)
    cases = []
    for name, size, k in [("short kernel", 16, 3), ("odd length", 11, 4), ("k = len(x)", 6, 6),
                       ("long kernel", 64, 31)]:
        x = torch.randn(size, dtype=torch.float64, generator=g)
        w = torch.randn(k, dtype=torch.float64, generator=g)
        cases.append(Case(name, (x, w), expected=F.conv1d(x[None, None], w[None, None])[0, 0],
                          hint="correlation = product with the *conjugate* kernel spectrum; "
                               "keep only the first len(x) - len(w) + 1 outputs"))
    return cases


register(Exercise(
    id="fft_correlate1d", chapter=4, title="Cross-correlation by FFT",
    prompt="Write fft_correlate1d(x, w): the valid cross-correlation of a 1-D signal x with a "
           "kernel w (F.conv1d's result, length len(x)-len(w)+1) using torch.fft, not a loop.",
    solution=_fft_correlate1d_solution, cases=_fft_correlate1d_cases,
    hint="pad the kernel's FFT to len(x) with rfft(w, n=len(x))", atol=1e-9, rtol=1e-9))


def _winograd_tile_solution(x_tile, w_tile):
    B_T, G, A_T = winograd_matrices(x_tile.dtype)
    U = G @ w_tile @ G.T  # (4, 4) transformed kernel
    V = B_T @ x_tile @ B_T.T  # (4, 4) transformed input tile
    return A_T @ (U * V) @ A_T.T  # (2, 2): 16 multiplications instead of 36


def _winograd_tile_cases():
    gen = torch.Generator().manual_seed(7)
    cases = [("ones", torch.ones(4, 4, dtype=torch.float64), torch.ones(3, 3, dtype=torch.float64))]
    cases += [(f"random tile {i}", torch.randn(4, 4, dtype=torch.float64, generator=gen),
               torch.randn(3, 3, dtype=torch.float64, generator=gen)) for i in range(3)]
    return [Case(name, (x_tile, w_tile),
                 expected=F.conv2d(x_tile[None, None], w_tile[None, None])[0, 0],
                 hint="y_tile = A^T [(G w_tile G^T) * (B^T x_tile B)] A with * element-wise")
            for name, x_tile, w_tile in cases]


register(Exercise(
    id="winograd_tile", chapter=4, title="One Winograd F(2x2, 3x3) tile",
    prompt="Write winograd_tile(x_tile, w_tile): the 2x2 output of a 3x3 kernel w_tile on a 4x4 "
           "input tile x_tile, "
           "computed with the transforms from convlab.winograd.winograd_matrices() "
           "(B^T, G, A^T) and one element-wise product.",
    solution=_winograd_tile_solution, cases=_winograd_tile_cases,
    hint="transform the kernel with G, the tile with B^T, multiply, come back with A^T",
    atol=1e-9, rtol=1e-9))
