"""A small, readable training loop for chapter 8: ``seed_everything``, ``train_epoch``,
``evaluate`` and ``fit``.

Nothing clever: one optimizer step per mini-batch, cross-entropy for classification,
a :class:`History` of per-epoch loss and accuracy. The progress bar is tqdm's text bar,
never on stderr (which fails the book's strict build): in a Jupyter kernel one output
redrawn in place (a display handle), so the saved notebook and the website keep only its
final state; elsewhere on **stdout**, redrawn with carriage returns.
"""

from __future__ import annotations

import io
import random
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's and torch's global RNGs; return a seeded generator for shuffling."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass
class History:
    """Per-epoch curves of one training run (lists of floats), and its wall time in seconds."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: float = 0.0


def train_epoch(model, loader, optimizer, device="cpu") -> tuple[float, float]:
    """One pass over ``loader``, a gradient step per batch.

    Returns the mean loss and the accuracy over the pass."""
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)  # (N, classes)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        count += len(y)
    return total_loss / count, correct / count


@torch.no_grad()
def evaluate(model, loader, device="cpu") -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader``, without gradients."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)  # (N, classes)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        count += len(y)
    return total_loss / count, correct / count


def fit(model, train: TensorDataset, test: TensorDataset, epochs: int = 20,
        batch_size: int = 64, lr: float = 3e-3, seed: int = 0, device="cpu",
        progress: bool = True, desc: str = "training", refresh_every: float = 5.0) -> History:
    """Train ``model`` with Adam on ``train``; evaluate on ``test`` after every epoch.

    Deterministic under ``seed``: the same seed, model initialisation and data give the
    same curves (the shuffling order comes from a generator seeded here). With
    ``progress``, a tqdm text bar shows the latest loss and test accuracy, redrawn at
    most every ``refresh_every`` seconds and once at the end: in a Jupyter kernel as one
    output updated in place (a saved notebook and the website keep only the final bar),
    elsewhere on stdout.
    """
    from tqdm import tqdm

    generator = seed_everything(seed)
    model.to(device)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator)
    test_loader = DataLoader(test, batch_size=512)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history, start = History(), time.perf_counter()
    handle = _output_in_place() if progress else None
    bar = tqdm(total=epochs, desc=desc, file=io.StringIO() if handle else sys.stdout,
               ncols=100, disable=not progress,
               delay=float("inf"))  # tqdm never redraws by itself: we call refresh()
    shown = start
    for epoch in range(epochs):
        loss, acc = train_epoch(model, train_loader, optimizer, device)
        test_loss, test_acc = evaluate(model, test_loader, device)
        for name, value in zip(("train_loss", "train_acc", "test_loss", "test_acc"),
                               (loss, acc, test_loss, test_acc)):
            getattr(history, name).append(value)
        bar.set_postfix(loss=f"{loss:.3f}", test_acc=f"{test_acc:.3f}", refresh=False)
        bar.update(1)
        if progress and (time.perf_counter() - shown >= refresh_every or epoch == epochs - 1):
            if handle:
                handle.update({"text/plain": str(bar)}, raw=True)
            else:
                bar.refresh()
            shown = time.perf_counter()
    bar.close()
    if progress and not handle:
        sys.stdout.write("\n")
    history.seconds = time.perf_counter() - start
    return history


def _output_in_place():
    """A display handle in a Jupyter kernel (its output can be redrawn in place), else None."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    return display({"text/plain": ""}, raw=True, display_id=True)
