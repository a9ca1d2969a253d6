"""Chapter 2 exercises: the solutions pass; plausible wrong answers are rejected, and
the verdict names the case that catches them."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from exercise_helpers import assert_solution_passes, rejected

from convlab.exercises import EXERCISES

CH02 = ["correlate2d", "output_size", "same_padding", "conv2d_naive"]


@pytest.mark.parametrize("exercise_id", CH02)
def test_solution_passes(exercise_id):
    assert_solution_passes(exercise_id, chapter=2)



# --- correlate2d --------------------------------------------------------------------------

def test_correlate2d_rejects_flipped_kernel():
    sol = EXERCISES["correlate2d"].solution
    rejected("correlate2d", lambda x, w: sol(x, w.flip(0, 1)), "3x3 kernel")


def test_correlate2d_rejects_same_size_output():
    def same_size(x, w):  # pads to keep the size: wrong shape for a valid correlation
        pad = F.pad(x, (0, w.shape[1] - 1, 0, w.shape[0] - 1))
        return EXERCISES["correlate2d"].solution(pad, w)

    result = rejected("correlate2d", same_size, "3x3 kernel")
    assert "shape" in result.message


# --- output_size ---------------------------------------------------------------------------

def test_output_size_rejects_ceil():
    def ceil(i, k, stride=1, padding=0, dilation=1):
        return math.ceil((i + 2 * padding - dilation * (k - 1) - 1) / stride) + 1

    rejected("output_size", ceil, "does not divide")


def test_output_size_rejects_ignored_dilation():
    rejected("output_size", lambda i, k, stride=1, padding=0, dilation=1:
             (i + 2 * padding - k) // stride + 1, "dilation")


def test_output_size_rejects_one_sided_padding():
    rejected("output_size", lambda i, k, stride=1, padding=0, dilation=1:
             (i + padding - dilation * (k - 1) - 1) // stride + 1, "padding")


# --- same_padding --------------------------------------------------------------------------

def test_same_padding_rejects_extra_on_the_left():
    def left_heavy(k, dilation=1):
        total = dilation * (k - 1)
        return total - total // 2, total // 2

    rejected("same_padding", left_heavy, "kernel 2")


def test_same_padding_rejects_ignored_dilation():
    rejected("same_padding", lambda k, dilation=1: ((k - 1) // 2, k - 1 - (k - 1) // 2),
             "dilation 2")


# --- conv2d_naive: the five wrong answers of the issue ---------------------------------------

def _sol():
    return EXERCISES["conv2d_naive"].solution


def test_conv2d_rejects_flipped_kernel():
    """True convolution (the kernel flipped) is not what F.conv2d computes."""
    def flipped(input, weight, bias=None, stride=1, padding=0, dilation=1):
        return _sol()(input, weight.flip(-2, -1), bias, stride, padding, dilation)

    result = rejected("conv2d_naive", flipped, "one channel, 3x3")
    assert "values differ" in result.message and "hint" in result.message


def test_conv2d_rejects_forgotten_bias():
    def no_bias(input, weight, bias=None, stride=1, padding=0, dilation=1):
        return _sol()(input, weight, None, stride, padding, dilation)

    rejected("conv2d_naive", no_bias, "bias")


def test_conv2d_rejects_ceil_output_size():
    def ceil_size(input, weight, bias=None, stride=1, padding=0, dilation=1):
        s = stride if isinstance(stride, int) else stride[0]
        p = padding if isinstance(padding, int) else padding[0]
        H_ceil = math.ceil((input.shape[2] + 2 * p - (weight.shape[2] - 1) - 1) / s) + 1
        out = _sol()(input, weight, bias, stride, padding, dilation)
        extra = H_ceil - out.shape[2]  # a ceil output has an extra (zero) row
        return F.pad(out, (0, 0, 0, extra))

    result = rejected("conv2d_naive", ceil_size, "does not divide")
    assert "shape" in result.message


def test_conv2d_rejects_ignored_dilation():
    def no_dilation(input, weight, bias=None, stride=1, padding=0, dilation=1):
        return _sol()(input, weight, bias, stride, padding, 1)

    rejected("conv2d_naive", no_dilation, "dilation")


def test_conv2d_rejects_wrong_shape():
    def channels_last_output(input, weight, bias=None, stride=1, padding=0, dilation=1):
        return _sol()(input, weight, bias, stride, padding, dilation).permute(0, 2, 3, 1)

    result = rejected("conv2d_naive", channels_last_output, "one channel")
    assert "shape: expected (1, 1, 3, 4)" in result.message


def test_conv2d_rejects_ignored_tuples():
    def first_only(input, weight, bias=None, stride=1, padding=0, dilation=1):
        first = [a if isinstance(a, int) else a[0] for a in (stride, padding, dilation)]
        return _sol()(input, weight, bias, *first)

    rejected("conv2d_naive", first_only, "tuples")


def test_conv2d_check_survives_a_crash():
    def crashes(input, weight, bias=None, stride=1, padding=0, dilation=1):
        raise IndexError("oops")

    result = rejected("conv2d_naive", crashes, "one channel")
    assert "IndexError" in result.message


def test_convlab_naive_passes_the_exercise():
    from convlab import conv2d_naive

    assert EXERCISES["conv2d_naive"].check(conv2d_naive, verbose=False)
    assert EXERCISES["conv2d_naive"].check(F.conv2d, verbose=False)
    assert torch.is_tensor(EXERCISES["conv2d_naive"].cases()[0].expected)
