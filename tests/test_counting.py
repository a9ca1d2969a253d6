"""Parameter and FLOP counts of conv layers, checked against nn.Conv2d."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import (
    conv2d_cost,
    conv2d_params,
    count_parameters,
    separable_comparison,
)
from convlab.counting import dense_vs_conv2d, linear_params


@settings(max_examples=100, deadline=None)
@given(groups=st.integers(1, 4), c_in=st.integers(1, 4), c_out=st.integers(1, 4),
       kH=st.integers(1, 5), kW=st.integers(1, 5), bias=st.booleans())
def test_params_match_nn_conv2d(groups, c_in, c_out, kH, kW, bias):
    layer = torch.nn.Conv2d(groups * c_in, groups * c_out, (kH, kW), groups=groups, bias=bias)
    assert conv2d_params(groups * c_in, groups * c_out, (kH, kW), groups, bias) \
        == count_parameters(layer) == sum(p.numel() for p in layer.parameters())


def test_params_rejects_bad_groups():
    with pytest.raises(ValueError, match="groups"):
        conv2d_params(6, 4, 3, groups=4)


def test_macs_count_every_multiply():
    """MACs = number of products in the definition: count them with an all-ones conv."""
    cost = conv2d_cost(4, 6, (3, 2), (7, 9), stride=(2, 1), padding=1, dilation=(1, 2),
                       groups=2, bias=True, batch_size=3)
    x = torch.ones(3, 4, 7, 9, dtype=torch.float64)
    w = torch.ones(6, 2, 3, 2, dtype=torch.float64)
    # with zero padding the ones-conv counts the products that hit real pixels; count
    # all taps instead: every output number is one dot product of length C_in/G*kH*kW
    out = torch.nn.functional.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    assert cost.output_shape == tuple(out.shape)
    assert cost.macs == out.numel() * 2 * 3 * 2
    assert cost.flops == 2 * cost.macs + out.numel()
    assert cost.params == 6 * 2 * 3 * 2 + 6


def test_flops_formula_no_bias():
    cost = conv2d_cost(3, 64, 7, 224, stride=2, padding=3, bias=False)
    assert cost.output_shape == (1, 64, 112, 112)
    assert cost.macs == 64 * 112 * 112 * 3 * 7 * 7  # ResNet's stem: ~118 M MACs
    assert cost.flops == 2 * cost.macs


def test_separable_savings_match_mobilenet():
    """Howard et al.: separable / standard = 1/C_out + 1/k^2 (no bias, same padding)."""
    for c_in, c_out, k in [(32, 64, 3), (128, 128, 3), (16, 48, 5)]:
        result = separable_comparison(c_in, c_out, k, 28)
        expected = 1 / c_out + 1 / k**2
        assert result["mac_ratio"] == pytest.approx(expected)
        assert result["param_ratio"] == pytest.approx(expected)
        standard = torch.nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
        depthwise = torch.nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False)
        pointwise = torch.nn.Conv2d(c_in, c_out, 1, bias=False)
        assert result["standard"].params == count_parameters(standard)
        assert result["separable"].params == count_parameters(depthwise) \
            + count_parameters(pointwise)
        x = torch.randn(1, c_in, 28, 28)
        assert result["separable"].output_shape == tuple(pointwise(depthwise(x)).shape) \
            == tuple(standard(x).shape)


@settings(max_examples=50, deadline=None)
@given(i=st.integers(1, 40), o=st.integers(1, 40), bias=st.booleans())
def test_linear_params_match_nn_linear(i, o, bias):
    assert linear_params(i, o, bias) == count_parameters(torch.nn.Linear(i, o, bias=bias))


@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 3), c_out=st.integers(1, 3), k=st.integers(1, 3),
       size=st.integers(3, 6), padding=st.integers(0, 1), bias=st.booleans())
def test_dense_vs_conv_counts_real_layers(c_in, c_out, k, size, padding, bias):
    """The dense layer maps the flattened image to as many numbers as the conv layer makes."""
    conv = torch.nn.Conv2d(c_in, c_out, k, padding=padding, bias=bias)
    x = torch.randn(1, c_in, size, size)
    y = conv(x)
    dense = torch.nn.Linear(x.numel(), y.numel(), bias=bias)
    assert dense(x.flatten(1)).shape == (1, y.numel())
    result = dense_vs_conv2d(c_in, c_out, k, size, padding=padding, bias=bias)
    assert result.inputs == x.numel() and result.outputs == y.numel()
    assert result.conv_params == count_parameters(conv)
    assert result.dense_params == count_parameters(dense)
    assert result.ratio == result.dense_params / result.conv_params


def test_dense_vs_conv_on_an_imagenet_image():
    """3x3 conv, 3 -> 64 channels, 'same' size on 224x224x3: 1,792 against about 4.8e11."""
    result = dense_vs_conv2d(3, 64, 3, 224, padding=1)
    assert result.inputs == 224 * 224 * 3 and result.outputs == 64 * 224 * 224
    assert result.conv_params == 64 * 3 * 9 + 64 == 1792
    assert result.dense_params == (224 * 224 * 3) * (64 * 224 * 224) + 64 * 224 * 224
    with pytest.raises(ValueError):
        linear_params(-1, 3)
