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
    """A bundled photo as a grayscale ``(1, H, W)`` tensor in [0, 1] (ITU-R 601 luma).

    ``size``, as in :func:`sample_image`, is the length of the *shorter* side after
    resizing (the aspect ratio is kept): ``sample_gray("grace_hopper", 192)`` is
    ``(1, 225, 192)``, a portrait photo 192 pixels wide.
    """
    rgb = sample_image(name, size)
    weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    return (rgb * weights).sum(0, keepdim=True)


# --- small datasets: the 8x8 digits and patches of natural photos (issue 7) ---

COLOR_PHOTOS = ("grace_hopper", "astronaut", "coffee", "chelsea", "rocket")


def load_digits_split(test_size: float = 0.25, seed: int = 0, dtype=torch.float32):
    """scikit-learn's bundled handwritten digits with a fixed, stratified train/test split.

    The 1,797 images are ``8x8`` with 17 gray levels (0..16); they are scaled to [0, 1]
    and given a channel axis. The split is seeded and stratified (each digit keeps its
    share in both parts), so every run and every reader gets the same test set.

    Returns ``(X_train, y_train, X_test, y_test)``.

    Shape:
        - X_train: :math:`(N_{train}, 1, 8, 8)`, y_train: :math:`(N_{train},)` (int64)
        - X_test: :math:`(N_{test}, 1, 8, 8)`, y_test: :math:`(N_{test},)`
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.as_tensor(digits.images / 16.0, dtype=dtype).unsqueeze(1)  # (N, 1, 8, 8)
    labels = torch.as_tensor(digits.target, dtype=torch.int64)  # (N,)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_size, random_state=seed, stratify=digits.target)
    train_idx, test_idx = torch.as_tensor(train_idx), torch.as_tensor(test_idx)
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def digits_datasets(test_size: float = 0.25, seed: int = 0):
    """The split of :func:`load_digits_split` as two ``TensorDataset``s: ``(train, test)``."""
    from torch.utils.data import TensorDataset

    X_train, y_train, X_test, y_test = load_digits_split(test_size, seed)
    return TensorDataset(X_train, y_train), TensorDataset(X_test, y_test)


def sample_patches(n: int, size: int = 8, names=COLOR_PHOTOS, image_size: int | None = 256,
                   seed: int = 0, gray: bool = False) -> torch.Tensor:
    """``n`` random ``size x size`` patches cut from the bundled photos, in [0, 1].

    Photos are first resized so their shorter side is ``image_size`` pixels (``None``
    keeps them as they are: smaller images give patches with more structure per
    pixel). Patches are drawn uniformly over photos and positions with a seeded
    generator, so the same arguments always give the same patches.

    Shape:
        - Output: :math:`(n, 3, size, size)`, or :math:`(n, 1, size, size)` if ``gray``
    """
    if n < 0 or size < 1:
        raise ValueError(f"need n >= 0 and size >= 1, got n={n}, size={size}")
    load = sample_gray if gray else sample_image
    photos = [load(name, image_size) for name in names]  # each (C, H, W)
    too_small = [nm for nm, p in zip(names, photos) if min(p.shape[1:]) < size]
    if too_small:
        raise ValueError(f"patch size {size} is larger than the photos {too_small}")
    g = torch.Generator().manual_seed(seed)
    which = torch.randint(len(photos), (n,), generator=g)  # (n,) photo of each patch
    patches = []
    for i in range(n):
        photo = photos[int(which[i])]
        H, W = photo.shape[1:]
        top = int(torch.randint(H - size + 1, (1,), generator=g))
        left = int(torch.randint(W - size + 1, (1,), generator=g))
        patches.append(photo[:, top:top + size, left:left + size])  # (C, size, size)
    C = 1 if gray else 3
    return torch.stack(patches) if patches else torch.empty(0, C, size, size)
