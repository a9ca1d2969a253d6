"""Chapter 6 exercises: the solutions pass; plausible wrong answers are rejected, and
the verdict names the case that catches them."""

from __future__ import annotations

import pytest
import torch
from exercise_helpers import assert_solution_passes, rejected

from convlab.exercises import EXERCISES

CH06 = ["conv_transpose_output_size", "zero_insert", "output_padding_for_size",
        "conv_transpose_scatter"]


@pytest.mark.parametrize("exercise_id", CH06)
def test_solution_passes(exercise_id):
    assert_solution_passes(exercise_id, chapter=6)



def test_output_size_rejects_forgetting_output_padding():
    rejected("conv_transpose_output_size",
             lambda i, k, stride=1, padding=0, output_padding=0, dilation=1:
             (i - 1) * stride - 2 * padding + dilation * (k - 1) + 1,
             "output_padding 1")


def test_output_size_rejects_i_times_s():
    rejected("conv_transpose_output_size",
             lambda i, k, stride=1, padding=0, output_padding=0, dilation=1:
             i * stride - 2 * padding + dilation * (k - 1) + output_padding,
             "stride 2")


def test_output_size_rejects_ignoring_dilation():
    rejected("conv_transpose_output_size",
             lambda i, k, stride=1, padding=0, output_padding=0, dilation=1:
             (i - 1) * stride - 2 * padding + k + output_padding,
             "dilation 2")


def test_zero_insert_rejects_trailing_zeros():
    def trailing(x, stride):
        out = x.new_zeros(x.shape[0] * stride, x.shape[1] * stride)
        out[::stride, ::stride] = x
        return out

    result = rejected("zero_insert", trailing, "stride 2")
    assert "shape" in result.message


def test_zero_insert_rejects_repeat():
    rejected("zero_insert", lambda x, s: x.repeat_interleave(s, 0).repeat_interleave(s, 1)
             [:(x.shape[0] - 1) * s + 1, :(x.shape[1] - 1) * s + 1], "stride 2")


def test_output_padding_rejects_target_mod_stride():
    rejected("output_padding_for_size",
             lambda i, o, k, stride=1, padding=0, dilation=1: o % stride, "7 -> 4")


def test_scatter_rejects_flipped_kernel():
    sol = EXERCISES["conv_transpose_scatter"].solution
    rejected("conv_transpose_scatter", lambda x, w, stride=1: sol(x, w.flip(0, 1), stride),
             "stride 1")


def test_scatter_rejects_assignment_instead_of_addition():
    def overwrite(x, weight, stride=1):
        (H, W), (kH, kW) = x.shape, weight.shape
        out = torch.zeros((H - 1) * stride + kH, (W - 1) * stride + kW, dtype=x.dtype)
        for h in range(H):
            for w in range(W):
                out[stride * h:stride * h + kH, stride * w:stride * w + kW] = x[h, w] * weight
        return out

    rejected("conv_transpose_scatter", overwrite, "stride 1")


def test_output_padding_rejects_the_functional_rule():
    """F.conv_transpose2d's p_out < max(s, d) is not what output_size= accepts."""
    def functional_rule(i, o, k, stride=1, padding=0, dilation=1):
        extra = o - ((i - 1) * stride - 2 * padding + dilation * (k - 1) + 1)
        if not 0 <= extra < max(stride, dilation):
            raise ValueError(f"no output_padding gives size {o}")
        return extra

    result = rejected("output_padding_for_size", functional_rule, "dilation 2 > stride 1")
    assert "expected ValueError" in result.message


def test_output_padding_rejects_never_raising():
    rejected("output_padding_for_size",
             lambda i, o, k, stride=1, padding=0, dilation=1:
             o - ((i - 1) * stride - 2 * padding + dilation * (k - 1) + 1),
             "past the largest size")


def test_output_padding_rejects_the_wrong_exception():
    def wrong_error(i, o, k, stride=1, padding=0, dilation=1):
        extra = o - ((i - 1) * stride - 2 * padding + dilation * (k - 1) + 1)
        if not 0 <= extra < stride:
            raise RuntimeError("out of range")
        return extra

    result = rejected("output_padding_for_size", wrong_error, "past the largest size")
    assert "RuntimeError" in result.message


def test_output_padding_cases_are_what_the_module_does():
    """Every case agrees with nn.ConvTranspose2d's forward given output_size=, including
    the sizes it refuses (ValueError), and the refusals include dilation > stride."""
    cases = EXERCISES["output_padding_for_size"].cases()
    refused_dilated = 0
    for case in cases:
        (i, o, k), kw = case.args, case.kwargs
        layer = torch.nn.ConvTranspose2d(1, 1, k, stride=kw["stride"], padding=kw["padding"],
                                         dilation=kw["dilation"], bias=False)
        x = torch.zeros(1, 1, i, i)
        if case.raises is ValueError:
            with pytest.raises(ValueError, match="valid sizes"):
                layer(x, output_size=[o, o])
            refused_dilated += kw["dilation"] > kw["stride"]
        else:
            assert layer(x, output_size=[o, o]).shape[-1] == o
            y = torch.nn.functional.conv_transpose2d(
                x, layer.weight, stride=kw["stride"], padding=kw["padding"],
                dilation=kw["dilation"], output_padding=case.expected)
            assert y.shape[-1] == o
    assert refused_dilated >= 2


def test_a_raises_case_passes_only_on_that_exception():
    from convlab.exercises.core import Case, Exercise

    exercise = Exercise(id="demo", chapter=6, title="demo", prompt="demo",
                        solution=lambda v: 1 / v,
                        cases=lambda: [Case("one", (1.0,), expected=1.0),
                                       Case("zero", (0.0,), raises=ZeroDivisionError)])
    assert exercise.check(exercise.solution, verbose=False)
    returned = exercise.check(lambda v: 1.0 if v else 0.0, verbose=False)
    assert not returned and returned.case == "zero" and "returned 0.0" in returned.message
    other = exercise.check(lambda v: 1 / v if v else {}[v], verbose=False)
    assert not other and "KeyError" in other.message
