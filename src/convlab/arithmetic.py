r"""Convolution arithmetic: output sizes, ``'same'`` padding and receptive fields.

One place for the formulas every other module uses (Dumoulin & Visin, 2016).
For one spatial dimension with input size :math:`H_\text{in}`, kernel size :math:`k`,
stride :math:`s`, padding :math:`p` (on each side) and dilation :math:`d`:

.. math::

    k_\text{eff} = d\,(k - 1) + 1, \qquad
    H_\text{out} = \left\lfloor \frac{H_\text{in} + 2p - k_\text{eff}}{s}
                    \right\rfloor + 1 .

A transposed convolution inverts that map (``output_padding``, :math:`p_\text{out}`,
picks one of the :math:`s` input sizes that the floor sends to the same size):

.. math::

    H_\text{out} = (H_\text{in} - 1)\,s - 2p + d\,(k - 1) + p_\text{out} + 1 .
"""

from __future__ import annotations

import collections.abc


def _ntuple(value, n: int, name: str = "argument") -> tuple:
    """Expand an int to an ``n``-tuple; check the length of a tuple or list.

    >>> _ntuple(3, 2)
    (3, 3)
    """
    if isinstance(value, collections.abc.Iterable) and not isinstance(value, str):
        value = tuple(value)
        if len(value) == 1:
            return value * n
        if len(value) != n:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {n} values to "
                f"match the convolution dimensions, but got {name}={list(value)}"
            )
        return value
    return (value,) * n


def _pair(value, name: str = "argument") -> tuple:
    """``_ntuple(value, 2)``: the 2-D case, named as in ``torch.nn.modules.utils``."""
    return _ntuple(value, 2, name)


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel: ``d (k - 1) + 1`` input positions."""
    return dilation * (kernel_size - 1) + 1


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1,
                     padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one dimension.

    ``floor((input_size + 2*padding - dilation*(kernel_size-1) - 1)
    / stride) + 1``, the formula in the ``Shape:`` section of
    ``torch.nn.Conv2d``. The floor drops the last
    ``(H_in + 2p - k_eff) mod s`` input positions: no window fits there.

    Raises ``ValueError`` when the dilated kernel is larger than the padded
    input (no output position at all) or when an argument is out of range.
    """
    if (stride < 1 or dilation < 1 or kernel_size < 1 or padding < 0
            or input_size < 0):
        raise ValueError(
            f"need stride>=1, dilation>=1, kernel_size>=1, padding>=0, "
            f"input_size>=0; got input_size={input_size}, "
            f"kernel_size={kernel_size}, stride={stride}, "
            f"padding={padding}, dilation={dilation}"
        )
    k_eff = effective_kernel_size(kernel_size, dilation)
    if input_size + 2 * padding < k_eff:
        raise ValueError(
            f"padded input size {input_size + 2 * padding} is smaller than "
            f"the dilated kernel size {k_eff}: no output position"
        )
    return (input_size + 2 * padding - k_eff) // stride + 1


def conv_transpose_output_size(input_size: int, kernel_size: int, stride: int = 1,
                               padding: int = 0, output_padding: int = 0,
                               dilation: int = 1) -> int:
    """Output length of a transposed convolution along one dimension.

    ``(input_size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``,
    as in ``torch.nn.ConvTranspose2d``. ``output_padding`` must be smaller than
    ``stride`` or ``dilation`` (PyTorch's rule), else ``ValueError``.
    """
    if stride < 1 or dilation < 1 or kernel_size < 1 or padding < 0 or output_padding < 0:
        raise ValueError(
            f"need stride>=1, dilation>=1, kernel_size>=1, padding>=0, output_padding>=0; got "
            f"kernel_size={kernel_size}, stride={stride}, padding={padding}, "
            f"output_padding={output_padding}, dilation={dilation}"
        )
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"output_padding ({output_padding}) must be smaller than either stride ({stride}) "
            f"or dilation ({dilation})"
        )
    size = (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) \
        + output_padding + 1
    if size < 1:
        raise ValueError(f"output size {size} is not positive")
    return size


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """``(left, right)`` padding that keeps the size for stride 1
    (``padding='same'``).

    The total is ``d (k - 1)``; when it is odd (an even kernel) PyTorch puts
    the extra element on the right/bottom, and so do we.
    """
    total = dilation * (kernel_size - 1)
    left = total // 2
    return left, total - left


def receptive_field(layers) -> int:
    """Receptive field of a stack of conv layers, each ``(kernel_size, stride, dilation)``.

    ``r = 1 + sum over layers l of (k_eff_l - 1) * (s_1 ... s_{l-1})``: each layer widens
    the field by its effective kernel minus one, measured in input pixels (the product of
    the strides before it).
    """
    field, jump = 1, 1
    for layer in layers:
        kernel_size, stride, dilation = (tuple(layer) + (1, 1))[:3]
        field += (effective_kernel_size(kernel_size, dilation) - 1) * jump
        jump *= stride
    return field


def output_positions(input_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1):
    """Yield, for each output position, the padded-input indices its window reads."""
    out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    for o in range(out):
        yield [o * stride + j * dilation for j in range(kernel_size)]


__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "effective_kernel_size",
    "same_padding",
    "receptive_field",
    "output_positions",
]
