"""convlab.functional against torch.nn.functional: forward, gradients, errors (float64)."""

import math

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


def _fake_timings(monkeypatch, seconds):
    """``_time_backends`` replaced by fixed times; returns the list of timed layers."""
    timed = []

    def fake(x, weight, stride, padding, dilation, groups, candidates):
        timed.append((tuple(x.shape), tuple(weight.shape)))
        return {name: seconds[name] for name in candidates}
    monkeypatch.setattr(functional, "_time_backends", fake)
    monkeypatch.setattr(functional, "_measured", {})
    return timed


@pytest.mark.skipif(not gemm.onednn_matmul_available(), reason="im2col's GEMMs not on oneDNN")
@pytest.mark.parametrize("seconds, expected", [
    ({"im2col": 3.0, "im2col_blas": 3.5, "winograd2": 2.0, "winograd4": 1.0}, "winograd4"),
    ({"im2col": 3.0, "im2col_blas": 3.5, "winograd2": 2.0, "winograd4": 2.5}, "winograd2"),
    ({"im2col": 1.0, "im2col_blas": 1.5, "winograd2": 2.0, "winograd4": 3.0}, "im2col"),
    ({"im2col": 1.5, "im2col_blas": 1.0, "winograd2": 2.0, "winograd4": 3.0}, "im2col_blas"),
    ({"im2col": 1.0, "im2col_blas": 1.5, "winograd2": 0.97, "winograd4": 3.0}, "im2col"),
    ({"im2col": 2.0, "im2col_blas": 1.0, "winograd2": 0.97, "winograd4": 3.0},  # within the
     "im2col_blas"),  # margin of the faster im2col
])
def test_the_measured_backend_is_the_fastest_and_remembered(seconds, expected, monkeypatch):
    timed = _fake_timings(monkeypatch, seconds)
    x, w = torch.randn(12, 64, 32, 32), torch.randn(64, 64, 3, 3) / 24
    pads = ((1, 1), (1, 1))
    for _ in range(3):
        assert functional._choose_backend(x, w, None, (1, 1), pads, (1, 1), 1) == expected
    assert timed == [((functional.MEASURE_MAX_IMAGES, 64, 32, 32), (64, 64, 3, 3))]  # once
    torch.testing.assert_close(functional.conv2d(x, w, padding=1), F.conv2d(x, w, padding=1),
                               atol=1e-4, rtol=1e-4)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 97)  # another thread count: timed
    functional._choose_backend(x, w, None, (1, 1), pads, (1, 1), 1)
    assert len(timed) == 2
    x_last = x.contiguous(memory_format=torch.channels_last)  # another layout: timed
    functional._choose_backend(x_last, w, None, (1, 1), pads, (1, 1), 1)
    assert len(timed) == 3


@pytest.mark.skipif(not gemm.onednn_matmul_available(), reason="im2col's GEMMs not on oneDNN")
def test_only_large_float32_layers_on_onednn_are_timed(monkeypatch):
    timed = _fake_timings(monkeypatch, {"im2col": 3.0, "im2col_blas": 3.0, "winograd2": 2.0,
                                        "winograd4": 1.0})
    pads = ((1, 1), (1, 1))
    choose = lambda x, w: functional._choose_backend(x, w, None, (1, 1), pads, (1, 1), 1)
    small_x, w = torch.randn(1, 64, 8, 8), torch.randn(64, 64, 3, 3) / 24  # 4.7 Mflop
    assert choose(small_x, w) == "im2col" and not timed
    x = torch.randn(8, 64, 16, 16)
    monkeypatch.setattr(functional, "MEASURE", False)  # switched off: im2col, untimed
    assert choose(x, w) == "im2col" and not timed
    monkeypatch.setattr(functional, "MEASURE", True)
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)  # the same answer at every run: no timing
    try:
        assert choose(x, w) == "im2col" and not timed
    finally:
        torch.use_deterministic_algorithms(deterministic)
    # with autograd recording, the GEMMs are torch.matmul's: the rules, not a timing
    assert choose(x, w.clone().requires_grad_()) == "winograd4" and not timed
    assert choose(x, w) == "winograd4" and len(timed) == 1


def test_time_backends_times_every_backend():
    x, w = torch.randn(2, 16, 12, 12), torch.randn(8, 16, 3, 3)
    seconds = functional._time_backends(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1), 1,
                                        functional.BACKENDS)
    assert set(seconds) == set(functional.BACKENDS)
    assert all(0 < s < 10 for s in seconds.values())


@pytest.mark.skipif(not gemm.onednn_matmul_available(), reason="im2col's GEMMs not on oneDNN")
@pytest.mark.parametrize("seconds, expected", [({"im2col": 2.0, "im2col_blas": 1.0}, "im2col_blas"),
                                               ({"im2col": 1.0, "im2col_blas": 2.0}, "im2col")])
def test_other_layers_time_both_gemm_libraries(seconds, expected, monkeypatch):
    """A strided, grouped or 1x1 layer's candidates are im2col on either GEMM library; the
    faster one runs, and gives PyTorch's answer."""
    timed = _fake_timings(monkeypatch, seconds)
    x, w, b = torch.randn(8, 64, 32, 32), torch.randn(128, 32, 3, 3) / 12, torch.randn(128)
    ran = []
    conv_im2col = functional._conv_im2col
    monkeypatch.setattr(functional, "_conv_im2col", lambda *a, onednn=True: ran.append(onednn)
                        or conv_im2col(*a, onednn=onednn))
    for _ in range(2):
        got = functional.conv2d(x, w, b, stride=2, padding=1, groups=2)
        torch.testing.assert_close(got, F.conv2d(x, w, b, stride=2, padding=1, groups=2),
                                   atol=1e-4, rtol=1e-4)
    assert len(timed) == 1 and ran == [expected == "im2col"] * 2
    assert functional._choose_backend(x, w, b, (2, 2), ((1, 1), (1, 1)), (1, 1), 2) == expected


@pytest.mark.skipif(not gemm.onednn_matmul_available(), reason="phases: oneDNN's im2col")
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(dims=st.sampled_from([1, 2, 3]), groups=st.sampled_from([1, 2]),
       data=st.data())
def test_im2col_by_phases_of_a_strided_input(dims, groups, data, monkeypatch):
    """A strided kernel with many taps (prod(k) >= 8 prod(s)) copies its windows from the
    input's phases: PyTorch's forward and weight gradient, for every rank and groups."""
    taken = []
    phase_windows = functional._phase_windows
    monkeypatch.setattr(functional, "_phase_windows",
                        lambda *a: taken.append(1) or phase_windows(*a))
    stride = [data.draw(st.integers(1, 3)) for _ in range(dims)]
    kernel = [data.draw(st.integers(s, 3 * s + 1)) for s in stride]
    if math.prod(kernel) < functional.PHASES_MIN_COPIES * math.prod(stride) or set(stride) == {1}:
        stride[0] = max(stride[0], 2)
        kernel[0] = -(-functional.PHASES_MIN_COPIES * math.prod(stride)  # enough taps
                      // math.prod(kernel[1:]))
    size = [k + data.draw(st.integers(0, 9)) for k in kernel]
    padding = [data.draw(st.integers(0, k // 2)) for k in kernel]
    K = 2 * math.prod(kernel)  # C_out/G * K from ONEDNN_MIN_GEMM: the GEMMs run on oneDNN
    N, C_out = data.draw(st.integers(1, 3)), groups * -(-functional.ONEDNN_MIN_GEMM // K)
    x = torch.randn(N, 2 * groups, *size, dtype=torch.float32)
    w = torch.randn(C_out, 2, *kernel) / math.prod(kernel) ** 0.5
    b = torch.randn(C_out)
    conv, ours = getattr(F, f"conv{dims}d"), getattr(functional, f"conv{dims}d")
    with torch.no_grad():
        expected = conv(x, w, b, stride, padding, 1, groups)
        torch.testing.assert_close(ours(x, w, b, stride, padding, 1, groups), expected,
                                   atol=1e-4, rtol=1e-4)
        g = torch.randn_like(expected)
        grad = functional.conv_weight_grad(x, g, w.shape, stride, [(p, p) for p in padding],
                                           [1] * dims, groups)
    assert taken
    w_ = w.clone().requires_grad_()
    (conv(x, w_, None, stride, padding, 1, groups) * g).sum().backward()
    torch.testing.assert_close(grad, w_.grad, atol=1e-3, rtol=1e-4)


@pytest.mark.skipif(not gemm.onednn_matmul_available(), reason="wide rows: oneDNN's im2col")
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(dims=st.sampled_from([2, 3]), phased=st.booleans(), groups=st.sampled_from([1, 2]),
       layout=st.sampled_from(["contiguous", "channels_last", "transposed"]), data=st.data())
def test_im2col_by_wide_rows(dims, phased, groups, layout, data, monkeypatch):
    """Where an input row is at most 1 + WIDE_MAX_WASTE output rows long, oneDNN's im2col
    takes whole input rows as columns and drops the junk: PyTorch's answer for every rank,
    stride 1 (with dilation) or a strided kernel split into phases, groups, asymmetric
    padding and input layouts (wide rows are taken only where the rows are one run)."""
    widths = []
    column_chunks = functional._column_chunks
    def spy(x, kernel, stride, padding, dilation, groups, wide=False):
        O = functional.output_sizes(x.shape[2:], kernel, stride, padding, dilation)
        for images, g, cols, width in column_chunks(x, kernel, stride, padding, dilation,
                                                    groups, wide):
            widths.append(width - O[-1])
            yield images, g, cols, width
    monkeypatch.setattr(functional, "_column_chunks", spy)
    if phased:  # a strided kernel with prod(k) >= 8 prod(s): its phases step by one
        stride = [2] * dims
        kernel = [data.draw(st.integers(6, 7) if dims == 2 else st.integers(4, 5))
                  for _ in range(dims)]
        dilation = [1] * dims
    else:
        stride = [data.draw(st.integers(1, 2)) for _ in range(dims - 2)] + [1, 1]
        kernel = [data.draw(st.integers(1, 3)) for _ in range(dims)]
        dilation = [data.draw(st.integers(1, 2)) for _ in range(dims)]
    kernel[-1] = max(kernel[-1], 2)  # some junk columns: an input row longer than the output's
    padding = [(data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in kernel]
    eff = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilation)]
    size = [e + data.draw(st.integers(0, 4)) for e in eff]
    O_w = 20 * (eff[-1] - 1)  # rows at most 1/16 longer than the output's
    size[-1] = stride[-1] * (O_w - 1) + eff[-1] - sum(padding[-1]) + data.draw(st.integers(0, 1))
    N = data.draw(st.integers(1, 3))
    C_out = groups * -(-functional.ONEDNN_MIN_GEMM // (2 * math.prod(kernel)))  # on oneDNN
    x = torch.randn(N, 2 * groups, *size)
    if layout == "channels_last" and dims == 2:
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "transposed":  # the last two dims swapped: rows are not one run
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)
    w = torch.randn(C_out, 2, *kernel) / math.prod(kernel) ** 0.5
    b = torch.randn(C_out) if data.draw(st.booleans()) else None
    flat = [p for pair in reversed(padding) for p in pair]
    conv = getattr(F, f"conv{dims}d")
    with torch.no_grad():
        expected = conv(F.pad(x, flat), w, b, stride, 0, dilation, groups)
        got = functional._conv_im2col(x, w, b, stride, padding, dilation, groups)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert got.is_contiguous() and widths
    if layout == "contiguous" or phased:  # F.pad's copy makes the rows one run
        assert all(extra > 0 for extra in widths)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(dims=st.sampled_from([1, 2, 3]), groups=st.sampled_from([1, 2]),
       chunk=st.sampled_from(["one image", "several images"]), data=st.data())
def test_strided_transposed_stamps_on_onednn(dims, groups, chunk, data, monkeypatch):
    """A strided transposed convolution's stamps go to oneDNN's GEMMs, an image or a chunk
    of images per GEMM: PyTorch's answer for every rank, with groups, dilation, padding,
    output_padding, bias and a transposed input layout."""
    gemms = []
    linear = gemm.linear
    monkeypatch.setattr(gemm, "linear",
                        lambda *a, **k: gemms.append(a[1].shape) or linear(*a, **k))
    monkeypatch.setattr(functional, "ONEDNN_MIN_COLUMNS", 1)  # small shapes on oneDNN too
    monkeypatch.setattr(functional, "ONEDNN_MIN_GEMM", 1)
    monkeypatch.setattr(functional, "ONEDNN_CHUNK_BYTES", 1 if chunk == "one image" else 2**24)
    stride = [data.draw(st.integers(1, 3)) for _ in range(dims)]
    stride[0] = max(stride[0], 2)  # (stride 1 everywhere runs as an ordinary convolution)
    kernel = [data.draw(st.integers(1, 4)) for _ in range(dims)]
    dilation = [data.draw(st.integers(1, 2)) for _ in range(dims)]
    padding = [data.draw(st.integers(0, dl * (k - 1) // 2)) for k, dl in zip(kernel, dilation)]
    output_padding = [data.draw(st.integers(0, max(s, dl) - 1))
                      for s, dl in zip(stride, dilation)]
    size = [data.draw(st.integers(1, 9 if dims < 3 else 4)) for _ in range(dims)]
    N, C_og = data.draw(st.integers(1, 4)), 16
    x = torch.randn(N, 3 * groups, *size)
    if dims > 1 and data.draw(st.booleans()):
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)  # not contiguous
    w = torch.randn(3 * groups, C_og, *kernel)
    b = torch.randn(groups * C_og) if data.draw(st.booleans()) else None
    args = (stride, padding, output_padding, groups, dilation)
    with torch.no_grad():
        expected = getattr(F, f"conv_transpose{dims}d")(x, w, b, *args)
        got = getattr(functional, f"conv_transpose{dims}d")(x, w, b, *args)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    L_in = math.prod(size)
    assert len(gemms) == groups * (N if chunk == "one image" else 1)  # one per chunk, group
    assert all(columns == (L_in if chunk == "one image" else N * L_in)
               for columns, _ in gemms)
