"""Sample images and small datasets, all offline (bundled with installed packages).

- matplotlib ships ``grace_hopper.jpg`` in its sample data;
- scikit-image ships a set of photos in ``skimage.data`` (astronaut, coffee, camera, ...);
- scikit-learn ships the 8x8 handwritten digits (``load_digits``).
Nothing here touches the network.
"""

from __future__ import annotations

import numpy as np
import torch


def _grace_hopper() -> np.ndarray:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        import matplotlib.image

        return matplotlib.image.imread(f, format="jpg")


def _skimage(name: str):
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


# name -> loader returning an (H, W) or (H, W, 3) uint8 array
_IMAGES = {
    "grace_hopper": _grace_hopper,
    "astronaut": _skimage("astronaut"),
    "coffee": _skimage("coffee"),
    "chelsea": _skimage("chelsea"),
    "rocket": _skimage("rocket"),
    "camera": _skimage("camera"),
    "coins": _skimage("coins"),
    "moon": _skimage("moon"),
    "brick": _skimage("brick"),
}

IMAGE_NAMES = tuple(_IMAGES)


def sample_image(name: str = "grace_hopper", size: int | None = None) -> torch.Tensor:
    """A bundled photo as a float tensor ``(3, H, W)`` in [0, 1] (grayscale photos are
    repeated over three channels).

    ``size`` resizes the shorter side to ``size`` pixels (antialiased), keeping the
    aspect ratio. Raises ``ValueError`` naming the valid names for an unknown ``name``.
    """
    if name not in _IMAGES:
        raise ValueError(f"unknown sample image {name!r}; choose one of {', '.join(IMAGE_NAMES)}")
    array = np.asarray(_IMAGES[name]())
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        image = torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255.0  # (3, H, W)
    else:
        image = torch.from_numpy(array.astype(np.float32)).permute(2, 0, 1)
    if size is not None:
        from torchvision.transforms.functional import resize

        image = resize(image, size, antialias=True).clamp(0, 1)
    return image.contiguous()


def sample_gray(name: str = "grace_hopper", size: int | None = None) -> torch.Tensor:
    """A bundled photo as a grayscale ``(1, H, W)`` tensor in [0, 1] (ITU-R 601 luma)."""
    rgb = sample_image(name, size)
    weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    return (rgb * weights).sum(0, keepdim=True)
