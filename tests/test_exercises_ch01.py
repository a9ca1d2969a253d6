"""Chapter 1 exercises: the solutions pass; plausible wrong answers are rejected, and
the verdict names the case that catches them."""

from __future__ import annotations

import pytest
import torch
from exercise_helpers import assert_solution_passes, rejected
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.exercises import EXERCISES
from convlab.exercises.ch01 import _measured_columns

CH01 = ["correlate1d", "convolve1d", "sobel_magnitude", "equivariant_columns"]


@pytest.mark.parametrize("exercise_id", CH01)
def test_solution_passes(exercise_id):
    assert_solution_passes(exercise_id, chapter=1)


def test_correlate1d_rejects_flipped_kernel():
    sol = EXERCISES["correlate1d"].solution
    rejected("correlate1d", lambda x, w: sol(x, w.flip(0)), "difference")


def test_convolve1d_rejects_correlation():
    rejected("convolve1d", EXERCISES["correlate1d"].solution, "difference")


# --- equivariant_columns -----------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(W_in=st.integers(1, 16), k=st.sampled_from([1, 3, 5, 7]), t=st.integers(-18, 18),
       seed=st.integers(0, 1000))
def test_equivariant_columns_solution_is_what_torch_measures(W_in, k, t, seed):
    """The reference answer, reasoned out, equals the columns where F.conv1d of the
    translated signal and the translated F.conv1d agree for random signals and kernels."""
    solution = EXERCISES["equivariant_columns"].solution
    assert torch.equal(solution(W_in, k, t), _measured_columns(W_in, k, t, seed))


def test_equivariant_columns_rejects_all_true():
    rejected("equivariant_columns", lambda W_in, k, t: torch.ones(W_in, dtype=torch.bool),
             "shift right by 2")


def test_equivariant_columns_rejects_ignoring_the_seam():
    def border_only(W_in, k, t):  # only the last p columns (first p for t < 0) differ
        mask = torch.ones(W_in, dtype=torch.bool)
        p = k // 2
        if t > 0 and p:
            mask[-p:] = False
        elif t < 0 and p:
            mask[:p] = False
        return mask

    rejected("equivariant_columns", border_only, "shift right by 2")


def test_equivariant_columns_rejects_marking_the_zero_region():
    def zero_region_differs(W_in, k, t):  # thinks every shifted-in column disagrees
        solution = EXERCISES["equivariant_columns"].solution(W_in, k, t)
        if 0 < t < W_in:
            solution[:t] = False
        return solution

    rejected("equivariant_columns", zero_region_differs, "shift right by 2")


def test_equivariant_columns_rejects_an_unmirrored_left_shift():
    solution = EXERCISES["equivariant_columns"].solution
    rejected("equivariant_columns", lambda W_in, k, t: solution(W_in, k, abs(t)), "shift left")


def test_equivariant_columns_verdict_names_the_wrong_entries():
    result = rejected("equivariant_columns",
                      lambda W_in, k, t: torch.ones(W_in, dtype=torch.bool), "shift right by 2")
    assert "2 of 10 entries differ" in result.message and "expected False" in result.message
    result = rejected("equivariant_columns", lambda W_in, k, t: torch.ones(W_in), "shift")
    assert "expected a bool tensor" in result.message
