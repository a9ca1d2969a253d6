"""convlab.data: bundled photos, the digits split and natural-image patches, all offline."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from convlab.data import (
    COLOR_PHOTOS,
    IMAGE_NAMES,
    digits_datasets,
    load_digits_split,
    sample_gray,
    sample_image,
    sample_patches,
)


@pytest.mark.parametrize("name", ["grace_hopper", "astronaut", "camera"])
def test_sample_image_shape_and_range(name):
    image = sample_image(name)
    assert image.dtype == torch.float32 and image.dim() == 3 and image.shape[0] == 3
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert float(image.std()) > 0.01  # a real photo, not a blank


def test_sample_image_resizes_the_shorter_side():
    image = sample_image("coffee", size=64)  # coffee is 400 x 600
    assert image.shape == (3, 64, 96)
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0


def test_sample_gray_size_is_the_shorter_side():
    assert sample_gray("grace_hopper", size=192).shape == (1, 225, 192)  # its docstring


def test_grayscale_photo_is_repeated_over_channels():
    image = sample_image("camera", size=32)
    torch.testing.assert_close(image[0], image[1])
    torch.testing.assert_close(image[0], image[2])
    assert sample_gray("camera", size=32).shape == (1, 32, 32)


def test_unknown_image_names_the_valid_ones():
    with pytest.raises(ValueError) as info:
        sample_image("mona_lisa")
    assert "mona_lisa" in str(info.value)
    for name in IMAGE_NAMES:
        assert name in str(info.value)


def test_digits_split_shapes_and_labels():
    X_train, y_train, X_test, y_test = load_digits_split()
    assert X_train.shape == (1347, 1, 8, 8) and X_test.shape == (450, 1, 8, 8)
    assert y_train.dtype == torch.int64 and y_train.shape == (1347,)
    assert 0.0 <= float(X_train.min()) and float(X_train.max()) == 1.0
    assert set(y_test.tolist()) == set(range(10))


def test_digits_split_is_fixed_stratified_and_disjoint():
    a, b = load_digits_split(seed=0), load_digits_split(seed=0)
    for u, v in zip(a, b):
        assert torch.equal(u, v)
    X_train, y_train, X_test, y_test = a
    share_train = torch.bincount(y_train, minlength=10) / len(y_train)
    share_test = torch.bincount(y_test, minlength=10) / len(y_test)
    assert float((share_train - share_test).abs().max()) < 0.01  # stratified
    train_rows = {tuple(r.flatten().tolist()) for r in X_train}
    overlap = sum(tuple(r.flatten().tolist()) in train_rows for r in X_test)
    assert overlap <= 2  # the dataset itself has a couple of identical images
    other = load_digits_split(seed=1)
    assert not torch.equal(other[3], y_test)


def test_digits_split_test_size():
    X_train, _, X_test, _ = load_digits_split(test_size=0.5)
    assert len(X_train) + len(X_test) == 1797 and abs(len(X_test) - 899) <= 1


def test_digits_datasets_are_tensor_datasets():
    train, test = digits_datasets()
    assert isinstance(train, TensorDataset) and isinstance(test, TensorDataset)
    x, y = test[0]
    assert x.shape == (1, 8, 8) and y.dim() == 0
    assert len(train) == 1347 and len(test) == 450


def test_patches_shape_range_and_seed():
    p = sample_patches(50, size=8, seed=3, image_size=64)
    assert p.shape == (50, 3, 8, 8)
    assert 0.0 <= float(p.min()) and float(p.max()) <= 1.0
    assert torch.equal(p, sample_patches(50, size=8, seed=3, image_size=64))
    assert not torch.equal(p, sample_patches(50, size=8, seed=4, image_size=64))


def test_patches_gray_and_names():
    p = sample_patches(5, size=6, names=("camera",), image_size=32, gray=True)
    assert p.shape == (5, 1, 6, 6)
    assert sample_patches(0, size=4, image_size=32).shape == (0, 3, 4, 4)
    assert set(COLOR_PHOTOS) <= set(IMAGE_NAMES)


def test_patches_reject_bad_sizes():
    with pytest.raises(ValueError, match="larger"):
        sample_patches(2, size=40, names=("camera",), image_size=32)
    with pytest.raises(ValueError):
        sample_patches(-1)
    with pytest.raises(ValueError):
        sample_patches(2, names=("nope",), image_size=32)
