"""The machinery behind ``convlab.exercises``: cases, comparison and verdicts."""

from __future__ import annotations

import inspect
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

registry: dict = {}


@dataclass
class Case:
    """One call of the learner's function: ``fn(*args, **kwargs)`` should equal ``expected``,
    or, when ``raises`` is an exception type, raise it.

    ``hint`` is shown when this case fails (what it tests, what usually goes wrong).
    """

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    hint: str = ""
    raises: type[Exception] | None = None


@dataclass
class CheckResult:
    """Truthy on a pass; on a fail ``message`` says which case failed and why."""

    passed: bool
    message: str
    case: str | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed}, case={self.case!r})"


def _clone(value):
    """Deep-copy tensors so a learner's in-place edit cannot corrupt later cases."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def compare(expected, got, atol: float = 1e-6, rtol: float = 1e-5) -> str | None:
    """``None`` if ``got`` matches ``expected``; otherwise a sentence that says how not.

    Tensors: type, then shape, then the largest absolute difference and its index.
    Tuples/lists: element by element. Anything else: ``==``.
    """
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            try:
                got = torch.as_tensor(got, dtype=expected.dtype)
            except Exception:
                return f"expected a tensor, got {type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return f"shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}"
        if got.numel() == 0:
            return None
        if expected.dtype == torch.bool:  # a mask: say which entries are wrong
            if got.dtype != torch.bool:
                return f"expected a bool tensor, got dtype {got.dtype}"
            wrong = (got.detach().cpu() != expected.cpu()).nonzero()
            if len(wrong) == 0:
                return None
            where = tuple(int(i) for i in wrong[0])
            return (f"{len(wrong)} of {expected.numel()} entries differ, the first at "
                    f"index {where} (expected {bool(expected[where])}, got "
                    f"{bool(got[where])})")
        got_ = got.detach().to(torch.float64).cpu()
        exp_ = expected.detach().to(torch.float64).cpu()
        if not torch.isfinite(got_).all():
            where = tuple(int(i) for i in (~torch.isfinite(got_)).nonzero()[0])
            return f"non-finite value {got_[where].item()} at index {where}"
        diff = (got_ - exp_).abs()
        if torch.all(diff <= atol + rtol * exp_.abs()):
            return None
        flat = int(diff.argmax())
        where = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), diff.shape))
        return (f"values differ: largest difference {diff.max().item():.3g} at index {where} "
                f"(expected {exp_[where].item():.6g}, got {got_[where].item():.6g})")
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected a sequence of {len(expected)} items, got {got!r}"
        for i, (e, g) in enumerate(zip(expected, got)):
            why = compare(e, g, atol, rtol)
            if why:
                return f"item {i}: {why}"
        return None
    if isinstance(expected, float):
        try:
            ok = abs(float(got) - expected) <= atol + rtol * abs(expected)
        except (TypeError, ValueError):
            return f"expected {expected!r}, got {got!r}"
        return None if ok else f"expected {expected!r}, got {got!r}"
    return None if got == expected else f"expected {expected!r}, got {got!r}"


@dataclass
class Exercise:
    """An exercise: a prompt, a reference solution and the cases that check an answer.

    ``cases`` is a function returning the list of :class:`Case` (built lazily, so that
    importing convlab stays cheap); expected values come from PyTorch or the solution.
    """

    id: str
    chapter: int
    title: str
    prompt: str
    solution: Callable
    cases: Callable[[], list]
    hint: str = ""
    atol: float = 1e-6
    rtol: float = 1e-5

    def check(self, fn: Callable, verbose: bool = True) -> CheckResult:
        """Run ``fn`` on every case; print and return the verdict. Never raises."""
        result = self._run(fn)
        if verbose:
            print(result.message)
        return result

    def _run(self, fn: Callable) -> CheckResult:
        if not callable(fn):
            return CheckResult(False, f"✗ {self.id}: expected a function, got "
                                      f"{type(fn).__name__}", None)
        try:
            cases = self.cases()
        except Exception as exc:  # a bug of ours, not the learner's: still never raise
            return CheckResult(False, f"✗ {self.id}: could not build the test cases ({exc!r})")
        for case in cases:
            try:
                got = fn(*_clone(case.args), **_clone(case.kwargs))
            except Exception as exc:
                if case.raises is not None and isinstance(exc, case.raises):
                    continue  # the error the case asks for
                tb = traceback.extract_tb(exc.__traceback__)[-1]
                return self._fail(case, f"your function raised {type(exc).__name__}: {exc} "
                                        f"(line {tb.lineno}: {tb.line})")
            if case.raises is not None:
                return self._fail(case, f"expected {case.raises.__name__}, but your function "
                                        f"returned {got!r}")
            why = compare(case.expected, got, self.atol, self.rtol)
            if why:
                return self._fail(case, why)
        return CheckResult(True, f"✓ {self.id}: all {len(cases)} cases pass.")

    def _fail(self, case: Case, why: str) -> CheckResult:
        hint = case.hint or self.hint
        lines = [f"✗ {self.id}: case '{case.name}' failed.", _wrap(why)]
        if hint:
            lines.append(_wrap(f"hint: {hint}"))
        return CheckResult(False, "\n".join(lines), case.name)

    def solution_source(self) -> str:
        """The reference solution's source code (shown behind a toggle in the book)."""
        return inspect.getsource(self.solution)


def _wrap(text: str, width: int = 72) -> str:
    """One verdict line, indented and wrapped to fit a book page's code column."""
    return textwrap.fill(text, width, initial_indent="  ", subsequent_indent="    ",
                         break_long_words=False, break_on_hyphens=False)


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to ``EXERCISES``; ids are unique across the book."""
    if exercise.id in registry:
        raise ValueError(f"duplicate exercise id {exercise.id!r}")
    registry[exercise.id] = exercise
    return exercise
