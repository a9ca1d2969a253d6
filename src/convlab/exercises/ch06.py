"""Chapter 6 exercises: transposed convolution.

The output-size formula with ``output_padding``, zero insertion, choosing
``output_padding`` to hit a target size (what ``output_size=`` does), and the
scatter-add loop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..arithmetic import conv_transpose_output_size
from .core import Case, Exercise, register


def _rand(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --- 1. the output-size formula -------------------------------------------------------

def _transpose_size_solution(input_size, kernel_size, stride=1, padding=0, output_padding=0,
                             dilation=1):
    # the conv formula solved for its input: each step of the input moves the output by s
    return (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) \
        + output_padding + 1


_SIZES = [  # (name, input_size, kernel_size, stride, padding, output_padding, dilation)
    ("stride 1, no padding", 5, 3, 1, 0, 0, 1),
    ("stride 2 doubles (k=4, p=1)", 8, 4, 2, 1, 0, 1),
    ("stride 2, k=3, p=1", 8, 3, 2, 1, 0, 1),
    ("stride 2 with output_padding 1", 8, 3, 2, 1, 1, 1),
    ("stride 3 with output_padding 2", 4, 3, 3, 0, 2, 1),
    ("dilation 2", 5, 3, 1, 0, 0, 2),
    ("dilation lets output_padding exceed stride", 5, 3, 1, 0, 1, 2),
    ("1x1 input", 1, 5, 2, 0, 0, 1),
]


def _transpose_size_cases():
    return [Case(name, (i, k), dict(stride=s, padding=p, output_padding=op, dilation=d),
                 expected=conv_transpose_output_size(i, k, s, p, op, d),
                 hint="H_out = (H_in - 1) s - 2p + d (k - 1) + output_padding + 1")
            for name, i, k, s, p, op, d in _SIZES]


register(Exercise(
    id="conv_transpose_output_size", chapter=6, title="The transposed output size",
    prompt="Write transpose_size(input_size, kernel_size, stride=1, padding=0, "
           "output_padding=0, dilation=1): the output length of conv_transpose along one "
           "dimension.",
    solution=_transpose_size_solution, cases=_transpose_size_cases,
    hint="invert the convolution's formula: a conv of that output has input_size outputs"))


# --- 2. zero insertion -------------------------------------------------------------------

def _zero_insert_solution(x, stride):
    H, W = x.shape
    out = x.new_zeros((H - 1) * stride + 1, (W - 1) * stride + 1)  # no zeros after the last
    out[::stride, ::stride] = x  # stride - 1 zeros between neighbours
    return out


def _zero_insert_cases():
    gen = torch.Generator().manual_seed(61)
    one = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    cases = []
    for name, size, s in [("stride 2 on 3x3", (3, 3), 2), ("stride 3 on 2x4", (2, 4), 3),
                          ("stride 1 changes nothing", (3, 2), 1), ("a single pixel", (1, 1), 4)]:
        x = _rand(gen, *size)  # expected: a stride-s transposed conv with a 1x1 kernel of 1
        cases.append(Case(name, (x, s), expected=F.conv_transpose2d(x[None, None], one,
                                                                    stride=s)[0, 0],
                          hint="(H - 1) * stride + 1 rows: zeros go *between* pixels, "
                               "not after them"))
    return cases


register(Exercise(
    id="zero_insert", chapter=6, title="Zero insertion",
    prompt="Write zero_insert(x, stride) for a 2-D tensor x (H, W): put stride - 1 zeros "
           "between neighbouring pixels along both axes (none after the last one).",
    solution=_zero_insert_solution, cases=_zero_insert_cases,
    hint="a stride-s transposed conv with a 1x1 kernel of 1 does exactly this"))


# --- 3. output_padding for a target size ------------------------------------------------

def _output_padding_solution(input_size, output_size, kernel_size, stride=1, padding=0,
                             dilation=1):
    smallest = (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1
    extra = output_size - smallest  # how many rows output_padding must add
    if not 0 <= extra < max(stride, dilation):
        raise ValueError(f"no output_padding gives size {output_size}")
    return extra


_TARGETS = [  # (name, input_size, output_size, kernel_size, stride, padding, dilation)
    ("undo a stride-2 conv of 7 -> 4", 4, 7, 3, 2, 1, 1),
    ("undo a stride-2 conv of 8 -> 4", 4, 8, 3, 2, 1, 1),
    ("stride 3, size 12", 4, 12, 3, 3, 0, 1),
    ("stride 1: always 0", 5, 7, 3, 1, 0, 1),
    ("k=4, s=2, p=1 doubles exactly", 16, 32, 4, 2, 1, 1),
]


def _output_padding_cases():
    return [Case(name, (i, o, k), dict(stride=s, padding=p, dilation=d),
                 expected=_output_padding_solution(i, o, k, s, p, d),
                 hint="output_padding = output_size - ((H_in - 1) s - 2p + d (k - 1) + 1)")
            for name, i, o, k, s, p, d in _TARGETS]


register(Exercise(
    id="output_padding_for_size", chapter=6, title="Choosing output_padding",
    prompt="Write output_padding_for(input_size, output_size, kernel_size, stride=1, "
           "padding=0, dilation=1): the output_padding that makes conv_transpose produce "
           "exactly output_size (what PyTorch computes from output_size=).",
    solution=_output_padding_solution, cases=_output_padding_cases,
    hint="compute the size with output_padding 0; the difference is the answer"))


# --- 4. the scatter-add loop --------------------------------------------------------------

def _scatter_solution(x, weight, stride=1):
    (H, W), (kH, kW) = x.shape, weight.shape
    out = x.new_zeros((H - 1) * stride + kH, (W - 1) * stride + kW)
    for row in range(H):
        for col in range(W):  # every input pixel stamps a scaled copy of the kernel
            out[stride * row:stride * row + kH, stride * col:stride * col + kW] += \
                x[row, col] * weight
    return out


def _scatter_cases():
    gen = torch.Generator().manual_seed(64)
    cases = []
    for name, size, k, s in [("stride 1", (3, 4), (3, 3), 1), ("stride 2, 3x3: overlaps", (3, 3),
                                                               (3, 3), 2),
                             ("stride 2, 2x2: no overlap", (3, 2), (2, 2), 2),
                             ("stride 3 > kernel: gaps", (2, 3), (2, 2), 3)]:
        x, w = _rand(gen, *size), _rand(gen, *k)
        cases.append(Case(name, (x, w), dict(stride=s),
                          expected=F.conv_transpose2d(x[None, None], w[None, None],
                                                      stride=s)[0, 0],
                          hint="out[s i' + u, s j' + v] += x[i', j'] * weight[u, v]; no flip"))
    return cases


register(Exercise(
    id="conv_transpose_scatter", chapter=6, title="Transposed convolution by scatter-add",
    prompt="Write conv_transpose(x, weight, stride=1) for single-channel x (H, W) and "
           "weight (kH, kW): every input pixel adds x[i', j'] * weight into the output at "
           "(stride*i', stride*j'). Output shape ((H-1)*stride + kH, (W-1)*stride + kW).",
    solution=_scatter_solution, cases=_scatter_cases,
    hint="scatter (+=) into the output, don't gather"))
