"""convlab.gemm: oneDNN's matmul where it applies, torch.matmul everywhere else.

The fast im2col paths (``functional._conv_columns``, ``_conv_pointwise``) must give
PyTorch's answer with the oneDNN GEMM and without it (an older torch, CUDA, other
dtypes, autograd, transforms), and no torch convolution kernel may run on either.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conv_oracle import no_torch_conv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlab import functional, gemm, ladder

ONEDNN = gemm.onednn_matmul_available()
needs_onednn = pytest.mark.skipif(not ONEDNN, reason="this torch has no oneDNN matmul")


class _CountOneDNN(torch.utils._python_dispatch.TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls += "_linear_pointwise" in str(func)
        return func(*args, **(kwargs or {}))


def _onednn_calls(fn, *args, **kwargs):
    with _CountOneDNN() as spy, no_torch_conv():
        out = fn(*args, **kwargs)
    return out, spy.calls


@needs_onednn
@pytest.mark.parametrize("M, K, N", [(1, 1, 1), (7, 3, 5), (300, 147, 64), (64, 600, 9)])
def test_linear_matches_addmm_with_and_without_bias(M, K, N):
    x, w, b = torch.randn(M, K), torch.randn(N, K), torch.randn(N)
    close = dict(atol=1e-4, rtol=1e-4)  # float32 sums of up to 600 products, two orders
    torch.testing.assert_close(gemm.linear(x, w, b), torch.addmm(b, x, w.T), **close)
    torch.testing.assert_close(gemm.linear(x, w), x @ w.T, **close)
    wt = torch.randn(K, N).T  # a transposed view
    torch.testing.assert_close(gemm.linear(x, wt, b), torch.addmm(b, x, wt.T), **close)


def test_onednn_applies_only_where_its_op_is_allowed(monkeypatch):
    x = torch.randn(4, 3)
    assert gemm.onednn_applies(x) == ONEDNN
    assert not gemm.onednn_applies(x.double())
    assert not gemm.onednn_applies(x.to(torch.bfloat16))
    assert not gemm.onednn_applies(x.requires_grad_())  # autograd records it
    with torch.no_grad():
        assert gemm.onednn_applies(x) == ONEDNN
    under_vmap = torch.func.vmap(lambda t: torch.tensor(gemm.onednn_applies(t)))
    assert not under_vmap(torch.randn(2, 3)).any()
    monkeypatch.setattr(gemm, "GEMM", "torch")
    assert not gemm.onednn_applies(torch.randn(4, 3))


def test_describe_names_the_libraries():
    info = gemm.describe()
    assert info["onednn_matmul"] == ONEDNN and isinstance(info["cpu_capability"], str)
    line = ladder.machine_line(ladder.machine_info())
    assert "threads" in line and "GEMMs on" in line


def test_machine_line_names_the_cpu_generation_that_a_vm_hides():
    base = {"cpu": "AMD EPYC", "isa": "AVX512", "isa_flags": ["avx512f"], "threads": 2,
            "cores": 2, "torch": "2.x", "date": "2026-12-02T07:00+00:00"}
    zen4 = dict(base, cpu_family=25, cpu_model=17, core=ladder.amd_core(25, 17))
    zen5 = dict(base, cpu_family=26, cpu_model=2, core=ladder.amd_core(26, 2))
    assert ladder.machine_line(zen4).startswith("AMD EPYC (Zen 4, family 25 model 17); ")
    assert ladder.machine_line(zen5).startswith("AMD EPYC (Zen 5, family 26 model 2); ")
    intel = dict(base, cpu="Intel(R) Xeon(R) CPU", cpu_family=6, cpu_model=143, core=None)
    assert ladder.machine_line(intel).startswith("Intel(R) Xeon(R) CPU (family 6 model 143); ")
    assert ladder.machine_line(base).startswith("AMD EPYC; ")  # older saved runs
    assert [ladder.amd_core(25, m) for m in (0x01, 0x11, 0x21, 0x61, 0xA0)] == [
        "Zen 3", "Zen 4", "Zen 3", "Zen 4", "Zen 4"]
    assert ladder.amd_core(23, 0x31) == "Zen 2" and ladder.amd_core(6, 143) is None
    info = ladder.machine_info()  # this machine: the numbers are recorded where Linux has them
    assert set(info) >= {"cpu_family", "cpu_model", "core"}


@st.composite
def _calls(draw):
    dims = draw(st.sampled_from([1, 2, 2, 3]))
    G = draw(st.sampled_from([1, 1, 2]))
    C_in, C_out = G * draw(st.integers(1, 6)), G * draw(st.integers(1, 6))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    size = tuple(draw(st.integers(d * (k - 1) + 1, 9)) for k, d in zip(kernel, dilation))
    N = draw(st.integers(1, 3))
    return dims, dict(groups=G, stride=stride, dilation=dilation, padding=padding), \
        (N, C_in, *size), (C_out, C_in // G, *kernel), draw(st.booleans())


@needs_onednn
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_calls())
def test_patches_path_matches_torch_on_random_calls(call):
    dims, kwargs, x_shape, w_shape, has_bias = call
    x, w = torch.randn(x_shape), torch.randn(w_shape)
    b = torch.randn(w_shape[0]) if has_bias else None
    conv = getattr(functional, f"conv{dims}d")
    ref = getattr(F, f"conv{dims}d")(x, w, b, **kwargs)
    old = functional.ONEDNN_MIN_GEMM
    functional.ONEDNN_MIN_GEMM = 1  # every call through the patches and oneDNN
    try:
        out, calls = _onednn_calls(conv, x, w, b, **kwargs)
    finally:
        functional.ONEDNN_MIN_GEMM = old
    assert calls >= 1
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)


@needs_onednn
@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("index", [0, 2, 3, 10])  # conv1 7x7/2, 3x3/2, 1x1/2, 512@7
def test_resnet_layers_run_on_onednn_and_in_chunks(index, chunked, monkeypatch):
    layer = ladder.RESNET18[index]
    layer = layer[:3] + (min(layer[3], 32),) + layer[4:]  # smaller images, same channels
    x, w, kw, _, _ = ladder.layer_tensors(layer, 3, "cpu")
    b = torch.randn(w.shape[0])
    monkeypatch.setattr(functional, "MEASURE", False)  # im2col on oneDNN, not a timed choice
    if chunked:  # one image a chunk
        for name in ("FRESH_PAGES_BYTES", "ONEDNN_CHUNK_BYTES", "ONEDNN_MIN_COLUMNS"):
            monkeypatch.setattr(functional, name, 1)
    out, calls = _onednn_calls(functional.conv2d, x, w, b, **kw)
    assert calls == len(x) if chunked else calls >= 1
    torch.testing.assert_close(out, F.conv2d(x, w, b, **kw), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("why", ["missing", "GEMM=torch", "float64", "requires_grad"])
def test_without_onednn_torch_matmul_gives_the_same_answer(why, monkeypatch):
    x, w, b = torch.randn(2, 16, 12, 12), torch.randn(32, 16, 3, 3) / 12, torch.randn(32)
    if why == "missing":
        monkeypatch.setattr(gemm, "onednn_matmul_available", lambda: False)
    elif why == "GEMM=torch":
        monkeypatch.setattr(gemm, "GEMM", "torch")
    elif why == "float64":
        x, w, b = x.double(), w.double(), b.double()
    else:
        x.requires_grad_()
    out, calls = _onednn_calls(functional.conv2d, x, w, b, stride=2, padding=1)
    assert calls == 0
    torch.testing.assert_close(out, F.conv2d(x, w, b, stride=2, padding=1), atol=1e-4, rtol=1e-4)


def test_live_ratios_measure_a_small_subset():
    result = ladder.live_ratios(layers=["tiny 3x3", "tiny 1x1/2"], batch=1, rounds=2)
    assert result["machine"] == ladder.machine_line(result["machine_info"]) or result["machine"]
    assert [row["layer"] for row in result["rows"]] == ["tiny 3x3", "tiny 1x1/2"]
    for row in result["rows"]:
        assert row["F.conv2d ms"] > 0 and row["convlab.functional.conv2d"]["ratio"] > 0
    assert "winograd" not in result["rows"][1]  # 1x1/2 is not Winograd's
    html = ladder.live_table(result)
    assert html.count("<tr>") == 3 and "n/a" in html and "measured now on" in html


def test_gemm_roofs_name_both_libraries():
    roofs = ladder.gemm_roofs(n=64, rounds=2)
    assert roofs["torch.matmul"] > 0
    assert ("oneDNN matmul" in roofs) == ONEDNN


@needs_onednn
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_calls())
def test_conv_weight_grad_matches_autograd_on_random_calls(call):
    dims, kwargs, x_shape, w_shape, _ = call
    x, w = torch.randn(x_shape), torch.randn(w_shape).requires_grad_()
    y = getattr(F, f"conv{dims}d")(x, w, **kwargs)
    g = torch.randn_like(y)
    (ref,) = torch.autograd.grad(y, w, g)
    pads = [(p, p) for p in kwargs["padding"]]
    with torch.no_grad():
        got, calls = _onednn_calls(functional.conv_weight_grad, x, g, w.shape, kwargs["stride"],
                                   pads, kwargs["dilation"], kwargs["groups"])
    assert calls >= 1
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)


def test_conv_weight_grad_leaves_other_cases_to_the_caller():
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    g = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    assert functional.conv_weight_grad(x, g, (3, 4, 3, 3), (1, 1), ((0, 0),) * 2, (1, 1), 1) is None
    x.requires_grad_()
    assert functional.conv_weight_grad(x.float(), g.float(), (3, 4, 3, 3), (1, 1), ((0, 0),) * 2,
                                       (1, 1), 1) is None


def test_machine_brief_is_a_few_words_with_core_isa_and_threads():
    base = {"cpu": "AMD EPYC", "isa": "AVX512", "threads": 1, "cores": 2}
    assert ladder.machine_brief(dict(base, core="Zen 5")) == \
        "AMD EPYC (Zen 5), ISA AVX512, 1 thread of 2 CPUs"
    assert ladder.machine_brief(dict(base, threads=2)) == \
        "AMD EPYC, ISA AVX512, 2 threads of 2 CPUs"
    assert ladder.machine_brief(dict(base, gpu="NVIDIA H200", core="Zen 5")).startswith(
        "NVIDIA H200, ")  # a GPU run names the GPU, not the host's core
