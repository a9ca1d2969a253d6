"""parse_conv_args: normal form and the errors PyTorch raises, for 1-, 2- and 3-d."""

import pytest
import torch
import torch.nn.functional as F

from convlab._checks import pad_input, parse_conv_args

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _bad_calls(dims):
    s = (5,) * dims
    k = (3,) * dims
    x = torch.randn(1, 3, *s)
    w = torch.randn(4, 3, *k)
    return {
        "input rank": (torch.randn(*s), w, {}),
        "channels": (torch.randn(1, 2, *s), w, {}),
        "groups divide out": (torch.randn(1, 4, *s), torch.randn(3, 2, *k), {"groups": 2}),
        "stride 0": (x, w, {"stride": 0}),
        "dilation 0": (x, w, {"dilation": 0}),
        "groups 0": (x, w, {"groups": 0}),
        "negative padding": (x, w, {"padding": -1}),
        "padding string": (x, w, {"padding": "full"}),
        "same strided": (x, w, {"padding": "same", "stride": 2}),
        "kernel too big": (torch.randn(1, 3, *(2,) * dims), w, {}),
        "bias length": (x, w, {"bias": torch.randn(3)}),
        "dtype": (x.double(), w, {}),
        "stride tuple": (x, w, {"stride": (1,) * (dims + 1)}),
        "float stride": (x, w, {"stride": 1.5}),
    }


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_same_exception_type_as_torch(dims):
    for name, (x, w, kwargs) in _bad_calls(dims).items():
        bias = kwargs.pop("bias", None)
        with pytest.raises(Exception) as theirs:
            CONV[dims](x, w, bias, **kwargs)
        with pytest.raises(Exception) as ours:
            parse_conv_args(x, w, bias, dims=dims, **kwargs)
        assert type(ours.value) is type(theirs.value), name
        assert str(ours.value), name


def test_normal_form():
    x = torch.randn(3, 6, 7)  # unbatched
    w = torch.randn(4, 3, 2, 3)
    args = parse_conv_args(x, w, padding="same", dilation=(1, 2))
    assert args.unbatched and args.input.shape == (1, 3, 6, 7)
    assert args.padding == ((0, 1), (2, 2))
    assert args.stride == (1, 1) and args.dilation == (1, 2) and args.groups == 1
    padded = pad_input(args.input, args.padding)
    assert padded.shape == (1, 3, 7, 11)
    assert parse_conv_args(x, w, padding="valid").padding == ((0, 0), (0, 0))
