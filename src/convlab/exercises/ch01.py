"""Chapter 1 exercises: 1-D correlation, true convolution, Sobel edge strength."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import sample_gray
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
    return torch.stack([(x[i:i + k] * w).sum() for i in range(len(x) - k + 1)])


def _correlate1d_cases():
    return [Case(name, (x, w), expected=F.conv1d(x[None, None], w[None, None])[0, 0],
                 hint="out[i] = sum_j x[i + j] * w[j]; there are len(x) - len(w) + 1 outputs")
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
    weight = torch.stack([_SOBEL_X, _SOBEL_X.T]).unsqueeze(1)  # (2, 1, 3, 3)
    g = F.conv2d(image.unsqueeze(0), weight, padding=1)[0]  # (2, H, W)
    return g.pow(2).sum(0, keepdim=True).sqrt()  # (1, H, W)


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
           "(1, H, W) gradient magnitude sqrt(gx**2 + gy**2), where gx and gy are the "
           "Sobel x and y responses (F.conv2d with padding=1).",
    solution=_sobel_magnitude_solution, cases=_sobel_magnitude_cases, atol=1e-5))
