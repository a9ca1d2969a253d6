"""Pictures of tensors: ``imshow``, ``UnNormalize``, ``plot_kernels``, ``plot_feature_maps``
and ``show_source``.

These are the seed document's three helpers done right: nothing mutates its input,
every grid shape works (one row, one column, one kernel), every kernel is shown
(up to a limit you choose), and single-channel kernels are drawn with a diverging
colormap centred on zero so that the sign of each weight is visible.
"""

from __future__ import annotations

import inspect
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import TwoSlopeNorm
from torchvision.utils import make_grid

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class UnNormalize:
    """Undo ``torchvision.transforms.Normalize(mean, std)``: ``x * std + mean`` per channel.

    Returns a new tensor (the input is left untouched); works on ``(C, H, W)`` and
    ``(N, C, H, W)``.

    Shape:
        - Input: :math:`(C, H, W)` or :math:`(N, C, H, W)`
        - Output: same shape as the input
    """

    def __init__(self, mean, std):
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean and std need the same length, got {len(self.mean)} "
                             f"and {len(self.std)}")

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.dim() not in (3, 4):
            raise ValueError(f"expected a (C, H, W) or (N, C, H, W) tensor, got shape "
                             f"{tuple(tensor.shape)}")
        C = tensor.shape[-3]
        if C != len(self.mean):
            raise ValueError(f"tensor has {C} channels but mean/std have {len(self.mean)}")
        mean = torch.tensor(self.mean, dtype=tensor.dtype, device=tensor.device)
        std = torch.tensor(self.std, dtype=tensor.dtype, device=tensor.device)
        return tensor * std.view(C, 1, 1) + mean.view(C, 1, 1)  # broadcasts over N

    def __repr__(self) -> str:
        return f"UnNormalize(mean={self.mean}, std={self.std})"


def _to_tensor(image) -> torch.Tensor:
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.ascontiguousarray(image))
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"expected a tensor or a numpy array, got {type(image).__name__}")
    return image.detach().cpu().to(torch.float32)


def imshow(image, mean=IMAGENET_MEAN, std=IMAGENET_STD, ax=None, title=None, nrow=8,
           cmap="gray", **kwargs):
    """Show an image tensor/array and return the matplotlib ``Axes``.

    ``image`` may be ``(H, W)``, ``(C, H, W)`` with C in {1, 3}, or a batch
    ``(N, C, H, W)`` (shown as one grid with ``torchvision.utils.make_grid``).
    It is un-normalized with ``mean``/``std`` (ImageNet's by default; pass
    ``mean=None`` for an image already in [0, 1]), clipped to [0, 1] and drawn on
    ``ax`` (a new figure when ``None``).
    """
    x = _to_tensor(image)
    if x.dim() == 2:  # (H, W)
        x = x.unsqueeze(0)
    if x.dim() == 4:  # (N, C, H, W) -> (C, H', W') grid
        if mean is not None:
            x = UnNormalize(mean, std)(x) if x.shape[1] == len(mean) else x
            mean = None
        x = make_grid(x, nrow=nrow, padding=2, pad_value=1.0)
    if x.dim() != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"imshow needs (H, W), (1|3, H, W) or (N, 1|3, H, W); got shape "
                         f"{tuple(image.shape)}")
    if mean is not None and x.shape[0] == len(mean):
        x = UnNormalize(mean, std)(x)
    x = x.clamp(0, 1)
    if ax is None:
        _, ax = plt.subplots()
    if x.shape[0] == 1:
        ax.imshow(x[0].numpy(), cmap=cmap, vmin=0, vmax=1, **kwargs)
    else:
        ax.imshow(x.permute(1, 2, 0).numpy(), **kwargs)  # (3, H, W) -> (H, W, 3)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def _grid_shape(count: int, ncols: int | None) -> tuple[int, int]:
    ncols = ncols or min(count, 8)
    return math.ceil(count / ncols), ncols


def plot_kernels(weight, max_kernels: int = 64, ncols: int | None = None, title=None,
                 tile_size: float = 1.1, cmap: str = "RdBu_r", scale: str = "global"):
    """Draw every kernel of a ``(C_out, C_in, kH, kW)`` weight and return the ``Figure``.

    With ``C_in == 3`` each output channel is one RGB tile (min-max scaled per kernel).
    Otherwise each ``(out, in)`` slice is a grayscale-like tile in a diverging
    colormap centred on zero (red positive, blue negative), labelled ``out,in``.
    At most ``max_kernels`` tiles are drawn; the title says when some were left out.
    ``scale="global"`` uses one colour scale for all tiles (compare magnitudes across
    kernels); ``scale="per_kernel"`` scales each tile to its own largest weight.
    """
    if scale not in ("global", "per_kernel"):
        raise ValueError(f"scale must be 'global' or 'per_kernel', got {scale!r}")
    w = _to_tensor(weight)
    if w.dim() == 2:
        w = w[None, None]
    elif w.dim() == 3:
        w = w.unsqueeze(1)
    if w.dim() != 4:
        raise ValueError(f"expected a (C_out, C_in, kH, kW) weight, got shape {tuple(w.shape)}")
    C_out, C_in = w.shape[:2]
    rgb = C_in == 3
    if rgb:
        tiles = [(f"{o}", w[o]) for o in range(C_out)]
    else:
        tiles = [(f"{o},{i}", w[o, i]) for o in range(C_out) for i in range(C_in)]
    total = len(tiles)
    tiles = tiles[:max_kernels]
    nrows, ncols = _grid_shape(len(tiles), ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(tile_size * ncols, tile_size * nrows + 0.4),
                             squeeze=False)
    limit = float(w.abs().max()) or 1.0
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (label, k) in zip(axes.flat, tiles):
        if rgb:
            lo, hi = k.min(), k.max()
            img = ((k - lo) / (hi - lo + 1e-12)).permute(1, 2, 0).numpy()  # (kH, kW, 3)
            ax.imshow(img, interpolation="nearest")
        else:
            bound = limit if scale == "global" else (float(k.abs().max()) or 1.0)
            ax.imshow(k.numpy(), cmap=cmap, norm=TwoSlopeNorm(0.0, -bound, bound),
                      interpolation="nearest")
        ax.set_title(label, fontsize=8)
    shown = f"{len(tiles)} of {total} kernels" if total > len(tiles) else f"{total} kernels"
    fig.suptitle(f"{title + ': ' if title else ''}{shown} {tuple(w.shape[2:])}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_feature_maps(feature_maps, max_maps: int = 32, ncols: int | None = None, title=None,
                      tile_size: float = 1.3, cmap: str = "viridis"):
    """Draw the channels of a ``(C, H, W)`` (or ``(1, C, H, W)``) activation; return the Figure.

    Each map gets its own colour scale (activations of different channels differ in
    range); the title of each tile is its channel index.
    """
    x = _to_tensor(feature_maps)
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"pass one example's maps, got a batch of {x.shape[0]}")
        x = x[0]
    if x.dim() == 2:
        x = x.unsqueeze(0)
    if x.dim() != 3:
        raise ValueError(f"expected (C, H, W) feature maps, got shape {tuple(x.shape)}")
    C = x.shape[0]
    count = min(C, max_maps)
    nrows, ncols = _grid_shape(count, ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(tile_size * ncols, tile_size * nrows + 0.4),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for c, ax in zip(range(count), axes.flat):
        ax.imshow(x[c].numpy(), cmap=cmap, interpolation="nearest")
        ax.set_title(str(c), fontsize=8)
    shown = f"{count} of {C} maps" if C > count else f"{C} maps"
    fig.suptitle(f"{title + ': ' if title else ''}{shown} {tuple(x.shape[1:])}", fontsize=10)
    fig.tight_layout()
    return fig


class SourceCode(str):
    """Source text that a notebook renders as highlighted Python (``_repr_markdown_``)."""

    def __new__(cls, text: str, name: str = ""):
        self = super().__new__(cls, text)
        self.name = name
        return self

    def _repr_markdown_(self) -> str:
        header = f"`{self.name}`\n" if self.name else ""
        return f"{header}```python\n{self}```"


def show_source(obj) -> SourceCode:
    """Return the real source of a function or class, rendered as code in a notebook.

    The book calls ``show_source(conv2d_naive)`` instead of pasting a copy, so what the
    reader sees is the code that the tests check. It is a ``str`` subclass: print it,
    search it, or let the notebook render it.
    """
    module = inspect.getmodule(obj)
    name = f"{module.__name__}.{obj.__qualname__}" if module else obj.__qualname__
    return SourceCode(inspect.getsource(obj), name)
