"""Kernel-side redraw time of every chapter's live explorer (no browser): median ms of
``Explorer.redraw()`` with the chapter's own arguments. A quick check of what ``make lab``
times as the kernel's part of a redraw."""
import json
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")


def chapter7_explorer():
    import convlab.nn as cnn  # noqa: F401  (the cell's names)
    nb = json.load(open("book/07_reading_conv_py.ipynb"))
    code = "".join(nb["cells"][23]["source"]).replace("\nlive\n", "\n")
    names = {}
    exec("import torch, torch.nn as tnn, torch.nn.functional as F, matplotlib.pyplot as plt\n"
         "import convlab.nn as cnn\nfrom convlab.data import sample_image\n" + code, names)
    return names["live"]


def explorers():
    from convlab.widgets import (
        conv_arithmetic_explorer,
        groups_explorer,
        kernel_explorer,
        zero_insertion_explorer,
    )
    from convlab.widgets.window_counts import window_counts_explorer
    yield "ch1 kernel", kernel_explorer()
    yield "ch2 arithmetic", conv_arithmetic_explorer(input_size=5, kernel_size=3)
    yield "ch3 groups", groups_explorer(in_channels=4, out_channels=8)
    yield "ch5 window counts", window_counts_explorer()
    yield "ch6 zero insertion", zero_insertion_explorer()
    yield "ch7 padding", chapter7_explorer()
    import torch
    from torch import nn

    import convlab.nn
    import convlab.pooling
    from convlab.data import load_digits_split
    from convlab.widgets.feature_maps import feature_map_explorer
    _, _, X_test, y_test = load_digits_split(test_size=0.25, seed=0)
    torch.manual_seed(0)
    net = nn.Sequential(convlab.nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                        convlab.pooling.MaxPool2d(2), convlab.nn.Conv2d(16, 32, 3, padding=1),
                        nn.ReLU(), convlab.pooling.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    yield "ch8 feature maps", feature_map_explorer(net, X_test, y_test)


def main(repeats: int = 15) -> None:
    for name, explorer in explorers():
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            explorer.redraw()
            times.append(time.perf_counter() - started)
        assert explorer.error is None, explorer.error
        print(f"{name:20s} median {statistics.median(times) * 1e3:6.1f} ms, "
              f"min {min(times) * 1e3:6.1f} ms", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
