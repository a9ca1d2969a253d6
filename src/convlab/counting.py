r"""Counting a convolution: parameters, multiply-accumulates and FLOPs.

For a 2-D convolution with :math:`C_\text{in}` input and :math:`C_\text{out}` output
channels, a :math:`k_H \times k_W` kernel, :math:`G` groups and an output of
:math:`H_\text{out} \times W_\text{out}` positions:

.. math::

    \text{params} = C_\text{out} \cdot \frac{C_\text{in}}{G} \cdot k_H k_W
        + [\text{bias}]\, C_\text{out}

    \text{MACs} = N \cdot C_\text{out} H_\text{out} W_\text{out}
        \cdot \frac{C_\text{in}}{G} k_H k_W

Every output number is one dot product of length ``(C_in/G) kH kW``. We count a
multiply-accumulate as 2 FLOPs (one multiply, one add) and the bias as one more add per
output number. A depthwise-separable convolution (MobileNet) replaces one ``k x k``
convolution by a depthwise ``k x k`` (``groups = C_in``) and a pointwise ``1 x 1``; its
cost relative to the standard one is :math:`1/C_\text{out} + 1/k^2` (Howard et al., 2017).

:func:`dense_vs_conv2d` counts what a fully connected (``nn.Linear``) layer would need to
make the same output from the same image: one free weight per (input number, output
number) pair, where the convolution shares one small kernel over all positions.
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
    groups=groups, bias=bias)``: ``C_out * C_in/G * kH * kW (+ C_out)``."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    kH, kW = _pair(kernel_size, "kernel_size")
    return out_channels * (in_channels // groups) * kH * kW + (out_channels if bias else 0)


def conv2d_cost(in_channels: int, out_channels: int, kernel_size,
                input_size, stride=1, padding=0, dilation=1, groups: int = 1,
                bias: bool = True, batch_size: int = 1) -> ConvCost:
    r"""Parameters, MACs and FLOPs of a conv layer on an input
    ``(N, C_in, H_in, W_in)``.

    ``FLOPs = 2 * MACs (+ one add per output number for the bias)``.
    ``padding`` is an int or a pair (:func:`convlab.same_padding` gives
    ``'same'``).

    Shape:
        - ``input_size``: :math:`(H_\text{in}, W_\text{in})`, or an int
        - ``output_shape``:
          :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})`
    """
    kH, kW = _pair(kernel_size, "kernel_size")
    H_in, W_in = _pair(input_size, "input_size")
    (sH, sW), (pH, pW) = _pair(stride), _pair(padding)
    dH, dW = _pair(dilation)
    H_out = conv_output_size(H_in, kH, sH, pH, dH)
    W_out = conv_output_size(W_in, kW, sW, pW, dW)
    params = conv2d_params(in_channels, out_channels, (kH, kW), groups,
                           bias)
    outputs = batch_size * out_channels * H_out * W_out  # numbers in y
    # one dot product of length (C_in/G) kH kW per output number
    macs = outputs * (in_channels // groups) * kH * kW
    flops = 2 * macs + (outputs if bias else 0)
    shape = (batch_size, out_channels, H_out, W_out)
    return ConvCost(params, macs, flops, shape)


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


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Number of learnable numbers in ``nn.Linear(in_features, out_features, bias=bias)``."""
    if in_features < 0 or out_features < 0:
        raise ValueError(f"need in_features >= 0 and out_features >= 0, got {in_features} "
                         f"and {out_features}")
    return out_features * in_features + (out_features if bias else 0)


class DenseVsConv(NamedTuple):
    """A conv layer and the dense layer that maps the same input to the same output size."""

    inputs: int  # C_in * H_in * W_in numbers in one image
    outputs: int  # C_out * H_out * W_out numbers in its output
    conv_params: int
    dense_params: int

    @property
    def ratio(self) -> float:
        """How many times more parameters the dense layer needs."""
        return self.dense_params / self.conv_params


def dense_vs_conv2d(in_channels: int, out_channels: int, kernel_size, input_size,
                    stride=1, padding=0, dilation=1, groups: int = 1,
                    bias: bool = True) -> DenseVsConv:
    """Parameters of a conv layer and of a dense layer with the same inputs and outputs.

    The dense layer flattens the :math:`(C_\\text{in}, H_\\text{in}, W_\\text{in})` image
    and maps it to the :math:`C_\\text{out} H_\\text{out} W_\\text{out}` numbers the conv
    layer makes: ``linear_params(C_in*H_in*W_in, C_out*H_out*W_out)``.

    Shape:
        - ``input_size``: :math:`(H_\\text{in}, W_\\text{in})` or an int for a square input
    """
    H_in, W_in = _pair(input_size, "input_size")
    conv = conv2d_cost(in_channels, out_channels, kernel_size, (H_in, W_in), stride, padding,
                       dilation, groups, bias)
    _, C_out, H_out, W_out = conv.output_shape
    inputs, outputs = in_channels * H_in * W_in, C_out * H_out * W_out
    return DenseVsConv(inputs, outputs, conv.params, linear_params(inputs, outputs, bias))


def count_parameters(module) -> int:
    """Number of learnable numbers in a ``torch.nn.Module`` (what the formulas predict)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["ConvCost", "DenseVsConv", "conv2d_params", "conv2d_cost", "dense_vs_conv2d",
           "linear_params", "separable_comparison", "count_parameters"]
