r"""The naive loops: convolution written as the definition, one output position at a time.

PyTorch's ``conv2d`` is a cross-correlation (the kernel is *not* flipped):

.. math::

    y[n, o, i, j] = b[o] + \sum_{c} \sum_{u=0}^{k_H-1} \sum_{v=0}^{k_W-1}
    x_p[n, c, s_H i + d_H u,\; s_W j + d_W v]\; w[o, c, u, v]

where :math:`x_p` is the zero-padded input and :math:`c` runs over the
:math:`C_\text{in}/G` input channels of the group of output channel :math:`o`.

- :func:`conv2d_definition` is that formula for ``groups=1``, one loop per index and
  one multiply-add at a time: every line is a piece of the formula, and it is very slow.
- :func:`conv2d_naive` keeps only the loops over output positions ``(i, j)`` and
  kernel taps ``(u, v)``; inside, one batched matrix product sums over the input
  channels of each group, for every sample and every output channel at once, so the
  function is slow but not unbearably so. It takes every argument ``F.conv2d`` takes,
  ``groups`` included (chapter 3).
"""

from ._checks import edge_cases_like_torch, pad_input, parse_conv_args
from .arithmetic import conv_output_size


def conv2d_definition(input, weight, bias=None, stride=1, padding=0,
                      dilation=1):
    r"""2-D convolution (cross-correlation) for ``groups=1``, one
    multiply-add at a time.

    One Python loop per index of the formula (:math:`G = 1`, so :math:`c`
    runs over all :math:`C_\text{in}` channels):

    .. math::

        y[n, o, i, j] = b[o] + \sum_{c=0}^{C_\text{in}-1}
        \sum_{u=0}^{k_H-1} \sum_{v=0}^{k_W-1}
        x_p[n, c, s_H i + d_H u,\; s_W j + d_W v]\; w[o, c, u, v]

    The arguments, results and errors are ``F.conv2d``'s with ``groups=1``.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}, k_H, k_W)`
        - bias: :math:`(C_\text{out})` or ``None``
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` or
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation)
    (sH, sW), (dH, dW) = args.stride, args.dilation
    x_p = pad_input(args.input, args.padding)  # (N, C_in, H_pad, W_pad)
    N, C_in, H_pad, W_pad = x_p.shape
    C_out, _, kH, kW = weight.shape
    H_out = conv_output_size(H_pad, kH, sH, 0, dH)
    W_out = conv_output_size(W_pad, kW, sW, 0, dW)
    y = x_p.new_zeros(N, C_out, H_out, W_out)  # (N, C_out, H_out, W_out)
    for n in range(N):  # y[n, o, i, j] =
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    total = 0 if bias is None else bias[o]  # b[o]
                    for c in range(C_in):  # + the sum over c, u, v of
                        for u in range(kH):
                            for v in range(kW):
                                i_p, j_p = sH * i + dH * u, sW * j + dW * v
                                pixel = x_p[n, c, i_p, j_p]
                                total = total + pixel * weight[o, c, u, v]
                    y[n, o, i, j] = total
    return y.squeeze(0) if args.unbatched else y


@edge_cases_like_torch()
def conv2d_naive(input, weight, bias=None, stride=1, padding=0, dilation=1,
                 groups=1):
    r"""2-D convolution (cross-correlation) with explicit loops, with
    ``F.conv2d``'s arguments and semantics.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, k_H, k_W)`
        - bias: :math:`(C_\text{out})` or ``None``
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` or
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`, with
          :math:`H_\text{out} = \lfloor (H_\text{in} + p_\text{top}
          + p_\text{bottom} - d_H (k_H - 1) - 1) / s_H \rfloor + 1`
          (and the same for :math:`W_\text{out}`)
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation,
                           groups)
    (sH, sW), (dH, dW), G = args.stride, args.dilation, args.groups
    x = pad_input(args.input, args.padding)  # (N, C_in, H_pad, W_pad)
    N, C_in, H_pad, W_pad = x.shape
    C_out, C_in_g, kH, kW = weight.shape  # C_in_g = C_in / groups
    H_out = conv_output_size(H_pad, kH, sH, 0, dH)
    W_out = conv_output_size(W_pad, kW, sW, 0, dW)
    # Group q reads input channels [q*C_in_g, (q+1)*C_in_g), makes C_out/G.
    x = x.reshape(N, G, C_in_g, H_pad, W_pad)  # (N, G, C_in/G, H_pad, W_pad)
    x = x.transpose(0, 1)  # (G, N, C_in/G, H_pad, W_pad)
    w = weight.reshape(G, C_out // G, C_in_g, kH, kW)
    w = w.transpose(1, 2)  # (G, C_in/G, C_out/G, kH, kW): for pixel @ w
    out = x.new_empty(G, N, C_out // G, H_out, W_out)
    for i in range(H_out):  # every output position (i, j) ...
        for j in range(W_out):
            acc = 0
            for u in range(kH):  # ... sums over every kernel tap (u, v)
                for v in range(kW):
                    pixel = x[..., i * sH + u * dH, j * sW + v * dW]
                    # (G, N, C_in/G) @ (G, C_in/G, C_out/G): (G, N, C_out/G)
                    acc = acc + pixel @ w[..., u, v]
            out[..., i, j] = acc  # (G, N, C_out/G)
    out = out.transpose(0, 1).reshape(N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1, 1)  # one number per channel
    return out.squeeze(0) if args.unbatched else out
