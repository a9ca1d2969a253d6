r"""Transposed convolution, two ways: scatter-add (col2im) and zero insertion.

A convolution maps the flattened input to the flattened output by a sparse matrix
:math:`C`; a *transposed* convolution multiplies by :math:`C^\top` (Dumoulin & Visin,
2016). It is the gradient of a convolution with respect to its input, and used on its
own it is a learnable up-sampler. Two equivalent ways to compute it:

- **scatter-add** (:func:`conv_transpose2d`, the library function): every input pixel
  scales the whole kernel and adds it into the output at ``stride`` steps. As matrices:
  ``cols = W^T @ x`` gives each pixel's stamp, ``F.fold`` (col2im) adds the stamps up.
- **zero insertion** (:func:`conv_transpose2d_zero_insertion`): put ``stride - 1`` zeros
  between the input pixels, pad by ``dilation*(kernel_size-1) - padding``, and run an
  *ordinary* stride-1 convolution with the kernel flipped and its in/out channels swapped.

For one spatial dimension the output size is

.. math::

    H_{out} = (H_{in} - 1)\,s - 2p + d\,(k - 1) + \text{output\_padding} + 1 .
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ._checks import _check_ints, check_ranges
from .arithmetic import _ntuple


class ConvTransposeArgs(NamedTuple):
    """Normalized arguments of a transposed convolution (``input`` always batched)."""

    input: torch.Tensor
    unbatched: bool
    stride: tuple
    padding: tuple
    output_padding: tuple
    dilation: tuple
    groups: int


def _tuple_arg(value, name: str, dims: int) -> tuple:
    if isinstance(value, (str, float)):  # "argument 'padding' must be tuple of ints, not str"
        raise TypeError(f"conv_transpose{dims}d(): argument '{name}' must be tuple of ints, "
                        f"not {type(value).__name__}")
    value = _ntuple(value, dims, name)
    _check_ints(name, value)
    return value


def _check_ranks_and_types(input, weight, groups, dims) -> None:
    op = f"conv_transpose{dims}d"
    if not isinstance(input, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(input.shape)}")
    if weight.dim() != dims + 2:
        raise RuntimeError(f"Expected {dims + 2}D weight (C_in, C_out/groups, *kernel_size) for "
                           f"{op}, but got weight of size: {list(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"{op}(): argument 'groups' must be int, not {type(groups).__name__}")


def _check_channels(input, weight, bias, groups) -> None:
    C_in, C_out_g = weight.shape[:2]
    if C_in < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if C_in % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if input.shape[1] != C_in:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {C_in} channels, but got "
                           f"{input.shape[1]} channels instead")
    if C_out_g == 0:
        raise RuntimeError(f"weight of size {list(weight.shape)} has zero output channels")
    if bias is not None:
        if not isinstance(bias, torch.Tensor):
            raise TypeError(f"bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.dim() != 1 or bias.shape[0] != C_out_g * groups:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                f"1-dimensional with {C_out_g * groups} elements, but got bias of size "
                f"{list(bias.shape)} instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected input and weight to have the same dtype, but got "
                           f"input {input.dtype} and weight {weight.dtype}")
    # a bias of another dtype is cast to the input's, as PyTorch's CPU kernels do in 1-D and
    # 2-D; its 3-D kernel refuses it
    if bias is not None and bias.dtype != input.dtype and input.dim() == 5:
        raise RuntimeError(f"expected scalar type {input.dtype} but found {bias.dtype} (bias)")


def parse_conv_transpose_args(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                              groups=1, dilation=1, dims=2) -> ConvTransposeArgs:
    """Check a ``conv_transpose{dims}d`` call like PyTorch does; return it in normal form.

    ``RuntimeError`` for what PyTorch reports as one (ranks, channels, groups,
    non-positive stride/dilation/groups, negative padding/output_padding,
    ``output_padding`` not smaller than stride or dilation, empty spatial input, an
    output size below 1); ``TypeError`` for arguments of the wrong type (``'same'``
    padding included: transposed convolutions take no padding strings).
    """
    _check_ranks_and_types(input, weight, groups, dims)
    stride, padding = _tuple_arg(stride, "stride", dims), _tuple_arg(padding, "padding", dims)
    output_padding = _tuple_arg(output_padding, "output_padding", dims)
    dilation = _tuple_arg(dilation, "dilation", dims)
    check_ranges(stride, dilation, groups, padding, output_padding)
    unbatched = input.dim() == dims + 1
    x = input.unsqueeze(0) if unbatched else input  # (N, C_in, *S_in)
    _check_channels(x, weight, bias, groups)
    if x.shape[0] > 0 and x.shape[1] > 0 and 0 in x.shape[2:]:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {list(x.shape)}")
    out = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d in zip(
        x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)]
    if min(out) < (0 if x.shape[0] == 0 else 1):  # an empty batch may have empty outputs
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, out))}). Output size is too small")
    return ConvTransposeArgs(x, unbatched, stride, padding, output_padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    r"""Transposed 2-D convolution by scatter-add: ``W^T @ x``, then col2im (``F.fold``).

    Input pixel :math:`x[c, h, w]` adds :math:`x[c,h,w]\,W[c, o, i, j]` into the full output
    at :math:`(s_h h + d_h i,\; s_w w + d_w j)`; ``padding`` then crops that many rows and
    columns from each side and ``output_padding`` adds rows/columns at the bottom/right.

    Shape:
        - input: :math:`(N, C_{in}, H_{in}, W_{in})` or :math:`(C_{in}, H_{in}, W_{in})`
        - weight: :math:`(C_{in}, C_{out}/\text{groups}, kH, kW)`
        - output: :math:`(N, C_{out}, H_{out}, W_{out})` with
          :math:`H_{out} = (H_{in}-1)s_h - 2p_h + d_h(kH-1) + \text{output\_padding}_h + 1`
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


def conv_transpose2d_zero_insertion(input, weight, bias=None, stride=1, padding=0,
                                   output_padding=0, groups=1, dilation=1):
    r"""Transposed 2-D convolution as zero insertion + an ordinary stride-1 convolution.

    Insert :math:`s-1` zeros between input pixels, pad every side by
    :math:`d(k-1) - p` (``output_padding`` more at the bottom/right; a negative amount
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
