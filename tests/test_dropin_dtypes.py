"""Drop-in category *dtypes*: for every dtype PyTorch's CPU convolutions accept or reject
(float16, bfloat16, float32, float64, complex32/64/128, the integer types, bool), every
convlab convolution gives PyTorch's result in PyTorch's dtype (integer results exactly,
wrap-around included) or raises PyTorch's exception type. A stepwise method whose
algorithm cannot give an integer result exactly (FFT, Winograd, the ``F.unfold``/``F.fold``
based ones) says so with a ``ValueError``. Inputs without channels give PyTorch's result.
"""

from __future__ import annotations

import pytest
import torch
from conv_oracle import nd_calls, spied, torch_fn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlab
from convlab import functional
from convlab.transposed import conv_transpose2d_zero_insertion

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex32,
          torch.complex64, torch.complex128, torch.int8, torch.uint8, torch.int16, torch.int32,
          torch.int64, torch.bool]
INTEGER = {torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool}
TOLERANCE = {torch.float16: 1e-2, torch.bfloat16: 4e-2, torch.complex32: 1e-2,
             torch.float32: 1e-5, torch.complex64: 1e-5, torch.float64: 1e-12,
             torch.complex128: 1e-12}
STEPWISE = {**convlab.IMPLEMENTATIONS, "conv_transpose2d": convlab.conv_transpose2d,
            "conv_transpose2d_zero_insertion": conv_transpose2d_zero_insertion}
NO_INTEGERS = {"im2col", "fft", "winograd", "conv_transpose2d", "conv_transpose2d_zero_insertion"}

pytestmark = pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")


def _cast(dtype, *tensors):
    """The tensors in ``dtype``; for integers, values up to 40 (they overflow int8 sums)."""
    if dtype == torch.bool:
        return [None if t is None else t > 0 for t in tensors]
    if dtype in INTEGER:
        return [None if t is None else (t * 40).round().to(dtype) for t in tensors]
    return [None if t is None else t.to(dtype) for t in tensors]


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the type is what we compare
        return e


def _assert_like_torch(got, expected, dtype, label=""):
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), (label, got, expected)
        return
    assert isinstance(got, torch.Tensor), (label, got)
    assert got.dtype == expected.dtype and got.shape == expected.shape, (label, got.dtype,
                                                                         got.shape)
    if dtype in INTEGER:
        assert torch.equal(got, expected), label  # exact, wrap-around included
        return
    wide = torch.complex128 if got.is_complex() or dtype == torch.complex32 else torch.float64
    a, e = got.to(wide), expected.to(wide)
    scale = e.abs().max().item() if e.numel() else 1.0
    torch.testing.assert_close(a / max(scale, 1), e / max(scale, 1), rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype], msg=label)


@EXAMPLES
@given(call=nd_calls(batch=(0, 1, 2, None)), dtype=st.sampled_from(DTYPES))
def test_every_functional_in_every_dtype(call, dtype):
    x, w, b = _cast(dtype, *call.tensors())
    expected = _outcome(torch_fn(call.name), x, w, b, **call.kwargs)
    got = _outcome(spied, getattr(functional, call.name), x, w, b, **call.kwargs)
    _assert_like_torch(got, expected, dtype, call)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", STEPWISE)
def test_every_stepwise_function_in_every_dtype(name, dtype):
    fn, transposed = STEPWISE[name], name.startswith("conv_transpose")
    gen = torch.Generator().manual_seed(0)
    for i in range(8):
        G = 1 + i % 2
        kwargs = dict(padding=i % 3, groups=G)
        if name != "winograd":
            kwargs.update(stride=1 + i % 2, dilation=1 + (i // 2) % 2)
        x = torch.randn(2, 4, 6 + i, 7, generator=gen, dtype=torch.float64)
        w = torch.randn(*((4, 2) if transposed else (4, 4 // G)), 3, 3, generator=gen,
                        dtype=torch.float64)
        b = torch.randn(4 if not transposed else 2 * G, generator=gen, dtype=torch.float64)
        xt, wt, bt = _cast(dtype, x, w, b)
        ref = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
        expected = _outcome(ref, xt, wt, bt, **kwargs)
        got = _outcome(spied, fn, xt, wt, bt, **kwargs)
        if (name in NO_INTEGERS and dtype in INTEGER and isinstance(expected, torch.Tensor)):
            assert isinstance(got, ValueError) and "exactly" in str(got), (name, dtype, got)
            continue
        _assert_like_torch(got, expected, dtype, (name, dtype, kwargs))


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.complex64],
                         ids=str)
def test_inputs_without_channels(dims, dtype):
    """PyTorch returns ``(N, 0, *S_out)`` for an input with no channels: no output channels
    either (its 'empty' backend). Transposed ones refuse a weight with no input channels."""
    for N, bias in ((2, True), (0, False), (None, True)):
        x = torch.zeros(*((N,) if N is not None else ()), 0, *[5] * dims, dtype=dtype)
        w = torch.zeros(3, 0, *[3] * dims, dtype=dtype)
        b = torch.ones(3, dtype=dtype) if bias else None
        for kwargs in (dict(padding=1), dict(stride=2), dict(padding="same")):
            expected = torch_fn(f"conv{dims}d")(x, w, b, **kwargs)
            got = spied(getattr(functional, f"conv{dims}d"), x, w, b, **kwargs)
            _assert_like_torch(got, expected, dtype, (N, kwargs))
        with pytest.raises(RuntimeError):
            torch_fn(f"conv_transpose{dims}d")(x, w.transpose(0, 1))
        with pytest.raises(RuntimeError):
            getattr(functional, f"conv_transpose{dims}d")(x, w.transpose(0, 1))
    if dims == 2:
        x, w = torch.zeros(2, 0, 6, 6, dtype=dtype), torch.zeros(3, 0, 3, 3, dtype=dtype)
        for name, fn in convlab.IMPLEMENTATIONS.items():
            _assert_like_torch(spied(fn, x, w, padding=1), torch.nn.functional.conv2d(
                x, w, padding=1), dtype, name)
        x.requires_grad_(dtype.is_floating_point)
        if x.requires_grad:
            w.requires_grad_()
            out = functional.conv2d(x, w, torch.ones(3, requires_grad=True, dtype=dtype))
            assert out.shape == (2, 0, 4, 4) and out.grad_fn is not None


def test_integer_results_wrap_around_like_torch():
    """int8 sums overflow: PyTorch computes modulo 2**8, and so must we, on every path."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(-128, 128, (2, 16, 9, 9), generator=gen, dtype=torch.int8)
    w = torch.randint(-128, 128, (4, 16, 3, 3), generator=gen, dtype=torch.int8)
    expected = torch.nn.functional.conv2d(x, w, padding=1)
    wide = torch.nn.functional.conv2d(x.long(), w.long(), padding=1)
    assert not torch.equal(expected.long(), wide)  # it did overflow
    assert torch.equal(spied(functional.conv2d, x, w, padding=1), expected)
    for name in ("naive", "strided"):
        assert torch.equal(spied(convlab.IMPLEMENTATIONS[name], x, w, padding=1), expected)
