"""convlab.training: the loop learns, is deterministic under a seed, and its progress bar
writes to stdout only (stderr output fails the strict book build)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from convlab.training import History, evaluate, fit, seed_everything


def toy_data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=g)
    y = (x.sum((1, 2, 3)) > 0).long()  # a linearly separable two-class problem
    return TensorDataset(x, y)


def model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Flatten(), nn.Linear(32, 2))


def test_fit_learns_and_records_curves():
    train, test = toy_data(), toy_data(seed=1)
    history = fit(model(), train, test, epochs=15, batch_size=16, lr=1e-2, progress=False)
    assert isinstance(history, History)
    assert len(history.train_loss) == len(history.test_acc) == 15
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] >= 0.8
    assert history.seconds > 0


def test_fit_is_deterministic_under_a_seed():
    train, test = toy_data(), toy_data(seed=1)
    a = fit(model(), train, test, epochs=3, batch_size=8, seed=5, progress=False)
    b = fit(model(), train, test, epochs=3, batch_size=8, seed=5, progress=False)
    assert a.train_loss == b.train_loss and a.test_acc == b.test_acc


def test_progress_bar_goes_to_stdout_only(capfd):
    fit(model(), toy_data(), toy_data(seed=1), epochs=2, batch_size=16, desc="toy")
    out, err = capfd.readouterr()
    assert "toy" in out and "2/2" in out
    assert err == ""


def test_in_a_kernel_the_bar_is_one_output_redrawn_in_place():
    """In Jupyter the bar is a display redrawn in place: the executed notebook keeps one
    output, the final bar, however often it was redrawn (the website shows that output)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    code = (
        "import torch\nfrom torch import nn\nfrom torch.utils.data import TensorDataset\n"
        "from convlab.training import fit\n"
        "g = torch.Generator().manual_seed(0)\n"
        "x, y = torch.randn(32, 4, generator=g), torch.randint(0, 2, (32,), generator=g)\n"
        "data = TensorDataset(x, y)\n"
        "fit(nn.Linear(4, 2), data, data, epochs=3, batch_size=8, desc='toy', refresh_every=0)\n"
        "None")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    bar = outputs[0].data["text/plain"]
    assert "toy" in bar and "3/3" in bar and "1/3" not in bar and "\n" not in bar.strip()


def test_evaluate_counts_every_example():
    data = toy_data(n=10)
    net = model()
    loss, acc = evaluate(net, torch.utils.data.DataLoader(data, batch_size=3))
    x, y = data.tensors
    with torch.no_grad():
        logits = net(x)
    torch.testing.assert_close(loss, nn.functional.cross_entropy(logits, y).item())
    assert acc == pytest.approx((logits.argmax(1) == y).float().mean().item())


def test_seed_everything_returns_a_seeded_generator():
    g1, g2 = seed_everything(3), seed_everything(3)
    assert torch.equal(torch.randn(3, generator=g1), torch.randn(3, generator=g2))
