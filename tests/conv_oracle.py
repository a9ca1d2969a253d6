"""The oracle every conv2d implementation is checked against: ``F.conv2d``.

Shared pieces for the property tests of any function with ``F.conv2d``'s signature:

- :func:`conv2d_configs`: a hypothesis strategy for random *valid* ``conv2d`` calls,
  with knobs to force the cases that break naive code (stride > kernel, dilation with
  padding, groups, ``'same'`` with even kernels, ``'valid'``, unbatched input);
- :func:`make_call`: the tensors of a configuration, in float64/float32, in any memory
  layout (contiguous, channels-last, non-contiguous views), with an empty batch if asked;
- :func:`check_against_torch`: run an implementation and ``F.conv2d`` on the same call
  and compare (tight float64 tolerances, looser float32 ones);
- ``INVALID_ARGUMENTS``: the invalid-argument table, a list of ``(name, build)`` where
  ``build()`` returns the keyword arguments of a ``conv2d`` call that PyTorch rejects;
  ``PYTORCH_RAISES[name]`` is the exception type ``F.conv2d`` raises for it;
- :func:`no_torch_conv` / :func:`spied`: the dispatch spy (profiler + ``TorchDispatchMode``)
  that fails if a PyTorch convolution kernel runs;
- :func:`nd_calls`: random valid calls of the six N-d functionals (the drop-in tests).

Sizes are kept small so that the slowest rung (the naive loop) runs thousands of
examples in seconds; faster rungs reuse the same strategies unchanged.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

# Implementations that only apply to some configurations raise ValueError for the
# others (DESIGN: Winograd is 3x3, stride 1, dilation 1 only). For them a ValueError on
# a valid call means "not applicable", not a failure.
PARTIAL_IMPLEMENTATIONS = {"winograd"}

TOLERANCES = {
    torch.float64: {"rtol": 1e-7, "atol": 1e-9},
    torch.float32: {"rtol": 1e-4, "atol": 1e-4},
}


@dataclass(frozen=True)
class Conv2dConfig:
    """One valid ``conv2d`` call, described by shapes and arguments (no tensors yet)."""

    N: int
    C_in: int
    C_out: int
    H: int
    W: int
    kH: int
    kW: int
    stride: tuple
    padding: object  # (pH, pW) or 'same' / 'valid'
    dilation: tuple
    groups: int
    bias: bool
    batched: bool
    seed: int

    def kwargs(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "groups": self.groups}


def _fits(size: int, pad: int, k: int, d: int) -> bool:
    return size + pad >= d * (k - 1) + 1


@st.composite
def conv2d_configs(draw, max_size: int = 5, max_kernel: int = 3, max_stride: int = 3,
                   max_dilation: int = 2, max_padding: int = 2, max_channels: int = 3,
                   max_groups: int = 3, max_batch: int = 2, padding_mode: str = "any",
                   batched: bool | None = None, min_stride: int = 1,
                   min_dilation: int = 1, min_padding: int = 0, min_groups: int = 1,
                   kernel_sizes=None):
    """A random valid ``conv2d`` configuration (see :class:`Conv2dConfig`).

    ``padding_mode``: ``'int'`` (ints/tuples), ``'same'``, ``'valid'`` or ``'any'``.
    ``max_channels`` bounds channels *per group*. Rejection-free: sizes are drawn so
    the dilated kernel always fits the padded input. ``kernel_sizes`` (a list) restricts
    kH and kW to those values (e.g. even kernels).
    """
    if padding_mode == "any":
        padding_mode = draw(st.sampled_from(["int", "int", "int", "same", "valid"]))
    groups = draw(st.integers(min_groups, max_groups))
    C_in = groups * draw(st.integers(1, max_channels))
    C_out = groups * draw(st.integers(1, max_channels))
    sizes = st.sampled_from(kernel_sizes) if kernel_sizes else st.integers(1, max_kernel)
    kH, kW = draw(sizes), draw(sizes)
    dilation = (draw(st.integers(min_dilation, max_dilation)),
                draw(st.integers(min_dilation, max_dilation)))
    if padding_mode == "same":
        stride, padding = (1, 1), "same"  # 'same' pads d (k - 1) in all: any size fits
        pads = (dilation[0] * (kH - 1), dilation[1] * (kW - 1))
    else:
        stride = (draw(st.integers(min_stride, max_stride)),
                  draw(st.integers(min_stride, max_stride)))
        if padding_mode == "valid":
            padding, pads = "valid", (0, 0)
        else:
            padding = (draw(st.integers(min_padding, max_padding)),
                       draw(st.integers(min_padding, max_padding)))
            pads = (2 * padding[0], 2 * padding[1])
    # the smallest input the dilated kernel fits, then a few more pixels
    H = max(1, dilation[0] * (kH - 1) + 1 - pads[0]) + draw(st.integers(0, max_size - 1))
    W = max(1, dilation[1] * (kW - 1) + 1 - pads[1]) + draw(st.integers(0, max_size - 1))
    assert _fits(H, pads[0], kH, dilation[0]) and _fits(W, pads[1], kW, dilation[1])
    return Conv2dConfig(
        N=draw(st.integers(1, max_batch)), C_in=C_in, C_out=C_out, H=H, W=W, kH=kH, kW=kW,
        stride=stride, padding=padding, dilation=dilation, groups=groups,
        bias=draw(st.booleans()),
        batched=draw(st.booleans()) if batched is None else batched,
        seed=draw(st.integers(0, 2**31 - 1)))


def _layout(x: torch.Tensor, layout: str) -> torch.Tensor:
    """The same values as ``x`` ``(N, C, H, W)`` in another memory layout."""
    if layout == "contiguous":
        return x.contiguous()
    if layout == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    if layout == "non_contiguous":  # every other element of a twice-as-wide tensor
        wide = torch.zeros(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype)
        wide[..., ::2] = x
        view = wide[..., ::2]
        assert not view.is_contiguous() or x.shape[-1] <= 1
        return view
    if layout == "transposed":  # H and W swapped in memory
        return x.transpose(-1, -2).contiguous().transpose(-1, -2)
    raise ValueError(f"unknown layout {layout!r}")


def make_call(config: Conv2dConfig, dtype=torch.float64, layout: str = "contiguous",
              weight_layout: str = "contiguous", empty_batch: bool = False) -> dict:
    """Keyword arguments (tensors included) of the ``conv2d`` call ``config`` describes."""
    gen = torch.Generator().manual_seed(config.seed)
    N = 0 if empty_batch else config.N
    x = torch.randn(N, config.C_in, config.H, config.W, generator=gen, dtype=dtype)
    w = torch.randn(config.C_out, config.C_in // config.groups, config.kH, config.kW,
                    generator=gen, dtype=dtype)
    b = torch.randn(config.C_out, generator=gen, dtype=dtype) if config.bias else None
    x, w = _layout(x, layout), _layout(w, weight_layout)
    if not config.batched and not empty_batch:
        x = x[0]  # (C_in, H, W); a view, keeps the layout's strides
    return {"input": x, "weight": w, "bias": b, **config.kwargs()}


def call_or_not_applicable(name: str, fn, call: dict):
    """``fn(**call)``, or ``None`` when a partial implementation says it does not apply."""
    try:
        return fn(**call)
    except ValueError:
        if name in PARTIAL_IMPLEMENTATIONS:
            return None
        raise


def check_against_torch(name: str, fn, call: dict) -> None:
    """Assert ``fn(**call)`` equals ``F.conv2d(**call)`` (shape, dtype and values)."""
    expected = F.conv2d(**call)
    got = call_or_not_applicable(name, fn, call)
    if got is None:
        return
    assert got.shape == expected.shape, f"{name}: shape {tuple(got.shape)} != " \
                                        f"{tuple(expected.shape)}"
    assert got.dtype == expected.dtype, f"{name}: dtype {got.dtype} != {expected.dtype}"
    torch.testing.assert_close(got, expected, **TOLERANCES[expected.dtype])


# ---------------------------------------------------------------------------------------
# The invalid-argument table: what PyTorch rejects, and with which exception type.
# ---------------------------------------------------------------------------------------

def _x(*shape, dtype=torch.float64):
    return torch.randn(*shape, dtype=dtype)


def _ok(**overrides):
    """A valid call (1, 4, 5, 5) * (2, 4, 3, 3), with some arguments replaced."""
    call = {"input": _x(1, 4, 5, 5), "weight": _x(2, 4, 3, 3), "bias": None}
    call.update(overrides)
    return call


INVALID_ARGUMENTS = [
    ("input rank 2", lambda: _ok(input=_x(5, 5))),
    ("input rank 5", lambda: _ok(input=_x(1, 1, 4, 5, 5))),
    ("weight rank 3", lambda: _ok(weight=_x(2, 4, 3))),
    ("weight rank 5", lambda: _ok(weight=_x(2, 4, 3, 3, 1))),
    ("input channels != weight channels", lambda: _ok(input=_x(1, 3, 5, 5))),
    ("unbatched channel mismatch", lambda: _ok(input=_x(3, 5, 5))),
    ("groups does not divide in_channels",
     lambda: _ok(input=_x(1, 5, 5, 5), weight=_x(2, 1, 3, 3), groups=2)),
    ("groups does not divide out_channels",
     lambda: _ok(input=_x(1, 4, 5, 5), weight=_x(3, 2, 3, 3), groups=2)),
    ("zero out_channels", lambda: _ok(weight=_x(0, 4, 3, 3))),
    ("groups = 0", lambda: _ok(groups=0)),
    ("groups < 0", lambda: _ok(groups=-1)),
    ("groups float", lambda: _ok(groups=1.5)),
    ("stride = 0", lambda: _ok(stride=0)),
    ("stride < 0", lambda: _ok(stride=(1, -2))),
    ("stride float", lambda: _ok(stride=1.5)),
    ("dilation = 0", lambda: _ok(dilation=0)),
    ("dilation < 0", lambda: _ok(dilation=(-1, 1))),
    ("negative padding", lambda: _ok(padding=-1)),
    ("negative padding tuple", lambda: _ok(padding=(0, -1))),
    ("padding float", lambda: _ok(padding=1.5)),
    ("unknown padding string", lambda: _ok(padding="full")),
    ("padding string wrong case", lambda: _ok(padding="SAME")),
    ("'same' with stride > 1", lambda: _ok(padding="same", stride=2)),
    ("'same' with stride (1, 2)", lambda: _ok(padding="same", stride=(1, 2))),
    ("kernel larger than input", lambda: _ok(input=_x(1, 4, 2, 5))),
    ("dilated kernel larger than input", lambda: _ok(dilation=3)),
    ("kernel larger than padded input", lambda: _ok(input=_x(1, 4, 1, 1), padding=(0, 1))),
    ("empty spatial input", lambda: _ok(input=_x(1, 4, 0, 5))),
    ("bias of the wrong length", lambda: _ok(bias=_x(3))),
    ("bias of rank 2", lambda: _ok(bias=_x(2, 1))),
    ("bias not a tensor", lambda: _ok(bias=[1.0, 2.0])),
    ("input not a tensor", lambda: _ok(input=[[1.0]])),
    ("dtype mismatch input/weight", lambda: _ok(weight=_x(2, 4, 3, 3, dtype=torch.float32))),
    ("dtype mismatch bias", lambda: _ok(bias=_x(2, dtype=torch.float32))),
    ("stride tuple of length 3", lambda: _ok(stride=(1, 1, 1))),
    ("padding tuple of length 3", lambda: _ok(padding=(1, 1, 1))),
    ("dilation tuple of length 3", lambda: _ok(dilation=(1, 1, 1))),
    ("empty stride tuple", lambda: _ok(stride=())),
    ("kernel with a zero dimension", lambda: _ok(weight=_x(2, 4, 0, 3))),
]

# What F.conv2d raises for each case (checked by the tests, so it cannot drift).
PYTORCH_RAISES = {name: RuntimeError for name, _ in INVALID_ARGUMENTS}
PYTORCH_RAISES.update({name: TypeError for name in (
    "groups float", "stride float", "padding float", "bias not a tensor",
    "input not a tensor")})


def torch_exception(call: dict):
    """The exception ``F.conv2d(**call)`` raises (``None`` if it does not raise)."""
    try:
        F.conv2d(**call)
    except Exception as exc:  # noqa: BLE001 - we want whatever PyTorch raises
        return exc
    return None


# ---------------------------------------------------------------------------------------
# The dispatch spy: no PyTorch convolution kernel may run inside convlab's code.
# ---------------------------------------------------------------------------------------

# ATen's convolution operators and kernels, by name ("aten::convolution",
# "aten.mkldnn_convolution.default", "aten::_slow_conv2d_forward", ...); queries such as
# "aten::_nnpack_available" (asked by torch._C._select_conv_backend) compute nothing
CONV_OP = re.compile(r"conv(olution|_tbc|_transpose|[123]d|_depthwise)|slow_conv|thnn_conv|"
                     r"cudnn_conv|mkldnn_conv|miopen_conv", re.IGNORECASE)


class _OpLog(TorchDispatchMode):
    """Records every ATen operator that reaches the Python dispatcher."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def no_torch_conv(dispatch: bool = True, profile: bool = False):
    """Fail if a PyTorch convolution operator or kernel runs inside the block.

    ``dispatch``: a ``TorchDispatchMode`` sees every operator that reaches Python dispatch,
    forward and backward (cheap: on for every example). ``profile``: the profiler sees
    every ATen operator C++ runs, also under ``torch.func`` transforms and in compiled code
    (about 50 ms a start: once per batch of calls). ``torch.compile`` does not trace
    through an active dispatch mode, so compiled code is checked with the profiler alone.
    """
    log = _OpLog()
    with contextlib.ExitStack() as stack:
        prof = (stack.enter_context(torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU])) if profile else None)
        if dispatch:
            stack.enter_context(log)
        yield
    names = set(log.ops) | ({event.name for event in prof.events()} if profile else set())
    assert names, "the spy saw no operator at all"
    convs = sorted(name for name in names if CONV_OP.search(name))
    assert not convs, f"PyTorch convolution kernels ran: {convs}"


def spied(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` under :func:`no_torch_conv` (the dispatch mode)."""
    with no_torch_conv():
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------
# Random N-d calls of the six functionals, for the drop-in categories.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NdCall:
    """One call of ``torch.nn.functional.<name>``: shapes and arguments, no tensors yet."""

    name: str  # conv1d ... conv_transpose3d
    N: int | None  # None: unbatched
    C_in: int
    C_out: int
    size: tuple
    kernel: tuple
    kwargs: dict
    bias: bool
    seed: int

    @property
    def transposed(self) -> bool:
        return self.name.startswith("conv_transpose")

    @property
    def dims(self) -> int:
        return len(self.size)

    def tensors(self, dtype=torch.float64, scale: float = 1.0):
        """``(input, weight, bias)`` for this call, random normal times ``scale``."""
        gen = torch.Generator().manual_seed(self.seed)
        G = self.kwargs.get("groups", 1)
        x_shape = ((self.N,) if self.N is not None else ()) + (self.C_in, *self.size)
        w_shape = ((self.C_in, self.C_out // G) if self.transposed
                   else (self.C_out, self.C_in // G)) + self.kernel
        make = lambda *shape: (torch.randn(*shape, generator=gen, dtype=torch.float64)
                               * scale).to(dtype)
        return make(*x_shape), make(*w_shape), make(self.C_out) if self.bias else None


@st.composite
def nd_calls(draw, names=None, max_channels: int = 3, max_size: int = 6, batch=(0, 1, 2, None),
             min_channels: int = 1):
    """A random valid call of one of the six functionals (``names`` restricts them)."""
    name = draw(st.sampled_from(names or ["conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                          "conv_transpose2d", "conv_transpose3d"]))
    dims, transposed = int(name[-2]), name.startswith("conv_transpose")
    G = draw(st.sampled_from([1, 1, 2]))
    C_in = G * draw(st.integers(min_channels, max_channels))
    C_out = G * draw(st.integers(1, max_channels))
    k = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    s = [draw(st.integers(1, 2)) for _ in range(dims)]
    d = [draw(st.integers(1, 2)) for _ in range(dims)]
    size = tuple(draw(st.integers(d_ * (k_ - 1) + 1, d_ * (k_ - 1) + max_size - dims))
                 for k_, d_ in zip(k, d))
    if transposed:
        pad = [draw(st.integers(0, d_ * (k_ - 1))) for k_, d_ in zip(k, d)]
        out_pad = [draw(st.integers(0, max(s_, d_) - 1)) for s_, d_ in zip(s, d)]
        kwargs = dict(stride=s, padding=pad, output_padding=out_pad, groups=G, dilation=d)
    else:
        mode = draw(st.sampled_from(["int", "int", "same", "valid"]))
        pad = mode if mode != "int" else [draw(st.integers(0, 2)) for _ in range(dims)]
        kwargs = dict(stride=[1] * dims if mode == "same" else s, padding=pad, dilation=d,
                      groups=G)
    return NdCall(name, draw(st.sampled_from(batch)), C_in, C_out, size, k, kwargs,
                  draw(st.booleans()), draw(st.integers(0, 2**31 - 1)))


def torch_fn(name):
    """``torch.nn.functional.<name>``, the reference."""
    return getattr(F, name)


def assert_same_values(got, expected, rtol=1e-4, atol=1e-5, where=None):
    """Same shape and dtype, the same ``nan``/``+inf``/``-inf`` positions, and the finite
    values close at the scale of the largest finite one; ``where`` (a bool tensor shaped
    like the output) restricts the comparison of values to those positions."""
    assert got.shape == expected.shape, (tuple(got.shape), tuple(expected.shape))
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    if where is not None:
        got, expected = got[where], expected[where]
    if got.is_complex():
        got, expected = torch.view_as_real(got), torch.view_as_real(expected)
    for name, mask in (("nan", torch.isnan), ("+inf", lambda t: t == float("inf")),
                       ("-inf", lambda t: t == -float("inf"))):
        a, b = mask(got), mask(expected)
        assert torch.equal(a, b), (f"{name} at {int(a.sum())} positions, PyTorch "
                                   f"{int(b.sum())}; they differ at {int((a ^ b).sum())}")
    finite = torch.isfinite(expected)
    if finite.any():
        g, e = got[finite].double(), expected[finite].double()
        scale = e.abs().max().clamp(min=1e-30)
        torch.testing.assert_close(g / scale, e / scale, rtol=rtol, atol=atol)


def interior(shape, size, kernel, stride, padding, dilation):
    """Bool mask of the outputs ``(N, C_out, *O)`` whose whole window lies inside the input
    (no tap reads padding). ``padding``: ``(before, after)`` per dim."""
    mask = torch.ones(shape, dtype=torch.bool)
    for dim, (S, k, s, (before, _), d) in enumerate(zip(size, kernel, stride, padding, dilation)):
        i = torch.arange(shape[2 + dim])
        inside = (s * i - before >= 0) & (s * i - before + d * (k - 1) <= S - 1)
        mask &= inside.view(*[1] * (2 + dim), -1, *[1] * (len(size) - dim - 1))
    return mask
