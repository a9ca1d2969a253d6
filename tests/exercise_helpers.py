"""Shared assertions for the per-chapter exercise tests (tests/test_exercises_chNN.py)."""

from convlab.exercises import EXERCISES


def assert_solution_passes(exercise_id: str, chapter: int) -> None:
    """The exercise belongs to ``chapter``, has a prompt and a title, and its reference
    solution passes its own check."""
    exercise = EXERCISES[exercise_id]
    assert exercise.chapter == chapter and exercise.prompt and exercise.title
    result = exercise.check(exercise.solution, verbose=False)
    assert result, result.message


def rejected(exercise_id: str, fn, case_fragment: str):
    """``fn`` (a plausible wrong answer) fails, at a case whose name contains
    ``case_fragment``, and the verdict names that case. Returns the CheckResult."""
    result = EXERCISES[exercise_id].check(fn, verbose=False)
    assert not result, f"{exercise_id}: a wrong answer passed"
    assert case_fragment in result.case, result.message
    assert f"case '{result.case}'" in result.message
    return result
