"""Winograd F(m x m, 3 x 3), the 3x3 backend of convlab.functional, against F.conv2d."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import winograd_fast
from convlab.winograd import winograd_matrices
from convlab.winograd_fast import cook_toom_matrices, winograd_conv2d


@pytest.mark.parametrize("points", [(0, 1, -1), (0, 1, -1, 1 / 2, -2), (0, 1, -1, 2, -2),
                                    (0, 1, -1, 2), (0, 1, -1, 2, -2, 1 / 2, -1 / 2)])
def test_cook_toom_tile_is_a_correlation(points):
    B_T, G, A_T = cook_toom_matrices(points)
    n, m = len(points) + 1, len(points) - 1
    assert B_T.shape == (n, n) and G.shape == (n, 3) and A_T.shape == (m, n)
    d, g = torch.randn(n, n, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    tile = A_T @ ((G @ g @ G.T) * (B_T @ d @ B_T.T)) @ A_T.T  # (m, m)
    exact = F.conv2d(d[None, None], g[None, None])[0, 0]
    torch.testing.assert_close(tile, exact, rtol=1e-12, atol=1e-12)


def test_two_point_matrices_do_what_chapter_4s_do():
    d, g = torch.randn(4, 4, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    tiles = []
    for B_T, G, A_T in (cook_toom_matrices((0, 1, -1)), winograd_matrices()):
        tiles.append(A_T @ ((G @ g @ G.T) * (B_T @ d @ B_T.T)) @ A_T.T)
    torch.testing.assert_close(*tiles, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(N=st.integers(1, 3), C_in=st.integers(1, 6), C_out=st.integers(1, 6),
       H=st.integers(1, 13), W=st.integers(1, 13), p_h=st.integers(0, 2), p_w=st.integers(0, 2),
       tile=st.sampled_from([2, 4]), use_bias=st.booleans(), chunk=st.sampled_from([1, 2**21]))
def test_matches_torch_in_float64(N, C_in, C_out, H, W, p_h, p_w, tile, use_bias, chunk):
    if H + 2 * p_h < 3 or W + 2 * p_w < 3:
        return  # the kernel does not fit: functional.conv2d raises before getting here
    x = torch.randn(N, C_in, H, W, dtype=torch.float64)
    w = torch.randn(C_out, C_in, 3, 3, dtype=torch.float64)
    b = torch.randn(C_out, dtype=torch.float64) if use_bias else None
    got = winograd_conv2d(x, w, b, (p_h, p_w), tile=tile, chunk_bytes=chunk)  # 1: per image
    assert got.is_contiguous()
    torch.testing.assert_close(got, F.conv2d(x, w, b, padding=(p_h, p_w)))


@pytest.mark.parametrize("tile", [2, 4])
def test_gradients(tile):
    x = torch.randn(2, 3, 7, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: winograd_conv2d(*t, (1, 0), tile=tile), (x, w, b))


def test_matrices_built_in_inference_mode_still_serve_autograd():
    x, w = torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3)
    with torch.inference_mode():
        winograd_conv2d(x, w, None, (1, 1), tile=4)
    w.requires_grad_()
    winograd_conv2d(x, w, None, (1, 1), tile=4).sum().backward()
    assert w.grad is not None


@pytest.mark.parametrize("tile, bound", [(2, 3e-6), (4, 1e-5)])
def test_float32_error_stays_small(tile, bound):
    """F(4x4, 3x3) loses more float32 precision than F(2x2, 3x3); the points keep it small."""
    torch.manual_seed(0)
    x, w = torch.randn(2, 256, 16, 16), torch.randn(64, 256, 3, 3) / 48
    exact = F.conv2d(x.double(), w.double(), padding=1)
    err = (winograd_conv2d(x, w, None, (1, 1), tile=tile).double() - exact).abs().max()
    assert err < bound * exact.abs().max(), err


@pytest.mark.parametrize("N, T_h, row_bytes, chunk_bytes", [
    (8, 14, 100, 2800), (8, 14, 100, 1400), (8, 14, 100, 500), (3, 5, 100, 1), (1, 7, 10, 10**9)])
def test_chunks_cover_every_tile_row_once(N, T_h, row_bytes, chunk_bytes):
    seen = []
    for images, rows in winograd_fast._chunks(N, T_h, row_bytes, chunk_bytes):
        pairs = [(i, r) for i in range(N)[images] for r in range(T_h)[rows]]
        assert len(pairs) * row_bytes <= chunk_bytes or len(pairs) == 1  # at least one row
        seen += pairs
    assert sorted(seen) == [(i, r) for i in range(N) for r in range(T_h)]
