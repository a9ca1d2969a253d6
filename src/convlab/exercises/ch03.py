"""Chapter 3 exercises: channels, 1x1 convolutions, groups and parameter counts."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..naive import conv2d_naive
from .core import Case, Exercise, register


def _rand(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --- 1. many channels in, many channels out --------------------------------------------

def _multichannel_solution(x, weight, bias):
    C_out, C_in, kH, kW = weight.shape
    H_out, W_out = x.shape[1] - kH + 1, x.shape[2] - kW + 1
    y = torch.zeros(C_out, H_out, W_out, dtype=x.dtype)
    for o in range(C_out):  # one kernel (C_in, kH, kW) per output channel
        for i in range(H_out):
            for j in range(W_out):
                window = x[:, i:i + kH, j:j + kW]  # (C_in, kH, kW)
                y[o, i, j] = (window * weight[o]).sum() + bias[o]
    return y


def _multichannel_cases():
    gen = torch.Generator().manual_seed(3)
    shapes = [("RGB in, 4 maps out", (3, 6, 6), (4, 3, 3, 3)),
              ("one channel in, two out", (1, 5, 4), (2, 1, 2, 2)),
              ("5 channels in, 1 out", (5, 4, 4), (1, 5, 3, 3)),
              ("1x1 kernel", (4, 3, 3), (2, 4, 1, 1))]
    cases = []
    for name, xs, ws in shapes:
        x, w, b = _rand(gen, *xs), _rand(gen, *ws), _rand(gen, ws[0])
        cases.append(Case(name, (x, w, b), expected=F.conv2d(x, w, b),
                          hint="y[o, i, j] = b[o] + sum over c, u, v of "
                               "x[c, i+u, j+v] w[o, c, u, v]"))
    return cases


register(Exercise(
    id="conv2d_multichannel", chapter=3, title="Many channels in, many out",
    prompt="Write conv2d_multichannel(x, weight, bias) for x (C_in, H, W), weight "
           "(C_out, C_in, kH, kW) and bias (C_out,): valid cross-correlation, stride 1, "
           "output (C_out, H - kH + 1, W - kW + 1).",
    solution=_multichannel_solution, cases=_multichannel_cases,
    hint="each output channel sums over *all* input channels, then adds its bias"))


# --- 2. the 1x1 convolution is a linear layer on every pixel -----------------------------

def _pointwise_solution(x, weight, bias=None):
    # (C_out, C_in) . (N, C_in, H, W) -> (N, C_out, H, W)
    y = torch.einsum("oc,ncij->noij", weight[:, :, 0, 0], x)
    return y if bias is None else y + bias.view(1, -1, 1, 1)


def _pointwise_cases():
    gen = torch.Generator().manual_seed(31)
    cases = []
    for name, (N, C_in, C_out, H, W), with_bias in [
            ("3 -> 5 channels", (2, 3, 5, 4, 4), True),
            ("8 -> 2 channels, no bias", (1, 8, 2, 3, 5), False),
            ("square 4 -> 4", (2, 4, 4, 2, 3), True)]:
        x, w = _rand(gen, N, C_in, H, W), _rand(gen, C_out, C_in, 1, 1)
        b = _rand(gen, C_out) if with_bias else None
        cases.append(Case(name, (x, w, b), expected=F.conv2d(x, w, b),
                          hint="y[n, :, i, j] = weight[:, :, 0, 0] @ x[n, :, i, j] + b"))
    return cases


register(Exercise(
    id="conv1x1_as_matmul", chapter=3, title="A 1x1 convolution is a per-pixel linear layer",
    prompt="Write conv1x1(x, weight, bias=None) for x (N, C_in, H, W) and weight "
           "(C_out, C_in, 1, 1) without any loop and without F.conv2d: one matrix product "
           "(matmul or einsum) over the channel dimension.",
    solution=_pointwise_solution, cases=_pointwise_cases,
    hint="weight[:, :, 0, 0] is a (C_out, C_in) matrix applied at every pixel"))


# --- 3. groups from groups=1 convolutions -----------------------------------------------

def _grouped_solution(input, weight, bias=None, groups=1):
    x_groups = input.chunk(groups, dim=1)  # G x (N, C_in/G, H, W)
    w_groups = weight.chunk(groups, dim=0)  # G x (C_out/G, C_in/G, kH, kW)
    pairs = zip(x_groups, w_groups)
    y = torch.cat([conv2d_naive(x, w) for x, w in pairs], dim=1)
    return y if bias is None else y + bias.view(1, -1, 1, 1)


def _grouped_cases():
    gen = torch.Generator().manual_seed(32)
    cases = []
    for name, (N, C_in, C_out, k, H), groups in [
            ("groups=1 is an ordinary conv", (1, 4, 2, 3, 5), 1),
            ("groups=2", (2, 4, 6, 3, 5), 2),
            ("depthwise: groups = C_in = C_out", (1, 3, 3, 3, 5), 3),
            ("depthwise multiplier 2", (1, 3, 6, 2, 4), 3),
            ("groups=4 with bias", (2, 8, 4, 1, 3), 4)]:
        x, w = _rand(gen, N, C_in, H, H), _rand(gen, C_out, C_in // groups, k, k)
        b = _rand(gen, C_out) if "bias" in name else None
        cases.append(Case(name, (x, w, b), dict(groups=groups),
                          expected=F.conv2d(x, w, b, groups=groups),
                          hint="group number q: input channels q*C_in/G ... and output channels "
                               "q*C_out/G ..., contiguous blocks, in order"))
    return cases


register(Exercise(
    id="grouped_conv2d", chapter=3, title="Groups are independent convolutions side by side",
    prompt="Write grouped_conv2d(input, weight, bias=None, groups=1) for (N, C_in, H, W) "
           "input and (C_out, C_in/groups, kH, kW) weight by splitting the channels into "
           "groups and calling conv2d_naive (with groups=1) once per group.",
    solution=_grouped_solution, cases=_grouped_cases,
    hint="split input channels and output kernels into `groups` contiguous blocks"))


# --- 4. counting parameters -------------------------------------------------------------

def _params_solution(in_channels, out_channels, kernel_size, groups=1,
                     bias=True):
    square = isinstance(kernel_size, int)
    kH, kW = (kernel_size, kernel_size) if square else kernel_size
    weights = out_channels * (in_channels // groups) * kH * kW
    return weights + (out_channels if bias else 0)


def _params_cases():
    settings = [("3 -> 64, 3x3", (3, 64, 3), {}),
                ("no bias", (16, 32, 3), dict(bias=False)),
                ("rectangular kernel", (8, 4, (1, 7)), {}),
                ("groups=4", (32, 64, 3), dict(groups=4)),
                ("depthwise", (32, 32, 3), dict(groups=32)),
                ("pointwise 1x1", (32, 64, 1), {})]
    return [Case(name, args, kwargs,
                 expected=sum(p.numel() for p in torch.nn.Conv2d(*args, **kwargs).parameters()),
                 hint="each output channel has C_in/groups * kH * kW weights, plus one bias")
            for name, args, kwargs in settings]


register(Exercise(
    id="conv2d_params", chapter=3, title="Counting a conv layer's parameters",
    prompt="Write conv2d_params(in_channels, out_channels, kernel_size, groups=1, bias=True): "
           "the number of parameters of nn.Conv2d with these arguments (kernel_size an int "
           "or a (kH, kW) tuple).",
    solution=_params_solution, cases=_params_cases,
    hint="groups divides the input channels each kernel sees"))
