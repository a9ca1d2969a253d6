"""convlab.functional against torch.nn.functional: forward, gradients, errors (float64)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlab import functional, gemm

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_configs(draw, transposed=False):
    """A random valid (input, weight, bias, kwargs, dims) for a conv or transposed conv."""
    dims = draw(st.sampled_from([1, 2, 3]))
    G = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = G * draw(st.integers(1, 3)), G * draw(st.integers(1, 3))
    k = [draw(st.integers(1, 4 if dims < 3 else 3)) for _ in range(dims)]
    s = [draw(st.integers(1, 3)) for _ in range(dims)]
    d = [draw(st.integers(1, 3)) for _ in range(dims)]
    size = [draw(st.integers(d_ * (k_ - 1) + 1, d_ * (k_ - 1) + (7 if dims < 3 else 4)))
            for k_, d_ in zip(k, d)]
    N = draw(st.sampled_from([0, 1, 2, None]))  # None: unbatched
    shape = (c_in, *size) if N is None else (N, c_in, *size)
    x = torch.randn(shape, dtype=torch.float64)
    if draw(st.booleans()) and dims == 2 and N:  # non-contiguous / channels-last inputs
        x = x.contiguous(memory_format=torch.channels_last)
    bias = torch.randn(c_out, dtype=torch.float64) if draw(st.booleans()) else None
    if transposed:
        w = torch.randn(c_in, c_out // G, *k, dtype=torch.float64)
        pad = [draw(st.integers(0, d_ * (k_ - 1))) for k_, d_ in zip(k, d)]
        out_pad = [draw(st.integers(0, max(s_, d_) - 1)) for s_, d_ in zip(s, d)]
        kwargs = dict(stride=s, padding=pad, output_padding=out_pad, groups=G, dilation=d)
    else:
        w = torch.randn(c_out, c_in // G, *k, dtype=torch.float64)
        pad = draw(st.sampled_from(["int", "same", "valid"]))
        if pad == "same":
            s = [1] * dims
        pad = [draw(st.integers(0, 3)) for _ in range(dims)] if pad == "int" else pad
        kwargs = dict(stride=s, padding=pad, dilation=d, groups=G)
    return x, w, bias, kwargs, dims


def _check(ours, theirs, x, w, bias, kwargs):
    """Same output and same gradients for input, weight and bias."""
    leaves = [t.detach().clone().requires_grad_() for t in (x, w) + ((bias,) if bias is not None
                                                                   else ())]
    try:
        expected = theirs(*leaves[:2], leaves[2] if bias is not None else None, **kwargs)
    except RuntimeError:  # torch rejects it (e.g. output size <= 0): so must we
        with pytest.raises(RuntimeError):
            ours(*leaves[:2], leaves[2] if bias is not None else None, **kwargs)
        return
    got = ours(*leaves[:2], leaves[2] if bias is not None else None, **kwargs)
    torch.testing.assert_close(got, expected)
    grad_out = torch.randn_like(expected)
    g_exp = torch.autograd.grad(expected, leaves, grad_out, allow_unused=True)
    g_got = torch.autograd.grad(got, leaves, grad_out, allow_unused=True)
    for a, b in zip(g_got, g_exp):
        if b is not None:
            torch.testing.assert_close(a, b)


@SETTINGS
@given(conv_configs())
def test_conv_matches_torch(config):
    x, w, bias, kwargs, dims = config
    _check(getattr(functional, f"conv{dims}d"), getattr(F, f"conv{dims}d"), x, w, bias, kwargs)


@SETTINGS
@given(conv_configs(transposed=True))
def test_conv_transpose_matches_torch(config):
    x, w, bias, kwargs, dims = config
    _check(getattr(functional, f"conv_transpose{dims}d"), getattr(F, f"conv_transpose{dims}d"),
           x, w, bias, kwargs)


@pytest.mark.parametrize("backend", functional.BACKENDS)
def test_both_backends_agree_with_torch(backend, monkeypatch):
    monkeypatch.setattr(functional, "BACKEND", backend)
    x, w = torch.randn(2, 4, 9, 8, dtype=torch.float64), torch.randn(6, 2, 3, 2,
                                                                    dtype=torch.float64)
    b = torch.randn(6, dtype=torch.float64)
    for kw in (dict(padding=1), dict(padding="same", dilation=2), dict(groups=2)):
        groups = kw.pop("groups", 1)
        w_ = w if groups == 2 else torch.randn(6, 4, 3, 2, dtype=torch.float64)
        torch.testing.assert_close(functional.conv2d(x, w_, b, groups=groups, **kw),
                                   F.conv2d(x, w_, b, groups=groups, **kw))
    x.requires_grad_()
    w3 = torch.randn(6, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    for padding in (0, 1, "same"):  # 3x3 stride 1: Winograd's case when forced
        ours, theirs = functional.conv2d(x, w3, b, padding=padding), F.conv2d(x, w3, b,
                                                                              padding=padding)
        torch.testing.assert_close(ours, theirs)
        torch.testing.assert_close(torch.autograd.grad(ours.sum(), (x, w3)),
                                   torch.autograd.grad(theirs.sum(), (x, w3)))
    assert functional._choose_backend(x, w3, b, (1, 1), ((1, 1), (1, 1)), (1, 1), 1) == backend


@pytest.mark.parametrize("gemm_library", ["auto", "torch"])
def test_float32_resnet_layers_and_complex(gemm_library, monkeypatch):
    monkeypatch.setattr(gemm, "GEMM", gemm_library)
    winograd = gemm_library == "torch" or not gemm.onednn_matmul_available()
    for C, H, backend in ((16, 14, "im2col"), (128, 14, "winograd2" if winograd else "im2col"),
                          (64, 16, "winograd4" if winograd else "im2col")):
        x, w = torch.randn(2, C, H, H), torch.randn(32, C, 3, 3) / C ** 0.5
        pads = ((1, 1), (1, 1))
        assert functional._choose_backend(x, w, None, (1, 1), pads, (1, 1), 1) == backend
        torch.testing.assert_close(functional.conv2d(x, w, None, 1, 1),
                                   F.conv2d(x, w, None, 1, 1), atol=1e-4, rtol=1e-4)
    xc, wc = torch.randn(1, 2, 6, dtype=torch.complex128), torch.randn(3, 2, 3,
                                                                       dtype=torch.complex128)
    torch.testing.assert_close(functional.conv1d(xc, wc), F.conv1d(xc, wc))
    torch.testing.assert_close(functional.conv_transpose1d(xc, wc.transpose(0, 1)),
                               F.conv_transpose1d(xc, wc.transpose(0, 1)))


def test_signatures_match_torch_docs():
    import inspect
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d"):
        doc_sig = getattr(F, name).__doc__.strip().splitlines()[0]
        ours = f"{name}{inspect.signature(getattr(functional, name))}"
        assert doc_sig.startswith(ours), (doc_sig, ours)


X2, W2 = torch.randn(1, 4, 5, 5), torch.randn(4, 2, 3, 3)
CONV_ERRORS = [  # (args, kwargs): each must fail in torch and in convlab the same way
    ((torch.randn(4, 5), W2), {}),
    ((X2, torch.randn(4, 2, 3)), {}),
    ((torch.randn(1, 3, 5, 5), W2), {}),
    ((X2, torch.randn(4, 4, 3, 3)), dict(groups=0)),
    ((X2, torch.randn(4, 4, 3, 3)), dict(stride=0)),
    ((X2, torch.randn(4, 4, 3, 3)), dict(padding=-1)),
    ((X2, torch.randn(4, 4, 3, 3)), dict(dilation=0)),
    ((X2, torch.randn(4, 4, 3, 3)), dict(padding="bad")),
    ((X2, torch.randn(4, 4, 3, 3)), dict(padding="same", stride=2)),
    ((X2, torch.randn(4, 4, 7, 7)), {}),
    ((X2, torch.randn(4, 4, 3, 3), torch.randn(3)), {}),
    ((X2.double(), torch.randn(4, 4, 3, 3)), {}),
    ((X2, torch.randn(4, 4, 3, 3)), dict(stride=(1, 1, 1))),
]
TRANSPOSE_ERRORS = [
    ((torch.randn(4, 5), W2), {}),
    ((torch.randn(1, 3, 5, 5), W2), {}),
    ((X2, W2), dict(stride=2, output_padding=2)),
    ((X2, W2), dict(output_padding=-1)),
    ((X2, W2), dict(padding=5)),
    ((X2, W2), dict(groups=0)),
    ((X2, W2), dict(groups=3)),
    ((X2, W2, torch.randn(3)), {}),
    ((X2, W2), dict(stride=0)),
    ((X2, W2), dict(padding=-1)),
    ((X2, W2), dict(dilation=0)),
    ((X2, W2), dict(padding="same")),
    ((X2, W2), dict(stride=1.5)),
    ((X2.double(), W2), {}),
    ((torch.randn(1, 4, 0, 5), W2), {}),  # an empty image in a non-empty batch
    ((X2, W2, "bias"), {}),
    ((X2, W2), dict(groups=1.5)),
]


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_bias_dtype_and_empty_batch_like_torch(dims):
    """PyTorch casts a float64 bias in 1-D and 2-D transposed convolutions, refuses it in 3-D;
    an empty batch gives an empty output, even where one image's output would be empty."""
    ours = getattr(functional, f"conv_transpose{dims}d")
    theirs = getattr(F, f"conv_transpose{dims}d")
    x, w, b = torch.randn(1, 2, *[4] * dims), torch.randn(2, 3, *[3] * dims), torch.randn(3)
    if dims == 3:
        with pytest.raises(RuntimeError):
            theirs(x, w, b.double(), stride=2)
        with pytest.raises(RuntimeError):
            ours(x, w, b.double(), stride=2)
    else:
        torch.testing.assert_close(ours(x, w, b.double(), stride=2),
                                   theirs(x, w, b.double(), stride=2))
    empty = torch.randn(0, 2, *[2] * dims)
    torch.testing.assert_close(ours(empty, w, padding=2), theirs(empty, w, padding=2))


@pytest.mark.parametrize("args,kwargs", CONV_ERRORS)
def test_conv_errors_like_torch(args, kwargs):
    with pytest.raises(Exception) as theirs:
        F.conv2d(*args, **kwargs)
    with pytest.raises(theirs.type):
        functional.conv2d(*args, **kwargs)


@pytest.mark.parametrize("args,kwargs", TRANSPOSE_ERRORS)
def test_conv_transpose_errors_like_torch(args, kwargs):
    with pytest.raises(Exception) as theirs:
        F.conv_transpose2d(*args, **kwargs)
    with pytest.raises(theirs.type):
        functional.conv_transpose2d(*args, **kwargs)


def test_no_torch_conv_kernels_called(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a PyTorch conv kernel was called")
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "convolution"):
        monkeypatch.setattr(torch, name, boom, raising=False)
        monkeypatch.setattr(F, name, boom, raising=False)
    x = torch.randn(1, 2, 5, 5)
    functional.conv2d(x, torch.randn(3, 2, 3, 3), padding=1)
    functional.conv_transpose2d(x, torch.randn(2, 3, 3, 3), stride=2)


def test_submodule_imports():
    import convlab
    import convlab.nn
    from convlab import functional as f2
    from convlab import nn
    assert f2 is functional and nn is convlab.nn


@pytest.mark.parametrize("groups", [1, 2])
def test_im2col_in_chunks_of_the_batch(groups, monkeypatch):
    """Big batches go through im2col a few images at a time; small images in one GEMM."""
    x = torch.randn(5, 4, 20, 19, dtype=torch.float64)
    w, b = torch.randn(6, 4 // groups, 3, 2, dtype=torch.float64), torch.randn(6,
                                                                               dtype=torch.float64)
    for chunk_bytes in (1, 2**16, 2**24):  # 1, 3 (of 19 200 bytes) or all 5 images per chunk
        monkeypatch.setattr(functional, "IM2COL_CHUNK_BYTES", chunk_bytes)
        for min_l in (1, 10**6):  # per-image GEMMs, or the batch in the columns
            monkeypatch.setattr(functional, "PER_IMAGE_GEMM_MIN_L", min_l)
            for bias in (None, b):
                got = functional.conv2d(x, w, bias, 2, 1, 1, groups)
                assert got.is_contiguous()
                torch.testing.assert_close(got, F.conv2d(x, w, bias, 2, 1, 1, groups))
