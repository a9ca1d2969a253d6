"""Output-size formulas against the shapes PyTorch actually produces."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import (
    conv_output_size,
    conv_transpose_output_size,
    effective_kernel_size,
    receptive_field,
    same_padding,
)
from convlab.arithmetic import _ntuple, output_positions


@settings(max_examples=300, deadline=None)
@given(i=st.integers(1, 20), k=st.integers(1, 6), s=st.integers(1, 5), p=st.integers(0, 4),
       d=st.integers(1, 4))
def test_conv_output_size_matches_torch(i, k, s, p, d):
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    if i + 2 * p < d * (k - 1) + 1:
        with pytest.raises(RuntimeError):
            F.conv1d(x, w, stride=s, padding=p, dilation=d)
        with pytest.raises(ValueError, match="smaller than the dilated kernel"):
            conv_output_size(i, k, s, p, d)
        return
    expected = F.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1]
    assert conv_output_size(i, k, s, p, d) == expected


@settings(max_examples=300, deadline=None)
@given(i=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3),
       op=st.integers(0, 3), d=st.integers(1, 3))
def test_conv_transpose_output_size_matches_torch(i, k, s, p, op, d):
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    try:
        expected = F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=op,
                                      dilation=d).shape[-1]
    except RuntimeError:
        with pytest.raises(ValueError):
            conv_transpose_output_size(i, k, s, p, op, d)
        return
    assert conv_transpose_output_size(i, k, s, p, op, d) == expected


@pytest.mark.parametrize("k,d", [(1, 1), (2, 1), (3, 1), (4, 1), (4, 2), (5, 3), (2, 3)])
def test_same_padding_matches_torch(k, d):
    torch.manual_seed(0)
    x = torch.randn(1, 1, 11, dtype=torch.float64)
    w = torch.randn(1, 1, k, dtype=torch.float64)
    left, right = same_padding(k, d)
    assert left + right == d * (k - 1)
    ours = F.conv1d(F.pad(x, (left, right)), w, dilation=d)
    torch.testing.assert_close(ours, F.conv1d(x, w, padding="same", dilation=d))


def test_effective_kernel_and_receptive_field():
    assert effective_kernel_size(3, 1) == 3
    assert effective_kernel_size(3, 2) == 5
    # two 3x3 convs see 5x5; three see 7x7 (VGG's argument)
    assert receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(3, 1), (3, 1), (3, 1)]) == 7
    # ResNet stem: 7x7/2 conv then 3x3/2 max-pool -> 11
    assert receptive_field([(7, 2), (3, 2)]) == 11
    # dilations 1, 2, 4 (Yu & Koltun): 3, 7, 15
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15


def test_output_positions_are_the_windows():
    windows = list(output_positions(7, 3, stride=2, padding=0, dilation=1))
    assert windows == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    assert list(output_positions(5, 2, dilation=2)) == [[0, 2], [1, 3], [2, 4]]


def test_invalid_arguments():
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(5, 3, stride=0)
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_output_size(5, 3, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="list of 2 values"):
        _ntuple((1, 2, 3), 2, "stride")
    assert _ntuple(3, 2) == (3, 3)
    assert _ntuple([4], 3) == (4, 4, 4)


def test_shown_source_fits_the_page_column():
    """Chapter 2 shows these with show_source: no line wraps in the 688 px column."""
    import inspect

    for fn in (conv_output_size, same_padding):
        widest = max(len(line) for line in inspect.getsource(fn).splitlines())
        assert widest <= 77, (fn.__name__, widest)
