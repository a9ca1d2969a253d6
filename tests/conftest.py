"""Test-wide settings: one intra-op thread per test worker.

`make unit` runs two pytest-xdist workers on a 2-core machine; with PyTorch's default
of one thread per core each, tiny convolutions spend their time contending for cores.
"""

import torch

torch.set_num_threads(1)
