"""Drop-in category *argument types*: integer arguments in every form PyTorch's argument
parser accepts (numpy integers, 0-d and one-element integer tensors, tuples and lists of
them, ``torch.Size``, tensors as ``output_size``) work, and every form it rejects fails
with its exception type (``TypeError`` for wrong types, ``ValueError`` for integers beyond
int64, ``RuntimeError`` for wrong values).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conv_oracle import nd_calls, spied, torch_fn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convlab
from convlab import functional
from convlab import nn as cnn
from convlab.transposed import conv_transpose2d_zero_insertion

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
INT_FORMS = [int, np.int64, np.int32, np.uint8, torch.tensor,
             lambda v: torch.tensor(v, dtype=torch.int32), lambda v: torch.tensor([v]),
             lambda v: torch.tensor(v, dtype=torch.uint8)]


def test_the_issue_examples():
    x, w = torch.randn(1, 4, 9, 9), torch.randn(4, 4, 3, 3)
    for kwargs in (dict(stride=np.int64(2)), dict(padding=torch.tensor(1)),
                   dict(stride=(torch.tensor(2), 1)), dict(groups=np.int64(1))):
        torch.testing.assert_close(spied(functional.conv2d, x, w, **kwargs),
                                   F.conv2d(x, w, **kwargs))
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
    torch.manual_seed(0)
    ours = cnn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
    x = torch.randn(1, 4, 5, 5)
    size = torch.tensor([9, 9])
    torch.testing.assert_close(spied(ours, x, output_size=size), theirs(x, output_size=size))


@st.composite
def int_form(draw, value):
    """``value`` in one of the forms PyTorch accepts for an integer."""
    form = draw(st.sampled_from(INT_FORMS))
    return form(value)


@st.composite
def arg_forms(draw, value):
    """A stride/padding-like argument in a random accepted form (``value``: a list)."""
    kind = draw(st.sampled_from(["tuple", "list", "size", "scalar", "one-tuple"]))
    if kind in ("scalar", "one-tuple") and len(set(value)) == 1:
        one = draw(int_form(value[0]))
        return one if kind == "scalar" else (one,)
    if kind == "size":
        return torch.Size(value)
    items = [draw(int_form(v)) for v in value]
    return tuple(items) if kind == "tuple" else items


@EXAMPLES
@given(call=nd_calls(batch=(1, 2, None)), data=st.data())
def test_every_functional_accepts_integers_in_any_form(call, data):
    x, w, b = call.tensors()
    kwargs = {}
    for name, value in call.kwargs.items():
        if name == "groups":
            kwargs[name] = data.draw(int_form(value))
        elif isinstance(value, str):
            kwargs[name] = value
        else:
            kwargs[name] = data.draw(arg_forms(value))
    expected = torch_fn(call.name)(x, w, b, **call.kwargs)
    torch.testing.assert_close(torch_fn(call.name)(x, w, b, **kwargs), expected)  # torch: same
    torch.testing.assert_close(spied(getattr(functional, call.name), x, w, b, **kwargs), expected)


STEPWISE = {**convlab.IMPLEMENTATIONS, "conv_transpose2d": convlab.conv_transpose2d,
            "conv_transpose2d_zero_insertion": conv_transpose2d_zero_insertion}


@pytest.mark.parametrize("name", STEPWISE)
def test_every_stepwise_function_accepts_integers_in_any_form(name):
    fn, rng = STEPWISE[name], np.random.default_rng(0)
    transposed = name.startswith("conv_transpose")
    ref = F.conv_transpose2d if transposed else F.conv2d
    x = torch.randn(2, 4, 7, 8, dtype=torch.float64)
    pick = lambda low, high: [int(v) for v in rng.integers(low, high, 2)]
    form = lambda v: INT_FORMS[rng.integers(len(INT_FORMS))](v)
    for _ in range(25):
        plain = dict(stride=[1, 1] if name == "winograd" else pick(1, 3), padding=pick(0, 2),
                     dilation=[1, 1] if name == "winograd" else pick(1, 3),
                     groups=int(rng.integers(1, 3)))
        if transposed:
            plain["output_padding"] = [0, 0]
        w = torch.randn(4, 2 if transposed else 4 // plain["groups"], 3, 3, dtype=torch.float64)
        forms = {k: form(v) if k == "groups" else tuple(form(e) for e in v)
                 for k, v in plain.items()}
        torch.testing.assert_close(spied(fn, x, w, **forms), ref(x, w, **plain))


def _zoo():
    """Values for one integer argument: (id, value). Each must do what it does in PyTorch."""
    return {
        "1": 1, "np.int64(1)": np.int64(1), "np.int8(2)": np.int8(2), "np.uint64(1)":
        np.uint64(1), "tensor(1)": torch.tensor(1), "tensor(2, uint8)": torch.tensor(
            2, dtype=torch.uint8), "tensor(True)": torch.tensor(True), "tensor([1])":
        torch.tensor([1]), "tensor([1, 1])": torch.tensor([1, 1]), "tensor(1.)":
        torch.tensor(1.0), "tensor(1+0j)": torch.tensor(1 + 0j), "1.0": 1.0, "1.5": 1.5,
        "np.float32(1)": np.float32(1), "True": True, "np.True_": np.True_, "'a'": "a",
        "'same'": "same", "None": None, "np.array(1)": np.array(1), "np.array([1])":
        np.array([1]), "np.array([1, 1])": np.array([1, 1]), "Size([1, 2])":
        torch.Size([1, 2]), "2**63": 2**63, "-2**63-1": -2**63 - 1, "2**40": 2**40, "-1": -1,
        "0": 0, "range(1, 3)": range(1, 3), "(1, np.array(1))": (1, np.array(1)),
        "(1, tensor([1]))": (1, torch.tensor([1])), "(1, tensor([1, 1]))": (1, torch.tensor(
            [1, 1])), "(1, tensor(1.))": (1, torch.tensor(1.0)), "(1, None)": (1, None),
        "(1, True)": (1, True), "[1, np.int32(2)]": [1, np.int32(2)], "(1, 2**63)": (1, 2**63),
        "((1,), 1)": ((1,), 1), "{1, 2}": {1, 2}, "(1, 1.5)": (1, 1.5), "(1, 'a')": (1, "a"),
        "()": (), "(1, 1, 1)": (1, 1, 1),
    }


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the type is what we compare
        return type(e)


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d", "conv1d", "conv_transpose3d"])
@pytest.mark.parametrize("arg", ["stride", "padding", "dilation", "groups", "output_padding"])
def test_every_value_does_what_it_does_in_torch(op, arg):
    """A zoo of values in each integer argument: the same result or the same exception."""
    if arg == "output_padding" and not op.startswith("conv_transpose"):
        pytest.skip("conv has no output_padding")
    dims = int(op[-2])
    x = torch.randn(1, 2, *[6] * dims, dtype=torch.float64)
    w = torch.randn(2, 2, *[3] * dims, dtype=torch.float64)
    for label, value in _zoo().items():
        if arg == "dilation" and label == "2**40":
            continue  # PyTorch's kernel-size arithmetic overflows (an undefined result)
        kwargs = {arg: value, **({"stride": 3} if arg == "output_padding" else {})}
        if dims != 2 and isinstance(value, (tuple, list, torch.Size)) and len(value) == 2:
            continue  # a 2-tuple means a wrong length elsewhere (tested in 2-D)
        expected = _outcome(torch_fn(op), x, w, **kwargs)
        got = _outcome(spied, getattr(functional, op), x, w, **kwargs)
        if isinstance(expected, torch.Tensor):
            assert isinstance(got, torch.Tensor), (label, got)
            torch.testing.assert_close(got, expected)
        else:
            assert got is expected, (label, got, expected)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_modules_take_numpy_and_tensor_integers(dims):
    for kwargs in (dict(kernel_size=3, stride=np.int64(2), padding=np.int32(1)),
                   dict(kernel_size=np.int64(3), dilation=(np.int8(2),) * dims)):
        for name in (f"Conv{dims}d", f"ConvTranspose{dims}d"):
            torch.manual_seed(0)
            theirs = getattr(torch.nn, name)(2, 4, **kwargs)
            torch.manual_seed(0)
            ours = getattr(cnn, name)(2, 4, **kwargs)
            assert repr(ours) == repr(theirs)
            x = torch.randn(2, 2, *[9] * dims)
            torch.testing.assert_close(spied(ours, x), theirs(x))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_output_size_in_every_form(dims):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, f"ConvTranspose{dims}d")(3, 2, 3, stride=2, padding=1)
    torch.manual_seed(0)
    ours = getattr(cnn, f"ConvTranspose{dims}d")(3, 2, 3, stride=2, padding=1)
    x = torch.randn(2, 3, *[4] * dims)
    for size in (7, 8):
        sizes = [size] * dims
        for form in (sizes, tuple(sizes), torch.Size(sizes), torch.tensor(sizes),
                     [torch.tensor(s) for s in sizes], [np.int64(s) for s in sizes],
                     [2, 2, *sizes]):
            torch.testing.assert_close(spied(ours, x, output_size=form),
                                       theirs(x, output_size=form))
    for bad in ([9] * dims, [6] * dims, [7] * (dims + 1)):
        with pytest.raises(ValueError):
            theirs(x, output_size=bad)
        with pytest.raises(ValueError):
            ours(x, output_size=bad)
