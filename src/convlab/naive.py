r"""The naive loop: convolution written as the definition, one output position at a time.

PyTorch's ``conv2d`` is a cross-correlation (the kernel is *not* flipped):

.. math::

    y[n, o, i, j] = b[o] + \sum_{c} \sum_{u=0}^{k_H-1} \sum_{v=0}^{k_W-1}
    x_p[n, c, s_H i + d_H u,\; s_W j + d_W v]\; w[o, c, u, v]

where :math:`x_p` is the zero-padded input and :math:`c` runs over the
:math:`C_\text{in}/G` input channels of the group of output channel :math:`o`. The
loops over output positions ``(i, j)`` and kernel taps ``(u, v)`` are explicit Python
loops; inside, one batched matrix product sums over the input channels of each group,
for every sample and every output channel at once, so the function is slow but not
unbearably so.
"""

from ._checks import edge_cases_like_torch, pad_input, parse_conv_args
from .arithmetic import conv_output_size


@edge_cases_like_torch()
def conv2d_naive(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution (cross-correlation) with explicit loops; ``F.conv2d``'s semantics.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, k_H, k_W)`
        - bias: :math:`(C_\text{out})` or ``None``
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` or
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`, with
          :math:`H_\text{out} = \lfloor (H_\text{in} + p_\text{top} + p_\text{bottom}
          - d_H (k_H - 1) - 1) / s_H \rfloor + 1` (and the same for :math:`W_\text{out}`)
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups)
    (sH, sW), (dH, dW), G = args.stride, args.dilation, args.groups
    x = pad_input(args.input, args.padding)  # (N, C_in, H_pad, W_pad)
    N, C_in, H_pad, W_pad = x.shape
    C_out, C_in_g, kH, kW = weight.shape  # C_in_g = C_in / groups
    H_out = conv_output_size(H_pad, kH, sH, 0, dH)
    W_out = conv_output_size(W_pad, kW, sW, 0, dW)
    # Group q sees input channels [q*C_in_g, (q+1)*C_in_g) and makes C_out/G outputs.
    x = x.reshape(N, G, C_in_g, H_pad, W_pad).transpose(0, 1)  # (G, N, C_in/G, H_pad, W_pad)
    w = weight.reshape(G, C_out // G, C_in_g, kH, kW)  # (G, C_out/G, C_in/G, kH, kW)
    w = w.transpose(1, 2)  # (G, C_in/G, C_out/G, kH, kW): ready for pixel @ w
    out = x.new_empty(G, N, C_out // G, H_out, W_out)
    for i in range(H_out):  # every output position (i, j) ...
        for j in range(W_out):
            acc = 0
            for u in range(kH):  # ... is a sum over every kernel tap (u, v)
                for v in range(kW):
                    pixel = x[..., i * sH + u * dH, j * sW + v * dW]  # (G, N, C_in/G)
                    acc = acc + pixel @ w[..., u, v]  # (G, N, C_in/G) @ (G, C_in/G, C_out/G)
            out[..., i, j] = acc  # (G, N, C_out/G)
    out = out.transpose(0, 1).reshape(N, C_out, H_out, W_out)  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1, 1)  # one number per output channel
    return out.squeeze(0) if args.unbatched else out
