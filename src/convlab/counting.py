"""Counting a convolution: parameters, multiply-accumulates and FLOPs.

For a 2-D convolution with ``C_in`` input and ``C_out`` output channels, kernel
``kH x kW``, ``groups`` groups and an output of ``H_out x W_out`` positions:

.. math::

    \\text{params} = C_{out} \\cdot \\frac{C_{in}}{\\text{groups}} \\cdot k_H k_W
        + [\\text{bias}]\\, C_{out}

    \\text{MACs} = N \\cdot C_{out} H_{out} W_{out} \\cdot \\frac{C_{in}}{\\text{groups}} k_H k_W

Every output number is one dot product of length ``(C_in/groups) kH kW``. We count a
multiply-accumulate as 2 FLOPs (one multiply, one add) and the bias as one more add per
output number. A depthwise-separable convolution (MobileNet) replaces one ``k x k``
convolution by a depthwise ``k x k`` (``groups = C_in``) and a pointwise ``1 x 1``; its
cost relative to the standard one is :math:`1/C_{out} + 1/k^2` (Howard et al., 2017).
"""

from __future__ import annotations

from typing import NamedTuple

from .arithmetic import _pair, conv_output_size


class ConvCost(NamedTuple):
    """Parameters, multiply-accumulates and FLOPs of one conv layer on one input size."""

    params: int
    macs: int
    flops: int
    output_shape: tuple


def conv2d_params(in_channels: int, out_channels: int, kernel_size, groups: int = 1,
                  bias: bool = True) -> int:
    """Number of learnable numbers in ``nn.Conv2d(in_channels, out_channels, kernel_size,
    groups=groups, bias=bias)``: ``C_out * C_in/groups * kH * kW (+ C_out)``."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    kH, kW = _pair(kernel_size, "kernel_size")
    return out_channels * (in_channels // groups) * kH * kW + (out_channels if bias else 0)


def conv2d_cost(in_channels: int, out_channels: int, kernel_size, input_size, stride=1,
                padding=0, dilation=1, groups: int = 1, bias: bool = True,
                batch_size: int = 1) -> ConvCost:
    """Parameters, MACs and FLOPs of a conv layer applied to ``(N, C_in, H_in, W_in)``.

    ``FLOPs = 2 * MACs (+ one add per output number for the bias)``. ``padding`` is an
    int or pair (use :func:`convlab.same_padding` for ``'same'``).

    Shape:
        - ``input_size``: :math:`(H_{in}, W_{in})` or an int for a square input
        - ``output_shape``: :math:`(N, C_{out}, H_{out}, W_{out})`
    """
    kH, kW = _pair(kernel_size, "kernel_size")
    H_in, W_in = _pair(input_size, "input_size")
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    H_out = conv_output_size(H_in, kH, sH, pH, dH)
    W_out = conv_output_size(W_in, kW, sW, pW, dW)
    params = conv2d_params(in_channels, out_channels, (kH, kW), groups, bias)
    outputs = batch_size * out_channels * H_out * W_out  # numbers in the output tensor
    macs = outputs * (in_channels // groups) * kH * kW  # one dot product per output number
    flops = 2 * macs + (outputs if bias else 0)
    return ConvCost(params, macs, flops, (batch_size, out_channels, H_out, W_out))


def separable_comparison(in_channels: int, out_channels: int, kernel_size: int, input_size,
                         padding=None, bias: bool = False) -> dict:
    """Standard ``k x k`` conv vs depthwise ``k x k`` + pointwise ``1 x 1`` (MobileNet).

    Returns a dict with the :class:`ConvCost` of ``'standard'``, ``'depthwise'``,
    ``'pointwise'`` and ``'separable'`` (the sum of the two), and the ratios
    ``'param_ratio'`` and ``'mac_ratio'`` (separable / standard). ``padding``
    defaults to ``k // 2`` (same size for odd ``k``).
    """
    pad = kernel_size // 2 if padding is None else padding
    standard = conv2d_cost(in_channels, out_channels, kernel_size, input_size, padding=pad,
                           bias=bias)
    depthwise = conv2d_cost(in_channels, in_channels, kernel_size, input_size, padding=pad,
                            groups=in_channels, bias=bias)
    pointwise = conv2d_cost(in_channels, out_channels, 1, depthwise.output_shape[2:],
                            bias=bias)
    separable = ConvCost(depthwise.params + pointwise.params, depthwise.macs + pointwise.macs,
                         depthwise.flops + pointwise.flops, pointwise.output_shape)
    return {"standard": standard, "depthwise": depthwise, "pointwise": pointwise,
            "separable": separable,
            "param_ratio": separable.params / standard.params,
            "mac_ratio": separable.macs / standard.macs}


def count_parameters(module) -> int:
    """Number of learnable numbers in a ``torch.nn.Module`` (what the formulas predict)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["ConvCost", "conv2d_params", "conv2d_cost", "separable_comparison",
           "count_parameters"]
