"""Drop-in category *compile and trace*: ``torch.compile(fullgraph=True)`` captures every
path of ``convlab.functional`` (and ``convlab.nn``) in one graph, forward and backward;
``torch.jit.trace`` records a trace that holds on new shapes; ``torch.jit.script``, which
cannot compile convlab's Python, says so plainly.

Compiling is slow on a small machine: most tests use ``backend="aot_eager"`` (Dynamo's
full capture and AOTAutograd's joint graph, without generating C++), and one test runs
Inductor for real. Under compilation and tracing no value can steer a branch, so
``functional`` uses im2col there; Winograd's own function compiles in one graph too.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from conv_oracle import assert_same_values, no_torch_conv, torch_fn

import convlab
from convlab import functional, winograd_fast
from convlab import nn as cnn
from convlab.transposed import conv_transpose2d_zero_insertion

PATHS = {  # name: (function, kwargs, (input shape, weight shape))
    "im2col, batch in the columns": ("conv2d", dict(stride=2, padding=1),
                                     ((2, 3, 9, 8), (4, 3, 3, 3))),
    "im2col per image": ("conv2d", dict(padding="same", dilation=2),
                         ((2, 3, 16, 12), (4, 3, 3, 2))),
    "groups": ("conv2d", dict(groups=2, padding=1), ((2, 4, 16, 12), (6, 2, 3, 3))),
    "conv1d": ("conv1d", dict(padding=2), ((2, 4, 140), (6, 4, 3))),
    "conv3d": ("conv3d", dict(stride=(1, 2, 1), padding=1), ((1, 2, 5, 6, 7), (3, 2, 2, 3, 2))),
    "transposed as a convolution": ("conv_transpose2d", dict(padding=1),
                                    ((2, 4, 6, 5), (4, 3, 3, 3))),
    "transposed scatter": ("conv_transpose3d", dict(stride=2, output_padding=1),
                           ((2, 4, 3, 4, 3), (4, 3, 3, 3, 2))),
}


def _tensors(shapes, seed=0, grad=True):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen).requires_grad_(grad) for s in shapes]


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("path", PATHS)
def test_compile_fullgraph_on_every_path(path):
    name, kwargs, shapes = PATHS[path]
    ours = lambda x, w: getattr(functional, name)(x, w, **kwargs)
    compiled = torch.compile(ours, fullgraph=True, backend="aot_eager")
    for seed, scale in ((0, 1), (1, 2)):  # a second call with other shapes (recompiles)
        sizes = [(s[0], s[1], *[d * scale for d in s[2:]]) if i == 0 else s
                 for i, s in enumerate(shapes)]
        x, w = _tensors(sizes, seed)
        with no_torch_conv(dispatch=False, profile=True):
            got = compiled(x, w)
            got.square().sum().backward()
        x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
        expected = torch_fn(name)(x2, w2, **kwargs)
        expected.square().sum().backward()
        assert_same_values(got, expected)
        assert_same_values(x.grad, x2.grad)
        assert_same_values(w.grad, w2.grad)


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("grad", [True, False])
def test_compile_fullgraph_winograd(tile, grad):
    """The Winograd backend in one graph (its matrices are constants built at import)."""
    x, w, b = _tensors(((2, 64, 16, 13), (8, 64, 3, 3), (8,)), grad=grad)
    compiled = torch.compile(lambda x, w, b: winograd_fast.winograd_conv2d(x, w, b, (1, 1), tile),
                             fullgraph=True, backend="aot_eager")
    with torch.set_grad_enabled(grad), no_torch_conv(dispatch=False, profile=True):
        got = compiled(x, w, b)
    assert_same_values(got, F.conv2d(x, w, b, padding=1), rtol=1e-4, atol=2e-5)
    if grad:
        g = torch.autograd.grad(got.square().sum(), (x, w, b))
        g_ref = torch.autograd.grad(F.conv2d(x, w, b, padding=1).square().sum(), (x, w, b))
        for a, e in zip(g, g_ref):
            assert_same_values(a, e, rtol=1e-4, atol=2e-5)


def test_compile_fullgraph_modules_under_autocast_and_no_grad():
    for module in (torch.nn, cnn):
        torch.manual_seed(0)
        model = torch.nn.Sequential(module.Conv2d(64, 32, 3, padding=1), torch.nn.ReLU(),
                                    module.ConvTranspose2d(32, 4, 3, stride=2))
        x = torch.randn(2, 64, 16, 16)
        if module is cnn:
            compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
            with torch.no_grad(), no_torch_conv(dispatch=False, profile=True):
                got = compiled(x)
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    got_bf16 = compiled(x)
        else:
            with torch.no_grad():
                expected = model(x)
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    expected_bf16 = model(x)
    assert_same_values(got, expected)
    assert got_bf16.dtype == torch.bfloat16
    assert_same_values(got_bf16, expected_bf16, rtol=4e-2, atol=4e-2)


def test_compile_with_inductor():
    """One real compilation to C++ (about 20 s on two cores): forward and backward."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(cnn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                                cnn.ConvTranspose2d(8, 4, 3, stride=2))
    x = torch.randn(2, 3, 12, 12)
    compiled = torch.compile(model, fullgraph=True)
    with no_torch_conv(dispatch=False, profile=True):
        got = compiled(x)
        got.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    expected = model(x)
    expected.sum().backward()
    assert_same_values(got, expected)
    for a, p in zip(grads, model.parameters()):
        assert_same_values(a, p.grad)


TRACED = {
    "conv1d": (functional.conv1d, F.conv1d, dict(padding=1, stride=2), (2, 3, 11), (4, 3, 3)),
    "conv2d": (functional.conv2d, F.conv2d, dict(padding=1), (2, 3, 9, 8), (4, 3, 3, 2)),
    "conv2d per image": (functional.conv2d, F.conv2d, dict(padding="same"), (2, 3, 16, 16),
                         (4, 3, 3, 3)),
    "conv2d winograd-sized": (functional.conv2d, F.conv2d, dict(padding=1), (2, 64, 16, 16),
                              (4, 64, 3, 3)),
    "conv3d": (functional.conv3d, F.conv3d, dict(dilation=2), (1, 2, 7, 6, 7), (3, 2, 2, 2, 2)),
    "conv_transpose1d": (functional.conv_transpose1d, F.conv_transpose1d, dict(stride=3),
                         (2, 3, 5), (3, 2, 3)),
    "conv_transpose2d": (functional.conv_transpose2d, F.conv_transpose2d, dict(padding=1),
                         (2, 3, 6, 5), (3, 2, 3, 3)),
    "conv_transpose3d": (functional.conv_transpose3d, F.conv_transpose3d,
                         dict(stride=2, output_padding=1), (1, 3, 3, 4, 3), (3, 2, 2, 3, 2)),
}


@pytest.mark.parametrize("name", TRACED)
def test_jit_trace_holds_on_new_shapes(name):
    """A trace recorded at one shape, run at others. (The dispatch mode cannot watch a
    TorchScript graph run: the profiler spies here.) Traces use im2col, so where eager
    code picks Winograd the two differ by its float32 rounding, beyond jit.trace's own
    check (1e-5): that check is left to the comparison with PyTorch."""
    ours, theirs, kwargs, x_shape, w_shape = TRACED[name]
    x, w = _tensors((x_shape, w_shape), grad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", torch.jit.TracerWarning)  # convlab's code: no warning
        warnings.filterwarnings("ignore", "`torch.jit.trace` is deprecated")
        traced = torch.jit.trace(lambda x, w: ours(x, w, **kwargs), (x, w),
                                 check_trace="winograd" not in name)
    for N, grow in ((2, 0), (1, 3), (5, 1), (3, 6)):
        x2 = torch.randn(N, x_shape[1], *[s + grow for s in x_shape[2:]])
        with no_torch_conv(dispatch=False, profile=True):
            got = traced(x2, w)
        assert_same_values(got, theirs(x2, w, **kwargs), rtol=1e-4, atol=2e-5)


def test_jit_trace_of_modules():
    for name, x_shape in (("Conv2d", (2, 4, 9, 9)), ("ConvTranspose2d", (2, 4, 5, 6))):
        torch.manual_seed(0)
        theirs = getattr(torch.nn, name)(4, 6, 3, stride=2, padding=1)
        torch.manual_seed(0)
        ours = getattr(cnn, name)(4, 6, 3, stride=2, padding=1)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "`torch.jit.trace.*` is deprecated")
            traced = torch.jit.trace(ours, torch.randn(*x_shape))
        for shape in ((1, 4, 7, 12), (3, 4, 16, 5)):
            x = torch.randn(*shape)
            with no_torch_conv(dispatch=False, profile=True):
                got = traced(x)
            assert_same_values(got, theirs(x))


SCRIPTED = [functional.conv1d, functional.conv2d, functional.conv3d,
            functional.conv_transpose1d, functional.conv_transpose2d, functional.conv_transpose3d,
            *convlab.IMPLEMENTATIONS.values(), convlab.conv_transpose2d,
            conv_transpose2d_zero_insertion]


@pytest.mark.parametrize("fn", SCRIPTED, ids=lambda f: f.__name__)
def test_jit_script_of_a_function_says_it_is_unsupported(fn):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated")
        with pytest.raises(RuntimeError, match="TorchScript cannot compile.*torch.jit.trace"):
            torch.jit.script(fn)


@pytest.mark.parametrize("name", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                                  "ConvTranspose2d", "ConvTranspose3d", "LazyConv2d"])
def test_jit_script_of_a_module_says_it_is_unsupported(name):
    module = getattr(cnn, name)(*((4,) if name.startswith("Lazy") else (2, 4)), 3)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated")
        for m in (module, torch.nn.Sequential(torch.nn.ReLU(), module)):  # also inside a model
            with pytest.raises(RuntimeError, match=f"convlab.nn.{name} is not TorchScript"):
                torch.jit.script(m)
        torch.jit.script(getattr(torch.nn, name.removeprefix("Lazy"))(2, 4, 3))  # torch's can
