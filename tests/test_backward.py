"""``conv2d_backward`` and ``Conv2dFunction`` against autograd of ``F.conv2d``.

Property tests over random valid configurations (``conv_oracle.conv2d_configs``) in
float64 with tight tolerances: the three gradients of ``conv2d_backward``, then the
same through ``Conv2dFunction`` (forward and backward), then ``gradcheck`` and
``gradgradcheck`` on random small configurations.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conv_oracle import TOLERANCES, conv2d_configs, make_call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlab import Conv2dFunction, conv2d_backward
from convlab.backward import conv2d, correlate

TIGHT = TOLERANCES[torch.float64]
# F.conv2d (the oracle) warns that 'same' with an even kernel pads a copy, as we do
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def examples(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def autograd_reference(call: dict, grad_output_seed: int = 0):
    """``F.conv2d``'s output, a random upstream gradient and autograd's three gradients."""
    x = call["input"].detach().clone().requires_grad_(True)
    w = call["weight"].detach().clone().requires_grad_(True)
    b = torch.zeros(w.shape[0], dtype=w.dtype, requires_grad=True)
    out = F.conv2d(x, w, b, call["stride"], call["padding"], call["dilation"], call["groups"])
    g = torch.randn(out.shape, dtype=out.dtype,
                    generator=torch.Generator().manual_seed(grad_output_seed))
    grads = torch.autograd.grad(out, (x, w, b), g) if out.numel() else (
        torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(b))
    return out.detach(), g, grads


def conv_kwargs(call: dict) -> dict:
    return {k: call[k] for k in ("stride", "padding", "dilation", "groups")}


def check_backward(call: dict) -> None:
    _, g, expected = autograd_reference(call)
    got = conv2d_backward(g, call["input"], call["weight"], **conv_kwargs(call))
    for name, e, o in zip(("grad_input", "grad_weight", "grad_bias"), expected, got):
        assert o.shape == e.shape, f"{name}: shape {tuple(o.shape)} != {tuple(e.shape)}"
        torch.testing.assert_close(o, e, **TIGHT, msg=lambda m, n=name: f"{n}: {m}")


@examples(100)
@given(config=conv2d_configs(max_size=6))
def test_backward_matches_autograd(config):
    check_backward(make_call(config))


@examples(100)
@given(config=conv2d_configs(max_kernel=2, min_stride=3, max_stride=4, padding_mode="int"))
def test_stride_that_does_not_divide(config):
    """Rows/columns the forward never read must get exactly zero gradient."""
    check_backward(make_call(config))


@examples(50)
@given(config=conv2d_configs(kernel_sizes=[2, 4], padding_mode="same"))
def test_same_padding_even_kernel(config):
    check_backward(make_call(config))


@examples(60)
@given(config=conv2d_configs(min_dilation=2, max_dilation=3, min_padding=1, max_padding=3,
                             padding_mode="int"),
       layout=st.sampled_from(["channels_last", "non_contiguous", "transposed"]))
def test_dilation_padding_and_memory_layouts(config, layout):
    check_backward(make_call(config, layout=layout, weight_layout=layout))


@examples(40)
@given(config=conv2d_configs(batched=True))
def test_empty_batch(config):
    check_backward(make_call(config, empty_batch=True))


@examples(60)
@given(config=conv2d_configs(max_size=6))
def test_function_forward_and_backward(config):
    call = make_call(config)
    expected_out, g, expected = autograd_reference(call)
    x = call["input"].detach().clone().requires_grad_(True)
    w = call["weight"].detach().clone().requires_grad_(True)
    b = torch.zeros(w.shape[0], dtype=w.dtype, requires_grad=True)
    out = Conv2dFunction.apply(x, w, b, *conv_kwargs(call).values())
    torch.testing.assert_close(out, expected_out, **TIGHT)
    for e, o in zip(expected, torch.autograd.grad(out, (x, w, b), g)):
        torch.testing.assert_close(o, e, **TIGHT)


@examples(25)
@given(config=conv2d_configs(max_size=3, max_channels=2, max_kernel=3, max_batch=2))
def test_gradcheck(config):
    call = make_call(config)
    x = call["input"].detach().clone().requires_grad_(True)
    w = call["weight"].detach().clone().requires_grad_(True)
    b = torch.randn(w.shape[0], dtype=torch.float64, requires_grad=True)
    fn = lambda x, w, b: conv2d(x, w, b, **conv_kwargs(call))
    assert torch.autograd.gradcheck(fn, (x, w, b))


@examples(10)
@given(config=conv2d_configs(max_size=3, max_channels=2, max_kernel=2, max_batch=1,
                             max_groups=2))
def test_gradgradcheck(config):
    """The backward is made of differentiable ops: second derivatives are right too."""
    call = make_call(config)
    x = call["input"].detach().clone().requires_grad_(True)
    w = call["weight"].detach().clone().requires_grad_(True)
    fn = lambda x, w: conv2d(x, w, None, **conv_kwargs(call))
    assert torch.autograd.gradgradcheck(fn, (x, w))


def test_only_bias_needs_grad():
    x, w = torch.randn(1, 2, 5, 5, dtype=torch.float64), torch.randn(3, 2, 3, 3,
                                                                       dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    conv2d(x, w, b, stride=2).sum().backward()
    torch.testing.assert_close(b.grad, torch.full((3,), 4.0, dtype=torch.float64))


def test_correlate_is_a_grouped_convolution():
    x = torch.randn(2, 2, 3, 7, 8, dtype=torch.float64)  # (N, G, C, H, W)
    w = torch.randn(2, 4, 3, 2, 3, dtype=torch.float64)  # (G, O, C, kH, kW)
    out = correlate(x, w, stride=(2, 1), dilation=(1, 2))
    expected = F.conv2d(x.flatten(1, 2), w.flatten(0, 1), stride=(2, 1), dilation=(1, 2),
                        groups=2)
    torch.testing.assert_close(out.flatten(1, 2), expected, **TIGHT)


def test_grad_output_of_the_wrong_shape_is_rejected():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    with pytest.raises(RuntimeError, match="grad_output should have shape"):
        conv2d_backward(torch.randn(1, 3, 4, 4), x, w)


def test_invalid_arguments_are_rejected_like_conv2d():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    with pytest.raises(RuntimeError):
        conv2d_backward(torch.randn(1, 3, 5, 5), x, w, padding="same", stride=2)
    with pytest.raises(RuntimeError):
        conv2d(x, torch.randn(3, 3, 3, 3))
