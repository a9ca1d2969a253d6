"""Rung-specific checks for chapter 4's fast implementations (the generic property
tests over ``IMPLEMENTATIONS`` live in ``test_conv2d_implementations.py``)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import convlab
from convlab import conv2d_fft, conv2d_im2col, conv2d_strided, conv2d_winograd
from convlab.winograd import winograd_matrices

FAST = [conv2d_im2col, conv2d_strided, conv2d_fft, conv2d_winograd]


def test_ladder_order_and_exports():
    assert list(convlab.IMPLEMENTATIONS) == ["naive", "im2col", "strided", "fft", "winograd"]
    for fn in FAST:
        assert getattr(convlab, fn.__name__) is fn


@pytest.mark.parametrize("kwargs, what", [
    (dict(kernel=5), "kernel_size=(5, 5)"),
    (dict(kernel=(3, 1)), "kernel_size=(3, 1)"),
    (dict(stride=2), "stride=(2, 2)"),
    (dict(dilation=2), "dilation=(2, 2)"),
])
def test_winograd_rejects_what_it_does_not_implement(kwargs, what):
    k = kwargs.pop("kernel", 3)
    k = (k, k) if isinstance(k, int) else k
    x, w = torch.randn(1, 2, 9, 9), torch.randn(3, 2, *k)
    with pytest.raises(ValueError, match="3x3 kernel with stride 1 and dilation 1") as info:
        conv2d_winograd(x, w, **kwargs)
    assert what in str(info.value)


def test_winograd_still_raises_pytorchs_errors_first():
    with pytest.raises(RuntimeError):  # channel mismatch is checked before applicability
        conv2d_winograd(torch.randn(1, 2, 9, 9), torch.randn(3, 4, 5, 5))


def test_winograd_matrices_compute_one_tile():
    """Y = A^T [(G g G^T) * (B^T d B)] A is the 2x2 valid correlation of a 4x4 tile."""
    B_T, G, A_T = winograd_matrices()
    d, g = torch.randn(4, 4, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    Y = A_T @ ((G @ g @ G.T) * (B_T @ d @ B_T.T)) @ A_T.T
    expected = F.conv2d(d[None, None], g[None, None])[0, 0]
    torch.testing.assert_close(Y, expected)


@pytest.mark.parametrize("H, W", [(5, 5), (6, 7), (8, 8), (3, 4)])
def test_winograd_odd_sizes_and_same_padding(H, W):
    x, w = torch.randn(2, 3, H, W, dtype=torch.float64), torch.randn(4, 3, 3, 3,
                                                                      dtype=torch.float64)
    for padding in (0, 1, "same", (2, 0)):
        if padding == 0 and min(H, W) < 3:
            continue
        torch.testing.assert_close(conv2d_winograd(x, w, padding=padding),
                                   F.conv2d(x, w, padding=padding))


def test_winograd_float32_error_is_small():
    x, w = torch.randn(2, 64, 16, 16), torch.randn(32, 64, 3, 3)
    exact = F.conv2d(x.double(), w.double())
    err = (conv2d_winograd(x, w).double() - exact).abs().max().item()
    assert err < 1e-3 * exact.abs().max().item()


@pytest.mark.parametrize("k, dilation, stride", [(3, 1, 1), (7, 1, 2), (11, 2, 3), (1, 1, 1)])
def test_fft_float64_accuracy(k, dilation, stride):
    x = torch.randn(2, 3, 32, 30, dtype=torch.float64)
    w = torch.randn(4, 3, k, k, dtype=torch.float64)
    got = conv2d_fft(x, w, stride=stride, dilation=dilation, padding=k // 2)
    expected = F.conv2d(x, w, stride=stride, dilation=dilation, padding=k // 2)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_strided_view_is_zero_copy():
    """The window view shares the input's memory: same storage, no new bytes."""
    x = torch.randn(2, 5, 6, 3)  # (N, H, W, C), channels-last
    sN, sH, sW, sC = x.stride()
    windows = x.as_strided((2, 3, 4, 3, 3, 3), (sN, sH, sW, sH, sW, sC))
    assert windows.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert torch.equal(windows[1, 2, 3, 1, 2], x[1, 3, 5])  # window (2, 3), tap (1, 2)
    assert torch.equal(windows[1, 2, 3].permute(2, 0, 1),
                       F.unfold(x.permute(0, 3, 1, 2), 3)[1, :, 2 * 4 + 3].view(3, 3, 3))


def test_strided_returns_channels_last():
    x, w = torch.randn(2, 4, 9, 9), torch.randn(6, 4, 3, 3)
    out = conv2d_strided(x, w, padding=1)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, F.conv2d(x, w, padding=1))


@pytest.mark.parametrize("fn", FAST, ids=lambda f: f.__name__)
def test_gradients_flow(fn):
    x = torch.randn(1, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    fn(x, w, b, padding=1, groups=2).square().sum().backward()
    x2, w2, b2 = (t.detach().clone().requires_grad_() for t in (x, w, b))
    F.conv2d(x2, w2, b2, padding=1, groups=2).square().sum().backward()
    for a, e in [(x, x2), (w, w2), (b, b2)]:
        torch.testing.assert_close(a.grad, e.grad)


@pytest.mark.parametrize("fn", FAST, ids=lambda f: f.__name__)
def test_resnet_like_layer_float32(fn):
    x, w, b = torch.randn(2, 16, 14, 14), torch.randn(32, 16, 3, 3) / 12, torch.randn(32)
    torch.testing.assert_close(fn(x, w, b, padding=1), F.conv2d(x, w, b, padding=1),
                               rtol=1e-4, atol=1e-4)
