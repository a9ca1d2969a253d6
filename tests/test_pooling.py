"""convlab.pooling against torch.nn.functional: values, indices, gradients, errors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

from convlab import functional, pooling
from convlab.pooling import avg_pool2d, max_pool2d, pool_output_size

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pool_configs(draw):
    """A random input (ties, NaN, infinities, unbatched, empty or channels-last batches) and
    random pooling arguments, valid or not: torch decides, and we must agree."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    pair = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.sampled_from([None, (), 1, 2, 3, pair]))  # None and (): the kernel size
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    H, W = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    N = draw(st.sampled_from([0, 1, 2, None]))  # None: unbatched
    x = torch.randn((3, H, W) if N is None else (N, 3, H, W), dtype=torch.float64)
    kind = draw(st.sampled_from(["plain", "ties", "nan", "inf"]))
    if kind == "ties":
        x = x.round()  # many equal values in a window
    elif kind == "nan":
        x[x > 0.8] = float("nan")
    elif kind == "inf":
        x[x > 0.3] = -float("inf")
    if N and draw(st.booleans()):
        x = x.contiguous(memory_format=torch.channels_last)
    return x, dict(kernel_size=k if draw(st.booleans()) else k[0], stride=s,
                   padding=p if draw(st.booleans()) else p[0], ceil_mode=draw(st.booleans())), d


def _same_error_or_none(ours, theirs, x, kwargs):
    """Both raise the same exception type and message, or both return: (ours, theirs)."""
    try:
        expected = theirs(x, **kwargs)
    except Exception as error:
        with pytest.raises(type(error)) as raised:
            ours(x, **kwargs)
        assert str(raised.value) == str(error)
        return None
    return ours(x, **kwargs), expected


@SETTINGS
@given(pool_configs())
def test_max_pool2d_matches_torch(config):
    x, kwargs, d = config
    kwargs = dict(kwargs, dilation=d, return_indices=True)
    result = _same_error_or_none(max_pool2d, F.max_pool2d, x, kwargs)
    if result:
        (values, indices), (values_t, indices_t) = result
        torch.testing.assert_close(values, values_t, rtol=0, atol=0, equal_nan=True)
        assert torch.equal(indices, indices_t), (indices, indices_t)  # ties and NaN too
        assert values.is_contiguous(memory_format=torch.channels_last) == \
            values_t.is_contiguous(memory_format=torch.channels_last)


@SETTINGS
@given(pool_configs(), st.booleans(), st.sampled_from([None, None, 1, 3, -2]))
def test_avg_pool2d_matches_torch(config, count_include_pad, divisor_override):
    x, kwargs, _ = config
    kwargs = dict(kwargs, count_include_pad=count_include_pad, divisor_override=divisor_override)
    result = _same_error_or_none(avg_pool2d, F.avg_pool2d, x, kwargs)
    if result:
        torch.testing.assert_close(*result, equal_nan=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pool_configs(), st.booleans())
def test_gradients_match_torch_and_finite_differences(config, count_include_pad):
    x, kwargs, d = config
    x = torch.randn(x.shape, dtype=torch.float64)  # finite and tie-free: a differentiable point
    pools = [(lambda t: max_pool2d(t, dilation=d, **kwargs),
              lambda t: F.max_pool2d(t, dilation=d, **kwargs)),
             (lambda t: avg_pool2d(t, count_include_pad=count_include_pad, **kwargs),
              lambda t: F.avg_pool2d(t, count_include_pad=count_include_pad, **kwargs))]
    for ours, theirs in pools:
        try:
            expected = theirs(x)
        except RuntimeError:
            continue  # invalid arguments: the error tests cover them
        if ours is pools[0][0] and _has_a_window_in_the_padding(x, kwargs, d):
            continue  # PyTorch's gradient lands in the wrong channel there (see below)
        leaf = x.clone().requires_grad_()
        g = torch.randn_like(expected)
        got = torch.autograd.grad(ours(leaf), leaf, g)[0]
        torch.testing.assert_close(got, torch.autograd.grad(theirs(leaf), leaf, g)[0])
        if x.numel() and x.numel() <= 150:
            assert torch.autograd.gradcheck(ours, (leaf,))


def _has_a_window_in_the_padding(x, kwargs, d):
    """A dilated window whose every tap lies in the padding (its maximum is -inf, for a
    finite ``x``): PyTorch's index then points outside the window, often out of range,
    sometimes at a pixel the window never read (x (1, 3, 2, 1), kernel 2, padding (0, 1),
    dilation (1, 2): index 1), where its gradient lands."""
    return bool((F.max_pool2d(x, dilation=d, **kwargs) == float("-inf")).any())


def test_a_window_entirely_in_the_padding():
    """PyTorch returns -inf and an index past the input's plane; its backward then adds the
    gradient into the *next* channel. We return the same values and indices, and send no
    gradient anywhere (there is no input element to send it to)."""
    x = torch.randn(1, 2, 1, 8, dtype=torch.float64, requires_grad=True)
    kwargs = dict(kernel_size=(2, 3), padding=1, dilation=(2, 3), return_indices=True)
    (values, indices), (values_t, indices_t) = max_pool2d(x, **kwargs), F.max_pool2d(x, **kwargs)
    assert torch.equal(indices, indices_t) and (indices >= 8).all()
    assert torch.equal(values, values_t) and torch.isinf(values).all()
    g = torch.zeros_like(values)
    g[0, 0] = 1.0  # gradient for channel 0 only
    assert torch.autograd.grad(F.max_pool2d(x, **kwargs)[0], x, g)[0][0, 1].abs().sum() > 0
    assert torch.autograd.grad(values, x, g)[0].abs().sum() == 0


@pytest.mark.parametrize("size,k,s,p,d", [(5, 2, 2, 0, 1), (5, 3, 2, 1, 1), (4, 2, 3, 0, 1),
                                          (6, 3, 2, 1, 1), (2, 2, 4, 1, 1), (7, 3, 3, 1, 2),
                                          (1, 1, 2, 0, 1), (6, 2, 5, 1, 1)])
def test_ceil_mode_last_window_starts_inside_the_input_or_left_padding(size, k, s, p, d):
    x = torch.randn(1, 1, size, size, dtype=torch.float64)
    out = pool_output_size(size, k, s, p, d, ceil_mode=True)
    assert out == F.max_pool2d(x, k, s, p, d, ceil_mode=True).shape[-1]
    assert (out - 1) * s - p < size  # the rule PyTorch enforces
    assert out >= pool_output_size(size, k, s, p, d)
    torch.testing.assert_close(avg_pool2d(x, k, s, p, ceil_mode=True),
                               F.avg_pool2d(x, k, s, p, ceil_mode=True))
    torch.testing.assert_close(max_pool2d(x, k, s, p, d, ceil_mode=True),
                               F.max_pool2d(x, k, s, p, d, ceil_mode=True))


def test_torch_tie_and_nan_rules_are_what_we_document():
    nan = float("nan")
    x = torch.tensor([[[[3.0, 3.0, 1.0, nan], [3.0, 1.0, nan, 2.0]]]])
    for fn in (F.max_pool2d, max_pool2d):
        values, indices = fn(x, 2, return_indices=True)
        assert indices.tolist() == [[[[0, 6]]]]  # first of the tied 3s; the last NaN
        assert values[0, 0, 0, 0] == 3 and values[0, 0, 0, 1].isnan()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.int64,
                                   torch.int32, torch.uint8, torch.int8, torch.bool,
                                   torch.complex64])
def test_dtypes_like_torch(dtype):
    x = (torch.randn(2, 3, 7, 6) * 50).to(dtype)
    for ours, theirs in ((max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)):
        result = _same_error_or_none(ours, theirs, x, dict(kernel_size=3, stride=2, padding=1,
                                                           ceil_mode=True))
        if result:
            assert result[0].dtype == result[1].dtype
            torch.testing.assert_close(*result, rtol=0, atol=0)


BAD_ARGUMENTS = [  # each must fail in torch and in convlab with the same type and message
    (torch.randn(5, 5), dict(kernel_size=2)),
    (torch.randn(5), dict(kernel_size=2)),
    (torch.randn(1, 1, 1, 5, 5), dict(kernel_size=2)),
    (torch.randn(1, 0, 5, 5), dict(kernel_size=2)),
    (torch.randn(0, 5, 5), dict(kernel_size=2)),
    (torch.randn(1, 2, 0, 5), dict(kernel_size=2)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=0)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=0, stride=1)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=-1)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=(2, 2, 2))),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=())),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2.0)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size="2")),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, stride=0)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, stride=-1)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, stride=(1, 1, 1))),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, stride=1.5)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, padding=2)),  # more than half the kernel
    (torch.randn(1, 2, 5, 5), dict(kernel_size=3, padding=2)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, padding=-1)),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, padding=(1, 1, 1))),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=2, padding="same")),
    (torch.randn(1, 2, 5, 5), dict(kernel_size=6)),  # output size 0
]


@pytest.mark.parametrize("x,kwargs", BAD_ARGUMENTS)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_errors_like_torch(name, x, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(F, name)(x, **kwargs)
    with pytest.raises(theirs.type) as ours:
        getattr(pooling, name)(x, **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name,kwargs", [
    ("max_pool2d", dict(dilation=0)), ("max_pool2d", dict(dilation=(1, 1, 1))),
    ("max_pool2d", dict(kernel_size=3, padding=2, dilation=2)),  # half of k_eff, not of k
    ("max_pool2d", dict(dilation=5)),
    ("avg_pool2d", dict(divisor_override=0)), ("avg_pool2d", dict(divisor_override=2.5)),
])
def test_argument_specific_errors_like_torch(name, kwargs):
    x, kwargs = torch.randn(1, 2, 5, 5), {"kernel_size": 2, **kwargs}
    with pytest.raises(Exception) as theirs:
        getattr(F, name)(x, **kwargs)
    with pytest.raises(theirs.type) as ours:
        getattr(pooling, name)(x, **kwargs)
    assert str(ours.value) == str(theirs.value)


class _NoTorchPoolingOrConvolution(TorchDispatchMode):
    """Records every aten op; our pooling must not reach PyTorch's own kernels."""

    FORBIDDEN = ("max_pool", "avg_pool", "convolution", "conv2d", "adaptive_", "fractional_")

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func.__name__)
        return func(*args, **(kwargs or {}))


def test_no_torch_pooling_or_conv_kernel_runs_forward_or_backward():
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64, requires_grad=True)
    with _NoTorchPoolingOrConvolution() as mode:
        y = max_pool2d(x, 3, 2, 1, 2, ceil_mode=True, return_indices=True)[0].sum()
        y = y + avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).sum()
        y.backward()
    assert x.grad is not None and mode.ops
    bad = [op for op in mode.ops if any(word in op for word in mode.FORBIDDEN)]
    assert not bad, bad
    with _NoTorchPoolingOrConvolution() as check:  # the mode itself sees torch's kernels
        F.max_pool2d(x, 2)
        F.avg_pool2d(x, 2)
    assert any("max_pool2d" in op for op in check.ops)
    assert any("avg_pool2d" in op for op in check.ops)


def test_exported_from_functional_with_torchs_signatures():
    import inspect
    assert functional.max_pool2d is max_pool2d and functional.avg_pool2d is avg_pool2d
    for name in ("max_pool2d", "avg_pool2d"):
        doc_sig = getattr(F, name).__doc__.strip().splitlines()[0]
        assert doc_sig.startswith(f"{name}{inspect.signature(getattr(pooling, name))}")


@pytest.mark.parametrize("ours,theirs,kwargs", [
    (pooling.MaxPool2d, torch.nn.MaxPool2d, dict(kernel_size=3, stride=2, padding=1,
                                                 ceil_mode=True)),
    (pooling.MaxPool2d, torch.nn.MaxPool2d, dict(kernel_size=2, dilation=2,
                                                 return_indices=True)),
    (pooling.AvgPool2d, torch.nn.AvgPool2d, dict(kernel_size=3, stride=2, padding=1,
                                                 count_include_pad=False)),
    (pooling.AvgPool2d, torch.nn.AvgPool2d, dict(kernel_size=2, divisor_override=3)),
])
def test_modules_are_drop_ins(ours, theirs, kwargs):
    x = torch.randn(2, 3, 9, 8)
    mine, reference = ours(**kwargs), theirs(**kwargs)
    assert repr(mine) == repr(reference) and isinstance(mine, theirs)
    torch.testing.assert_close(mine(x), reference(x))
