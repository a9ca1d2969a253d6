"""Every rung of the ladder (``convlab.IMPLEMENTATIONS``) against ``F.conv2d``.

Property tests over random valid configurations in float64 with tight tolerances,
one test per edge case that breaks naive code, then the invalid-argument table.
The strategies and the table live in ``conv_oracle.py``; a new implementation added
to ``IMPLEMENTATIONS`` is tested here without any change. Sizes are small because
the naive loop is slow: a few thousand examples per implementation in seconds.
"""

from __future__ import annotations

import pytest
import torch
from conv_oracle import (
    INVALID_ARGUMENTS,
    PARTIAL_IMPLEMENTATIONS,
    PYTORCH_RAISES,
    call_or_not_applicable,
    check_against_torch,
    conv2d_configs,
    make_call,
    torch_exception,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlab

IMPLS = pytest.mark.parametrize("name, fn", list(convlab.IMPLEMENTATIONS.items()),
                                ids=list(convlab.IMPLEMENTATIONS))


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions on one thread: on a busy machine, waiting for an idle second
    thread costs F.conv2d (and every rung) milliseconds per call instead of microseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def examples(n: int):
    """Hypothesis settings for ``n`` examples (no deadline: the naive rung is slow)."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@IMPLS
@examples(400)
@given(config=conv2d_configs())
def test_random_configurations(name, fn, config):
    check_against_torch(name, fn, make_call(config))


@IMPLS
@examples(200)
@given(config=conv2d_configs(max_kernel=2, min_stride=3, max_stride=4, padding_mode="int"))
def test_stride_greater_than_kernel(name, fn, config):
    check_against_torch(name, fn, make_call(config))


@IMPLS
@examples(200)
@given(config=conv2d_configs(min_dilation=2, max_dilation=3, min_padding=1, max_padding=3,
                             padding_mode="int"))
def test_dilation_with_padding(name, fn, config):
    check_against_torch(name, fn, make_call(config))


@IMPLS
@examples(200)
@given(config=conv2d_configs(min_groups=2, max_groups=4))
def test_groups(name, fn, config):
    check_against_torch(name, fn, make_call(config))


@IMPLS
@examples(150)
@given(config=conv2d_configs(min_groups=3, max_groups=4, max_channels=1))
def test_depthwise(name, fn, config):
    """groups == C_in == C_out: one kernel per channel."""
    check_against_torch(name, fn, make_call(config))


@IMPLS
@examples(200)
@given(config=conv2d_configs(padding_mode="same", kernel_sizes=[2, 4], max_dilation=3))
def test_same_padding_even_kernels_and_dilation(name, fn, config):
    """Even kernels pad one more on the right/bottom, as PyTorch does."""
    call = make_call(config)
    check_against_torch(name, fn, call)
    got = call_or_not_applicable(name, fn, call)
    if got is not None:
        assert got.shape[-2:] == call["input"].shape[-2:]  # 'same' keeps H, W


@IMPLS
@examples(150)
@given(config=conv2d_configs(padding_mode="valid"))
def test_valid_padding(name, fn, config):
    check_against_torch(name, fn, make_call(config))


@IMPLS
@examples(150)
@given(config=conv2d_configs(batched=False))
def test_unbatched(name, fn, config):
    call = make_call(config)
    assert call["input"].dim() == 3
    check_against_torch(name, fn, call)


@IMPLS
@examples(150)
@given(config=conv2d_configs(), weight_layout=st.sampled_from(["contiguous", "channels_last"]))
def test_channels_last(name, fn, config, weight_layout):
    check_against_torch(name, fn, make_call(config, layout="channels_last",
                                            weight_layout=weight_layout))


@IMPLS
@examples(150)
@given(config=conv2d_configs(),
       layout=st.sampled_from(["non_contiguous", "transposed"]),
       weight_layout=st.sampled_from(["contiguous", "non_contiguous", "transposed"]))
def test_non_contiguous(name, fn, config, layout, weight_layout):
    check_against_torch(name, fn, make_call(config, layout=layout, weight_layout=weight_layout))


@IMPLS
@examples(200)
@given(config=conv2d_configs())
def test_float32(name, fn, config):
    check_against_torch(name, fn, make_call(config, dtype=torch.float32))


@IMPLS
@examples(50)
@given(config=conv2d_configs(batched=True))
def test_empty_batch(name, fn, config):
    call = make_call(config, empty_batch=True)
    assert call["input"].shape[0] == 0
    check_against_torch(name, fn, call)


@IMPLS
@examples(100)
@given(config=conv2d_configs(padding_mode="int"),
       form=st.sampled_from(["int", "list", "one-tuple"]))
def test_argument_forms(name, fn, config, form):
    """Ints, lists and 1-tuples mean the same as the 2-tuples (square arguments)."""
    call = make_call(config)
    for arg in ("stride", "padding", "dilation"):
        a, b = call[arg]
        if a != b:
            call[arg] = [a, b]
        else:
            call[arg] = {"int": a, "list": [a, b], "one-tuple": (a,)}[form]
    check_against_torch(name, fn, call)


@IMPLS
def test_output_is_fresh_and_input_untouched(name, fn):
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    w = torch.randn(6, 2, 3, 3, dtype=torch.float64)
    b = torch.randn(6, dtype=torch.float64)
    x0, w0, b0 = x.clone(), w.clone(), b.clone()
    out = call_or_not_applicable(name, fn, {"input": x, "weight": w, "bias": b, "padding": 1,
                                            "groups": 2})
    assert torch.equal(x, x0) and torch.equal(w, w0) and torch.equal(b, b0)
    if out is not None:
        assert out.data_ptr() not in (x.data_ptr(), w.data_ptr())


@IMPLS
def test_uses_no_pytorch_convolution(name, fn):
    """DESIGN: no implementation may call PyTorch's convolution kernels (profiled)."""
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    w = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        call_or_not_applicable(name, fn, {"input": x, "weight": w, "padding": 1})
    ops = {event.name for event in prof.events()}
    assert not [op for op in ops if "conv" in op.lower()], sorted(ops)


# --- the invalid-argument table ---------------------------------------------------------

CASES = pytest.mark.parametrize("case, build", INVALID_ARGUMENTS,
                                ids=[name for name, _ in INVALID_ARGUMENTS])


@CASES
def test_table_matches_pytorch(case, build):
    """Each row of the table says what F.conv2d really raises."""
    exc = torch_exception(build())
    assert exc is not None, f"F.conv2d accepts {case!r}: not an invalid case"
    assert type(exc) is PYTORCH_RAISES[case], f"{case}: F.conv2d raises {type(exc).__name__}"


@IMPLS
@CASES
def test_invalid_arguments_raise_like_pytorch(name, fn, case, build):
    expected = PYTORCH_RAISES[case]
    with pytest.raises(Exception) as info:
        fn(**build())
    assert type(info.value) is expected, (
        f"{name} raised {type(info.value).__name__}: {info.value} for {case!r}; "
        f"F.conv2d raises {expected.__name__}")
    assert len(str(info.value)) > 10, "the message must say what is wrong"


def test_partial_implementations_are_known():
    """Names in PARTIAL_IMPLEMENTATIONS that exist must be in the ladder (typo guard)."""
    assert PARTIAL_IMPLEMENTATIONS <= {"winograd"}
