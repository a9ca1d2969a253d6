r"""Transposed convolution, two ways: scatter-add (col2im) and zero insertion.

A convolution maps the flattened input to the flattened output by a sparse matrix
:math:`C`; a *transposed* convolution multiplies by :math:`C^\top` (Dumoulin & Visin,
2016). It is the gradient of a convolution with respect to its input, and used on its
own it is a learnable up-sampler. Two equivalent ways to compute it:

- **scatter-add** (:func:`conv_transpose2d`, the library function): every input pixel
  scales the whole kernel and adds it into the output at ``stride`` steps. As matrices:
  ``cols = w^T @ x`` gives each pixel's stamp, ``F.fold`` (col2im) adds the stamps up.
- **zero insertion** (:func:`conv_transpose2d_zero_insertion`): put ``stride - 1`` zeros
  between the input pixels, pad by ``dilation*(kernel_size-1) - padding``, and run an
  *ordinary* stride-1 convolution with the kernel flipped and its in/out channels swapped.

For one spatial dimension the output size is

.. math::

    H_\text{out} = (H_\text{in} - 1)\,s - 2p + d\,(k - 1) + p_\text{out} + 1 ,

with :math:`p_\text{out}` = ``output_padding``.
"""

from __future__ import annotations

import torch.nn.functional as F

from ._checks import edge_cases_like_torch, parse_conv_transpose_args


@edge_cases_like_torch(no_integers="F.fold has no integer kernels", transposed=True)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    r"""Transposed 2-D convolution by scatter-add: ``w^T @ x``, then col2im (``F.fold``).

    Input pixel :math:`x[n, c, i', j']` adds :math:`x[n, c, i', j']\,w[c, o, u, v]` into the
    full output at :math:`(s_H i' + d_H u,\; s_W j' + d_W v)`; ``padding`` then crops that
    many rows and columns from each side and ``output_padding`` adds rows/columns at the
    bottom/right.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{in}, C_\text{out}/G, k_H, k_W)`
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` with
          :math:`H_\text{out} = (H_\text{in}-1)s_H - 2p_H + d_H(k_H-1) + p_{\text{out},H} + 1`
    """
    args = parse_conv_transpose_args(input, weight, bias, stride, padding, output_padding,
                                     groups, dilation)
    x, G = args.input, args.groups
    N, C_in, H_in, W_in = x.shape
    _, C_out_g, kH, kW = weight.shape
    (s_h, s_w), (p_h, p_w), (op_h, op_w), (d_h, d_w) = (
        args.stride, args.padding, args.output_padding, args.dilation)
    w = weight.reshape(G, C_in // G, C_out_g * kH * kW)  # (G, C_in/G, K), K = C_out/G*kH*kW
    # each input pixel's stamp: (G, K, C_in/G) @ (N, G, C_in/G, L) -> (N, G, K, L)
    cols = w.transpose(1, 2) @ x.reshape(N, G, C_in // G, H_in * W_in)
    H_full = (H_in - 1) * s_h + d_h * (kH - 1) + 1  # the extent every stamp reaches
    W_full = (W_in - 1) * s_w + d_w * (kW - 1) + 1
    out = F.fold(cols.reshape(N, G * C_out_g * kH * kW, H_in * W_in), (H_full, W_full),
                 (kH, kW), dilation=(d_h, d_w), stride=(s_h, s_w))  # (N, C_out, H_full, W_full)
    # padding crops, output_padding appends (F.pad crops where the amount is negative)
    out = F.pad(out, (-p_w, op_w - p_w, -p_h, op_h - p_h))  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.to(out.dtype).view(1, -1, 1, 1)
    return out.squeeze(0) if args.unbatched else out


@edge_cases_like_torch(no_integers="F.unfold has no integer kernels", transposed=True)
def conv_transpose2d_zero_insertion(input, weight, bias=None, stride=1, padding=0,
                                   output_padding=0, groups=1, dilation=1):
    r"""Transposed 2-D convolution as zero insertion + an ordinary stride-1 convolution.

    Insert :math:`s-1` zeros between input pixels, pad every side by
    :math:`d(k-1) - p` (:math:`p_\text{out}` more at the bottom/right; a negative amount
    crops), and correlate with the kernel flipped in both spatial axes and its
    in/out channels swapped, at stride 1 and the same dilation. Same results as
    :func:`conv_transpose2d`, but it multiplies all the inserted zeros too.

    Shape: as :func:`conv_transpose2d`.
    """
    args = parse_conv_transpose_args(input, weight, bias, stride, padding, output_padding,
                                     groups, dilation)
    x, G = args.input, args.groups
    if x.shape[0] == 0:  # an empty batch (whose output may be empty too): nothing to compute
        return conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                dilation)
    N, C_in, H_in, W_in = x.shape
    _, C_out_g, kH, kW = weight.shape
    (s_h, s_w), (p_h, p_w), (op_h, op_w), (d_h, d_w) = (
        args.stride, args.padding, args.output_padding, args.dilation)
    x_up = x.new_zeros(N, C_in, (H_in - 1) * s_h + 1, (W_in - 1) * s_w + 1)
    x_up[:, :, ::s_h, ::s_w] = x  # (N, C_in, H_up, W_up): s-1 zeros between pixels
    e_h, e_w = d_h * (kH - 1) - p_h, d_w * (kW - 1) - p_w  # "full" padding minus padding
    x_up = F.pad(x_up, (e_w, e_w + op_w, e_h, e_h + op_h))  # (N, C_in, H_pad, W_pad)
    # swap in/out channels within each group and flip the kernel: (G, C_out/G, C_in/G, kH, kW)
    w = weight.unflatten(0, (G, C_in // G)).transpose(1, 2).flip(-2, -1)
    # the ordinary convolution: unfold + matmul, stride 1, dilation d
    cols = F.unfold(x_up, (kH, kW), dilation=(d_h, d_w))  # (N, C_in*kH*kW, L)
    out = w.reshape(G, C_out_g, -1) @ cols.unflatten(1, (G, -1))  # -> (N, G, C_out/G, L)
    H_out, W_out = x_up.shape[2] - d_h * (kH - 1), x_up.shape[3] - d_w * (kW - 1)
    out = out.reshape(N, G * C_out_g, H_out, W_out)  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.to(out.dtype).view(1, -1, 1, 1)
    return out.squeeze(0) if args.unbatched else out


__all__ = ["conv_transpose2d", "conv_transpose2d_zero_insertion", "parse_conv_transpose_args"]
