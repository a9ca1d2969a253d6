"""Drop-in category *exceptions*: the calls the issue lists, and their neighbours, fail with
PyTorch's exception type and a message that says what was wrong (or, where PyTorch
accepts them, give its result).
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from conv_oracle import spied, torch_fn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlab
from convlab import functional
from convlab import nn as cnn

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
OTHERS = [torch.complex64, torch.complex128, torch.int64, torch.int32, torch.bool]


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the type is what we compare
        return e


def _same_outcome(got, expected, label=""):
    if isinstance(expected, Exception):
        assert type(got) is type(expected), (label, got, expected)
        assert len(str(got)) > 20, "the message must say what is wrong"
    else:
        assert isinstance(got, torch.Tensor), (label, got, expected)
        assert got.dtype == expected.dtype, label
        # bfloat16 keeps 8 significant bits: a sum of terms near 4 rounds at 2**-6, whoever
        # adds them (test_dropin_dtypes.py allows it 4e-2 too)
        tol = 4e-2 if expected.dtype == torch.bfloat16 else 1e-2
        torch.testing.assert_close(got.double(), expected.double(), atol=tol, rtol=tol)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "valid", "full"])
def test_transposed_modules_reject_padding_strings_with_a_type_error(dims, padding):
    """torch builds the module (the string becomes a tuple of letters) and its forward
    fails in the argument parser: a TypeError, not convlab's former RuntimeError."""
    x = torch.randn(1, 2, *[5] * dims)
    for module in (torch.nn, cnn):
        m = getattr(module, f"ConvTranspose{dims}d")(2, 3, 3, padding=padding)
        assert m.padding == tuple(padding)
        with pytest.raises(TypeError, match="padding"):
            m(x)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_transposed_bias_of_another_dtype(dims):
    """PyTorch's CPU kernels cast a real bias in 1-D and 2-D for float16/32/64 inputs (and in
    every rank for an empty batch), refuse it otherwise, and always refuse a complex one.
    Before, convlab cast every bias (a complex one lost its imaginary part)."""
    ours, theirs = getattr(functional, f"conv_transpose{dims}d"), torch_fn(f"conv_transpose{dims}d")
    for x_dtype, b_dtype, N, stride in itertools.product(
            FLOATS + OTHERS[:3], FLOATS + OTHERS[:3], (0, 1, None), (1, 2)):
        if x_dtype == b_dtype:
            continue
        x = torch.randn(*((N,) if N is not None else ()), 2, *[4] * dims).to(x_dtype)
        w, b = torch.randn(2, 3, *[3] * dims).to(x_dtype), torch.randn(3).to(b_dtype)
        label = (x_dtype, b_dtype, N, stride)
        _same_outcome(_outcome(spied, ours, x, w, b, stride=stride),
                      _outcome(theirs, x, w, b, stride=stride), label)


@EXAMPLES
@given(dims=st.sampled_from([1, 2, 3]), dtype=st.sampled_from(
    [torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool]),
       stride=st.integers(1, 3), N=st.sampled_from([0, 1, 2, None]), seed=st.integers(0, 99))
def test_integer_transposed_convolutions_like_torch(dims, dtype, stride, N, seed):
    """Only int64 has a transposed CPU kernel (NotImplementedError for the others, but an
    empty batch runs no kernel)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 5, (*((N,) if N is not None else ()), 2, *[4] * dims), generator=gen)
    w = torch.randint(-3, 4, (2, 3, *[2] * dims), generator=gen)
    x, w = (x > 2, w > 0) if dtype == torch.bool else (x.to(dtype), w.to(dtype))
    for fn in (getattr(functional, f"conv_transpose{dims}d"),) + (
            (convlab.conv_transpose2d,) if dims == 2 else ()):
        expected = _outcome(torch_fn(f"conv_transpose{dims}d"), x, w, stride=stride)
        got = _outcome(spied, fn, x, w, stride=stride)
        if fn is convlab.conv_transpose2d and isinstance(expected, torch.Tensor):
            assert isinstance(got, ValueError)  # chapter 6's F.fold has no integer kernel
            continue
        if isinstance(expected, torch.Tensor):
            assert isinstance(got, torch.Tensor) and torch.equal(got, expected)
        else:
            assert type(got) is type(expected), (got, expected)


@pytest.mark.parametrize("op", ["conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                "conv_transpose2d", "conv_transpose3d"])
def test_a_bad_element_is_a_type_error_wherever_it_is(op):
    """``conv3d(stride=(1, "a"))`` and friends: PyTorch's parser checks types before ATen
    checks lengths, so a bad element is a TypeError even in a tuple of the wrong length."""
    dims = int(op[-2])
    x, w = torch.randn(1, 2, *[6] * dims), torch.randn(2, 2, *[3] * dims)
    args = ["stride", "padding", "dilation"] + (["output_padding"] if "transpose" in op else [])
    for arg, bad, length in itertools.product(args, ["a", 1.5, None, (1,), [2.0]], (1, 2, 3, 4)):
        for pos in range(length):
            value = [1] * length
            value[pos] = bad
            expected = _outcome(torch_fn(op), x, w, **{arg: tuple(value)})
            assert isinstance(expected, TypeError), (arg, value, expected)
            _same_outcome(_outcome(spied, getattr(functional, op), x, w, **{arg: tuple(value)}),
                          expected, (arg, value))
    expected = _outcome(torch_fn(op), x, w, stride=(1, "a"))
    assert isinstance(expected, TypeError)
    _same_outcome(_outcome(getattr(functional, op), x, w, stride=(1, "a")), expected)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("arg", ["stride", "dilation", "padding", "output_padding"])
def test_huge_transposed_arguments_are_runtime_errors(dims, arg):
    """``conv_transpose2d(stride=2**40)``: PyTorch's kernel overflows its 32-bit sizes
    (RuntimeError); convlab refuses to allocate an output it could not even size."""
    x, w = torch.randn(1, 2, *[2] * dims), torch.randn(2, 2, *[3] * dims)
    for value in (2**31, 2**40, 2**62):
        kwargs = {arg: value}
        if arg == "output_padding":
            kwargs["stride"] = value + 1
        expected = _outcome(torch_fn(f"conv_transpose{dims}d"), x, w, **kwargs)
        assert isinstance(expected, RuntimeError), (kwargs, expected)
        got = _outcome(spied, getattr(functional, f"conv_transpose{dims}d"), x, w, **kwargs)
        assert isinstance(got, RuntimeError), (kwargs, got)
    if dims == 2:
        got = _outcome(convlab.conv_transpose2d, x, w, **{arg: 2**40} if arg != "output_padding"
                       else dict(stride=2**40 + 1, output_padding=2**40))
        assert isinstance(got, RuntimeError)


def test_huge_padding_of_a_convolution_is_a_runtime_error():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(2, 2, 3, 3)
    for fn in (F.conv2d, functional.conv2d, *convlab.IMPLEMENTATIONS.values()):
        with pytest.raises(RuntimeError):
            fn(x, w, padding=2**40)


def test_conv2d_backward_checks_its_arguments():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    g = torch.randn(1, 3, 3, 3)
    for bad in (None, 1.0, [[1.0]], "g"):
        with pytest.raises(TypeError, match="grad_output"):
            convlab.conv2d_backward(bad, x, w)
    with pytest.raises(TypeError):
        convlab.conv2d_backward(g, None, w)
    with pytest.raises(RuntimeError, match="grad_output should have shape"):
        convlab.conv2d_backward(torch.randn(1, 3, 4, 4), x, w)
    grads = convlab.conv2d_backward(g, x, w)
    assert [t.shape for t in grads] == [x.shape, w.shape, (3,)]


@pytest.mark.parametrize("name", ["conv1d", "conv2d", "conv3d"])
@pytest.mark.parametrize("C_out, groups", [(2, 4), (3, 2), (0, 2)])
def test_group_errors_say_what_pytorch_says(name, C_out, groups):
    """Fewer output channels than groups, or not a multiple: PyTorch's words, exactly."""
    dims = int(name[-2])
    x = torch.randn(1, 4, *[5] * dims)
    w = torch.randn(C_out, 4 // groups, *[3] * dims)
    expected = _outcome(torch_fn(name), x, w, groups=groups)
    got = _outcome(getattr(functional, name), x, w, groups=groups)
    assert isinstance(expected, RuntimeError)
    assert type(got) is RuntimeError and str(got) == str(expected).replace("[[", "[").replace(
        "]]", "]"), (str(got), str(expected))
