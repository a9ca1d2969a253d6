"""Chapter 2 exercises: a single-channel loop, the output-size formula, 'same' padding,
and the full ``conv2d`` loop with stride, padding and dilation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..arithmetic import conv_output_size, same_padding
from .core import Case, Exercise, register


def _rand(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --- 1. the single-channel loop -------------------------------------------------------

def _correlate2d_solution(x, w):
    kH, kW = w.shape
    H_out, W_out = x.shape[0] - kH + 1, x.shape[1] - kW + 1
    y = torch.zeros(H_out, W_out, dtype=x.dtype)
    for i in range(H_out):  # output row i, column j: the window at (i, j)
        for j in range(W_out):
            y[i, j] = (x[i:i + kH, j:j + kW] * w).sum()  # window * kernel
    return y


def _correlate2d_cases():
    gen = torch.Generator().manual_seed(2)
    cases = [("3x3 kernel on a 6x6 image", _rand(gen, 6, 6), _rand(gen, 3, 3)),
             ("non-square image and kernel", _rand(gen, 5, 8), _rand(gen, 2, 3)),
             ("kernel as large as the image", _rand(gen, 4, 4), _rand(gen, 4, 4)),
             ("1x1 kernel", _rand(gen, 3, 5), _rand(gen, 1, 1))]
    return [Case(name, (x, w), expected=F.conv2d(x[None, None], w[None, None])[0, 0],
                 hint="y[i, j] = sum over u, v of x[i + u, j + v] * w[u, v]: no flip, "
                      "H - kH + 1 rows and W - kW + 1 columns")
            for name, x, w in cases]


register(Exercise(
    id="correlate2d", chapter=2, title="The single-channel loop",
    prompt="Write correlate2d(x, w) for a 2-D image x (H, W) and kernel w (kH, kW): the "
           "valid cross-correlation (what F.conv2d computes for one channel), shape "
           "(H - kH + 1, W - kW + 1), with two loops over the output positions.",
    solution=_correlate2d_solution, cases=_correlate2d_cases,
    hint="slide the kernel without flipping it"))


# --- 2. the output-size formula --------------------------------------------------------

def _output_size_solution(input_size, kernel_size, stride=1, padding=0,
                          dilation=1):
    k_eff = dilation * (kernel_size - 1) + 1  # the dilated kernel's span
    # the floor drops a window that would stick out
    return (input_size + 2 * padding - k_eff) // stride + 1


_SIZES = [  # (name, input_size, kernel_size, stride, padding, dilation)
    ("plain 3x3", 7, 3, 1, 0, 1),
    ("padding 1 keeps the size", 7, 3, 1, 1, 1),
    ("stride 2 divides", 7, 3, 2, 0, 1),
    ("stride 2 does not divide (floor)", 8, 3, 2, 0, 1),
    ("stride 3 with padding (floor)", 10, 3, 3, 1, 1),
    ("dilation 2", 9, 3, 1, 0, 2),
    ("dilation 3 with stride and padding", 20, 3, 2, 2, 3),
    ("even kernel", 6, 4, 1, 0, 1),
    ("stride larger than the kernel", 11, 2, 5, 0, 1),
    ("kernel as large as the padded input", 3, 5, 1, 1, 1),
]


def _output_size_cases():
    return [Case(name, (i, k), dict(stride=s, padding=p, dilation=d),
                 expected=conv_output_size(i, k, s, p, d),
                 hint="H_out = floor((H_in + 2p - d(k-1) - 1) / s) + 1")
            for name, i, k, s, p, d in _SIZES]


register(Exercise(
    id="output_size", chapter=2, title="The output-size formula",
    prompt="Write output_size(input_size, kernel_size, stride=1, padding=0, dilation=1): "
           "the number of output positions along one dimension (an int).",
    solution=_output_size_solution, cases=_output_size_cases,
    hint="a dilated kernel covers d(k-1)+1 pixels; the last partial stride is dropped (floor)"))


# --- 3. 'same' padding -----------------------------------------------------------------

def _same_padding_solution(kernel_size, dilation=1):
    total = dilation * (kernel_size - 1)  # what the window overhangs
    return total // 2, total - total // 2  # the odd pixel goes after


def _same_padding_cases():
    return [Case(f"kernel {k}, dilation {d}", (k,), dict(dilation=d), expected=same_padding(k, d),
                 hint="total padding d(k-1); PyTorch puts the odd one on the right/bottom")
            for k, d in [(3, 1), (1, 1), (5, 1), (3, 2), (2, 1), (4, 1), (2, 3), (4, 2), (6, 3)]]


register(Exercise(
    id="same_padding", chapter=2, title="'same' padding with even kernels",
    prompt="Write same_padding(kernel_size, dilation=1) -> (before, after): the padding "
           "along one dimension that padding='same' uses (stride 1), as PyTorch splits it.",
    solution=_same_padding_solution, cases=_same_padding_cases,
    hint="before + after = d(k-1); before = total // 2"))


# --- 4. the full loop --------------------------------------------------------------------

def _conv2d_solution(input, weight, bias=None, stride=1, padding=0,
                     dilation=1):
    (sH, sW), (pH, pW), (dH, dW) = [
        (a, a) if isinstance(a, int) else tuple(a)
        for a in (stride, padding, dilation)]
    x = F.pad(input, (pW, pW, pH, pH))  # (N, C_in, H + 2pH, W + 2pW)
    N, C_in, H_pad, W_pad = x.shape
    C_out, _, kH, kW = weight.shape
    H_out = (H_pad - dH * (kH - 1) - 1) // sH + 1
    W_out = (W_pad - dW * (kW - 1) - 1) // sW + 1
    y = torch.zeros(N, C_out, H_out, W_out, dtype=input.dtype)
    for i in range(H_out):  # output position (i, j) ...
        for j in range(W_out):
            for u in range(kH):  # ... sums over the kernel taps (u, v)
                for v in range(kW):
                    # (N, C_in) @ (C_in, C_out) -> (N, C_out)
                    pixel = x[:, :, i * sH + u * dH, j * sW + v * dW]
                    y[:, :, i, j] += pixel @ weight[:, :, u, v].T
    if bias is not None:
        y += bias.view(1, C_out, 1, 1)
    return y


def _conv2d_cases():
    gen = torch.Generator().manual_seed(22)

    def case(name, x_shape, w_shape, hint, bias=False, **kwargs):
        x, w = _rand(gen, *x_shape), _rand(gen, *w_shape)
        b = _rand(gen, w_shape[0]) if bias else None
        return Case(name, (x, w, b), kwargs, expected=F.conv2d(x, w, b, **kwargs), hint=hint)

    return [
        case("one channel, 3x3, no bias", (1, 1, 5, 6), (1, 1, 3, 3),
             "y[n, o, i, j] = sum over c, u, v of x[n, c, i + u, j + v] w[o, c, u, v]: no "
             "kernel flip; output (N, C_out, H_out, W_out)"),
        case("channels and batch", (2, 3, 5, 5), (4, 3, 2, 3),
             "sum over the input channels; one output channel per kernel"),
        case("bias", (2, 2, 5, 5), (3, 2, 3, 3), "add bias[o] to every pixel of channel o",
             bias=True),
        case("padding 1", (1, 2, 4, 5), (2, 2, 3, 3), "zero-pad both sides first", padding=1),
        case("stride 2, size divides", (1, 1, 7, 7), (1, 1, 3, 3),
             "the window moves s pixels per output step", stride=2),
        case("stride 2, size does not divide", (1, 2, 8, 6), (2, 2, 3, 3),
             "H_out = floor((H + 2p - d(k-1) - 1) / s) + 1: floor, not ceil", stride=2),
        case("stride 3 with padding", (2, 1, 10, 9), (1, 1, 2, 2),
             "floor again: a window that would stick out is dropped", stride=3, padding=1),
        case("dilation 2", (1, 2, 7, 8), (2, 2, 3, 3),
             "tap (u, v) of output (i, j) reads x_p[s*i + d*u, s*j + d*v]; the kernel "
             "covers d(k-1)+1 pixels",
             dilation=2),
        case("tuples for everything", (2, 2, 9, 8), (3, 2, 3, 2),
             "stride, padding and dilation may be (height, width) tuples", bias=True,
             stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
    ]


register(Exercise(
    id="conv2d_naive", chapter=2, title="conv2d as loops",
    prompt="Write conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1) with "
           "F.conv2d's semantics for a batched input (N, C_in, H, W) and weight "
           "(C_out, C_in, kH, kW): stride, padding and dilation are ints or (height, width) "
           "tuples. "
           "Loop over output positions and kernel taps.",
    solution=_conv2d_solution, cases=_conv2d_cases,
    hint="cross-correlation (no flip), floor in the output size, bias per output channel"))
