r"""The backward pass of a 2-D convolution, computed as convolutions.

For :math:`y = x \star w + b` (cross-correlation, stride :math:`s`, dilation :math:`d`)

.. math::

    y[n, o, i, j] = b[o] + \sum_{c, u, v} w[o, c, u, v]\;
                    x_p[n, c,\; s i + d u,\; s j + d v],

the chain rule gives three gradients of the loss :math:`L`, with :math:`g = \partial L /
\partial y`, each one a convolution again:

- :math:`\partial L/\partial b[o] = \sum_{n,i,j} g[n, o, i, j]` (a sum);
- :math:`\partial L/\partial x` is a *transposed* convolution of :math:`g` with :math:`w`
  (zero-insert :math:`g` at stride :math:`s`, correlate with the flipped kernel);
- :math:`\partial L/\partial w[o, c] = \sum_n x[n, c] \star g[n, o]`: a correlation of the
  input with :math:`g` in which stride and dilation swap roles.

Rows/columns the forward never read (when ``stride`` does not divide the padded size)
get zero gradient. :class:`Conv2dFunction` wires :func:`conv2d_backward` into autograd.
"""

from __future__ import annotations

import torch

from ._checks import pad_input, parse_conv_args
from .functional import conv_transpose2d, conv_weight_grad


def correlate(x: torch.Tensor, w: torch.Tensor, stride=(1, 1), dilation=(1, 1)) -> torch.Tensor:
    r"""Grouped cross-correlation without padding or bias, as an ``as_strided`` view + einsum.

    .. math::

        y[n, o, i, j] = \sum_{c, u, v} x[n, c,\; s_H i + d_H u,\; s_W j + d_W v]\; w[o, c, u, v]

    separately in each of the :math:`G` groups (the second dimension of ``x`` and the
    first of ``w``).

    Shape:
        - x: :math:`(N, G, C, H, W)`, w: :math:`(G, O, C, k_H, k_W)`
        - output: :math:`(N, G, O, H_\text{out}, W_\text{out})`,
          :math:`H_\text{out} = \lfloor (H - d_H (k_H - 1) - 1) / s_H \rfloor + 1`
    """
    N, G, C, H, W = x.shape
    kH, kW = w.shape[-2:]
    (s_h, s_w), (d_h, d_w) = stride, dilation
    H_out = (H - d_h * (kH - 1) - 1) // s_h + 1
    W_out = (W - d_w * (kW - 1) - 1) // s_w + 1
    sN, sG, sC, sH, sW = x.stride()
    windows = x.as_strided(  # (N, G, C, kH, kW, H_out, W_out): every window, no copy
        (N, G, C, kH, kW, H_out, W_out),
        (sN, sG, sC, d_h * sH, d_w * sW, s_h * sH, s_w * sW), x.storage_offset())
    return torch.einsum("ngcuvij,gocuv->ngoij", windows, w)  # (N, G, O, H_out, W_out)


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    r"""Gradients of ``F.conv2d(input, weight, bias, stride, padding, dilation, groups)``.

    Returns ``(grad_input, grad_weight, grad_bias)`` for the upstream gradient
    :math:`g` = ``grad_output``: a transposed convolution, a correlation and a sum.

    Shape:
        - grad_output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` or unbatched
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, k_H, k_W)`
        - returns: tensors shaped like input, weight and :math:`(C_\text{out},)`
    """
    if not isinstance(grad_output, torch.Tensor):
        raise TypeError(f"conv2d_backward(): grad_output must be a Tensor, got "
                        f"{type(grad_output).__name__}")
    args = parse_conv_args(input, weight, None, stride, padding, dilation, groups)
    x, G, (s_h, s_w), (d_h, d_w) = args.input, args.groups, args.stride, args.dilation
    g = grad_output.unsqueeze(0) if args.unbatched else grad_output  # (N, C_out, H_out, W_out)
    N, C_in, H_in, W_in = x.shape
    C_out, C_in_g, kH, kW = weight.shape
    x_pad = pad_input(x, args.padding)  # (N, C_in, H_pad, W_pad)
    H_out = (x_pad.shape[2] - d_h * (kH - 1) - 1) // s_h + 1
    W_out = (x_pad.shape[3] - d_w * (kW - 1) - 1) // s_w + 1
    if tuple(g.shape) != (N, C_out, H_out, W_out):
        raise RuntimeError(f"grad_output should have shape {[N, C_out, H_out, W_out]}, "
                           f"but got {list(g.shape)}")
    # the forward read padded rows 0 .. H_used-1; the last (H_pad - H_used) < s_h it skipped
    H_used, W_used = s_h * (H_out - 1) + d_h * (kH - 1) + 1, s_w * (W_out - 1) + d_w * (kW - 1) + 1
    grad_bias = g.sum((0, 2, 3))  # (C_out,)
    # dL/dx: scatter g back through the kernel; output_padding restores the unread rows (zeros)
    output_padding = (x_pad.shape[2] - H_used, x_pad.shape[3] - W_used)
    (top, bottom), (left, right) = args.padding
    # the transposed conv's padding drops the border on both sides, so no padded row is
    # computed; 'same' with an even kernel pads one row more after, cropped here
    grad_input = conv_transpose2d(  # (N, C_in, H_in + bottom - top, W_in + right - left)
        g, weight, stride=(s_h, s_w), padding=(top, left), output_padding=output_padding,
        groups=G, dilation=(d_h, d_w))[:, :, :H_in, :W_in]
    # dL/dW on oneDNN's GEMMs: g times the forward's im2col columns (None where it cannot run)
    grad_weight = conv_weight_grad(x, g, weight.shape, args.stride, args.padding, args.dilation, G)
    if grad_weight is None:  # correlate x (channels as batch, batch as channels) with g
        x_t = x_pad[:, :, :H_used, :W_used].unflatten(1, (G, C_in_g)).permute(2, 1, 0, 3, 4)
        g_t = g.unflatten(1, (G, C_out // G)).permute(1, 2, 0, 3, 4)  # (G, C_out/G, N, H_o, W_o)
        grad_weight = correlate(x_t, g_t, stride=(d_h, d_w), dilation=(s_h, s_w))  # stride <-> d
        grad_weight = grad_weight.permute(1, 2, 0, 3, 4).reshape(C_out, C_in_g, kH, kW)
    return (grad_input.squeeze(0) if args.unbatched else grad_input), grad_weight, grad_bias


class Conv2dFunction(torch.autograd.Function):
    """``F.conv2d`` as an autograd Function whose backward is :func:`conv2d_backward`.

    The forward is :func:`correlate` on the padded input. The backward is built from
    differentiable tensor ops, so second derivatives (``gradgradcheck``) work too.
    Call it as ``Conv2dFunction.apply(input, weight, bias, stride, padding, dilation,
    groups)`` or through :func:`conv2d`.
    """

    @staticmethod
    def forward(ctx, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups)
        ctx.save_for_backward(input, weight)
        ctx.conv = (stride, padding, dilation, groups)
        ctx.has_bias = bias is not None
        G = args.groups
        x = pad_input(args.input, args.padding).unflatten(1, (G, -1))  # (N, G, C_in/G, H, W)
        w = weight.unflatten(0, (G, -1))  # (G, C_out/G, C_in/G, kH, kW)
        out = correlate(x, w, args.stride, args.dilation).flatten(1, 2)  # (N, C_out, H_o, W_o)
        if bias is not None:
            out = out + bias.view(1, -1, 1, 1)
        return out.squeeze(0) if args.unbatched else out

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input, grad_weight, grad_bias = conv2d_backward(grad_output, input, weight,
                                                             *ctx.conv)
        needs = ctx.needs_input_grad
        return (grad_input if needs[0] else None, grad_weight if needs[1] else None,
                grad_bias if ctx.has_bias and needs[2] else None, None, None, None, None)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``F.conv2d`` with convlab's forward and :func:`conv2d_backward` as its gradient."""
    return Conv2dFunction.apply(input, weight, bias, stride, padding, dilation, groups)


__all__ = ["conv2d_backward", "Conv2dFunction", "conv2d", "correlate"]
