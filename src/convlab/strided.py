r"""Strided views: the im2col windows without the copy, read through ``as_strided``.

A tensor is a pointer plus a stride per dimension: element ``[a0, a1, ...]`` lives at
``offset + sum(a_k * stride_k)``. A window view adds dimensions that walk the *same*
memory again: with the padded input channels-last, ``(N, H, W, C)`` of strides
``(sN, sH, sW, 1)``,

.. math::

    \text{windows}[n, i, j, u, v, c] = x_p[n, s_H i + d_H u,\; s_W j + d_W v, c]

has strides ``(sN, s_H sH, s_W sW, d_H sH, d_W sW, 1)`` and costs no memory at all.
Channels-last keeps each window row's :math:`C_\text{in}` values next to each other, so
the contraction over :math:`(u, v, c)` becomes one GEMM whose output is already
channels-last.
"""

import torch
import torch.nn.functional as F

from ._checks import edge_cases_like_torch, parse_conv_args
from .arithmetic import conv_output_size


@edge_cases_like_torch()
def conv2d_strided(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D cross-correlation as an ``as_strided`` window view and one GEMM.

    .. math::

        y[n, i, j, q, o] = b + \sum_{u, v, c}
        \text{windows}[n, i, j, u, v, q, c]\; w[q, o, c, u, v]

    for group :math:`q`, output channel :math:`o` and input channel :math:`c` within it.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, k_H, k_W)`
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` (channels-last
          memory) or unbatched
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups)
    (pt, pb), (pl, pr) = args.padding
    x = F.pad(args.input.permute(0, 2, 3, 1), (0, 0, pl, pr, pt, pb))  # (N, H_pad, W_pad, C_in)
    x = x.contiguous()  # no-op unless nothing was padded and the input was not channels-last
    N, H_pad, W_pad, C_in = x.shape
    C_out, C_in_g, kH, kW = weight.shape
    G, (s_h, s_w), (d_h, d_w) = args.groups, args.stride, args.dilation
    H_out = conv_output_size(H_pad, kH, s_h, 0, d_h)
    W_out = conv_output_size(W_pad, kW, s_w, 0, d_w)
    sN, sH, sW, sC = x.stride()
    windows = x.as_strided(  # (N, H_out, W_out, kH, kW, C_in): a view, zero copy
        (N, H_out, W_out, kH, kW, C_in), (sN, s_h * sH, s_w * sW, d_h * sH, d_w * sW, sC))
    M, K = N * H_out * W_out, kH * kW * C_in_g
    windows = windows.unflatten(-1, (G, C_in_g))  # (N, H_out, W_out, kH, kW, G, C_in/G)
    patches = windows.permute(5, 0, 1, 2, 3, 4, 6).reshape(G, M, K)  # (G, M, K): the one copy
    w = weight.unflatten(0, (G, C_out // G))  # (G, C_out/G, C_in/G, kH, kW)
    w = w.permute(0, 3, 4, 2, 1).reshape(G, K, C_out // G)  # (G, K, C_out/G), (u, v, c) order
    if bias is None:
        out = torch.bmm(patches, w)  # (G, M, K) @ (G, K, C_out/G) -> (G, M, C_out/G)
    else:  # bias fused into the GEMM: out = b + patches @ w
        out = torch.baddbmm(bias.view(G, 1, C_out // G), patches, w)  # (G, M, C_out/G)
    out = out.permute(1, 0, 2).reshape(N, H_out, W_out, C_out)  # a view when G == 1
    out = out.permute(0, 3, 1, 2)  # (N, C_out, H_out, W_out), channels-last in memory
    return out.squeeze(0) if args.unbatched else out
