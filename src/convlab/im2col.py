"""im2col: every receptive field becomes a column, the convolution one matrix multiply.

Chellapilla et al. (2006) and cuDNN (Chetlur et al., 2014) turn a convolution into a
GEMM. ``F.unfold`` copies the ``C_in * kH * kW`` input values under each of the ``L``
output positions into a column; the kernel, flattened to a ``(C_out, C_in*kH*kW)``
matrix, then multiplies all the columns at once. The price is memory: every input
value is copied up to ``kH * kW`` times.
"""

import torch
import torch.nn.functional as F

from ._checks import pad_input, parse_conv_args
from .arithmetic import conv_output_size


def conv2d_im2col(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D cross-correlation as ``unfold`` + one (batched) matrix multiply.

    .. math::

        \text{cols}[n, (c, i, j), l] = x[n, c, s_h o_h + d_h i, s_w o_w + d_w j],
        \qquad \text{out}[n, :, l] = W_{\text{mat}}\, \text{cols}[n, :, l] + b,

    with ``l = o_h W_out + o_w`` and ``W_mat`` the weight reshaped to
    ``(C_out, C_in*kH*kW)``; with groups, one such product per group.

    Shape:
        - input: :math:`(N, C_{in}, H_{in}, W_{in})` or :math:`(C_{in}, H_{in}, W_{in})`
        - weight: :math:`(C_{out}, C_{in}/\text{groups}, kH, kW)`
        - output: :math:`(N, C_{out}, H_{out}, W_{out})` or :math:`(C_{out}, H_{out}, W_{out})`
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
