"""Drop-ins for ``torch.nn``'s convolution modules, on top of :mod:`convlab.functional`.

A rebuild of ``torch/nn/modules/conv.py`` that behaves the same from the outside:
the same constructor signatures, validation (exception types and messages),
parameters (shapes, names, and bit-identical initial values under the same seed),
``repr``, ``state_dict`` keys, padding modes and lazy modules. What differs is
the inside: one N-d ``_ConvNd`` carries the logic; the rank-specific classes only
fix ``_dims`` and spell out their signatures; the arithmetic runs in
``convlab.functional`` instead of ATen.

Every class is also a subclass of its ``torch.nn`` counterpart, listed *after* the
convlab base, so that ``isinstance(m, torch.nn.Conv2d)`` holds and code written for
torch's modules (initialisation loops, ``spectral_norm``'s choice of dimension, fusion
helpers) treats ours the same way, while every attribute torch's conv classes define
resolves to convlab's: none of torch's convolution code runs (``tests/test_dropin_isinstance.py``
checks the method resolution order). For the same reason the constructors call
``Module.__init__`` directly instead of ``super().__init__()``, whose next class would be
torch's.

Hierarchy (as in PyTorch, torch's classes after ours)::

    Module -> _ConvNd -> Conv1d, Conv2d, Conv3d               (+ torch.nn.Conv{1,2,3}d)
                      -> _ConvTransposeNd -> ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    LazyModuleMixin -> _LazyConvXdMixin -> LazyConv{1,2,3}d, LazyConvTranspose{1,2,3}d
"""

from __future__ import annotations

import collections.abc
import math

import torch
import torch.nn.functional as F
from torch.nn import Module, init
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import Parameter, UninitializedParameter

from . import functional

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"]


def _to_tuple(value, n: int) -> tuple:
    """An int becomes ``n`` copies; any iterable becomes a tuple, unchecked (like torch)."""
    if isinstance(value, collections.abc.Iterable):
        return tuple(value)
    return (value,) * n


def _padding_for_f_pad(padding, kernel_size, dilation) -> list:
    """The ``padding`` of a conv as ``F.pad`` wants it: last dim first, (before, after) each.

    ``'same'`` pads ``d (k - 1)`` in total, the odd one out after (PyTorch's choice for
    even kernels); ``'valid'`` pads nothing.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return [0, 0] * len(kernel_size)
        pads = []
        for k, d in zip(reversed(kernel_size), reversed(dilation)):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return pads
    return tuple(p for p in reversed(padding) for _ in range(2))


class _ConvNd(Module):
    """What every convolution module shares: validation, parameters, init, ``repr``."""

    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode",
                     "output_padding", "in_channels", "out_channels", "kernel_size"]
    weight: torch.Tensor
    bias: torch.Tensor | None
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: str | tuple[int, ...]
    dilation: tuple[int, ...]
    transposed: bool
    output_padding: tuple[int, ...]
    groups: int
    padding_mode: str
    _reversed_padding_repeated_twice: list[int]

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        Module.__init__(self)  # not super(): after our classes come torch's
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_padding_strings = {"same", "valid"}  # a set, so the message prints like torch's
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{valid_padding_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_padding_modes:
            raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.transposed, self.output_padding = dilation, transposed, output_padding
        self.groups, self.padding_mode = groups, padding_mode
        self._reversed_padding_repeated_twice = _padding_for_f_pad(padding, kernel_size, dilation)
        # a transposed conv maps C_out -> C_in in the forward direction of its weight
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups))
        self.weight = Parameter(torch.empty(*shape, *kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(torch.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weight and bias.

        Written as ``kaiming_uniform_(a=sqrt(5))``: the gain ``sqrt(2 / (1 + a^2))``
        is ``sqrt(1/3)``, and ``gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)``.
        """
        with torch.no_grad():
            # draw in contiguous order even for a channels-last weight: same numbers as torch
            target = self.weight
            if not target.is_contiguous():
                target = torch.empty_like(self.weight, memory_format=torch.contiguous_format)
            init.kaiming_uniform_(target, a=math.sqrt(5))
            if target is not self.weight:
                self.weight.copy_(target)
            if self.bias is not None:
                fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input, weight, bias):
        """Zeros padding is the conv's own; other modes pad with ``F.pad`` first."""
        conv = getattr(functional, f"conv{self._dims}d")
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """Only what differs from the defaults, in PyTorch's order."""
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                 f"stride={self.stride}"]
        if self.padding != (0,) * len(self.padding):
            parts.append(f"padding={self.padding}")
        if self.dilation != (1,) * len(self.dilation):
            parts.append(f"dilation={self.dilation}")
        if self.output_padding != (0,) * len(self.output_padding):
            parts.append(f"output_padding={self.output_padding}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode}")
        return ", ".join(parts)

    def __setstate__(self, state):
        Module.__setstate__(self, state)
        if not hasattr(self, "padding_mode"):  # pickles from before padding_mode existed
            self.padding_mode = "zeros"

    def __prepare_scriptable__(self):
        """``torch.jit.script`` calls this first: say plainly that it cannot work."""
        raise RuntimeError(f"convlab.nn.{type(self).__name__} is not TorchScript-compatible "
                           f"(its forward is plain Python over tensor ops); use "
                           f"torch.jit.trace or torch.compile instead")


def _conv_args(dims, kernel_size, stride, padding, dilation):
    """Expand the rank-specific arguments (a padding string stays a string)."""
    padding = padding if isinstance(padding, str) else _to_tuple(padding, dims)
    return (_to_tuple(kernel_size, dims), _to_tuple(stride, dims), padding,
            _to_tuple(dilation, dims))


class Conv1d(_ConvNd, torch.nn.Conv1d):
    """Drop-in for ``torch.nn.Conv1d``: input ``(N, C_in, L)`` or ``(C_in, L)``."""

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, *_conv_args(1, kernel_size, stride, padding,
                         dilation), False, (0,), groups, bias, padding_mode, device, dtype)


class Conv2d(_ConvNd, torch.nn.Conv2d):
    """Drop-in for ``torch.nn.Conv2d``: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, *_conv_args(2, kernel_size, stride, padding,
                         dilation), False, (0, 0), groups, bias, padding_mode, device, dtype)


class Conv3d(_ConvNd, torch.nn.Conv3d):
    """Drop-in for ``torch.nn.Conv3d``: input ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``."""

    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, *_conv_args(3, kernel_size, stride, padding,
                         dilation), False, (0, 0, 0), groups, bias, padding_mode, device, dtype)


class _ConvTransposeNd(_ConvNd):
    """Transposed convolutions: zeros padding only, and an ``output_size`` at call time."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{self.__class__.__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims, dilation=None) -> list:
        """The ``output_padding`` that makes the output ``output_size`` (or the stored one).

        The sizes a stride-``s`` transposed conv can produce from a given input are
        ``min, min + 1, ..., min + s - 1`` with ``min = (i - 1) s - 2p + d (k - 1) + 1``;
        anything else raises ``ValueError`` naming that range.
        """
        if output_size is None:
            return list(_to_tuple(self.output_padding, 1))
        non_spatial = 2 if input.dim() == num_spatial_dims + 2 else 1
        if len(output_size) == non_spatial + num_spatial_dims:
            output_size = output_size[non_spatial:]  # a full shape: keep the spatial sizes
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must "
                f"have {num_spatial_dims} or {non_spatial + num_spatial_dims} elements "
                f"(got {len(output_size)})")
        dilation = dilation if dilation is not None else (1,) * num_spatial_dims
        min_sizes = [(input.size(non_spatial + i) - 1) * stride[i] - 2 * padding[i]
                     + dilation[i] * (kernel_size[i] - 1) + 1 for i in range(num_spatial_dims)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{min_sizes} to {max_sizes} (for an input of {input.size()[2:]})")
        return [size - lo for size, lo in zip(output_size, min_sizes)]

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError(f"Only `zeros` padding mode is supported for "
                             f"ConvTranspose{self._dims}d")
        if not isinstance(self.padding, tuple):
            raise AssertionError("self.padding must be a tuple")
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, self._dims, self.dilation)
        conv_transpose = getattr(functional, f"conv_transpose{self._dims}d")
        return conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)


def _transpose_args(dims, kernel_size, stride, padding, output_padding, dilation):
    """Expand the rank-specific arguments of a transposed conv, in ``_ConvNd``'s order."""
    return (_to_tuple(kernel_size, dims), _to_tuple(stride, dims), _to_tuple(padding, dims),
            _to_tuple(dilation, dims), True, _to_tuple(output_padding, dims))


class ConvTranspose1d(_ConvTransposeNd, torch.nn.ConvTranspose1d):
    """Drop-in for ``torch.nn.ConvTranspose1d`` (note: ``dilation`` comes after ``bias``)."""

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, *_transpose_args(
            1, kernel_size, stride, padding, output_padding, dilation), groups, bias,
            padding_mode, device, dtype)


class ConvTranspose2d(_ConvTransposeNd, torch.nn.ConvTranspose2d):
    """Drop-in for ``torch.nn.ConvTranspose2d`` (note: ``dilation`` comes after ``bias``)."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, *_transpose_args(
            2, kernel_size, stride, padding, output_padding, dilation), groups, bias,
            padding_mode, device, dtype)


class ConvTranspose3d(_ConvTransposeNd, torch.nn.ConvTranspose3d):
    """Drop-in for ``torch.nn.ConvTranspose3d`` (note: ``dilation`` comes after ``bias``)."""

    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, *_transpose_args(
            3, kernel_size, stride, padding, output_padding, dilation), groups, bias,
            padding_mode, device, dtype)


class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` from the first input; then the module becomes ``cls_to_become``.

    Until then ``weight`` (and ``bias``) are ``UninitializedParameter``: no shape, no
    memory, no random numbers drawn. ``LazyModuleMixin`` calls
    :meth:`initialize_parameters` from a forward pre-hook on the first call. A lazy
    class's bases are ``(_LazyConvXdMixin, torch.nn.LazyConvXd, ConvXd)``; calls that
    would go to the next class in line name their target instead, so that they skip
    torch's lazy class (there only for ``isinstance``).
    """

    groups: int
    transposed: bool
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    weight: UninitializedParameter
    bias: UninitializedParameter

    def __init__(self, *args, **kwargs) -> None:
        LazyModuleMixin.__init__(self, *args, **kwargs)  # which then calls ConvXd.__init__

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            _ConvNd.reset_parameters(self)

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        shape = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                 else (self.out_channels, self.in_channels // self.groups))
        self.weight.materialize((*shape, *self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _get_in_channels(self, input) -> int:
        unbatched, batched = self._dims + 1, self._dims + 2
        if input.dim() not in (unbatched, batched):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {batched}D (batched) input "
                               f"to {self.__class__.__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == batched else input.shape[0]

    def _get_num_spatial_dims(self) -> int:
        return self._dims

    def _make_lazy(self, out_channels, bias, device, dtype) -> None:
        """Swap the empty placeholder parameters for uninitialized ones."""
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class LazyConv1d(_LazyConvXdMixin, torch.nn.LazyConv1d, Conv1d):
    """Drop-in for ``torch.nn.LazyConv1d``: becomes :class:`Conv1d` on the first call."""

    cls_to_become = Conv1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConv2d(_LazyConvXdMixin, torch.nn.LazyConv2d, Conv2d):
    """Drop-in for ``torch.nn.LazyConv2d``: becomes :class:`Conv2d` on the first call."""

    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConv3d(_LazyConvXdMixin, torch.nn.LazyConv3d, Conv3d):
    """Drop-in for ``torch.nn.LazyConv3d``: becomes :class:`Conv3d` on the first call."""

    cls_to_become = Conv3d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose1d(_LazyConvXdMixin, torch.nn.LazyConvTranspose1d,
                          ConvTranspose1d):
    """Drop-in for ``torch.nn.LazyConvTranspose1d``: becomes :class:`ConvTranspose1d`."""

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose2d(_LazyConvXdMixin, torch.nn.LazyConvTranspose2d,
                          ConvTranspose2d):
    """Drop-in for ``torch.nn.LazyConvTranspose2d``: becomes :class:`ConvTranspose2d`."""

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose3d(_LazyConvXdMixin, torch.nn.LazyConvTranspose3d,
                          ConvTranspose3d):
    """Drop-in for ``torch.nn.LazyConvTranspose3d``: becomes :class:`ConvTranspose3d`."""

    cls_to_become = ConvTranspose3d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)
