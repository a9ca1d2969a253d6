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

def _transpose_size_solution(input_size, kernel_size, stride=1, padding=0,
                             output_padding=0, dilation=1):
    # the conv formula solved for its input: each input step moves the output by s
    return ((input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1)
            + output_padding + 1)


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
    # no zeros after the last pixel
    out = x.new_zeros((H - 1) * stride + 1, (W - 1) * stride + 1)
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

def _output_padding_solution(input_size, output_size, kernel_size, stride=1,
                             padding=0, dilation=1):
    # the size with output_padding 0; output_size= accepts up to stride - 1 more
    smallest = (input_size - 1) * stride - 2 * padding \
        + dilation * (kernel_size - 1) + 1
    extra = output_size - smallest  # the rows output_padding must add
    if not 0 <= extra < stride:
        raise ValueError(f"output_size {output_size} is not between {smallest} "
                         f"and {smallest + stride - 1}")
    return extra


_TARGETS = [  # (name, input_size, output_size, kernel_size, stride, padding, dilation)
    ("undo a stride-2 conv of 7 -> 4", 4, 7, 3, 2, 1, 1),
    ("undo a stride-2 conv of 8 -> 4", 4, 8, 3, 2, 1, 1),
    ("stride 3, size 12", 4, 12, 3, 3, 0, 1),
    ("stride 1: always 0", 5, 7, 3, 1, 0, 1),
    ("k=4, s=2, p=1 doubles exactly", 16, 32, 4, 2, 1, 1),
    ("dilation 3 > stride 2, one size up", 4, 14, 3, 2, 0, 3),
    ("stride 2: 9 is past the largest size, 8", 4, 9, 3, 2, 1, 1),
    ("stride 2: 6 is below the smallest size, 7", 4, 6, 3, 2, 1, 1),
    ("dilation 2 > stride 1: output_padding 1 is refused", 4, 9, 3, 1, 0, 2),
    ("dilation 3 > stride 2: output_padding 2 is refused", 4, 15, 3, 2, 0, 3),
]


def _torch_output_padding(i, o, k, s, p, d):
    """What ``nn.ConvTranspose1d`` computes from ``output_size=[o]`` (``None``: it refuses)."""
    layer = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    try:
        return layer._output_padding(torch.zeros(1, 1, i), [o], [s], [p], [k], 1, [d])[0]
    except ValueError:
        return None


def _output_padding_cases():
    cases = []
    for name, i, o, k, s, p, d in _TARGETS:
        expected = _torch_output_padding(i, o, k, s, p, d)
        if expected is None:
            cases.append(Case(name, (i, o, k), dict(stride=s, padding=p, dilation=d),
                              raises=ValueError,
                              hint="output_size= accepts output_padding from 0 to "
                                   "stride - 1, whatever the dilation; raise ValueError "
                                   "outside that range"))
        else:
            cases.append(Case(name, (i, o, k), dict(stride=s, padding=p, dilation=d),
                              expected=expected,
                              hint="output_padding = output_size - ((H_in - 1) s - 2p "
                                   "+ d (k - 1) + 1)"))
    return cases


register(Exercise(
    id="output_padding_for_size", chapter=6, title="Choosing output_padding",
    prompt="Write output_padding_for(input_size, output_size, kernel_size, stride=1, "
           "padding=0, dilation=1): the output_padding that makes conv_transpose produce "
           "exactly output_size, as nn.ConvTranspose2d computes it from output_size=. "
           "It accepts the sizes from the one with output_padding=0 up to stride - 1 "
           "more, whatever the dilation; raise ValueError for any other size.",
    solution=_output_padding_solution, cases=_output_padding_cases,
    hint="compute the size with output_padding 0; the difference is the answer, if it "
         "is below the stride"))


# --- 4. the scatter-add loop --------------------------------------------------------------

def _scatter_solution(x, weight, stride=1):
    (H_in, W_in), (kH, kW) = x.shape, weight.shape
    out = x.new_zeros((H_in - 1) * stride + kH, (W_in - 1) * stride + kW)
    for ip in range(H_in):
        for jp in range(W_in):  # input pixel (i', j') stamps a scaled kernel
            top, left = stride * ip, stride * jp
            out[top:top + kH, left:left + kW] += x[ip, jp] * weight
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
    prompt="Write conv_transpose(x, weight, stride=1) for a single-channel 2-D x "
           "(H_in, W_in) and a 2-D weight (kH, kW): every input pixel adds "
           "x[i', j'] * weight into the output at (stride*i', stride*j'). Output shape "
           "((H_in - 1)*stride + kH, (W_in - 1)*stride + kW).",
    solution=_scatter_solution, cases=_scatter_cases,
    hint="scatter (+=) into the output, don't gather"))
