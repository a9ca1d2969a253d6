"""Test-wide settings: one intra-op thread per test worker, and hypothesis's profile.

`make unit` runs two pytest-xdist workers on a 2-core machine; with PyTorch's default
of one thread per core each, tiny convolutions spend their time contending for cores.

Hypothesis draws the same examples on every run by default (profile ``repeatable``:
``derandomize=True``), so a test that passed here passes in CI on the same code. To
search new examples, as one should after changing an implementation, run with
``HYPOTHESIS_PROFILE=explore`` (random examples, a new seed each run; a failure prints
the seed and the example to reproduce it).
"""

import os

import torch
from hypothesis import settings

torch.set_num_threads(1)

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
