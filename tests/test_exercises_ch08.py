"""Chapter 8 exercises: the solutions pass; plausible wrong answers are rejected, and
the verdict names the case that catches them."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from exercise_helpers import assert_solution_passes, rejected
from torch import nn

from convlab.exercises import EXERCISES

CH08 = ["ch08_max_pool", "ch08_accuracy", "ch08_conv_outputs", "ch08_count_parameters"]


@pytest.mark.parametrize("exercise_id", CH08)
def test_solution_passes(exercise_id):
    assert_solution_passes(exercise_id, chapter=8)



def test_accuracy_rejects_argmax_over_the_batch():
    rejected("ch08_accuracy", lambda logits, labels:
             (logits.argmax(0)[: len(labels)] == labels[: logits.shape[1]]).float().mean().item(),
             "10 classes")


def test_accuracy_rejects_a_count_instead_of_a_fraction():
    result = rejected("ch08_accuracy",
                      lambda logits, labels: int((logits.argmax(1) == labels).sum()), "10 classes")
    assert "expected" in result.message


def test_accuracy_stub_that_raises_is_reported():
    def stub(logits, labels):
        raise NotImplementedError("todo")
    result = rejected("ch08_accuracy", stub, "10 classes")
    assert "NotImplementedError" in result.message


def test_conv_outputs_rejects_inputs_instead_of_outputs():
    def inputs(model, x):
        got = []
        hooks = [m.register_forward_hook(lambda mod, inp, out: got.append(inp[0]))
                 for m in model.modules() if isinstance(m, nn.Conv2d)]
        model(x)
        for h in hooks:
            h.remove()
        return got
    rejected("ch08_conv_outputs", inputs, "one digit")


def test_conv_outputs_rejects_only_the_last_layer():
    sol = EXERCISES["ch08_conv_outputs"].solution
    rejected("ch08_conv_outputs", lambda model, x: sol(model, x)[-1:], "one digit")


def test_conv_outputs_solution_removes_its_hooks():
    sol = EXERCISES["ch08_conv_outputs"].solution
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 3, 3))
    outs = sol(model, torch.randn(1, 1, 8, 8))
    assert [tuple(o.shape) for o in outs] == [(1, 2, 6, 6), (1, 3, 4, 4)]
    assert all(not m._forward_hooks for m in model.modules())


def test_count_rejects_weights_only():
    rejected("ch08_count_parameters",
             lambda model: sum(p.numel() for n, p in model.named_parameters() if "weight" in n),
             "small CNN")


def test_count_rejects_counting_frozen_parameters():
    rejected("ch08_count_parameters", lambda model: sum(p.numel() for p in model.parameters()),
             "frozen")


def test_max_pool_solution_passes():
    assert_solution_passes("ch08_max_pool", chapter=8)


def test_max_pool_rejects_average_pooling():
    rejected("ch08_max_pool", lambda x, k: x.unfold(2, k, k).unfold(3, k, k).mean((-2, -1)),
             "2x2 windows on a 4x4")


def test_max_pool_rejects_overlapping_windows():
    rejected("ch08_max_pool", lambda x, k: x.unfold(2, k, 1).unfold(3, k, 1).amax((-2, -1)),
             "2x2 windows on a 4x4")


def test_max_pool_rejects_a_maximum_started_from_zero():
    rejected("ch08_max_pool",
             lambda x, k: x.unfold(2, k, k).unfold(3, k, k).amax((-2, -1)).clamp(min=0),
             "negative")


def test_max_pool_rejects_keeping_partial_windows():
    rejected("ch08_max_pool", lambda x, k: F.max_pool2d(x, k, ceil_mode=True), "left out")


def test_max_pool_rejects_the_maximum_over_channels_too():
    rejected("ch08_max_pool",
             lambda x, k: x.unfold(2, k, k).unfold(3, k, k).amax((1, -2, -1), keepdim=True)
             .squeeze(-1).squeeze(-1).expand(-1, x.shape[1], -1, -1), "negative")


def test_conv_outputs_checks_a_network_of_convlab_layers():
    """One case is built like the chapter's network, from convlab.nn.Conv2d (and convlab's
    pooling), and its expected maps come from running the layers one by one."""
    import convlab.nn

    cases = EXERCISES["ch08_conv_outputs"].cases()
    ours = [c for c in cases if "convlab" in c.name]
    assert len(ours) == 1
    model, x = ours[0].args
    convs = [m for m in model if isinstance(m, convlab.nn.Conv2d)]
    assert len(convs) == 2 and len(ours[0].expected) == 2
    with torch.no_grad():
        first = convs[0](x)
    torch.testing.assert_close(ours[0].expected[0], first)


def test_conv_outputs_rejects_hooking_torch_layers_by_exact_type():
    def exact_type(model, x):
        got = []
        hooks = [m.register_forward_hook(lambda mod, inp, out: got.append(out))
                 for m in model.modules() if type(m) is nn.Conv2d]
        model(x)
        for h in hooks:
            h.remove()
        return got
    rejected("ch08_conv_outputs", exact_type, "convlab")
