"""Auto-checked exercises for the book.

``EXERCISES`` maps an id to an :class:`Exercise`. In a chapter::

    from convlab.exercises import EXERCISES
    EXERCISES["conv2d_naive"].check(my_conv2d)   # prints a verdict, returns a CheckResult

Each chapter keeps its exercises in its own module (``ch01.py``, ``ch02.py``, ...);
they are all imported here. An exercise runs the learner's function on a list of
cases whose expected answers come from PyTorch (or a reference), never raises because
of the learner's code, and on a failure says which case failed, expected vs got
(shape first, then the largest difference and where) and a hint.
"""

from __future__ import annotations

import importlib
import pkgutil

from .core import Case, CheckResult, Exercise, compare, register, registry

EXERCISES: dict[str, Exercise] = registry

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("ch")):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["EXERCISES", "Exercise", "Case", "CheckResult", "compare", "register"]
