"""Chapter 3 exercises: the solutions pass; plausible wrong answers are rejected, and
the verdict names the case that catches them."""

from __future__ import annotations

import pytest
import torch
from exercise_helpers import assert_solution_passes, rejected

from convlab import conv2d_naive
from convlab.exercises import EXERCISES

CH03 = ["conv2d_multichannel", "conv1x1_as_matmul", "grouped_conv2d", "conv2d_params"]


@pytest.mark.parametrize("exercise_id", CH03)
def test_solution_passes(exercise_id):
    assert_solution_passes(exercise_id, chapter=3)



def test_multichannel_rejects_forgotten_bias():
    sol = EXERCISES["conv2d_multichannel"].solution
    rejected("conv2d_multichannel", lambda x, w, b: sol(x, w, torch.zeros_like(b)), "RGB")


def test_multichannel_rejects_mean_over_channels():
    sol = EXERCISES["conv2d_multichannel"].solution

    def mean(x, w, b):
        return (sol(x, w, torch.zeros_like(b)) / x.shape[0]) + b.view(-1, 1, 1)

    rejected("conv2d_multichannel", mean, "RGB")


def test_multichannel_rejects_flipped_kernel():
    sol = EXERCISES["conv2d_multichannel"].solution
    rejected("conv2d_multichannel", lambda x, w, b: sol(x, w.flip(-1, -2), b), "RGB")


def test_pointwise_rejects_transposed_weight():
    def transposed(x, weight, bias=None):
        w = weight[:, :, 0, 0]
        out = torch.einsum("co,nchw->nohw", w.T.reshape(w.shape), x)
        return out if bias is None else out + bias.view(1, -1, 1, 1)

    rejected("conv1x1_as_matmul", transposed, "3 -> 5")


def test_pointwise_rejects_forgotten_bias():
    sol = EXERCISES["conv1x1_as_matmul"].solution
    rejected("conv1x1_as_matmul", lambda x, w, b=None: sol(x, w), "3 -> 5")


def test_grouped_rejects_interleaved_channels():
    def interleaved(input, weight, bias=None, groups=1):
        x_groups = [input[:, g::groups] for g in range(groups)]  # every groups-th channel
        w_groups = weight.chunk(groups, dim=0)
        out = torch.cat([conv2d_naive(x, w) for x, w in zip(x_groups, w_groups)], dim=1)
        return out if bias is None else out + bias.view(1, -1, 1, 1)

    rejected("grouped_conv2d", interleaved, "groups=2")


def test_grouped_rejects_ignored_bias():
    sol = EXERCISES["grouped_conv2d"].solution
    rejected("grouped_conv2d", lambda input, weight, bias=None, groups=1:
             sol(input, weight, None, groups), "bias")


def test_params_rejects_ignored_groups():
    sol = EXERCISES["conv2d_params"].solution
    rejected("conv2d_params", lambda i, o, k, groups=1, bias=True: sol(i, o, k, 1, bias),
             "groups=4")


def test_params_rejects_forgotten_bias():
    sol = EXERCISES["conv2d_params"].solution
    rejected("conv2d_params", lambda i, o, k, groups=1, bias=True: sol(i, o, k, groups, False),
             "3 -> 64")


def test_params_rejects_square_kernel_assumption():
    def square(i, o, k, groups=1, bias=True):
        k = k if isinstance(k, int) else k[0]
        return o * (i // groups) * k * k + (o if bias else 0)

    rejected("conv2d_params", square, "rectangular")
