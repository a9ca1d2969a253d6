"""Chapter 7 exercises: reading ``conv.py``.

Three pieces of ``torch.nn``'s conv modules, rebuilt by the learner and checked
against the installed torch: the ``F.pad`` list behind padding modes, the default
init bound, and ``extra_repr``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .core import Case, Exercise, register

# --- 1. _reversed_padding_repeated_twice ---------------------------------------------------


def _reversed_padding_solution(padding, kernel_size, dilation):
    # F.pad lists (before, after) from the last dim backwards; 'same' puts the odd pad after
    if padding == "valid":
        return [0, 0] * len(kernel_size)
    if padding == "same":
        pads = []
        for k, d in zip(reversed(kernel_size), reversed(dilation)):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return pads
    return [p for p in reversed(padding) for _ in range(2)]


_PADDINGS = [  # (name, padding, kernel_size, dilation)
    ("2-D, different per dim", (1, 2), (3, 5), (1, 1)),
    ("1-D", (3,), (7,), (1,)),
    ("3-D", (0, 1, 2), (1, 3, 5), (1, 1, 1)),
    ("'valid'", "valid", (3, 3), (1, 1)),
    ("'same', odd kernel", "same", (3, 5), (1, 1)),
    ("'same', even kernel: the extra pad goes after", "same", (4, 2), (1, 1)),
    ("'same', even kernel with dilation", "same", (2, 4), (3, 1)),
]


def _reversed_padding_cases():
    cases = []
    for name, padding, kernel_size, dilation in _PADDINGS:
        conv = getattr(nn, f"Conv{len(kernel_size)}d")(1, 1, kernel_size, padding=padding,
                                                       dilation=dilation)
        cases.append(Case(name, (padding, kernel_size, dilation),
                          expected=list(conv._reversed_padding_repeated_twice),
                          hint="last dimension first; 'same' pads d*(k-1) in all, "
                               "left = total // 2"))
    return cases


register(Exercise(
    id="reversed_padding_repeated_twice", chapter=7, title="The padding F.pad wants",
    prompt="Write reversed_padding(padding, kernel_size, dilation) returning the list that "
           "conv.py stores as _reversed_padding_repeated_twice: (before, after) pairs for "
           "F.pad, last spatial dimension first. padding is a tuple of ints, 'valid' or 'same'.",
    solution=_reversed_padding_solution, cases=_reversed_padding_cases,
    hint="F.pad's list starts with the last dimension"))


# --- 2. the default init bound -----------------------------------------------------------


def _init_bound_solution(weight_shape):
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(2/(1+5)) times sqrt(3/fan_in) = 1/sqrt(fan_in)
    fan_in = weight_shape[1] * math.prod(weight_shape[2:])
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0


_SHAPES = [  # (name, weight shape)
    ("Conv2d(3, 64, 7)", (64, 3, 7, 7)),
    ("Conv1d(16, 8, 5)", (8, 16, 5)),
    ("depthwise Conv2d(32, 32, 3, groups=32)", (32, 1, 3, 3)),
    ("Conv3d(4, 8, (1, 3, 3))", (8, 4, 1, 3, 3)),
    ("ConvTranspose2d(16, 8, 4): fan_in uses dim 1, i.e. out_channels", (16, 8, 4, 4)),
    ("no inputs at all (fan_in 0)", (8, 0, 3, 3)),
]


def _init_bound_cases():
    cases = []
    for name, shape in _SHAPES:
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        expected = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        cases.append(Case(name, (shape,), expected=float(expected),
                          hint="fan_in = weight.shape[1] * prod(kernel_size); bound 0 if "
                               "fan_in is 0"))
    return cases


register(Exercise(
    id="conv_init_bound", chapter=7, title="The default init bound",
    prompt="Write init_bound(weight_shape) returning the bound b of the uniform U(-b, b) that "
           "reset_parameters draws from (for the bias, and in effect for the weight).",
    solution=_init_bound_solution, cases=_init_bound_cases,
    hint="work out gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a**2)), a = sqrt(5)"))


# --- 3. extra_repr ---------------------------------------------------------------------------


def _extra_repr_solution(in_channels, out_channels, kernel_size, stride, padding=(0, 0),
                         dilation=(1, 1), output_padding=(0, 0), groups=1, bias=True,
                         padding_mode="zeros"):
    # only what differs from the defaults, in conv.py's order
    s = f"{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
    if padding != (0,) * len(padding):
        s += f", padding={padding}"
    if dilation != (1,) * len(dilation):
        s += f", dilation={dilation}"
    if output_padding != (0,) * len(output_padding):
        s += f", output_padding={output_padding}"
    if groups != 1:
        s += f", groups={groups}"
    if not bias:
        s += ", bias=False"
    if padding_mode != "zeros":
        s += f", padding_mode={padding_mode}"
    return s


_MODULES = [  # (name, class, args, kwargs)
    ("defaults", "Conv2d", (3, 8, 3), {}),
    ("padding and stride", "Conv2d", (3, 8, 3), dict(stride=2, padding=1)),
    ("padding='same' prints as a word", "Conv2d", (3, 8, 4), dict(padding="same")),
    ("dilation, groups, no bias", "Conv2d", (4, 8, 3), dict(dilation=2, groups=2, bias=False)),
    ("a padding mode", "Conv2d", (3, 8, 3), dict(padding=1, padding_mode="reflect")),
    ("transposed with output_padding", "ConvTranspose2d", (8, 3, 3),
     dict(stride=2, output_padding=1)),
]


def _extra_repr_cases():
    cases = []
    for name, cls, args, kwargs in _MODULES:
        m = getattr(nn, cls)(*args, **kwargs)
        call = dict(padding=m.padding, dilation=m.dilation, output_padding=m.output_padding,
                    groups=m.groups, bias=m.bias is not None, padding_mode=m.padding_mode)
        cases.append(Case(name, (m.in_channels, m.out_channels, m.kernel_size, m.stride), call,
                          expected=m.extra_repr(),
                          hint=f"torch prints {m!r}"))
    return cases


register(Exercise(
    id="conv_extra_repr", chapter=7, title="extra_repr",
    prompt="Write extra_repr(in_channels, out_channels, kernel_size, stride, padding, dilation, "
           "output_padding, groups, bias, padding_mode) returning the text inside "
           "Conv2d(...) exactly as torch prints it (bias is a bool here).",
    solution=_extra_repr_solution, cases=_extra_repr_cases,
    hint="always in_channels, out_channels, kernel_size and stride; the rest only when it "
         "differs from the default"))
