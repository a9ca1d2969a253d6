"""Drop-in category *layout*: the output's memory format is PyTorch's. Channels-last in
(input or weight) gives channels-last out for 2-D and 3-D convolutions and transposed
convolutions, unless the kernel PyTorch picks writes contiguous outputs (its slow 3-D
kernels, e.g. for float64); ``is_contiguous(memory_format=...)`` agrees with PyTorch's
output for every format.
"""

from __future__ import annotations

import pytest
import torch
from conv_oracle import nd_calls, spied, torch_fn
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convlab import functional, gemm
from convlab import nn as cnn

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
FORMATS = [torch.contiguous_format, torch.channels_last, torch.channels_last_3d]


def _in_layout(t, layout):
    """``t`` in a memory layout: contiguous, channels-last(-3d), or another permutation."""
    if t.dim() not in (4, 5) or layout == "contiguous":
        return t.contiguous()
    if layout == "channels_last":
        return t.contiguous(memory_format=torch.channels_last if t.dim() == 4
                            else torch.channels_last_3d)
    order = list(range(t.dim()))[::-1]  # every dimension reversed in memory
    return t.permute(order).contiguous().permute(order)


def _same_format_flags(got, expected, label):
    flags = lambda t: [t.is_contiguous(memory_format=f) for f in FORMATS
                       if f == torch.contiguous_format or t.dim() == (4 if f ==
                                                                     torch.channels_last else 5)]
    assert flags(got) == flags(expected), (label, got.stride(), expected.stride())


@EXAMPLES
@given(call=nd_calls(names=["conv2d", "conv3d", "conv_transpose2d", "conv_transpose3d"],
                     batch=(0, 1, 2, None), max_channels=4),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.bfloat16, torch.complex64]),
       x_layout=st.sampled_from(["contiguous", "channels_last", "channels_last", "reversed"]),
       w_layout=st.sampled_from(["contiguous", "contiguous", "channels_last", "reversed"]))
def test_output_memory_format_like_torch(call, dtype, x_layout, w_layout):
    # PyTorch 2.14.1 itself dies (SIGSEGV) on some complex convolutions of a channels-last
    # input with a bias, dilation and padding, e.g. F.conv2d of x (2, 8, 5, 1) channels-last
    # complex64, w (4, 4, 3, 1), bias, stride 2, padding (0, 1), dilation (1, 2), groups 2:
    # there is no oracle to compare with for those
    dilated = any(d > 1 for d in call.kwargs.get("dilation", [1]))
    assume(not (dtype.is_complex and x_layout == "channels_last" and call.bias and dilated))
    x, w, b = call.tensors(dtype)
    x, w = _in_layout(x, x_layout), _in_layout(w, w_layout)
    expected = torch_fn(call.name)(x, w, b, **call.kwargs)
    got = spied(getattr(functional, call.name), x, w, b, **call.kwargs)
    _same_format_flags(got, expected, (x_layout, w_layout, x.stride(), w.stride()))
    if dtype == torch.bfloat16:  # two roundings of one exact value: compare each with it
        _as_close_to_exact_as_torch(got, expected, call, x, w, b)
    else:
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def _as_close_to_exact_as_torch(got, expected, call, x, w, b):
    """bfloat16 keeps 8 significant bits: the float64 result of the same inputs is the
    yardstick. PyTorch's slow bfloat16 kernels round partial sums (errors of several
    units of the last place), so ours must be as close to it as PyTorch's, or within two
    units of bfloat16's last place of the largest output."""
    exact = torch_fn(call.name)(x.double(), w.double(), None if b is None else b.double(),
                                **call.kwargs)
    if exact.numel() == 0:
        return
    ours = (got.double() - exact).abs().max().item()
    theirs = (expected.double() - exact).abs().max().item()
    assert ours <= max(theirs, 2 * 2.0**-7 * exact.abs().max().item()) + 1e-6, (ours, theirs)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("backend", ["im2col", "im2col_blas", "winograd4"])
def test_channels_last_models(dims, backend, monkeypatch):
    """``model.to(memory_format=channels_last)``: the idiom for channels-last CNNs, on each
    backend (forced; the checks at the end are of the automatic choice)."""
    fmt = torch.channels_last if dims == 2 else torch.channels_last_3d
    if backend == "winograd4" and dims == 3:
        pytest.skip("Winograd is a 2-D backend")
    monkeypatch.setattr(functional, "BACKEND", backend)
    for module in (torch.nn, cnn):
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            getattr(module, f"Conv{dims}d")(64, 64, 3, padding=1), torch.nn.ReLU(),
            getattr(module, f"ConvTranspose{dims}d")(64, 4, 3, stride=2)).to(memory_format=fmt)
        x = torch.randn(2, 64, *[16] * (dims - 1), 16 if dims == 2 else 6).contiguous(
            memory_format=fmt)
        y = model(x) if module is torch.nn else spied(model, x)
        first = model[0](x)
        assert first.is_contiguous(memory_format=fmt) and y.is_contiguous(memory_format=fmt)
        if module is torch.nn:
            reference = y
    torch.testing.assert_close(y, reference, atol=1e-4, rtol=1e-4)
    monkeypatch.setattr(functional, "BACKEND", "auto")
    if dims == 2:
        x, w = torch.randn(2, 64, 16, 16).contiguous(memory_format=fmt), torch.randn(8, 64, 3, 3)
        for library in ("torch", "auto"):  # Winograd (torch.matmul's GEMMs), im2col (oneDNN)
            gemm.GEMM = library
            try:
                chosen = functional._choose_backend(x, w, None, (1, 1), ((1, 1),) * 2, (1, 1), 1)
                winograd = library == "torch" or not gemm.onednn_matmul_available()
                assert chosen == ("winograd4" if winograd else "im2col")
                assert spied(functional.conv2d, x, w, padding=1).is_contiguous(memory_format=fmt)
            finally:
                gemm.GEMM = "auto"


def test_the_slow_3d_kernels_write_contiguous_outputs():
    """float64 3-D convolutions run PyTorch's slow kernels, which ignore channels-last."""
    x = torch.randn(2, 4, 5, 5, 5, dtype=torch.float64).contiguous(
        memory_format=torch.channels_last_3d)
    w = torch.randn(3, 4, 3, 3, 3, dtype=torch.float64)
    for fn in (torch.nn.functional.conv3d, functional.conv3d):
        y = fn(x, w, padding=1)
        assert y.is_contiguous() and not y.is_contiguous(memory_format=torch.channels_last_3d)
    y = functional.conv3d(x.float(), w.float(), padding=1)
    assert y.is_contiguous(memory_format=torch.channels_last_3d)  # oneDNN: channels-last
