"""Argument checking shared by every convolution in convlab.

PyTorch checks a convolution's arguments twice: its Python argument parser checks their
*types* (``TypeError``), then ATen's C++ (``aten/src/ATen/native/Convolution.cpp``) checks
their *values* (``RuntimeError``) before it picks a kernel. Every convlab implementation
runs the same checks, in the same order, through :func:`parse_conv_args` (and
:func:`parse_conv_transpose_args` for transposed convolutions), so a wrong call fails the
same way everywhere: the same exception type as ``torch.nn.functional`` and a message that
says what is wrong. The result is the argument list in one normal form that the
implementations can use without further case analysis.

:func:`edge_cases_like_torch` gives the stepwise implementations PyTorch's answers in the
cases their algorithms do not cover: ``complex32`` tensors, inputs without channels, and
integer tensors for the methods that compute in floating point.
"""

from __future__ import annotations

import functools
import math
import operator
from typing import NamedTuple

import torch

from .arithmetic import effective_kernel_size, same_padding

_INT64_LIMIT = 2**63  # PyTorch reads integer arguments into a C++ int64_t


class ConvArgs(NamedTuple):
    """Normalized arguments of an N-d convolution (``d`` spatial dimensions).

    ``input`` is always batched ``(N, C_in, *spatial)``; ``unbatched`` says whether the
    caller passed ``(C_in, *spatial)`` (squeeze the batch dimension of the result).
    ``padding`` holds ``(before, after)`` per spatial dimension: ``'same'`` with an even
    kernel pads one more after than before, as PyTorch does. Every number is a Python int.
    """

    input: torch.Tensor
    unbatched: bool
    stride: tuple
    padding: tuple  # ((before, after), ...) per spatial dim
    dilation: tuple
    groups: int


class ConvTransposeArgs(NamedTuple):
    """Normalized arguments of a transposed convolution (``input`` always batched)."""

    input: torch.Tensor
    unbatched: bool
    stride: tuple
    padding: tuple
    output_padding: tuple
    dilation: tuple
    groups: int


def int_arg(value, name: str, op: str, sequence: bool = True, element: bool = False) -> int:
    """One integer argument as PyTorch's argument parser reads it.

    Python and numpy integers (anything with ``__index__``) and one-element integer tensors
    are integers; floats, strings and float tensors are a ``TypeError``. The parser's own
    quirks are kept: ``bool`` is a ``TypeError`` on its own but an integer inside a tuple
    (``element``); an integer beyond int64 is a ``ValueError`` on its own (``Overflow when
    unpacking long long``), a ``TypeError`` inside a tuple; a 0-d numpy array fails its
    internal assertion (``RuntimeError``). ``sequence`` says whether the argument is a
    tuple of ints (``stride``) or one int (``groups``).
    """
    if type(value) is int and -_INT64_LIMIT <= value < _INT64_LIMIT:  # the usual case
        return value  # (type(True) is bool, not int: bools take the checks below)
    kind = "tuple of ints" if sequence else "int"
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_floating_point() or value.is_complex():
            raise TypeError(f"{op}(): argument '{name}' must be {kind}, not a Tensor of "
                            f"{value.dtype} with {value.numel()} elements")
        if value.dtype == torch.bool and not sequence:  # PyTorch fails on this (an assertion)
            raise RuntimeError(f"{op}(): argument '{name}' must be an integer, not a bool "
                               f"tensor")
        value = int(value.item())
    elif type(value).__name__ == "ndarray" and sequence and not element and value.ndim == 0:
        raise RuntimeError(f"{op}(): argument '{name}' is a 0-d numpy array, which PyTorch's "
                           f"argument parser cannot read (pass int(value))")
    elif (isinstance(value, bool) and not element) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{op}(): argument '{name}' must be {kind}, not "
                        f"{type(value).__name__}")
    else:
        value = operator.index(value)
    if not -_INT64_LIMIT <= value < _INT64_LIMIT:
        error = TypeError if element else ValueError
        raise error(f"{op}(): argument '{name}' does not fit in a 64-bit integer: {value}")
    return value


def int_tuple(value, dims: int, name: str, op: str) -> tuple:
    """A ``stride``/``padding``/``dilation``-like argument as ``dims`` Python ints.

    An int (or int-like) means the same value in every dimension; a tuple or list must
    hold one value or ``dims`` of them. Types are checked first (``TypeError``, like
    PyTorch's parser), then the length (``RuntimeError``, like ATen).
    """
    if isinstance(value, (tuple, list)):
        for pos, v in enumerate(value):
            if not (isinstance(v, torch.Tensor) or hasattr(type(v), "__index__")):
                raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, but found "
                                f"element of type {type(v).__name__} at pos {pos}")
        values = tuple(int_arg(v, name, op, element=True) for v in value)
    else:
        values = (int_arg(value, name, op),)
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dims} values to "
            f"match the convolution dimensions, but got {name}={list(values)}")
    return values


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


def _check_tensors(op: str, input, weight, bias) -> None:
    if not isinstance(input, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise TypeError(f"{op}(): bias must be a Tensor or None, got {type(bias).__name__}")


def _check_ranks(op: str, input, weight, dims: int, weight_layout: str) -> None:
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {op}, "
            f"but got input of size: {list(input.shape)}")
    if weight.dim() != dims + 2:
        raise RuntimeError(f"Expected {dims + 2}D weight {weight_layout} for {op}, but got "
                           f"weight of size: {list(weight.shape)}")


def _check_storage(shape, dtype) -> None:
    """An output PyTorch could not even size (e.g. ``stride=2**40`` on a transposed conv)."""
    if torch.compiler.is_compiling():
        return  # symbolic sizes: the compiled allocation checks them
    if math.prod([int(s) for s in shape]) * dtype.itemsize >= _INT64_LIMIT:  # int(): jit.trace
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")


def _check_kernel_dtype(op: str, input, dilation, transposed: bool) -> None:
    """The dtypes PyTorch's CPU kernels lack (``NotImplementedError``, a ``RuntimeError``, as
    PyTorch raises): bool everywhere; among the integer types only int64 for transposed and
    dilated convolutions (measured). An empty input runs no kernel at all."""
    if input.numel() == 0:
        return
    dtype = input.dtype
    narrow = not (dtype.is_floating_point or dtype.is_complex or dtype == torch.int64)
    if dtype == torch.bool or (narrow and (transposed or any(d > 1 for d in dilation))):
        what = "this dtype" if dtype == torch.bool else "this dtype with these arguments"
        raise NotImplementedError(f"{op}: not implemented for {dtype} (PyTorch's CPU kernels "
                                  f"have none for {what})")


def parse_conv_args(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                    dims: int = 2) -> ConvArgs:
    """Check a ``conv{dims}d`` call like PyTorch does and return it in normal form.

    ``TypeError`` for arguments of the wrong type, checked first as PyTorch's parser does
    (integer arguments may be Python or numpy integers or one-element integer tensors);
    then ``RuntimeError`` for what PyTorch reports as one (ranks, channels, groups,
    non-positive stride/dilation/groups, negative padding, unknown padding strings,
    ``'same'`` with stride > 1, kernel larger than the padded input, bias shape, dtype
    mismatch, tuples of the wrong length); ``NotImplementedError`` for bool tensors.
    """
    op = f"conv{dims}d"
    _check_tensors(op, input, weight, bias)
    stride = int_tuple(stride, dims, "stride", op)
    dilation = int_tuple(dilation, dims, "dilation", op)
    if not isinstance(padding, str):
        padding = int_tuple(padding, dims, "padding", op)
    groups = int_arg(groups, "groups", op, sequence=False)
    _check_ranks(op, input, weight, dims, "(C_out, C_in/groups, *kernel_size)")
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
        check_ranges(stride, dilation, groups, padding)
        pads = tuple((p, p) for p in padding)

    unbatched = input.dim() == dims + 1
    if unbatched:
        input = input.unsqueeze(0)  # (C_in, *spatial) -> (1, C_in, *spatial)

    C_out, C_in_per_group = weight.shape[:2]
    if C_out < groups:  # no output channel at all included
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if C_out % groups != 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if input.shape[1] != C_in_per_group * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {C_in_per_group * groups} channels, "
            f"but got {input.shape[1]} channels instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != C_out):
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
    _check_storage((*input.shape[:2], *padded), input.dtype)
    k_eff = tuple(effective_kernel_size(k, d) for k, d in zip(kernel_size, dilation))
    if any(p < k for p, k in zip(padded, k_eff)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, k_eff))}). Kernel size can't be greater "
            f"than actual input size")
    _check_kernel_dtype(op, input, dilation, transposed=False)
    return ConvArgs(input, unbatched, stride, pads, dilation, groups)


def _check_transpose_channels(input, weight, bias, groups) -> None:
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
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != C_out_g * groups):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {C_out_g * groups} elements, but got bias of size "
            f"{list(bias.shape)} instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected input and weight to have the same dtype, but got "
                           f"input {input.dtype} and weight {weight.dtype}")
    if bias is not None and bias.dtype != input.dtype and not _bias_cast_like_torch(input,
                                                                                   bias):
        raise RuntimeError(f"expected scalar type {input.dtype} but found {bias.dtype} (bias)")


def _bias_cast_like_torch(input, bias) -> bool:
    """Does PyTorch's CPU kernel cast a transposed conv's bias of another dtype?

    Measured on torch 2.14: for a real bias, its slow 1-D and 2-D kernels
    (``slow_conv_transpose2d``) do, and every rank does for an empty batch; its 3-D kernel
    and oneDNN's refuse, as they do a complex bias or an integer or complex input (a
    ``RuntimeError``). Which kernel runs a half-precision input depends on the CPU
    (:func:`_onednn_takes`): bfloat16 went to oneDNN on AVX-512 EPYCs (Zen 4, Zen 5), and
    to the slow kernel on an AVX2 one (Zen 3).
    """
    if bias.is_complex() or not input.is_floating_point():
        return False
    return input.shape[0] == 0 or (input.dim() < 5 and not _onednn_takes(input.dtype))


def _onednn_takes(dtype) -> bool:
    """Does PyTorch run this half-precision dtype's CPU convolutions on oneDNN? Only where
    the CPU has the instructions for it (ATen's ``mkldnn_bf16_device_check`` and
    ``mkldnn_fp16_device_check``: AVX-512 for bfloat16, AVX-512-FP16 or AMX for float16).
    float32 and float64 transposed convolutions of the sizes checked ran the slow kernel."""
    check = {torch.bfloat16: "_is_mkldnn_bf16_supported",
             torch.float16: "_is_mkldnn_fp16_supported"}.get(dtype)
    if check is None or not torch.backends.mkldnn.is_available():
        return False
    try:
        return bool(getattr(torch.ops.mkldnn, check)())
    except (AttributeError, RuntimeError):  # private API: absent in another torch
        return dtype == torch.bfloat16  # the measurements of torch 2.14 on AVX-512


def parse_conv_transpose_args(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                              groups=1, dilation=1, dims=2) -> ConvTransposeArgs:
    """Check a ``conv_transpose{dims}d`` call like PyTorch does; return it in normal form.

    ``TypeError`` for arguments of the wrong type, first (``'same'`` padding included:
    transposed convolutions take no padding strings); then ``RuntimeError`` for what
    PyTorch reports as one (ranks, channels, groups, non-positive stride/dilation/groups,
    negative padding/output_padding, ``output_padding`` not smaller than stride or
    dilation, empty spatial input, an output size below 1 or too large to allocate, a bias
    of another dtype where PyTorch's kernel refuses it); ``NotImplementedError`` for the
    integer and bool dtypes PyTorch has no transposed kernel for.
    """
    op = f"conv_transpose{dims}d"
    _check_tensors(op, input, weight, bias)
    stride, padding = int_tuple(stride, dims, "stride", op), int_tuple(padding, dims,
                                                                       "padding", op)
    output_padding = int_tuple(output_padding, dims, "output_padding", op)
    dilation = int_tuple(dilation, dims, "dilation", op)
    groups = int_arg(groups, "groups", op, sequence=False)
    _check_ranks(op, input, weight, dims, "(C_in, C_out/groups, *kernel_size)")
    check_ranges(stride, dilation, groups, padding, output_padding)
    for name, values in (("stride", stride), ("padding", padding), ("dilation", dilation),
                         ("output_padding", output_padding)):
        if any(v >= 2**31 for v in values):  # PyTorch's kernels overflow int32 here
            raise RuntimeError(f"{op}: {name}={list(values)} does not fit in the 32-bit "
                               f"integers PyTorch's transposed convolution kernels use")
    unbatched = input.dim() == dims + 1
    x = input.unsqueeze(0) if unbatched else input  # (N, C_in, *S_in)
    _check_transpose_channels(x, weight, bias, groups)
    if x.shape[0] > 0 and x.shape[1] > 0 and 0 in x.shape[2:]:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {list(x.shape)}")
    out = [(i - 1) * s - 2 * p + d * (k - 1) + op_ + 1 for i, k, s, p, op_, d in zip(
        x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)]
    if min(out) < (0 if x.shape[0] == 0 else 1):  # an empty batch may have empty outputs
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, out))}). Output size is too small")
    _check_storage((x.shape[0], weight.shape[1] * groups, *out), x.dtype)
    _check_kernel_dtype(op, x, dilation, transposed=True)
    return ConvTransposeArgs(x, unbatched, stride, padding, output_padding, dilation, groups)


def pad_input(input: torch.Tensor, padding: tuple) -> torch.Tensor:
    """Zero-pad the spatial dims of ``(N, C, *spatial)`` by ``((before, after), ...)``.

    ``F.pad`` lists pads from the *last* dimension backwards, hence the reversal.
    """
    flat = [p for pair in reversed(padding) for p in pair]
    if not any(flat):
        return input
    return torch.nn.functional.pad(input, flat)


# --- PyTorch's answers where a stepwise algorithm has none ------------------------------

def upcast_complex32(*tensors):
    """``complex32`` has almost no CPU kernels (no matrix product, no FFT): compute in
    ``complex64``, which holds every ``complex32`` value exactly. ``None`` stays ``None``."""
    return [t.to(torch.complex64) if t is not None and t.dtype == torch.complex32 else t
            for t in tensors]


def conv_output_sizes(args: ConvArgs, weight) -> list:
    """The spatial output sizes of a parsed convolution."""
    return output_sizes(args.input.shape[2:], weight.shape[2:], args.stride, args.padding,
                        args.dilation)


def output_sizes(S, kernel, stride, padding, dilation) -> list:
    """Spatial output sizes, ``(S + p_before + p_after - d (k - 1) - 1) // s + 1`` per dim;
    ``padding`` is ``((p_before, p_after), ...)``."""
    return [(s + a + b - effective_kernel_size(k, d)) // st + 1
            for s, (a, b), k, st, d in zip(S, padding, kernel, stride, dilation)]


def empty_output(x, weight, bias, C_out: int, sizes) -> torch.Tensor:
    """PyTorch's result for an input without elements (ATen's "empty" backend, which runs
    no kernel): the input times one weight (plus one bias), viewed as the output. No
    values, but PyTorch's shape, strides and autograd graph. An input with no channels
    gives an output with none either (PyTorch's answer, rather than the bias).

    ``x``: the batched input; ``C_out``, ``sizes``: the output's channels and spatial sizes.
    """
    x, weight, bias = upcast_complex32(x, weight, bias)
    if x.is_complex():  # PyTorch builds a complex convolution from real ones: contiguous
        x = x.clone(memory_format=torch.contiguous_format)  # (.contiguous() keeps an empty
        # tensor's strides: it counts as contiguous already)
    no_channels = x.shape[1] == 0
    out = x.reshape(-1) * weight.reshape(-1) if no_channels else x * weight.reshape(-1)[0]
    if bias is not None:
        out = out + bias[0]
    return out.view(x.shape[0], 0 if no_channels else C_out, *sizes)


def empty_conv_output(args: ConvArgs, weight, bias) -> torch.Tensor:
    """:func:`empty_output` for a parsed convolution whose input has no elements (an empty
    batch, or no channels), unbatched if the call was. Uneven padding (``padding='same'``
    with an even kernel) is applied first, as PyTorch does: its zero-padded copy, not the
    input, sets the strides."""
    x = args.input
    if any(before != after for before, after in args.padding):
        x = pad_input(x, args.padding)
    out = empty_output(x, weight, bias, weight.shape[0], conv_output_sizes(args, weight))
    out = out.to(args.input.dtype)
    return out.squeeze(0) if args.unbatched else out


def edge_cases_like_torch(no_integers: str | None = None, transposed: bool = False):
    """Decorate a stepwise 2-D implementation so that it answers like PyTorch where its
    algorithm has nothing to say: ``complex32`` computes in ``complex64``; an input with
    no channels gives PyTorch's empty result; for a method that cannot compute an integer
    convolution exactly, ``no_integers`` says why, and integer tensors raise ``ValueError``
    with that reason. Invalid calls still fail first, with PyTorch's errors.
    """
    def decorate(fn):
        parse = parse_conv_transpose_args if transposed else parse_conv_args

        @functools.wraps(fn)
        def wrapper(input, weight, bias=None, *args, **kwargs):
            parsed = parse(input, weight, bias, *args, **kwargs)  # PyTorch's errors first
            if not transposed and parsed.input.shape[1] == 0:
                return empty_conv_output(parsed, weight, bias)
            if input.dtype == torch.complex32:
                out = fn(*upcast_complex32(input, weight, bias), *args, **kwargs)
                return out.to(torch.complex32)
            if no_integers and not (input.is_floating_point() or input.is_complex()):
                raise ValueError(f"{fn.__name__} does not apply to {input.dtype} tensors: "
                                 f"{no_integers}; convlab.functional computes integer "
                                 f"convolutions exactly")
            return fn(input, weight, bias, *args, **kwargs)

        wrapper.__script_unsupported = (  # torch.jit.script's own "not supported" message
            f"{fn.__module__}.{fn.__name__} is plain PyTorch code that TorchScript cannot "
            f"compile; use torch.jit.trace or torch.compile")
        return wrapper
    return decorate
