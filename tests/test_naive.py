"""conv2d_naive beyond the shared property tests: its hand-checkable basics; and
``conv2d_definition`` (the formula for groups=1, one multiply-add at a time) against
``F.conv2d``."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F
from conv_oracle import (
    INVALID_ARGUMENTS,
    PYTORCH_RAISES,
    check_against_torch,
    conv2d_configs,
    make_call,
    torch_exception,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlab import conv2d_naive
from convlab.naive import conv2d_definition


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
                 "for v in range(kW)"):  # the book's letters: outputs (i, j), taps (u, v)
        assert loop in source


def test_requires_grad_flows():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    conv2d_naive(x, w, stride=2).sum().backward()
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    F.conv2d(x2, w2, stride=2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(w.grad, w2.grad)


# --- conv2d_definition: the formula for groups=1, one multiply-add at a time ------------

def _examples(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _groups_1_call(config, *args, **kwargs) -> dict:
    """The call of ``config`` (groups=1) without the ``groups`` argument it has no use for."""
    call = make_call(config, *args, **kwargs)
    assert call.pop("groups") == 1
    return call


@_examples(150)
@given(config=conv2d_configs(max_groups=1, max_size=4, max_channels=2))
def test_definition_matches_torch_on_random_configurations(config):
    check_against_torch("definition", conv2d_definition, _groups_1_call(config))


@_examples(40)
@given(config=conv2d_configs(max_groups=1, max_size=4, max_channels=2),
       layout=st.sampled_from(["channels_last", "non_contiguous"]),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_definition_any_layout_and_dtype(config, layout, dtype):
    check_against_torch("definition", conv2d_definition, _groups_1_call(config, dtype, layout))


@_examples(20)
@given(config=conv2d_configs(max_groups=1, max_size=4, max_channels=2))
def test_definition_empty_batch(config):
    check_against_torch("definition", conv2d_definition, _groups_1_call(config, empty_batch=True))


def test_definition_gradients():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    conv2d_definition(x, w, padding=1, dilation=2).sum().backward()
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    F.conv2d(x2, w2, padding=1, dilation=2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(w.grad, w2.grad)


WITHOUT_GROUPS = [(n, b) for n, b in INVALID_ARGUMENTS if "groups" not in b()]


@pytest.mark.parametrize("name, build", WITHOUT_GROUPS, ids=[n for n, _ in WITHOUT_GROUPS])
def test_definition_rejects_what_torch_rejects(name, build):
    call = build()
    expected = torch_exception(call)
    assert type(expected) is PYTORCH_RAISES[name]
    with pytest.raises(type(expected)):
        conv2d_definition(**call)


def test_definition_has_one_loop_per_index_of_the_formula():
    source = inspect.getsource(conv2d_definition)
    body = source.split('"""')[-1].strip().splitlines()
    assert len(body) <= 25
    for loop in ("for n in range(N)", "for o in range(C_out)", "for i in range(H_out)",
                 "for j in range(W_out)", "for c in range(C_in)", "for u in range(kH)",
                 "for v in range(kW)"):
        assert loop in source


def test_shown_source_fits_the_page_column():
    """Chapter 2 shows both loops with show_source: no line wraps in the 688 px column."""
    for fn in (conv2d_definition, conv2d_naive):
        widest = max(len(line) for line in inspect.getsource(fn).splitlines())
        assert widest <= 77, (fn.__name__, widest)
