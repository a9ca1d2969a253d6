"""Every exercise in the book: its solution passes its own check, and the appendix page
``book/exercises.md`` lists exactly the registered exercises, each linked to its chapter.

The page is generated from ``convlab.exercises.EXERCISES``; after adding or renaming an
exercise, regenerate it with ``python tests/test_exercises_all.py``.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import pytest

from convlab.exercises import EXERCISES

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "exercises.md"
ITEM = re.compile(r"^- `([^`]+)`", re.MULTILINE)


def chapter_file(chapter: int) -> pathlib.Path | None:
    found = sorted((ROOT / "book").glob(f"{chapter:02d}_*.ipynb"))
    return found[0] if found else None


def chapter_title(path: pathlib.Path) -> str:
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def first_sentence(text: str) -> str:
    """The prompt's first sentence, with Markdown's emphasis characters escaped."""
    text = " ".join(text.split())
    end = text.find(". ")
    text = text if end < 0 else text[: end + 1]
    return re.sub(r"([*_\\`\[\]<>])", r"\\\1", text)


def render_page() -> str:
    """The appendix page's Markdown, from EXERCISES (grouped by chapter, in book order)."""
    lines = ["# Exercises", "",
             "Every chapter ends with auto-checked exercises. In a chapter's notebook, write",
             "the function, then run its check cell, e.g.",
             "`EXERCISES[\"ch08_accuracy\"].check(accuracy)`:",
             "it runs your code on a few cases, says which case fails and why, and never raises.",
             "The solutions are in each chapter, behind a toggle.", ""]
    by_chapter: dict[int, list] = {}
    for exercise in EXERCISES.values():
        by_chapter.setdefault(exercise.chapter, []).append(exercise)
    for chapter in sorted(by_chapter):
        path = chapter_file(chapter)
        title = chapter_title(path) if path else f"Chapter {chapter}"
        link = f"[{title}]({path.name})" if path else title
        lines += [f"## Chapter {chapter}: {link}", ""]
        for exercise in by_chapter[chapter]:
            lines.append(f"- `{exercise.id}`: **{exercise.title}**. "
                         f"{first_sentence(exercise.prompt)}")
        lines.append("")
    return "\n".join(lines)


def test_page_lists_every_exercise_and_no_stale_one():
    listed = ITEM.findall(PAGE.read_text())
    missing = sorted(set(EXERCISES) - set(listed))
    stale = sorted(set(listed) - set(EXERCISES))
    assert not missing and not stale, (
        f"book/exercises.md is out of date (missing {missing}, stale {stale}); "
        f"regenerate it: python tests/test_exercises_all.py")
    assert len(listed) == len(set(listed)), "an exercise is listed twice"


def test_page_links_each_chapter_that_exists():
    text = PAGE.read_text()
    for chapter in {e.chapter for e in EXERCISES.values()}:
        path = chapter_file(chapter)
        if path:
            assert f"]({path.name})" in text, f"no link to {path.name}"


def test_every_chapter_has_at_least_two_exercises():
    chapters = [e.chapter for e in EXERCISES.values()]
    assert set(chapters) <= set(range(1, 9))
    for chapter in set(chapters):
        assert chapters.count(chapter) >= 2, f"chapter {chapter} has fewer than 2 exercises"


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_solution_passes_its_own_check(exercise_id):
    exercise = EXERCISES[exercise_id]
    assert exercise.prompt and exercise.title and 1 <= exercise.chapter <= 8
    result = exercise.check(exercise.solution, verbose=False)
    assert result, result.message


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_a_non_function_is_rejected_without_raising(exercise_id):
    result = EXERCISES[exercise_id].check(None, verbose=False)
    assert not result and exercise_id in result.message


if __name__ == "__main__":
    PAGE.write_text(render_page())
    print(f"wrote {PAGE.relative_to(ROOT)} ({len(EXERCISES)} exercises)", file=sys.stdout)
