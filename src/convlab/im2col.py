"""im2col: every receptive field becomes a column, the convolution one matrix multiply.

Chellapilla et al. (2006) and cuDNN (Chetlur et al., 2014) turn a convolution into a
GEMM. ``F.unfold`` copies the ``C_in * kH * kW`` input values under each of the ``L``
output positions into a column; the kernel, flattened to a ``(C_out, C_in*kH*kW)``
matrix, then multiplies all the columns at once. The price is memory: every input
value is copied up to :math:`k_H k_W` times.
"""

import torch
import torch.nn.functional as F

from ._checks import edge_cases_like_torch, pad_input, parse_conv_args
from .arithmetic import conv_output_size


@edge_cases_like_torch(no_integers="F.unfold has no integer kernels")
def conv2d_im2col(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D cross-correlation as ``unfold`` + one (batched) matrix multiply.

    .. math::

        \text{cols}[n, (c, u, v), l] = x_p[n, c, s_H i + d_H u, s_W j + d_W v],
        \qquad y[n, :, l] = w_\text{mat}\, \text{cols}[n, :, l] + b,

    with :math:`l = i W_\text{out} + j` and :math:`w_\text{mat}` the weight reshaped to
    :math:`(C_\text{out}, C_\text{in} k_H k_W)`; with groups, one such product per group.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, k_H, k_W)`
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` or
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups)
    x, G = pad_input(args.input, args.padding), args.groups
    N, C_in, H_pad, W_pad = x.shape
    C_out, C_in_g, kH, kW = weight.shape
    H_out = conv_output_size(H_pad, kH, args.stride[0], 0, args.dilation[0])
    W_out = conv_output_size(W_pad, kW, args.stride[1], 0, args.dilation[1])
    if N == 0:  # unfold rejects an empty batch
        cols = x.new_zeros(0, C_in * kH * kW, H_out * W_out)
    else:
        cols = F.unfold(x, (kH, kW), dilation=args.dilation,
                        stride=args.stride)  # (N, C_in*kH*kW, L)
    cols = cols.view(N, G, C_in_g * kH * kW, H_out * W_out)  # (N, G, K, L)
    w = weight.reshape(G, C_out // G, C_in_g * kH * kW)  # (G, C_out/G, K)
    out = torch.matmul(w, cols)  # (G, C_out/G, K) @ (N, G, K, L) -> (N, G, C_out/G, L)
    out = out.reshape(N, C_out, H_out, W_out)  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1)
    return out.squeeze(0) if args.unbatched else out
