"""Drop-in category *non-finite values*: ``inf``, ``nan`` and huge magnitudes give PyTorch's
answer (the same ``nan``/``+inf``/``-inf`` positions, the finite values close).

Winograd's transforms add and subtract inputs before multiplying, so one ``inf`` turns
into ``nan`` over a whole tile and values near the float maximum overflow; PyTorch's
oneDNN kernel skips padding, so ``0 * inf`` never happens there. ``_choose_backend``
keeps both from changing the answer; these tests feed it adversarial values.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from conv_oracle import (
    assert_same_values,
    interior,
    nd_calls,
    no_torch_conv,
    spied,
    torch_fn,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convlab import functional, gemm, winograd_fast
from convlab.arithmetic import same_padding

INF, NAN = float("inf"), float("nan")
EXAMPLES = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


def _poison(t, values, seed):
    """A copy of ``t`` with ``values`` (inf, -inf, nan) at random positions."""
    t = t.clone()
    gen = torch.Generator().manual_seed(seed)
    flat = t.view(-1)
    for v in values:
        flat[torch.randint(flat.numel(), (), generator=gen)] = v
    return t


specials = st.lists(st.sampled_from([INF, -INF, NAN]), min_size=1, max_size=3)


def test_the_issue_example():
    x = torch.randn(1, 64, 16, 16)
    x[0, 0, 8, 8] = INF
    w = torch.randn(8, 64, 3, 3)
    expected = torch.nn.functional.conv2d(x, w, padding=1)
    got = spied(functional.conv2d, x, w, padding=1)
    assert int(expected.isinf().sum()) == 72 and not expected.isnan().any()
    assert_same_values(got, expected)


@EXAMPLES
@given(call=nd_calls(batch=(1, 2, None)), dtype=st.sampled_from([torch.float32, torch.float64]),
       where=st.sampled_from(["input", "weight", "bias", "input and weight"]), values=specials,
       seed=st.integers(0, 2**31 - 1))
def test_every_functional_keeps_the_non_finite_pattern(call, dtype, where, values, seed):
    x, w, b = call.tensors(dtype)
    if "input" in where:
        x = _poison(x, values, seed)
    if "weight" in where:
        w = _poison(w, values, seed + 1)
    if where == "bias" and b is not None:
        b = _poison(b, values, seed + 2)
    onednn = "weight" in where and _onednn_border(call, x, w)
    assume(not (onednn and call.transposed))
    expected = torch_fn(call.name)(x, w, b, **call.kwargs)
    got = spied(getattr(functional, call.name), x, w, b, **call.kwargs)
    assert_same_values(got, expected, where=_interior_of(call, x, w, expected) if onednn
                       else None)


def _interior_of(call, x, w, out):
    pads = call.kwargs["padding"]
    k, d = w.shape[2:], call.kwargs["dilation"]
    if pads == "same":
        pads = [same_padding(k_, d_) for k_, d_ in zip(k, d)]
    elif pads == "valid":
        pads = [(0, 0)] * call.dims
    else:
        pads = [(p, p) for p in pads]
    batched = out if call.N is not None else out.unsqueeze(0)
    mask = interior(batched.shape, call.size, k, call.kwargs["stride"], pads, d)
    return mask if call.N is not None else mask[0]


def _onednn_border(call, x, w) -> bool:
    """A padded or transposed convolution that PyTorch gives to oneDNN. Whether padded (or,
    transposed, inserted) zeros multiply an ``inf`` weight there depends on the algorithm
    oneDNN picks for the shapes and the CPU (measured both ways): convlab follows a
    measured rule that holds for typical layers (``test_inf_weight_in_typical_layers``),
    and the comparison here covers the outputs whose window reads no padding; transposed
    ones are left out (with a stride, every output meets an inserted zero)."""
    pads, dims = call.kwargs["padding"], call.dims
    padded = pads == "same" or (not isinstance(pads, str) and any(pads))
    if not (padded or call.transposed):
        return False
    backend = torch._C._select_conv_backend(
        x.unsqueeze(0) if call.N is None else x, w, None, call.kwargs["stride"],
        [0] * dims if isinstance(pads, str) else pads, call.kwargs["dilation"],
        call.transposed, call.kwargs.get("output_padding", [0] * dims),
        call.kwargs["groups"], None)
    return backend.name in ("Mkldnn", "???")  # "???": MkldnnTranspose (unnamed in torch 2.14)


@st.composite
def winograd_calls(draw):
    """float32 3x3 stride-1 convolutions with enough channels for Winograd."""
    C_in = draw(st.sampled_from([64, 80]))
    H, W = draw(st.integers(6, 20)), draw(st.integers(6, 20))
    padding = draw(st.sampled_from([0, 1, (1, 1), "same"]))
    return C_in, H, W, padding, draw(st.integers(1, 2)), draw(st.integers(1, 6))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(config=winograd_calls(), where=st.sampled_from(["input", "weight", "bias"]),
       values=specials, seed=st.integers(0, 2**31 - 1))
def test_non_finite_values_never_reach_winograd(config, where, values, seed):
    with torch_gemm():  # where Winograd is the default choice
        _non_finite_values_never_reach_winograd(config, where, values, seed)


@contextlib.contextmanager
def torch_gemm():
    """``convlab.functional`` with its GEMMs on torch.matmul, where Winograd is chosen."""
    gemm.GEMM = "torch"
    try:
        yield
    finally:
        gemm.GEMM = "auto"


def _non_finite_values_never_reach_winograd(config, where, values, seed):
    C_in, H, W, padding, N, C_out = config
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N, C_in, H, W, generator=gen)
    w = torch.randn(C_out, C_in, 3, 3, generator=gen) / 24
    b = torch.randn(C_out, generator=gen)
    clean = functional._choose_backend(x, w, b, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    x, w, b = [_poison(t, values, seed) if name == where else t
               for name, t in (("input", x), ("weight", w), ("bias", b))]
    expected = torch.nn.functional.conv2d(x, w, b, padding=padding)
    got = spied(functional.conv2d, x, w, b, padding=padding)
    assert_same_values(got, expected)
    chosen = functional._choose_backend(x, w, b, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert not chosen.startswith("winograd"), (chosen, clean)


@pytest.mark.parametrize("backend", ["winograd2", "winograd4"])
def test_a_forced_winograd_backend_also_yields_to_non_finite_values(backend, monkeypatch):
    monkeypatch.setattr(functional, "BACKEND", backend)
    for seed in range(20):
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(2, 4, 9, 10, generator=gen, dtype=torch.float64)
        w = torch.randn(3, 4, 3, 3, generator=gen, dtype=torch.float64)
        x = _poison(x, [[INF, -INF, NAN][seed % 3]] * (1 + seed % 2), seed)
        expected = torch.nn.functional.conv2d(x, w, padding=1)
        assert_same_values(spied(functional.conv2d, x, w, padding=1), expected)
    x = torch.randn(2, 4, 9, 10, dtype=torch.float64)
    assert functional._choose_backend(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1) == backend


@pytest.mark.parametrize("backend", ["im2col", "im2col_blas"])
def test_either_gemm_library_keeps_the_non_finite_pattern(backend, monkeypatch):
    """im2col on oneDNN's GEMMs or on torch.matmul's (both can be the measured choice):
    ``inf``/``nan`` in the input, weight or bias of ResNet-like float32 layers give
    PyTorch's pattern."""
    monkeypatch.setattr(functional, "BACKEND", backend)
    layers = [(3, 16, 7, 2, 3), (16, 32, 3, 1, 1), (16, 32, 3, 2, 1), (16, 32, 1, 2, 0)]
    for seed in range(24):
        C_in, C_out, k, stride, padding = layers[seed % len(layers)]
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(2, C_in, 20, 20, generator=gen)
        w, b = torch.randn(C_out, C_in, k, k, generator=gen) / 8, torch.randn(C_out, generator=gen)
        where = ("input", "weight", "bias")[seed % 3]
        values = [[INF], [-INF, NAN], [NAN, INF]][(seed // 3) % 3]
        x, w, b = [_poison(t, values, seed) if name == where else t
                   for name, t in (("input", x), ("weight", w), ("bias", b))]
        expected = torch.nn.functional.conv2d(x, w, b, stride, padding)
        assert_same_values(spied(functional.conv2d, x, w, b, stride, padding), expected)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(config=winograd_calls(), scale=st.sampled_from([1e35, 1e36, 1e37, 6e37]),
       seed=st.integers(0, 2**31 - 1))
def test_huge_magnitudes_stay_finite_where_torch_is(config, scale, seed):
    """Inputs near the float32 maximum: the direct sum stays finite, Winograd's transforms
    (which add up to 36 of them, with coefficients up to 2.5) need not."""
    C_in, H, W, padding, N, C_out = config
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N, C_in, H, W, generator=gen) * scale
    w = torch.randn(C_out, C_in, 3, 3, generator=gen) * 0.01 / C_in
    expected = torch.nn.functional.conv2d(x, w, padding=padding)
    assume(torch.isfinite(expected).all())
    assert_same_values(spied(functional.conv2d, x, w, padding=padding), expected)


def test_winograd_alone_would_overflow_where_torch_does_not():
    """Signs that line up with F(4x4, 3x3)'s ``B^T``: the transform's sum overflows."""
    B_T = winograd_fast.cook_toom_matrices(winograd_fast.POINTS[4])[0]
    signs = B_T[0].sign()  # (6,): the first row's signs
    tile = (signs[:, None] * signs[None, :]).float()  # (6, 6): every term adds up
    x = torch.zeros(1, 64, 16, 16)
    x[:, :, :6, :6] = tile * 2e38
    w = torch.full((4, 64, 3, 3), 1e-4)
    expected = torch.nn.functional.conv2d(x, w, padding=1)
    assert torch.isfinite(expected).all()
    with torch.no_grad():
        assert not torch.isfinite(winograd_fast.winograd_conv2d(x, w, None, (1, 1), tile=4)).all()
    assert_same_values(spied(functional.conv2d, x, w, padding=1), expected)


def test_values_near_the_float32_maximum():
    for seed in range(10):
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(1, 64, 12, 12, generator=gen)
        x[0, seed, 4:8, 4:8] = 3e38 * (-1) ** seed  # a patch at the largest magnitudes
        w = torch.rand(4, 64, 3, 3, generator=gen) * 1e-3
        expected = torch.nn.functional.conv2d(x, w, padding=1)
        assert_same_values(spied(functional.conv2d, x, w, padding=1), expected)
    x, w = torch.rand(1, 64, 12, 12) * 3e38, torch.rand(4, 64, 3, 3) + 1  # overflows to +inf
    expected = torch.nn.functional.conv2d(x, w)
    assert expected.isinf().all()
    assert_same_values(spied(functional.conv2d, x, w), expected)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(dims=st.integers(1, 3), k=st.sampled_from([3, 5, 7]), C=st.sampled_from([3, 16, 64]),
       N=st.sampled_from([1, 2, 8]), stride=st.integers(1, 2), size=st.integers(9, 28),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.bfloat16]),
       values=specials, seed=st.integers(0, 2**31 - 1))
def test_inf_weight_in_typical_layers(dims, k, C, N, stride, size, dtype, values, seed):
    """A ``k x k`` layer padded by ``k // 2``: oneDNN (float32, bfloat16) never multiplies
    its padding, the slow kernels (float64, small float32 calls) do, so an inf tap at the
    border gives inf in one and nan in the other. convlab follows the kernel PyTorch picks,
    everywhere in the output."""
    if dims == 3:
        k, C, size = 3, min(C, 16), min(size, 9)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N, C, *[size] * dims, generator=gen).to(dtype)
    w = _poison(torch.randn(8, C, *[k] * dims, generator=gen) / 10, values, seed).to(dtype)
    expected = torch_fn(f"conv{dims}d")(x, w, padding=k // 2, stride=stride)
    got = spied(getattr(functional, f"conv{dims}d"), x, w, padding=k // 2, stride=stride)
    low = dtype == torch.bfloat16
    assert_same_values(got, expected, rtol=4e-2 if low else 1e-4, atol=4e-2 if low else 1e-5)


@st.composite
def ungrouped_padded_calls(draw):
    """Ungrouped padded convolutions of every rank, kernels up to 4, dilations up to 3."""
    dims = draw(st.integers(1, 3))
    k = [draw(st.integers(1, 4 if dims < 3 else 3)) for _ in range(dims)]
    d = [draw(st.integers(1, 3)) for _ in range(dims)]
    p = [draw(st.integers(0, 4)) for _ in range(dims)]
    size = [draw(st.integers(dl * (kk - 1) + 1, dl * (kk - 1) + (7 if dims < 3 else 3)))
            for kk, dl in zip(k, d)]
    return dims, k, d, p, size, draw(st.integers(1, 3)), draw(st.integers(1, 16))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(call=ungrouped_padded_calls(), values=specials, seed=st.integers(0, 2**31 - 1))
def test_inf_weights_in_any_padded_convolution(call, values, seed):
    """Any kernel, dilation, stride and padding: PyTorch's pattern on every output whose
    window reads no padding (at the border oneDNN's own algorithm choice decides)."""
    dims, k, d, p, size, stride, C = call
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, C, *size, generator=gen)
    w = _poison(torch.randn(3, C, *k, generator=gen), values, seed)
    kwargs = dict(padding=p, dilation=d, stride=stride)
    expected = torch_fn(f"conv{dims}d")(x, w, **kwargs)
    got = spied(getattr(functional, f"conv{dims}d"), x, w, **kwargs)
    mask = interior(expected.shape, size, k, [stride] * dims, [(q, q) for q in p], d)
    assert_same_values(got, expected, where=mask)


def test_the_spy_sees_kernels_under_the_profiler():
    """Once with the profiler too: every ATen operator, not only those Python sees."""
    x = _poison(torch.randn(2, 64, 16, 16), [INF, NAN], 0)
    w = _poison(torch.randn(8, 64, 3, 3), [INF], 1)
    with no_torch_conv(profile=True):
        functional.conv2d(x, w, padding=1)
        functional.conv_transpose2d(x, w.transpose(0, 1), padding=1)
    with pytest.raises(AssertionError, match="convolution kernels ran"):
        with no_torch_conv(profile=True, dispatch=False):
            torch.nn.functional.conv2d(x, w)
