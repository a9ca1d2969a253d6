"""Argument checking shared by every convolution in convlab.

PyTorch checks a convolution's arguments in C++ (``aten/src/ATen/native/Convolution.cpp``)
before it picks a kernel. Every convlab implementation runs the same checks through
:func:`parse_conv_args`, so a wrong call fails the same way everywhere: the same
exception type as ``torch.nn.functional.conv{1,2,3}d`` and a message that says what
is wrong. The result is the argument list in one normal form that the
implementations can use without further case analysis.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .arithmetic import _ntuple, effective_kernel_size, same_padding


class ConvArgs(NamedTuple):
    """Normalized arguments of an N-d convolution (``d`` spatial dimensions).

    ``input`` is always batched ``(N, C_in, *spatial)``; ``unbatched`` says whether the
    caller passed ``(C_in, *spatial)`` (squeeze the batch dimension of the result).
    ``padding`` holds ``(before, after)`` per spatial dimension: ``'same'`` with an even
    kernel pads one more after than before, as PyTorch does.
    """

    input: torch.Tensor
    unbatched: bool
    stride: tuple
    padding: tuple  # ((before, after), ...) per spatial dim
    dilation: tuple
    groups: int


def _check_ints(name: str, values: tuple) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be an int or a tuple of ints, but got {name}={values!r}")


def check_ranges(stride: tuple, dilation: tuple, groups: int, padding: tuple | None = None,
                 output_padding: tuple | None = None) -> None:
    """The range checks ATen applies to a convolution's integer arguments (any rank,
    transposed or not), with PyTorch's ``RuntimeError`` messages. ``padding=None``: a
    padding string, checked elsewhere; ``output_padding`` only for transposed ones."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if padding is not None and any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if output_padding is None:
        return
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                           f"but got output_padding={list(output_padding)}, "
                           f"stride={list(stride)}, dilation={list(dilation)}")


def parse_conv_args(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                    dims: int = 2) -> ConvArgs:
    """Check a ``conv{dims}d`` call like PyTorch does and return it in normal form.

    Raises ``RuntimeError`` for what PyTorch reports as a ``RuntimeError`` (ranks,
    channels, groups, non-positive stride/dilation/groups, negative padding, unknown
    padding strings, ``'same'`` with stride > 1, kernel larger than the padded input,
    bias shape, dtype mismatch, tuples of the wrong length) and ``TypeError`` for
    arguments of the wrong type.
    """
    op = f"conv{dims}d"
    if not isinstance(input, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {op}, "
            f"but got input of size: {list(input.shape)}")
    if weight.dim() != dims + 2:
        raise RuntimeError(
            f"Expected {dims + 2}D weight (C_out, C_in/groups, *kernel_size) for {op}, "
            f"but got weight of size: {list(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"groups must be an int, but got groups={groups!r}")
    stride = _ntuple(stride, dims, "stride")
    dilation = _ntuple(dilation, dims, "dilation")
    _check_ints("stride", stride)
    _check_ints("dilation", dilation)
    check_ranges(stride, dilation, groups)

    kernel_size = tuple(weight.shape[2:])
    if any(k <= 0 for k in kernel_size):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_size="
                           f"{list(kernel_size)}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = tuple(same_padding(k, d) for k, d in zip(kernel_size, dilation))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _ntuple(padding, dims, "padding")
        _check_ints("padding", padding)
        check_ranges(stride, dilation, groups, padding)
        pads = tuple((p, p) for p in padding)

    unbatched = input.dim() == dims + 1
    if unbatched:
        input = input.unsqueeze(0)  # (C_in, *spatial) -> (1, C_in, *spatial)

    C_out, C_in_per_group = weight.shape[:2]
    if C_out == 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least 1 at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead")
    if C_out % groups != 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if input.shape[1] != C_in_per_group * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {C_in_per_group * groups} channels, "
            f"but got {input.shape[1]} channels instead")
    if bias is not None:
        if not isinstance(bias, torch.Tensor):
            raise TypeError(f"bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.dim() != 1 or bias.shape[0] != C_out:
            raise RuntimeError(
                f"Given weight of size {list(weight.shape)}, expected bias to be "
                f"1-dimensional with {C_out} elements, but got bias of size "
                f"{list(bias.shape)} instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"expected input and weight to have the same dtype, but got input "
            f"{input.dtype} and weight {weight.dtype}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")

    padded = tuple(s + a + b for s, (a, b) in zip(input.shape[2:], pads))
    k_eff = tuple(effective_kernel_size(k, d) for k, d in zip(kernel_size, dilation))
    if any(p < k for p, k in zip(padded, k_eff)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, k_eff))}). Kernel size can't be greater "
            f"than actual input size")
    return ConvArgs(input, unbatched, stride, pads, dilation, groups)


def pad_input(input: torch.Tensor, padding: tuple) -> torch.Tensor:
    """Zero-pad the spatial dims of ``(N, C, *spatial)`` by ``((before, after), ...)``.

    ``F.pad`` lists pads from the *last* dimension backwards, hence the reversal.
    """
    flat = [p for pair in reversed(padding) for p in pair]
    if not any(flat):
        return input
    return torch.nn.functional.pad(input, flat)
