"""Drop-in category *autocast*: under ``torch.autocast`` convlab computes in the autocast
dtype, as PyTorch's convolutions do (they are on autocast's lower-precision list):
floating-point inputs, weights and biases other than float64 are cast, the output has
the autocast dtype, gradients flow back to the float32 parameters.

CPU only (bfloat16 and float16). CUDA's autocast puts convolutions on the same list, and
convlab follows the autocast state of the input's own device, so the code path is the same.
"""

from __future__ import annotations

import pytest
import torch
from conv_oracle import assert_same_values, nd_calls, spied, torch_fn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlab import functional
from convlab import nn as cnn

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
LOW = [torch.bfloat16, torch.float16]


def _close(got, expected):
    """Low-precision results: the same dtype, close at the output's scale (each side
    rounds its float32 accumulations once; sums of many stamps round more)."""
    assert_same_values(got, expected, rtol=4e-2, atol=4e-2)


@EXAMPLES
@given(call=nd_calls(max_channels=4), low=st.sampled_from(LOW), grad=st.booleans(),
       dtypes=st.sampled_from(["float32", "float32", "float64", "float16 input"]))
def test_every_functional_casts_like_torch(call, low, grad, dtypes):
    x, w, b = call.tensors(torch.float64 if dtypes == "float64" else torch.float32)
    if dtypes == "float16 input":
        x = x.half()
    theirs_in = [t.detach().clone().requires_grad_(grad) if t is not None else None
                 for t in (x, w, b)]
    ours_in = [t.detach().clone().requires_grad_(grad) if t is not None else None
               for t in (x, w, b)]
    with torch.autocast("cpu", dtype=low), torch.set_grad_enabled(grad):
        expected = torch_fn(call.name)(*theirs_in, **call.kwargs)
        got = spied(getattr(functional, call.name), *ours_in, **call.kwargs)
        assert torch.is_autocast_enabled("cpu")  # convlab turned it off inside only
    _close(got, expected)
    if grad and expected.numel():
        g = torch.randn(expected.shape, dtype=torch.float64).to(expected.dtype)
        leaves = [i for i, t in enumerate(theirs_in) if t is not None]
        g_exp = torch.autograd.grad(expected, [theirs_in[i] for i in leaves], g)
        g_got = spied(torch.autograd.grad, got, [ours_in[i] for i in leaves], g)
        for a, e in zip(g_got, g_exp):
            _close(a, e)


@pytest.mark.parametrize("low", LOW)
@pytest.mark.parametrize("grad", [True, False])
def test_the_issue_example_conv2d_64_channels(low, grad):
    """A Winograd-sized layer: float32 instead of bfloat16 before, a crash under no_grad."""
    for seed in range(4):
        torch.manual_seed(seed)
        theirs = torch.nn.Conv2d(64, 64, 3, padding=1)
        torch.manual_seed(seed)
        ours = cnn.Conv2d(64, 64, 3, padding=1)
        x = torch.randn(2, 64, 16 + 4 * seed, 16)
        with torch.autocast("cpu", dtype=low), torch.set_grad_enabled(grad):
            expected, got = theirs(x), spied(ours, x)
        assert got.dtype == low and got.requires_grad == grad
        _close(got, expected)
        if grad:
            expected.float().square().sum().backward()
            spied(got.float().square().sum().backward)
            for a, e in zip(ours.parameters(), theirs.parameters()):
                assert a.grad.dtype == torch.float32
                _close(a.grad, e.grad)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("low", LOW)
@pytest.mark.parametrize("grad", [True, False])
def test_strided_transposed_modules(dims, low, grad):
    """The scatter path: 'Expected self.dtype to be equal to src.dtype' before."""
    for seed, stride in enumerate([2, 3, (2, 1, 2)[:dims]]):
        torch.manual_seed(seed)
        theirs = getattr(torch.nn, f"ConvTranspose{dims}d")(6, 4, 3, stride=stride, padding=1)
        torch.manual_seed(seed)
        ours = getattr(cnn, f"ConvTranspose{dims}d")(6, 4, 3, stride=stride, padding=1)
        x = torch.randn(2, 6, *[5] * dims)
        with torch.autocast("cpu", dtype=low), torch.set_grad_enabled(grad):
            expected, got = theirs(x), spied(ours, x)
        _close(got, expected)


def test_autocast_disabled_inside_and_float64_untouched():
    x, w = torch.randn(1, 3, 6, 6), torch.randn(4, 3, 3, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with torch.autocast("cpu", enabled=False):
            assert spied(functional.conv2d, x, w).dtype == torch.float32
        got = spied(functional.conv2d, x.double(), w.double())
        assert got.dtype == torch.float64  # autocast leaves float64 alone
        with pytest.raises(RuntimeError):  # float64 input, float32 weight cast to bfloat16
            torch.nn.functional.conv2d(x.double(), w)
        with pytest.raises(RuntimeError):
            functional.conv2d(x.double(), w)
    torch.testing.assert_close(got, torch.nn.functional.conv2d(x.double(), w.double()))
