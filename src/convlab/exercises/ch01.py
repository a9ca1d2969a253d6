"""Chapter 1 exercises: 1-D correlation, true convolution, Sobel edge strength, and where
translation equivariance holds."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import sample_gray
from ..signal import translate
from .core import Case, Exercise, register


def _signals():
    g = torch.Generator().manual_seed(1)
    return [
        ("moving average", torch.arange(10.0), torch.full((3,), 1 / 3)),
        ("difference", torch.tensor([0.0, 0, 1, 1, 1, 0, 0]), torch.tensor([-1.0, 1.0])),
        ("asymmetric kernel", torch.randn(12, generator=g), torch.tensor([1.0, 2.0, -0.5])),
        ("kernel as long as the signal", torch.randn(5, generator=g), torch.randn(5, generator=g)),
        ("length-1 kernel", torch.randn(6, generator=g), torch.tensor([2.0])),
    ]


def _correlate1d_solution(x, w):
    k = len(w)
    W_out = len(x) - k + 1
    return torch.stack([(x[i:i + k] * w).sum() for i in range(W_out)])


def _correlate1d_cases():
    return [Case(name, (x, w), expected=F.conv1d(x[None, None], w[None, None])[0, 0],
                 hint="y[i] = sum_u x[i + u] * w[u]; there are len(x) - len(w) + 1 outputs")
            for name, x, w in _signals()]


register(Exercise(
    id="correlate1d", chapter=1, title="1-D cross-correlation",
    prompt="Write correlate1d(x, w): the valid cross-correlation of a 1-D tensor x with a "
           "kernel w (what F.conv1d computes), returning a tensor of length len(x)-len(w)+1.",
    solution=_correlate1d_solution, cases=_correlate1d_cases,
    hint="slide w along x without flipping it"))


def _convolve1d_solution(x, w):
    return _correlate1d_solution(x, w.flip(0))


def _convolve1d_cases():
    import numpy as np

    return [Case(name, (x, w),
                 expected=torch.from_numpy(np.convolve(x.numpy(), w.numpy(), mode="valid")),
                 hint="convolution = cross-correlation with the kernel flipped")
            for name, x, w in _signals()]


register(Exercise(
    id="convolve1d", chapter=1, title="Convolution is correlation with a flipped kernel",
    prompt="Write convolve1d(x, w): the valid convolution of signal processing "
           "(numpy.convolve(x, w, mode='valid')), using cross-correlation.",
    solution=_convolve1d_solution, cases=_convolve1d_cases,
    hint="which way does the kernel face?", atol=1e-5))

_SOBEL_X = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def _sobel_magnitude_solution(image):
    weight = torch.stack([_SOBEL_X, _SOBEL_X.T])[:, None]  # (2, 1, 3, 3)
    y = F.conv2d(image[None], weight, padding=1)[0]  # (2, H, W): x and y
    return y.pow(2).sum(0, keepdim=True).sqrt()  # (1, H, W)


def _sobel_magnitude_cases():
    g = torch.Generator().manual_seed(2)
    images = [("a photo", sample_gray("camera", 40)),
              ("random noise", torch.rand(1, 9, 13, generator=g)),
              ("a vertical step", torch.cat([torch.zeros(1, 6, 3), torch.ones(1, 6, 3)], 2))]
    return [Case(name, (img,), expected=_sobel_magnitude_solution(img),
                 hint="Sobel y is Sobel x transposed; pad by 1 to keep the size")
            for name, img in images]


register(Exercise(
    id="sobel_magnitude", chapter=1, title="Edge strength with Sobel",
    prompt="Write sobel_magnitude(image): for a (1, H, W) grayscale image return the "
           "(1, H, W) edge strength sqrt(y1**2 + y2**2), where y1 and y2 are the "
           "Sobel x and Sobel y responses (F.conv2d with padding=1).",
    solution=_sobel_magnitude_solution, cases=_sobel_magnitude_cases, atol=1e-5))


# --- 4. where is a convolution translation equivariant? ----------------------------------

def _equivariant_columns_solution(W_in, k, t):
    if t < 0:  # a shift to the left mirrors a shift to the right
        return _equivariant_columns_solution(W_in, k, -t).flip(0)
    p = k // 2  # 'same' padding of an odd kernel
    i = torch.arange(W_in)
    if t == 0 or t >= W_in:  # nothing moved, or nothing is left: equal
        return torch.ones(W_in, dtype=torch.bool)
    # The sides differ where one reads a pixel and the other a zero: the
    # p columns left of the seam at t (their windows reach the first moved
    # pixel, while translate(conv(x)) has zeros there), and the last p
    # columns, whose windows lost the pixels that fell off the far edge.
    # Columns that both sides fill with zeros agree.
    near_seam = (i >= t - p) & (i < t)
    far_edge = (i >= W_in - p) & (i >= t - p)
    return ~(near_seam | far_edge)


def _measured_columns(W_in, k, t, seed=0):
    """Where conv(translate(x, t)) equals translate(conv(x), t) for random x and w."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, W_in, generator=g, dtype=torch.float64)
    w = torch.randn(1, 1, k, generator=g, dtype=torch.float64)
    a = F.conv1d(translate(x, t), w, padding=k // 2)[0, 0]
    b = translate(F.conv1d(x, w, padding=k // 2), t)[0, 0]
    return (a - b).abs() <= 1e-12


def _equivariant_columns_cases():
    settings = [("shift right by 2, k = 3", (10, 3, 2)), ("shift right by 3, k = 5", (10, 5, 3)),
                ("shift left by 2", (10, 3, -2)), ("shift left by 4, k = 5", (12, 5, -4)),
                ("no shift", (8, 3, 0)), ("k = 1: every column", (9, 1, 4)),
                ("seam near the far edge", (6, 5, 3)),
                ("everything leaves the frame", (6, 3, 6))]
    return [Case(name, args, expected=_measured_columns(*args),
                 hint="a bool tensor of W_in entries; the two sides differ only where one "
                      "reads a pixel and the other a zero (padding or a shifted-in zero)")
            for name, args in settings]


register(Exercise(
    id="equivariant_columns", chapter=1, title="Where translation equivariance holds",
    prompt="Write equivariant_columns(W_in, k, t): for a 1-D signal of W_in samples, a "
           "kernel of odd length k applied with F.conv1d(x, w, padding=k // 2), and "
           "convlab.signal.translate by t samples (t < 0: to the left), return a bool "
           "tensor of W_in entries that is True at the output positions where "
           "conv(translate(x, t)) equals translate(conv(x), t) for every x and w.",
    solution=_equivariant_columns_solution, cases=_equivariant_columns_cases,
    hint="translation commutes with the convolution except near the border"))
