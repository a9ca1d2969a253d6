"""A small, readable training loop for chapter 8: ``seed_everything``, ``train_epoch``,
``evaluate`` and ``fit``.

Nothing clever: one optimizer step per mini-batch, cross-entropy for classification,
a :class:`History` of per-epoch loss and accuracy. The progress bar is tqdm's text bar
written to **stdout** (a bar on stderr would fail the book's strict build); on the
website the cell's stream is merged so only the final state of the bar remains.
"""

from __future__ import annotations

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
    ``progress``, a tqdm text bar on stdout shows the latest loss and test accuracy; it
    is redrawn at most every ``refresh_every`` seconds and once at the end, so a saved
    notebook (and the website) keeps a line or two, not one per update.
    """
    from tqdm import tqdm

    generator = seed_everything(seed)
    model.to(device)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator)
    test_loader = DataLoader(test, batch_size=512)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history, start = History(), time.perf_counter()
    bar = tqdm(total=epochs, desc=desc, file=sys.stdout, ncols=100, disable=not progress,
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
            bar.refresh()
            shown = time.perf_counter()
    bar.close()
    if progress:
        sys.stdout.write("\n")
    history.seconds = time.perf_counter() - start
    return history
