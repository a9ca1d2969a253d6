"""Drop-in category *isinstance*: every ``convlab.nn`` module is an instance of its
``torch.nn`` counterpart, so code written for torch's modules treats ours the same way,
and still none of torch's convolution code runs.

convlab's classes list torch's class *after* their own base (``Conv2d(_ConvNd,
torch.nn.Conv2d)``): Python's method resolution order then finds every attribute torch's
conv classes define in a convlab class first. The tests prove it statically (the MRO) and
dynamically (a profiler hook records every Python function called while the modules are
built, run, differentiated, printed, saved, loaded, pickled and copied).
"""

from __future__ import annotations

import copy
import inspect
import io
import pickle
import sys

import pytest
import torch
import torch.nn as tnn
import torchvision.models.resnet as tv_resnet
from conv_oracle import no_torch_conv, spied

from convlab import nn as cnn

CLASSES = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]
EACH = pytest.mark.parametrize("name", CLASSES)
TORCH_CONV_FILE = inspect.getsourcefile(tnn.modules.conv)


def _build(name, seed=0, **kwargs):
    dims, lazy = int(name[-2]), name.startswith("Lazy")
    args = (6, 3) if lazy else (4, 6, 3)
    torch.manual_seed(seed)
    return getattr(cnn, name)(*args, **kwargs), dims


@EACH
def test_isinstance_and_issubclass_of_torchs_class(name):
    ours, dims = _build(name)
    theirs = getattr(tnn, name)
    assert isinstance(ours, theirs) and issubclass(getattr(cnn, name), theirs)
    assert isinstance(ours, tnn.modules.conv._ConvNd)
    if "Transpose" in name:
        assert isinstance(ours, tnn.modules.conv._ConvTransposeNd)
    if name.startswith("Lazy"):
        assert isinstance(ours, tnn.modules.lazy.LazyModuleMixin)
        ours(torch.randn(2, 5, *[6] * dims))  # materialised: becomes the eager class
        eager = getattr(cnn, name.removeprefix("Lazy"))
        assert type(ours) is eager and isinstance(ours, getattr(tnn, name.removeprefix("Lazy")))


@EACH
def test_no_attribute_of_torchs_conv_classes_is_reachable(name):
    """Every name torch.nn.modules.conv's classes define (methods, ``__constants__``,
    annotations) resolves, on the convlab class, to a convlab class."""
    ours, theirs = getattr(cnn, name), getattr(tnn, name)
    torch_classes = [k for k in theirs.__mro__ if k.__module__ == tnn.modules.conv.__name__]
    names = {n for k in torch_classes for n in vars(k)}
    assert {"__init__", "forward", "_conv_forward", "extra_repr", "reset_parameters",
            "__setstate__"} <= names
    for attr in sorted(names):
        owner = next(k for k in ours.__mro__ if attr in vars(k))
        assert owner.__module__ == "convlab.nn", (name, attr, owner)
    for attr in names - {"__doc__", "__module__", "__annotations__", "__constants__",
                         "cls_to_become"}:
        assert getattr(ours, attr) is not getattr(theirs, attr), attr


@pytest.fixture
def torch_conv_calls():
    """Records every call of a Python function defined in torch/nn/modules/conv.py."""
    calls = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == TORCH_CONV_FILE:
            calls.append(frame.f_code.co_name)
    sys.setprofile(hook)
    yield calls
    sys.setprofile(None)


@EACH
def test_no_torch_conv_code_runs(name, torch_conv_calls):
    """Build, run, differentiate, print, save, load, pickle and copy: not one call into
    torch's conv.py, and (dispatch spy) not one PyTorch convolution kernel."""
    with no_torch_conv():
        ours, dims = _build(name, stride=2, padding=1, bias=True)
        x = torch.randn(2, 4 if not name.startswith("Lazy") else 5, *[5] * dims)
        y = ours(x)
        y.square().sum().backward()
        repr(ours), ours.extra_repr()
        state = ours.state_dict()
        twin, _ = _build(name.removeprefix("Lazy"), seed=1, stride=2, padding=1)
        if not name.startswith("Lazy"):
            twin.load_state_dict(state)
            torch.testing.assert_close(twin(x), y)
        buffer = io.BytesIO()
        torch.save(ours, buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=False)
        again = pickle.loads(pickle.dumps(ours))
        clone = copy.deepcopy(ours)
        for m in (loaded, again, clone):
            assert type(m) is type(ours) and isinstance(m, getattr(tnn, name.removeprefix("Lazy")))
            torch.testing.assert_close(m(x), y)
        ours.reset_parameters()
        ours.double()(x.double())
        ours.__setstate__(ours.__dict__.copy())
    assert torch_conv_calls == [], sorted(set(torch_conv_calls))


def test_torchvision_init_loop_treats_ours_like_torchs(monkeypatch):
    """ResNet's own constructor: ``isinstance(m, nn.Conv2d)`` -> ``kaiming_normal_``. With
    convlab's convolutions in every block it must draw the same numbers as with torch's."""
    torch.manual_seed(0)
    reference = tv_resnet.resnet18()
    monkeypatch.setattr(tv_resnet, "conv3x3", lambda i, o, stride=1, groups=1, dilation=1: (
        cnn.Conv2d(i, o, 3, stride, dilation, dilation, groups, bias=False)))  # as torchvision's
    monkeypatch.setattr(tv_resnet, "conv1x1", lambda i, o, stride=1: cnn.Conv2d(
        i, o, 1, stride, bias=False))
    torch.manual_seed(0)
    rebuilt = tv_resnet.resnet18()
    swapped = [m for m in rebuilt.modules() if isinstance(m, cnn.Conv2d)]
    assert len(swapped) == 19  # all but the stem
    for (n, a), (_, b) in zip(rebuilt.named_parameters(), reference.named_parameters()):
        assert torch.equal(a, b), n
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(x), reference.eval()(x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("which", ["hooks", "parametrizations"])
def test_spectral_norm_uses_dim_1_on_transposed_convolutions(dims, which):
    """spectral_norm picks ``dim=1`` for ``isinstance(m, ConvTransposeNd)``; before, ours
    was normalised along dim 0 and its outputs differed from torch's by up to 0.36."""
    norm = (torch.nn.utils.spectral_norm if which == "hooks"
            else torch.nn.utils.parametrizations.spectral_norm)
    outputs = []
    for module in (tnn, cnn):
        torch.manual_seed(0)
        conv = getattr(module, f"ConvTranspose{dims}d")(4, 6, 3, stride=2)
        torch.manual_seed(1)
        conv = norm(conv)
        x = torch.randn(2, 4, *[5] * dims)
        outputs.append(conv(x) if module is tnn else spied(conv, x))
    torch.testing.assert_close(outputs[1], outputs[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_bn_fusion_helpers(transposed):
    """torch's fusion of a convolution and a batch norm, on ours: same fused outputs."""
    results = []
    for module in (tnn, cnn):
        torch.manual_seed(0)
        conv = (module.ConvTranspose2d(4, 6, 3, stride=2) if transposed
                else module.Conv2d(4, 6, 3, padding=1)).eval()
        bn = tnn.BatchNorm2d(6).eval()
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn, transpose=transposed)
        assert type(fused) is type(conv)
        x = torch.randn(2, 4, 7, 7)
        with torch.no_grad():
            results.append((fused(x), bn(conv(x))))
    for (ours_fused, ours_two), (theirs_fused, _) in zip(results[1:], results[:1]):
        torch.testing.assert_close(ours_fused, theirs_fused, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(ours_fused, ours_two, atol=1e-5, rtol=1e-4)


def test_torch_ao_fuse_modules_with_a_mapping_for_our_type():
    """torch.ao's fuser looks fusers up by exact type (also for user subclasses of
    nn.Conv2d): with a mapping for convlab's type it fuses ours like torch's."""
    from torch.ao.quantization import fuse_modules
    from torch.ao.quantization.fuser_method_mappings import fuse_conv_bn

    fused = []
    for module in (tnn, cnn):
        torch.manual_seed(0)
        model = tnn.Sequential(module.Conv2d(3, 8, 3, padding=1), tnn.BatchNorm2d(8)).eval()
        model[1].running_mean.uniform_(-1, 1)
        mapping = {(cnn.Conv2d, tnn.BatchNorm2d): fuse_conv_bn}
        model = fuse_modules(model, [["0", "1"]],
                             fuse_custom_config_dict={"additional_fuser_method_mapping": mapping})
        assert isinstance(model[0], tnn.Conv2d) and isinstance(model[1], tnn.Identity)
        fused.append(model)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(spied(fused[1], x), fused[0](x), atol=1e-5, rtol=1e-4)
