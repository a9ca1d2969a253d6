"""Chapter 8 exercises: max pooling with unfold, accuracy, forward hooks, parameter counts."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .core import Case, Exercise, register


def _small_cnn(seed: int, C1: int = 4, C2: int = 6, bias: bool = True) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, C1, 3, padding=1, bias=bias), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(C1, C2, 3, bias=bias), nn.ReLU(),
        nn.Flatten(), nn.Linear(C2 * 2 * 2, 10))


# --- 1. max pooling as unfold + max -----------------------------------------------------

def _max_pool_solution(x, kernel_size):
    k = kernel_size
    # (N, C, H_out, W_out, k, k); rows and columns left over are dropped
    windows = x.unfold(2, k, k).unfold(3, k, k)
    # the largest value of each window: (N, C, H_out, W_out)
    return windows.amax(dim=(-2, -1))


def _max_pool_cases():
    gen = torch.Generator().manual_seed(81)
    first = torch.randperm(16, generator=gen).float().reshape(1, 1, 4, 4)  # distinct, positive
    shapes = [("all values negative", (1, 2, 4, 6), 2, "negative"),
              ("a batch of 2 images with 3 channels", (2, 3, 6, 6), 2, None),
              ("3x3 windows on 7x7: the last row and column are left out", (1, 2, 7, 7), 3, None),
              ("a 5x8 image: the last row is left out", (1, 1, 5, 8), 2, None),
              ("1x1 windows change nothing", (1, 2, 3, 3), 1, None)]
    cases = [Case("2x2 windows on a 4x4 image", (first, 2), expected=F.max_pool2d(first, 2),
                  hint="unfold(2, k, k) then unfold(3, k, k) gives (N, C, H_out, W_out, k, k)")]
    for name, shape, k, kind in shapes:
        x = torch.randn(*shape, generator=gen, dtype=torch.float64)
        x = -x.abs() - 0.1 if kind == "negative" else x
        cases.append(Case(name, (x, k), expected=F.max_pool2d(x, k),
                          hint="start the maximum from the window's own values, not from 0"
                          if kind else "F.max_pool2d drops the rows and columns that do not "
                                       "fill a whole window (ceil_mode=False)"))
    return cases


register(Exercise(
    id="ch08_max_pool", chapter=8, title="Max pooling with unfold",
    prompt="Write max_pool(x, kernel_size) for x of shape (N, C, H, W) and an int kernel_size "
           "k: cut each channel into non-overlapping k x k windows (stride k, no padding; rows "
           "and columns that do not fill a whole window are left out, as F.max_pool2d does) "
           "and return the largest value of each window, shape (N, C, H // k, W // k). Use "
           "unfold and amax, not F.max_pool2d.",
    solution=_max_pool_solution, cases=_max_pool_cases,
    hint="x.unfold(dim, size, step) makes the windows of one dimension; amax reduces them"))


# --- 2. accuracy from logits -------------------------------------------------------------

def _accuracy_solution(logits, labels):
    predicted = logits.argmax(dim=1)  # (N, K) -> (N,)
    return (predicted == labels).float().mean().item()


def _accuracy_cases():
    gen = torch.Generator().manual_seed(8)
    cases = []
    for name, N, K in [("10 classes, 7 examples", 7, 10), ("3 classes, 12 examples", 12, 3),
                       ("more classes than examples", 4, 10)]:
        logits = torch.randn(N, K, generator=gen)
        labels = torch.randint(K, (N,), generator=gen)
        labels[: N // 2] = logits[: N // 2].argmax(1)  # make about half of them right
        cases.append(Case(name, (logits, labels), expected=_accuracy_solution(logits, labels),
                          hint="the predicted class is the argmax over the classes (dim=1)"))
    return cases


register(Exercise(
    id="ch08_accuracy", chapter=8, title="Accuracy from logits",
    prompt="Write accuracy(logits, labels): logits (N, K) scores for K classes, labels (N,) "
           "class indices; return the fraction of rows whose highest score is at the label "
           "(a Python float in [0, 1]).",
    solution=_accuracy_solution, cases=_accuracy_cases,
    hint="(logits.argmax(dim=1) == labels) is a boolean tensor; its mean is the accuracy"))


# --- 3. feature maps with forward hooks ----------------------------------------------------

def _conv_outputs_solution(model, x):
    outputs = []
    # torch's nn.Conv2d, and convlab's (a subclass of it: isinstance holds)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks = [m.register_forward_hook(
        lambda module, inputs, output: outputs.append(output.detach()))
        for m in convs]
    try:
        model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return outputs


def _layer_by_layer(model: nn.Sequential, x, conv_types) -> list:
    """The outputs of the conv layers of a Sequential, computed one layer at a time
    (no hooks): what a correct answer returns."""
    outputs = []
    for layer in model:
        x = layer(x)
        if isinstance(layer, conv_types):
            outputs.append(x.detach())
    return outputs


def _convlab_cnn(seed: int) -> nn.Module:
    """The chapter's kind of network: convlab's conv and pooling layers."""
    from .. import nn as convlab_nn
    from ..pooling import MaxPool2d

    torch.manual_seed(seed)
    return nn.Sequential(
        convlab_nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), MaxPool2d(2),
        convlab_nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 2 * 2, 10))


def _conv_outputs_cases():
    from .. import nn as convlab_nn

    conv_types = (nn.Conv2d, convlab_nn.Conv2d)
    cases = []
    for name, build, seed, N in [("one digit", _small_cnn, 0, 1),
                                 ("a batch of 3", _small_cnn, 1, 3),
                                 ("a network of convlab.nn.Conv2d layers", _convlab_cnn, 2, 2)]:
        model = build(seed)
        x = torch.randn(N, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            expected = _layer_by_layer(model, x, conv_types)
        cases.append(Case(name, (model, x), expected=expected,
                          hint="hook every nn.Conv2d (model.modules(); convlab's Conv2d "
                               "is one too) and keep its *output*, in the order the "
                               "forward pass reaches them"))
    return cases


register(Exercise(
    id="ch08_conv_outputs", chapter=8, title="Catch every feature map with forward hooks",
    prompt="Write conv_outputs(model, x) that runs model(x) once and returns the list of the "
           "outputs of every conv layer (torch's or convlab's nn.Conv2d: isinstance holds "
           "for both), in forward order (tensors (N, C_out, H_out, W_out)). Remove your "
           "hooks before returning.",
    solution=_conv_outputs_solution, cases=_conv_outputs_cases,
    hint="module.register_forward_hook(fn) calls fn(module, inputs, output) after forward; "
         "it returns a handle whose .remove() takes the hook off"))


# --- 4. counting a CNN's parameters -------------------------------------------------------

def _count_solution(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _count_cases():
    frozen = _small_cnn(2)
    frozen[0].weight.requires_grad_(False)
    return [Case("small CNN", (_small_cnn(0),), expected=_count_solution(_small_cnn(0)),
                 hint="a conv layer has C_out*C_in*kH*kW weights plus C_out biases"),
            Case("no biases", (_small_cnn(1, 5, 7, bias=False),),
                 expected=_count_solution(_small_cnn(1, 5, 7, bias=False))),
            Case("first layer frozen", (frozen,), expected=_count_solution(frozen),
                 hint="count only parameters with requires_grad=True")]


register(Exercise(
    id="ch08_count_parameters", chapter=8, title="Count the trainable parameters",
    prompt="Write count_parameters(model) returning the number of trainable numbers in a "
           "model: every parameter with requires_grad=True, weights and biases alike (an int).",
    solution=_count_solution, cases=_count_cases,
    hint="model.parameters() yields every weight and bias; .numel() counts one tensor"))
