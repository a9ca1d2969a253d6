"""convlab.signal: the 1-D loops of chapter 1 and the translation under which a
convolution is equivariant, checked against PyTorch and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.signal import convolve1d, correlate1d, translate


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 20), seed=st.integers(0, 2**16))
def test_correlate_and_convolve_match_torch_and_numpy(n, k, seed):
    if k > n:
        with pytest.raises(ValueError):
            correlate1d(torch.zeros(n), torch.zeros(k))
        return
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float64)
    w = torch.randn(k, generator=g, dtype=torch.float64)
    torch.testing.assert_close(correlate1d(x, w), F.conv1d(x[None, None], w[None, None])[0, 0])
    torch.testing.assert_close(convolve1d(x, w), torch.from_numpy(np.convolve(x, w, "valid")))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 9), t=st.integers(-11, 11), dim=st.sampled_from([-1, -2, 0]))
def test_translate_moves_content_and_fills_zeros(size, t, dim):
    x = torch.arange(1.0, 1 + 3 * size * size).reshape(3, size, size)
    y = translate(x, t, dim)
    assert y.shape == x.shape and torch.equal(x, torch.arange(1.0, 1 + 3 * size * size)
                                              .reshape(3, size, size))  # input untouched
    n = x.shape[dim]
    for i_prime in range(n):  # y[..., i'] = x[..., i' - t] inside, 0 outside
        got = y.select(dim, i_prime)
        source = i_prime - t
        expected = x.select(dim, source) if 0 <= source < n else torch.zeros_like(got)
        assert torch.equal(got, expected)


def test_translate_composes_and_undoes_inside():
    x = torch.rand(1, 6, 8)
    torch.testing.assert_close(translate(translate(x, 2), 3), translate(x, 5))
    back = translate(translate(x, 3), -3)
    torch.testing.assert_close(back[..., :5], x[..., :5])  # what left the frame is gone
    assert torch.all(back[..., 5:] == 0)
    assert torch.equal(translate(x, 0), x)


@pytest.mark.parametrize("t", [1, 4, -3])
def test_convolution_is_equivariant_away_from_the_border(t):
    """conv(translate(x)) == translate(conv(x)) except within p = k // 2 columns of where
    zeros meet pixels: the seam at column t (or W + t) and the far edge."""
    g = torch.Generator().manual_seed(7)
    x = torch.rand(1, 1, 12, 20, generator=g, dtype=torch.float64)
    w = torch.randn(1, 1, 5, 5, generator=g, dtype=torch.float64)
    p, W = 2, 20
    a = F.conv2d(translate(x, t), w, padding=p)
    b = translate(F.conv2d(x, w, padding=p), t)
    differs = ((a - b).abs() > 1e-9).any(dim=2)[0, 0]  # (W,) column differs somewhere
    seam = t if t > 0 else W + t
    near_seam = set(range(seam - p, seam)) if t > 0 else set(range(seam, seam + p))
    far_edge = set(range(W - p, W)) if t > 0 else set(range(0, p))
    expected = {j for j in near_seam | far_edge if 0 <= j < W}
    assert {int(j) for j in differs.nonzero()} == expected
