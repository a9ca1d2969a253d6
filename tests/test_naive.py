"""conv2d_naive beyond the shared property tests: its hand-checkable basics."""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F

from convlab import conv2d_naive


def test_hand_computed_example():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    w = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[y, x] - x[y+1, x+1]
    out = conv2d_naive(x, w)
    assert out.shape == (1, 1, 3, 3)
    assert torch.equal(out, torch.full((1, 1, 3, 3), -5.0))  # not +5: no kernel flip


def test_is_cross_correlation_not_convolution():
    x, w = torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3)
    torch.testing.assert_close(conv2d_naive(x, w), F.conv2d(x, w))
    assert not torch.allclose(conv2d_naive(x, w), F.conv2d(x, w.flip(-1, -2)))


def test_same_even_kernel_pads_right_bottom():
    x = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    x[0, 0, 0, 0] = 1.0
    w = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    w[0, 0, 0, 0] = 1.0  # the top-left tap reads the pixel itself: no pad before
    out = conv2d_naive(x, w, padding="same")
    assert out.shape == x.shape and out[0, 0, 0, 0] == 1.0


def test_loops_are_explicit_and_short():
    source = inspect.getsource(conv2d_naive)
    body = source.split('"""')[-1].strip().splitlines()
    assert len(body) <= 28
    for loop in ("for i in range(H_out)", "for j in range(W_out)", "for u in range(kH)",
                 "for v in range(kW)"):  # the book's index letters: output (i, j), taps (u, v)
        assert loop in source


def test_requires_grad_flows():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    conv2d_naive(x, w, stride=2).sum().backward()
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    F.conv2d(x2, w2, stride=2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(w.grad, w2.grad)
