"""convlab.nn against torch.nn: init, outputs, gradients, repr, state_dict, errors, lazy."""

import inspect
import io
import pickle
import re

import pytest
import torch
import torch.nn as tnn

from convlab import nn as cnn

CLASSES = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]

CONFIGS = [  # (class name, args, kwargs)
    ("Conv1d", (3, 6, 4), dict(padding=2, padding_mode="circular")),
    ("Conv1d", (4, 4, 3), dict(groups=4, bias=False, padding="same", dilation=2)),
    ("Conv2d", (3, 6, 3), {}),
    ("Conv2d", (4, 6, (2, 3)), dict(padding="same", dilation=2, groups=2, bias=False,
                                   padding_mode="reflect")),
    ("Conv2d", (3, 4, 3), dict(stride=2, padding=(1, 2), padding_mode="replicate")),
    ("Conv2d", (3, 4, 2), dict(padding="valid", padding_mode="circular")),
    ("Conv2d", (2, 4, 4), dict(padding="same", padding_mode="zeros")),
    ("Conv3d", (2, 4, 3), dict(padding=1, padding_mode="replicate", stride=2)),
    ("Conv3d", (2, 2, (1, 2, 3)), dict(padding="same", dtype=torch.float64)),
    ("ConvTranspose1d", (4, 6, 3), dict(bias=False, dilation=2)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("ConvTranspose2d", (3, 2, (3, 2)), dict(stride=(2, 3), dilation=2, output_padding=(1, 2))),
    ("ConvTranspose3d", (2, 4, 3), dict(stride=2)),
]


def _pair_of_modules(name, args, kwargs):
    torch.manual_seed(0)
    theirs = getattr(tnn, name)(*args, **kwargs)
    torch.manual_seed(0)
    ours = getattr(cnn, name)(*args, **kwargs)
    return theirs, ours


@pytest.mark.parametrize("name", CLASSES)
def test_same_signature(name):
    assert (inspect.signature(getattr(cnn, name).__init__).parameters.keys()
            == inspect.signature(getattr(tnn, name).__init__).parameters.keys())
    for (p, q) in zip(inspect.signature(getattr(cnn, name).__init__).parameters.values(),
                      inspect.signature(getattr(tnn, name).__init__).parameters.values()):
        assert p.default == q.default, (name, p, q)


@pytest.mark.parametrize("name,args,kwargs", CONFIGS)
def test_same_init_repr_forward_backward(name, args, kwargs):
    theirs, ours = _pair_of_modules(name, args, kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)  # bit-identical
    assert ours._reversed_padding_repeated_twice == theirs._reversed_padding_repeated_twice
    dims = int(name[-2])
    x = torch.randn(2, args[0], *[7] * dims, dtype=kwargs.get("dtype", torch.float32))
    out_t, out_o = theirs(x), ours(x)
    torch.testing.assert_close(out_o, out_t, atol=1e-5, rtol=1e-4)
    out_t.square().sum().backward()
    out_o.square().sum().backward()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(ours(x[0]), theirs(x[0]), atol=1e-5, rtol=1e-4)  # unbatched


@pytest.mark.parametrize("name,args,kwargs", CONFIGS[:4] + CONFIGS[9:11])
def test_state_dict_round_trips(name, args, kwargs):
    theirs, _ = _pair_of_modules(name, args, kwargs)
    torch.manual_seed(1)
    ours = getattr(cnn, name)(*args, **kwargs)
    ours.load_state_dict(theirs.state_dict())  # torch -> convlab
    dims = int(name[-2])
    x = torch.randn(1, args[0], *[6] * dims)
    torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        for p in ours.parameters():
            p.mul_(2)
    theirs.load_state_dict(ours.state_dict())  # convlab -> torch
    torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-4)


def test_pickle_and_setstate():
    _, ours = _pair_of_modules("Conv2d", (2, 3, 3), dict(padding_mode="reflect"))
    again = pickle.loads(pickle.dumps(ours))
    assert repr(again) == repr(ours)
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    assert repr(torch.load(buffer, weights_only=False)) == repr(ours)
    state = dict(ours.__dict__)
    del state["padding_mode"]  # an old pickle, from before padding modes
    fresh = cnn.Conv2d.__new__(cnn.Conv2d)
    fresh.__setstate__(state)
    assert fresh.padding_mode == "zeros"


def test_channels_last_weight_init_is_identical():
    torch.manual_seed(0)
    theirs = tnn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    ours = cnn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    for m in (theirs, ours):
        torch.manual_seed(5)
        m.reset_parameters()
    assert torch.equal(ours.weight, theirs.weight)


INVALID = [  # each raises in torch; ours must raise the same type with the same message
    ("Conv2d", (4, 4, 3), dict(groups=0)),
    ("Conv2d", (4, 4, 3), dict(groups=-1)),
    ("Conv2d", (3, 4, 3), dict(groups=2)),
    ("Conv2d", (4, 3, 3), dict(groups=2)),
    ("Conv2d", (4, 4, 3), dict(padding="full")),
    ("Conv2d", (4, 4, 3), dict(padding="same", stride=2)),
    ("Conv1d", (4, 4, 3), dict(padding="same", stride=(2,))),
    ("Conv2d", (4, 4, 3), dict(padding_mode="mirror")),
    ("Conv3d", (4, 4, 3), dict(padding_mode="nope")),
    ("ConvTranspose2d", (4, 4, 3), dict(padding_mode="reflect")),
    ("ConvTranspose1d", (4, 4, 3), dict(padding_mode="circular")),
    ("ConvTranspose3d", (4, 3, 3), dict(groups=2)),
]


@pytest.mark.parametrize("name,args,kwargs", INVALID)
def test_validation_errors_like_torch(name, args, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(tnn, name)(*args, **kwargs)
    with pytest.raises(theirs.type) as ours:
        getattr(cnn, name)(*args, **kwargs)
    assert _same_set_order(str(ours.value)) == _same_set_order(str(theirs.value))


def _same_set_order(message: str) -> str:
    """Sort the items of a printed set: torch's message prints a ``set`` literal whose
    iteration order depends on the process's string hashing, so it differs between runs
    (and between two modules compiled in different processes)."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}",
                  message)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_output_size(dims):
    theirs, ours = _pair_of_modules(f"ConvTranspose{dims}d", (2, 3, 3), dict(stride=2,
                                                                            padding=1))
    x = torch.randn(1, 2, *[4] * dims)
    for size in ([7] * dims, [8] * dims, [1, 3, *[8] * dims]):
        torch.testing.assert_close(ours(x, output_size=size), theirs(x, output_size=size))
    for bad in ([6] * dims, [9] * dims, [7] * (dims + 1)):
        with pytest.raises(ValueError) as e_t:
            theirs(x, output_size=bad)
        with pytest.raises(ValueError) as e_o:
            ours(x, output_size=bad)
        assert str(e_o.value) == str(e_t.value)
    with pytest.raises(ValueError) as e_o:  # unbatched input, a 4-long size
        ours(x[0], output_size=[1, 1, 1, 1, 1, 1])
    assert "output_size must have" in str(e_o.value)


@pytest.mark.parametrize("name", [c for c in CLASSES if c.startswith("Lazy")])
def test_lazy_modules(name):
    dims = int(name[-2])
    kwargs = dict(stride=2) if "Transpose" in name else dict(padding=1)
    torch.manual_seed(0)
    theirs = getattr(tnn, name)(6, 3, **kwargs)
    torch.manual_seed(0)
    ours = getattr(cnn, name)(6, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    assert isinstance(ours.weight, tnn.parameter.UninitializedParameter)
    x = torch.randn(2, 4, *[5] * dims)
    torch.manual_seed(1)  # parameters are drawn on the first call
    out_t = theirs(x)
    torch.manual_seed(1)
    torch.testing.assert_close(ours(x), out_t, atol=1e-5, rtol=1e-4)
    concrete = getattr(cnn, name.removeprefix("Lazy"))
    assert type(ours) is concrete and ours.in_channels == 4
    assert repr(ours) == repr(theirs)
    assert torch.equal(ours.weight, theirs.weight)
    with pytest.raises(RuntimeError) as e_t:
        getattr(tnn, name)(6, 3)(torch.randn(*[5] * (dims + 3)))
    with pytest.raises(RuntimeError) as e_o:
        getattr(cnn, name)(6, 3)(torch.randn(*[5] * (dims + 3)))
    assert str(e_o.value) == str(e_t.value).replace("torch.nn", "convlab.nn")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        getattr(cnn, name)(6, 3, groups=3)(x)


def test_isinstance_and_hierarchy():
    assert issubclass(cnn.Conv2d, cnn._ConvNd) and issubclass(cnn.ConvTranspose2d,
                                                               cnn._ConvTransposeNd)
    assert issubclass(cnn._ConvTransposeNd, cnn._ConvNd)
    assert issubclass(cnn.LazyConv2d, tnn.modules.lazy.LazyModuleMixin)
    assert cnn.Conv2d(1, 1, 1).__constants__ == tnn.Conv2d(1, 1, 1).__constants__
