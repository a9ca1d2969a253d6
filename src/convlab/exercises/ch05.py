"""Chapter 5 exercises: the three gradients of a convolution, by hand.

``grad_bias`` (a sum), ``grad_input`` of a stride-2 convolution (scatter the upstream
gradient back through the kernel, zeros for the pixels no window read) and
``grad_weight`` (correlate the input with the upstream gradient).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .core import Case, Exercise, register


def _rand(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _autograd(x, w, stride=1):
    """Autograd's gradients of ``F.conv2d`` for single-channel ``x (H, W)``, ``w (kH, kW)``."""
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    out = F.conv2d(x[None, None], w[None, None], stride=stride)[0, 0]  # (H_out, W_out)
    g = torch.linspace(-1, 1, out.numel(), dtype=x.dtype).reshape(out.shape).sin() * 3
    grad_x, grad_w = torch.autograd.grad(out, (x, w), g)
    return g, grad_x, grad_w


# --- 1. grad_bias ---------------------------------------------------------------------

def _grad_bias_solution(grad_output):
    # each output pixel of channel o adds b[o] once:
    # dL/db[o] = the sum of g[n, o, i, j] over n, i, j
    # (N, C_out, H_out, W_out) -> (C_out,)
    return grad_output.sum(dim=(0, 2, 3))


def _grad_bias_cases():
    gen = torch.Generator().manual_seed(5)
    shapes = [("one image, one channel", (1, 1, 4, 4)), ("a batch of 3", (3, 2, 5, 4)),
              ("many channels, 1x1 output", (2, 6, 1, 1)), ("batch of 1, wide", (1, 3, 2, 7))]
    return [Case(name, (g,), expected=g.sum((0, 2, 3)),
                 hint="sum over the batch and both spatial axes, keep the channel axis")
            for name, g in ((n, _rand(gen, *s)) for n, s in shapes)]


register(Exercise(
    id="grad_bias", chapter=5, title="The gradient of the bias",
    prompt="Write grad_bias(grad_output) for grad_output of shape (N, C_out, H_out, W_out): "
           "the gradient of the loss with respect to the conv's bias, shape (C_out,).",
    solution=_grad_bias_solution, cases=_grad_bias_cases,
    hint="each b[o] is added to every output pixel of channel o, in every image"))


# --- 2. grad_input of a stride-2 convolution ---------------------------------------------

def _grad_input_solution(grad_output, weight, input_size, stride=2):
    kH, kW = weight.shape
    # (H, W); pixels that no window read stay 0
    grad_input = torch.zeros(input_size, dtype=grad_output.dtype)
    for i in range(grad_output.shape[0]):
        for j in range(grad_output.shape[1]):
            # output (i, j) read the window at (stride i, stride j):
            # send g[i, j] back through the kernel into that window
            top, left = stride * i, stride * j
            window = grad_input[top:top + kH, left:left + kW]  # a view
            window += grad_output[i, j] * weight
    return grad_input


def _grad_input_cases():
    gen = torch.Generator().manual_seed(6)
    cases = []
    for name, size, k in [("3x3 kernel, 7x7 input (stride divides)", (7, 7), (3, 3)),
                          ("3x3 kernel, 8x8 input (last row/column unread)", (8, 8), (3, 3)),
                          ("2x2 kernel: windows do not overlap", (6, 5), (2, 2)),
                          ("1x1 kernel: every other pixel", (5, 5), (1, 1))]:
        w = _rand(gen, *k)
        g, grad_x, _ = _autograd(_rand(gen, *size), w, stride=2)
        cases.append(Case(name, (g, w, size), expected=grad_x,
                          hint="output (i, j) read input[2i:2i+kH, 2j:2j+kW]: add "
                               "g[i, j] * weight there; pixels no window read get 0"))
    return cases


register(Exercise(
    id="grad_input_stride2", chapter=5, title="The input gradient of a stride-2 convolution",
    prompt="Write grad_input(grad_output, weight, input_size, stride=2): for the "
           "single-channel valid cross-correlation y = conv2d(x, weight, stride=2) of an "
           "image of size input_size = (H, W), with weight the 2-D kernel (kH, kW), return "
           "dL/dx (shape (H, W)) given grad_output = dL/dy of shape (H_out, W_out).",
    solution=_grad_input_solution, cases=_grad_input_cases,
    hint="scatter, don't gather: each output pixel sends its gradient back to its window"))


# --- 3. grad_weight ---------------------------------------------------------------------

def _grad_weight_solution(input, grad_output):
    H_out, W_out = grad_output.shape
    kH, kW = input.shape[0] - H_out + 1, input.shape[1] - W_out + 1
    grad_weight = torch.zeros(kH, kW, dtype=input.dtype)
    for u in range(kH):
        for v in range(kW):
            # w[u, v] met input[i + u, j + v] at every output (i, j):
            # correlate x with g
            window = input[u:u + H_out, v:v + W_out]  # (H_out, W_out)
            grad_weight[u, v] = (window * grad_output).sum()
    return grad_weight


def _grad_weight_cases():
    gen = torch.Generator().manual_seed(7)
    cases = []
    for name, size, k in [("3x3 kernel on 6x6", (6, 6), (3, 3)),
                          ("non-square 2x4 kernel on 5x7", (5, 7), (2, 4)),
                          ("kernel as large as the input", (3, 3), (3, 3)),
                          ("1x1 kernel", (4, 3), (1, 1))]:
        x = _rand(gen, *size)
        g, _, grad_w = _autograd(x, _rand(gen, *k))
        cases.append(Case(name, (x, g), expected=grad_w,
                          hint="dL/dw[u, v] = sum_ij g[i, j] * x[i + u, j + v]: "
                               "a valid correlation of x with g, no flip"))
    return cases


register(Exercise(
    id="grad_weight", chapter=5, title="The weight gradient is a correlation",
    prompt="Write grad_weight(input, grad_output) for the single-channel valid "
           "cross-correlation y = conv2d(x, w) (stride 1, no padding): input is x "
           "(H_in, W_in), grad_output is dL/dy (H_out, W_out); return dL/dw, shape "
           "(H_in - H_out + 1, W_in - W_out + 1).",
    solution=_grad_weight_solution, cases=_grad_weight_cases,
    hint="the kernel size is H_in - H_out + 1 by W_in - W_out + 1"))
