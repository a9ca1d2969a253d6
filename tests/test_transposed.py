"""Both transposed convolutions against ``F.conv_transpose2d``.

Property tests over random valid configurations in float64 (tight tolerances) for the
library function (scatter-add / col2im) and the zero-insertion version, gradients
through autograd, and the invalid-argument table: every call PyTorch rejects is
rejected by both implementations with the same exception type.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convlab import conv_output_size, conv_transpose2d, conv_transpose_output_size
from convlab.backward import conv2d_backward
from convlab.transposed import conv_transpose2d_zero_insertion

TIGHT = {"rtol": 1e-7, "atol": 1e-9}
IMPLS = pytest.mark.parametrize("fn", [conv_transpose2d, conv_transpose2d_zero_insertion],
                                ids=["scatter_add", "zero_insertion"])


def examples(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def transpose_calls(draw, max_size=5, max_kernel=4, max_stride=3, max_dilation=3,
                    max_padding=3, max_channels=3, max_groups=3):
    """Keyword arguments of a random valid ``conv_transpose2d`` call (tensors included)."""
    groups = draw(st.integers(1, max_groups))
    C_in, C_out_g = groups * draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = (draw(st.integers(1, max_size)), draw(st.integers(1, max_size)))
    # padding may crop at most what is there: keep the output at least 1 pixel
    full = [(i - 1) * s + d * (kk - 1) + op + 1
            for i, s, d, kk, op in zip(size, stride, dilation, k, output_padding)]
    padding = tuple(draw(st.integers(0, min(max_padding, (f - 1) // 2))) for f in full)
    N = draw(st.sampled_from([None, 1, 2]))  # None: unbatched
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn(*(() if N is None else (N,)), C_in, *size, generator=gen, dtype=torch.float64)
    w = torch.randn(C_in, C_out_g, *k, generator=gen, dtype=torch.float64)
    b = torch.randn(C_out_g * groups, generator=gen, dtype=torch.float64) \
        if draw(st.booleans()) else None
    return {"input": x, "weight": w, "bias": b, "stride": stride, "padding": padding,
            "output_padding": output_padding, "groups": groups, "dilation": dilation}


@IMPLS
@examples(120)
@given(call=transpose_calls())
def test_matches_pytorch(fn, call):
    expected = F.conv_transpose2d(**call)
    got = fn(**call)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, **TIGHT)


@IMPLS
@examples(30)
@given(call=transpose_calls(max_size=3, max_channels=2, max_kernel=3))
def test_gradients_match_pytorch(fn, call):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in call.items()
              if isinstance(v, torch.Tensor)}
    expected_out = F.conv_transpose2d(**{**call, **leaves})
    g = torch.randn_like(expected_out)
    expected = torch.autograd.grad(expected_out, list(leaves.values()), g)
    got = torch.autograd.grad(fn(**{**call, **leaves}), list(leaves.values()), g)
    for e, o in zip(expected, got):
        torch.testing.assert_close(o, e, **TIGHT)


@IMPLS
def test_empty_batch_and_channels_last(fn):
    x, w = torch.randn(0, 4, 5, 5, dtype=torch.float64), torch.randn(4, 3, 3, 3,
                                                                        dtype=torch.float64)
    assert fn(x, w, stride=2).shape == F.conv_transpose2d(x, w, stride=2).shape
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fn(x, w, stride=2, padding=1, output_padding=1),
                               F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
                               **TIGHT)


@examples(100)
@given(call=transpose_calls(max_padding=0))
def test_output_size_formula(call):
    out = conv_transpose2d(**call)
    for axis in (0, 1):
        assert out.shape[-2 + axis] == conv_transpose_output_size(
            call["input"].shape[-2 + axis], call["weight"].shape[2 + axis],
            call["stride"][axis], call["padding"][axis], call["output_padding"][axis],
            call["dilation"][axis])


@examples(100)
@given(call=transpose_calls(max_padding=0))
def test_is_the_gradient_of_a_convolution(call):
    """conv_transpose2d(g, W) is conv2d's grad_input for an input of the matching size."""
    # output_padding >= stride (allowed when dilation is larger) adds rows no conv reads
    assume(all(op < s for op, s in zip(call["output_padding"], call["stride"])))
    g, w = call["input"], call["weight"]
    out = conv_transpose2d(g, w, None, call["stride"], 0, call["output_padding"],
                           call["groups"], call["dilation"])
    assert all(conv_output_size(o, k, s, 0, d) == i for o, k, s, d, i in zip(
        out.shape[-2:], w.shape[2:], call["stride"], call["dilation"], g.shape[-2:]))
    grad_input, _, _ = conv2d_backward(g, out, w, call["stride"], 0, call["dilation"],
                                       call["groups"])
    torch.testing.assert_close(grad_input, out, **TIGHT)


def _x(*shape, dtype=torch.float64):
    return torch.randn(*shape, dtype=dtype)


def _ok(**overrides):
    """A valid call: (1, 4, 5, 5) input, (4, 3, 3, 3) weight, with some arguments replaced."""
    call = {"input": _x(1, 4, 5, 5), "weight": _x(4, 3, 3, 3), "bias": None}
    call.update(overrides)
    return call


INVALID_ARGUMENTS = [
    ("input rank 2", lambda: _ok(input=_x(5, 5))),
    ("input rank 5", lambda: _ok(input=_x(1, 1, 4, 5, 5))),
    ("weight rank 3", lambda: _ok(weight=_x(4, 3, 3))),
    ("input channels != weight dim 0", lambda: _ok(input=_x(1, 5, 5, 5))),
    ("unbatched channel mismatch", lambda: _ok(input=_x(3, 5, 5))),
    ("groups does not divide in_channels", lambda: _ok(groups=3)),
    ("groups > in_channels", lambda: _ok(groups=8)),
    ("zero in_channels", lambda: _ok(input=_x(1, 0, 5, 5), weight=_x(0, 3, 3, 3))),
    ("zero out_channels", lambda: _ok(weight=_x(4, 0, 3, 3))),
    ("groups = 0", lambda: _ok(groups=0)),
    ("groups < 0", lambda: _ok(groups=-1)),
    ("groups float", lambda: _ok(groups=1.0)),
    ("stride = 0", lambda: _ok(stride=0)),
    ("stride < 0", lambda: _ok(stride=(1, -2))),
    ("stride float", lambda: _ok(stride=1.5)),
    ("stride tuple of length 3", lambda: _ok(stride=(1, 1, 1))),
    ("dilation = 0", lambda: _ok(dilation=0)),
    ("negative padding", lambda: _ok(padding=-1)),
    ("padding 'same'", lambda: _ok(padding="same")),
    ("padding 'valid'", lambda: _ok(padding="valid")),
    ("padding tuple of length 3", lambda: _ok(padding=(1, 1, 1))),
    ("output_padding = stride", lambda: _ok(stride=2, output_padding=2)),
    ("output_padding with stride 1", lambda: _ok(output_padding=1)),
    ("output_padding >= stride and dilation", lambda: _ok(stride=2, dilation=2,
                                                          output_padding=(0, 2))),
    ("negative output_padding", lambda: _ok(stride=2, output_padding=-1)),
    ("output_padding float", lambda: _ok(stride=2, output_padding=0.5)),
    ("output_padding tuple of length 3", lambda: _ok(stride=2, output_padding=(1, 1, 1))),
    ("output size below 1", lambda: _ok(input=_x(1, 4, 1, 1), weight=_x(4, 3, 1, 1),
                                        padding=1)),
    ("padding crops everything", lambda: _ok(padding=5)),
    ("empty spatial input", lambda: _ok(input=_x(1, 4, 0, 5))),
    ("bias of the wrong length", lambda: _ok(bias=_x(4))),
    ("bias of rank 2", lambda: _ok(bias=_x(3, 1))),
    ("input not a tensor", lambda: _ok(input=[[1.0]])),
    ("dtype mismatch input/weight", lambda: _ok(weight=_x(4, 3, 3, 3, dtype=torch.float32))),
]


def _raises(fn, call):
    try:
        fn(**call)
    except Exception as exc:  # noqa: BLE001 - whatever it raises is what we compare
        return exc
    return None


@pytest.mark.parametrize("name, build", INVALID_ARGUMENTS, ids=[n for n, _ in INVALID_ARGUMENTS])
@IMPLS
def test_invalid_arguments_raise_like_pytorch(fn, name, build):
    call = build()
    expected = _raises(F.conv_transpose2d, call)
    assert expected is not None, f"PyTorch accepts {name!r}: the table is out of date"
    got = _raises(fn, call)
    assert got is not None, f"{name}: accepted, but PyTorch raises {expected!r}"
    assert type(got) is type(expected), f"{name}: {got!r}, PyTorch: {expected!r}"
    assert str(got), f"{name}: the message is empty"


@IMPLS
def test_bias_of_another_dtype_is_cast_like_pytorch(fn):
    """PyTorch's CPU kernels accept it (whether they do depends on the backend they pick)."""
    call = _ok(bias=_x(3, dtype=torch.float32))
    torch.testing.assert_close(fn(**call), F.conv_transpose2d(**call), **TIGHT)
