"""Classic 3x3 image kernels and a Gaussian, as tensors ``(kH, kW)``.

Deep learning's "convolution" is cross-correlation, so these are written the way
``F.conv2d`` applies them: weight ``w[u, v]`` multiplies the pixel at offset
``(u - 1, v - 1)`` from the centre.
"""

from __future__ import annotations

import torch


def gaussian_kernel(size: int = 5, sigma: float = 1.0) -> torch.Tensor:
    """Normalized 2-D Gaussian ``w[u, v] ∝ exp(-((u-c)^2 + (v-c)^2) / (2 σ^2))``, sum 1,
    with ``c = (size - 1) / 2`` the centre."""
    if size < 1 or sigma <= 0:
        raise ValueError(f"need size >= 1 and sigma > 0, got size={size}, sigma={sigma}")
    offset = torch.arange(size, dtype=torch.float64) - (size - 1) / 2  # u - c
    profile = torch.exp(-(offset**2) / (2 * sigma**2))  # (size,)
    kernel = torch.outer(profile, profile)  # separable: -> (size, size)
    return (kernel / kernel.sum()).float()


KERNELS: dict[str, torch.Tensor] = {
    "identity": torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box blur": torch.full((3, 3), 1 / 9),
    "gaussian": gaussian_kernel(3, 0.85),
    "sharpen": torch.tensor([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sobel x": torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": torch.tensor([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": torch.tensor([[-2.0, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}

__all__ = ["KERNELS", "gaussian_kernel"]
