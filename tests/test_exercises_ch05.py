"""Chapter 5 exercises: the solutions pass; plausible wrong answers are rejected, and
the verdict names the case that catches them."""

from __future__ import annotations

import pytest
import torch
from exercise_helpers import assert_solution_passes, rejected

from convlab.exercises import EXERCISES

CH05 = ["grad_bias", "grad_input_stride2", "grad_weight"]


@pytest.mark.parametrize("exercise_id", CH05)
def test_solution_passes(exercise_id):
    assert_solution_passes(exercise_id, chapter=5)



def test_grad_bias_rejects_keeping_the_spatial_axes():
    result = rejected("grad_bias", lambda g: g.sum(0), "one image")
    assert "shape" in result.message


def test_grad_bias_rejects_a_mean():
    rejected("grad_bias", lambda g: g.mean((0, 2, 3)), "one image")


def test_grad_bias_rejects_forgetting_the_batch():
    rejected("grad_bias", lambda g: g[0].sum((1, 2)), "a batch of 3")


def test_grad_input_rejects_stride_one_scatter():
    sol = EXERCISES["grad_input_stride2"].solution
    rejected("grad_input_stride2", lambda g, w, size, stride=2: sol(g, w, size, stride=1),
             "3x3 kernel, 7x7")


def test_grad_input_rejects_flipped_kernel():
    sol = EXERCISES["grad_input_stride2"].solution
    rejected("grad_input_stride2", lambda g, w, size, stride=2: sol(g, w.flip(0, 1), size),
             "3x3 kernel, 7x7")


def test_grad_input_rejects_dropping_unread_rows():
    sol = EXERCISES["grad_input_stride2"].solution

    def too_small(g, w, size, stride=2):  # sizes the result from the windows it saw
        used = ((g.shape[0] - 1) * 2 + w.shape[0], (g.shape[1] - 1) * 2 + w.shape[1])
        return sol(g, w, used)

    result = rejected("grad_input_stride2", too_small, "last row/column unread")
    assert "shape" in result.message


def test_grad_weight_rejects_flipped_result():
    sol = EXERCISES["grad_weight"].solution
    rejected("grad_weight", lambda x, g: sol(x, g).flip(0, 1), "3x3 kernel")


def test_grad_weight_rejects_a_fixed_kernel_size():
    sol = EXERCISES["grad_weight"].solution
    result = rejected("grad_weight", lambda x, g: sol(x, g)[:3, :3] if x.shape[0] > 3 else
                      torch.zeros(3, 3, dtype=x.dtype), "non-square")
    assert "shape" in result.message
