"""Drop-in category *torch.func*: ``jvp``, ``jacfwd``, ``vmap``, ``grad``, model ensembling
with ``functional_call`` (also under ``no_grad``) and ``torch.autograd.forward_ad`` give
PyTorch's results on every path of ``convlab.functional``.

The fast paths write into preallocated ``out=`` buffers, which have no batching or
forward-AD rules; they detect the transforms (``winograd_fast.can_write_out``) and use
the same ops without ``out=`` there. Under ``vmap`` no value can steer the backend choice,
so the values-dependent backends give way to im2col.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.func as tf
import torch.nn.functional as F
from conv_oracle import assert_same_values, nd_calls, no_torch_conv, spied, torch_fn
from hypothesis import HealthCheck, given, settings
from torch.autograd import forward_ad

from convlab import functional
from convlab import nn as cnn

EXAMPLES = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


def _paths():
    """(id, function name, kwargs, float32 tensor shapes, module constants to set): one case
    per path through convlab.functional."""
    return [
        ("im2col, batch in the columns", "conv2d", dict(stride=2, padding=1),
         ((2, 3, 9, 8), (4, 3, 3, 3)), {}),
        ("im2col per image", "conv2d", dict(padding=1), ((2, 3, 16, 12), (4, 3, 3, 2)), {}),
        ("im2col in chunks", "conv2d", dict(padding=1, dilation=2),
         ((4, 3, 16, 12), (4, 3, 3, 3)), {"IM2COL_CHUNK_BYTES": 1}),
        ("winograd2", "conv2d", dict(padding=1), ((2, 64, 10, 9), (3, 64, 3, 3)), {}),
        ("winograd4", "conv2d", dict(padding=1), ((2, 64, 16, 17), (3, 64, 3, 3)), {}),
        ("taps", "conv2d", dict(padding=1), ((2, 8, 7, 7), (3, 8, 3, 3)), {"_inf": True}),
        ("conv1d", "conv1d", dict(padding=2, groups=2), ((2, 4, 140), (6, 2, 3)), {}),
        ("conv3d", "conv3d", dict(stride=(1, 2, 1)), ((1, 2, 5, 6, 7), (3, 2, 2, 3, 2)), {}),
        ("transposed, as a convolution", "conv_transpose2d", dict(padding=1),
         ((2, 4, 6, 5), (4, 3, 3, 3)), {}),
        ("transposed, scatter", "conv_transpose2d", dict(stride=2, output_padding=1),
         ((2, 4, 6, 5), (4, 3, 3, 3)), {}),
    ]


PATHS = pytest.mark.parametrize("case", _paths(), ids=[p[0] for p in _paths()])


def _setup(case, monkeypatch):
    _, name, kwargs, (x_shape, w_shape), constants = case
    for key, value in constants.items():
        if not key.startswith("_"):
            monkeypatch.setattr(functional, key, value)
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(*x_shape, generator=gen), torch.randn(*w_shape, generator=gen) / 8
    if constants.get("_inf"):
        w[0, 0, 0, 0] = float("inf")  # the taps backend (oneDNN would skip the padding)
    b = torch.randn(w.shape[1] if name.startswith("conv_transpose") else w.shape[0])
    ours = lambda x, w, b: getattr(functional, name)(x, w, b, **kwargs)
    theirs = lambda x, w, b: torch_fn(name)(x, w, b, **kwargs)
    return ours, theirs, (x, w, b)


def _assert_close(got, expected):
    """Every tensor of a (nested) result: PyTorch's non-finite pattern, and close at the
    scale of its largest value (float32 Winograd rounds more than a direct sum)."""
    leaves = torch.utils._pytree.tree_leaves
    for a, e in zip(leaves(got), leaves(expected), strict=True):
        assert_same_values(a, e, rtol=1e-4, atol=2e-5)


@PATHS
@pytest.mark.parametrize("grad_mode", [True, False])
def test_jvp_on_every_path(case, grad_mode, monkeypatch):
    ours, theirs, primals = _setup(case, monkeypatch)
    tangents = tuple(torch.randn_like(t) for t in primals)
    with torch.set_grad_enabled(grad_mode):
        expected = tf.jvp(theirs, primals, tangents)
        got = spied(tf.jvp, ours, primals, tangents)
    _assert_close(got, expected)


@PATHS
@pytest.mark.parametrize("grad_mode", [True, False])
def test_forward_ad_on_every_path(case, grad_mode, monkeypatch):
    ours, theirs, (x, w, b) = _setup(case, monkeypatch)
    tx, tw = torch.randn_like(x), torch.randn_like(w)
    results = []
    for fn in (theirs, ours):
        with forward_ad.dual_level(), torch.set_grad_enabled(grad_mode):
            with no_torch_conv() if fn is ours else torch.enable_grad():
                y = fn(forward_ad.make_dual(x, tx), forward_ad.make_dual(w, tw), b)
            results.append(forward_ad.unpack_dual(y))
    _assert_close(tuple(results[1]), tuple(results[0]))


@PATHS
@pytest.mark.parametrize("grad_mode", [True, False])
def test_vmap_on_every_path(case, grad_mode, monkeypatch):
    if case[0] == "taps":
        pytest.skip("under vmap no value can steer the backend: an inf weight at the border "
                    "gives im2col's nan where oneDNN skips the padding (documented)")
    ours, theirs, (x, w, b) = _setup(case, monkeypatch)
    xs, ws = torch.stack([x, 2 * x, -x]), torch.stack([w, w / 2, -w])
    with torch.set_grad_enabled(grad_mode):
        for in_dims, args in (((0, None, None), (xs, w, b)), ((None, 0, None), (x, ws, b)),
                              ((0, 0, None), (xs, ws, b))):
            expected = tf.vmap(theirs, in_dims)(*args)
            _assert_close(spied(tf.vmap(ours, in_dims), *args), expected)


@PATHS
def test_grad_and_jacfwd_on_every_path(case, monkeypatch):
    if case[0] == "taps":
        pytest.skip("gradients of an inf weight: no backward formula promises PyTorch's nans")
    ours, theirs, (x, w, b) = _setup(case, monkeypatch)
    loss = lambda fn: (lambda x, w, b: fn(x, w, b).nan_to_num().square().sum())
    _assert_close(spied(tf.grad(loss(ours), argnums=(0, 1, 2)), x, w, b),
                  tf.grad(loss(theirs), argnums=(0, 1, 2))(x, w, b))
    small = lambda fn: (lambda b: fn(x, w, b).flatten()[:40])  # a 40 x C_out Jacobian
    _assert_close(spied(tf.jacfwd(small(ours)), b), tf.jacfwd(small(theirs))(b))


@EXAMPLES
@given(call=nd_calls(batch=(1, 2, None), max_channels=4))
def test_jvp_and_vmap_on_random_calls(call):
    x, w, b = call.tensors(torch.float64)
    ours = lambda x, w: getattr(functional, call.name)(x, w, b, **call.kwargs)
    theirs = lambda x, w: torch_fn(call.name)(x, w, b, **call.kwargs)
    tangents = (torch.randn_like(x), torch.randn_like(w))
    _assert_close(spied(tf.jvp, ours, (x, w), tangents), tf.jvp(theirs, (x, w), tangents))
    xs = torch.stack([x, x.flip(-1)])
    with torch.no_grad():
        _assert_close(spied(tf.vmap(ours, (0, None)), xs, w), tf.vmap(theirs, (0, None))(xs, w))


def _ensemble(conv, convT, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(conv(64, 64, 3, padding=1), torch.nn.ReLU(),
                               convT(64, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
                               conv(8, 4, 3))


@pytest.mark.parametrize("grad_mode", [True, False])
def test_model_ensembling_with_functional_call(grad_mode):
    """torch.func's ensembling recipe: stacked parameters, one vmap over the models."""
    x = torch.randn(2, 64, 16, 16)
    stacks = []
    for conv, convT in ((torch.nn.Conv2d, torch.nn.ConvTranspose2d), (cnn.Conv2d,
                                                                      cnn.ConvTranspose2d)):
        models = [_ensemble(conv, convT, seed) for seed in range(3)]
        params, buffers = tf.stack_module_state(models)
        base = copy.deepcopy(models[0]).to("meta")
        run = lambda p, b, x, base=base: tf.functional_call(base, (p, b), (x,))
        with torch.set_grad_enabled(grad_mode):
            if conv is cnn.Conv2d:
                with no_torch_conv():
                    stacks.append(tf.vmap(run, in_dims=(0, 0, None))(params, buffers, x))
            else:
                stacks.append(tf.vmap(run, in_dims=(0, 0, None))(params, buffers, x))
    assert stacks[1].shape == (3, 2, 4, 29, 29)
    _assert_close(stacks[1], stacks[0])


def test_fast_paths_still_write_in_place_without_transforms(monkeypatch):
    """The detection must not cost the plain no-grad case its ``out=`` fast path."""
    calls = []
    real = functional._per_image_gemm
    monkeypatch.setattr(functional, "_per_image_gemm",
                        lambda *a, **k: calls.append(k.get("out") is not None) or real(*a, **k))
    monkeypatch.setattr(functional, "IM2COL_CHUNK_BYTES", 1)
    x, w = torch.randn(3, 2, 16, 16), torch.randn(4, 2, 3, 3)
    with torch.no_grad():
        functional.conv2d(x, w, padding=1)
    assert calls == [True] * 3  # three chunks of one image, each written in place
    calls.clear()
    tf.jvp(lambda x: functional.conv2d(x, w, padding=1), (x,), (x,))
    assert calls == [False]  # under jvp: one call, no out=
    assert F.conv2d is torch.nn.functional.conv2d  # (the reference is untouched)
