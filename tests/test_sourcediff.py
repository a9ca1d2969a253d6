"""convlab.sourcediff: logical lines, alignment, highlighting, notes that cannot go stale;
and chapter 7's pairs (convlab.conv_py_notes) against the installed torch."""

import html
import inspect
import re

import pytest
import torch

from convlab import conv_py_notes
from convlab.conv_py_notes import Pair
from convlab.sourcediff import (
    LogicalLine,
    Note,
    PairDiff,
    _merge_literals,
    diff_rows,
    hunks,
    logical_lines,
    pair_diff,
    source_side,
)

# --- two small "libraries" to diff ---------------------------------------------------------


def theirs_fn(x, scale):
    factor = {"scale": scale}
    if x is None:
        raise ValueError(
            "x must not be None"
        )
    y = x * factor["scale"]
    y = y + 1
    return y


def ours_fn(x, scale):
    """Scale and shift."""
    if x is None:
        raise ValueError("x must not be None")
    y = x * scale
    y = y + 2
    return y


def rows_of(diff):
    return [(row.kind, row.left and row.left.key, row.right and row.right.key)
            for row in diff.rows]


def strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# --- logical lines -------------------------------------------------------------------------


def test_logical_lines_join_statements_and_keep_file_line_numbers():
    source = '''def f(a, b):
    # first line of a comment
    # second line of it
    out = g(
        a,
        b,  # type: ignore[arg-type]
    )
    raise ValueError(
        f"bad {a}, "
        "use {b}"
    )

    return out  # why
'''
    lines = logical_lines(source, first_line=10)
    assert [line.text for line in lines] == [
        "def f(a, b):",
        "    # first line of a comment second line of it",
        "    out = g(a, b)",
        '    raise ValueError(f"bad {a}, use {{b}}")',
        "    return out  # why",
    ]
    assert [(line.first, line.last) for line in lines] == [
        (10, 10), (11, 12), (13, 16), (17, 20), (22, 22)]


def test_logical_lines_keep_a_docstring_and_dedent():
    source = '''    def m(self):
        """One.

        Two.
        """
        return 1
'''
    lines = logical_lines(source)
    assert lines[0].text == "def m(self):"
    assert lines[1].text == '    """One.\n\n    Two.\n    """'
    assert lines[2].text == "    return 1"


def test_merge_literals():
    assert _merge_literals('f"a {x} "', '"{b}"') == 'f"a {x} {{b}}"'
    assert _merge_literals('"a "', 'f"{b}"') == 'f"a {b}"'
    assert _merge_literals('"a"', "'b'") is None  # different quotes
    assert _merge_literals('b"a"', 'b"b"') is None  # bytes stay apart
    assert _merge_literals('r"a"', '"b"') is None  # raw and not raw


def test_a_difference_of_layout_is_no_difference():
    black = logical_lines('x = f(\n    1,\n    2,\n)\ny = "a" "b"\n')
    compact = logical_lines('x = f(1, 2)\ny = "ab"\n')
    assert [row.kind for row in diff_rows(black, compact)] == ["same", "same"]


# --- alignment and hunks -------------------------------------------------------------------


def test_rows_pair_changed_lines_and_keep_removed_and_added_apart():
    diff = pair_diff(theirs_fn, ours_fn)
    assert rows_of(diff) == [
        ("changed", "def theirs_fn(x, scale):", "def ours_fn(x, scale):"),
        ("removed", 'factor = {"scale": scale}', None),
        ("added", None, '"""Scale and shift."""'),
        ("same", "if x is None:", "if x is None:"),
        ("same", 'raise ValueError("x must not be None")',
         'raise ValueError("x must not be None")'),
        ("changed", 'y = x * factor["scale"]', "y = x * scale"),
        ("changed", "y = y + 1", "y = y + 2"),
        ("same", "return y", "return y"),
    ]
    assert diff.hunks == [(0, 3), (5, 7)]
    assert diff.counts() == {"same": 3, "changed": 3, "removed": 1, "added": 1}
    first = inspect.getsourcelines(theirs_fn)[1]
    assert diff.rows[0].left.first == first
    assert diff.rows[1].left.first == first + 1


def test_hunks_merge_across_one_same_row():
    def line(text):
        return LogicalLine(1, 1, text)

    rows = diff_rows([line(t) for t in "a b c d e f".split()],
                     [line(t) for t in "A b C d e F".split()])
    assert [row.kind for row in rows] == ["removed", "added", "same", "removed", "added",
                                          "same", "same", "removed", "added"]
    assert hunks(rows) == [(0, 5), (7, 9)]
    assert hunks(rows, gap=0) == [(0, 2), (3, 5), (7, 9)]


# --- notes ---------------------------------------------------------------------------------

NOTES = [Note(r"factor = ", "ours has no factor dict"),
         Note(r"y \+ 2", "ours shifts by two")]


def test_notes_explain_hunks_and_nothing_is_flagged_when_all_match():
    diff = pair_diff(theirs_fn, ours_fn, notes=NOTES)
    assert [diff.notes_for(h) for h in diff.hunks] == [[0], [1]]
    assert diff.problems() == []


def test_a_note_that_matches_no_difference_is_flagged():
    stale = Note(r"raise ValueError", "matches only a row that is the same on both sides")
    diff = pair_diff(theirs_fn, ours_fn, notes=[*NOTES, stale])
    problems = diff.problems()
    assert len(problems) == 1 and "matches no difference" in problems[0]
    assert diff.stale_notes() == [stale]
    assert "cd-stale" in diff.to_html() and html.escape(stale.text) in diff.to_html()


def test_a_difference_without_a_note_is_flagged():
    diff = pair_diff(theirs_fn, ours_fn, notes=NOTES[:1])
    problems = diff.problems()
    assert len(problems) == 1 and "no note explains" in problems[0] and "y = x *" in problems[0]
    assert "No note explains this difference" in diff.to_html()


# --- HTML ----------------------------------------------------------------------------------


def table_rows(fragment: str) -> list[tuple[str, str]]:
    """(class, inner HTML) of every <tr> of the diff's table body."""
    body = fragment.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr class="([^"]+)">(.*?)</tr>', body, flags=re.S)


def test_unified_html_marks_removed_added_and_changed_words():
    fragment = pair_diff(theirs_fn, ours_fn, notes=NOTES).to_html()
    rows = table_rows(fragment)
    kinds = [kind for kind, _ in rows]
    # a changed row is torch's line right above ours; each hunk ends with its note
    assert kinds == ["cd-removed", "cd-added", "cd-removed", "cd-added", "cd-note",
                     "cd-same", "cd-same", "cd-removed", "cd-added", "cd-removed",
                     "cd-added", "cd-note", "cd-same"]
    shift_old, shift_new = rows[9][1], rows[10][1]
    assert "y = y + <del>1</del>" in shift_old and "<ins>" not in shift_old
    assert "y = y + <ins>2</ins>" in shift_new and "<del>" not in shift_new
    assert "<del>" not in rows[5][1] and "<ins>" not in rows[5][1]  # a same row: no marks
    assert "−" in rows[2][1] and 'factor = {&quot;scale&quot;: scale}' in rows[2][1]
    assert "+" in rows[3][1] and "<ins>" not in rows[3][1]  # added, not changed: no marks
    assert 'class="cd-code cd-paint"' in rows[2][1] and "cd-paint" not in rows[5][1]
    assert "ours shifts by two" in rows[11][1]
    first = inspect.getsourcelines(theirs_fn)[1]  # the file's line numbers, both sides
    assert rows[2][1].startswith(f'<td class="cd-no cd-paint">{first + 1}</td>')
    ours_first = inspect.getsourcelines(ours_fn)[1]
    assert rows[3][1].startswith(f'<td class="cd-no cd-paint"></td><td class="cd-no cd-paint">'
                                 f"{ours_first + 1}</td>")


def test_side_by_side_html_puts_both_lines_of_a_change_on_one_row():
    diff = pair_diff(theirs_fn, ours_fn, notes=NOTES, layout="side-by-side")
    rows = table_rows(diff.to_html())
    changed = [inner for kind, inner in rows if kind == "cd-changed"]
    assert len(changed) == 3
    assert "cd-left" in changed[2] and "cd-right" in changed[2]
    assert "<del>1</del>" in changed[2] and "<ins>2</ins>" in changed[2]
    removed = [inner for kind, inner in rows if kind == "cd-removed"][0]
    assert "cd-empty" in removed  # the convlab side of a removed row is empty
    with pytest.raises(ValueError, match="layout"):
        pair_diff(theirs_fn, ours_fn, layout="diagonal").to_html()


def test_each_note_number_marks_the_line_it_explains():
    for layout in ("unified", "side-by-side"):
        rows = table_rows(pair_diff(theirs_fn, ours_fn, notes=NOTES, layout=layout).to_html())
        marked = [inner for _, inner in rows if 'class="cd-ref"' in inner]
        assert len(marked) == 2, layout  # one line per note, nothing else
        assert '<span class="cd-ref">1</span>' in marked[0] and "factor = " in marked[0]
        assert '<span class="cd-ref">2</span>' in marked[1] and "<ins>2</ins>" in marked[1]
    # the unified layout marks the line the pattern matched: convlab's, not torch's
    rows = table_rows(pair_diff(theirs_fn, ours_fn, notes=NOTES).to_html())
    (kind, _), = [(k, inner) for k, inner in rows if '<span class="cd-ref">2</span>' in inner]
    assert kind == "cd-added"


def test_a_line_that_moved_deeper_keeps_its_indentation_unmarked():
    theirs = source_side("def f(x):\n    if x:\n        y = g(x)\n    return y\n", "theirs")
    ours = source_side("def f(x):\n    z = g(x)\n    return z\n", "ours")
    fragment = PairDiff("moved", theirs, ours, [Note(r"z = g", "renamed"),
                                                Note(r"return z", "renamed")]).to_html()
    assert "        <del>y</del> = g(x)" in fragment  # the spaces are not inside the mark
    assert "    <ins>z</ins> = g(x)" in fragment
    assert not re.search(r"<(del|ins)>\s", fragment) and not re.search(r"\s</(del|ins)>",
                                                                      fragment)


LONG_BODY = "".join(f"    {name} = {k}\n" for k, name in enumerate("abcdefghijkl"))


def test_long_runs_of_same_rows_fold_and_the_full_sources_hold_everything():
    theirs = source_side(f"def long_theirs():\n{LONG_BODY}    return a + l\n", "theirs")
    ours = source_side(f"def long_ours():\n{LONG_BODY}    return a - l\n", "ours")
    diff = PairDiff("long", theirs, ours, [Note("def long_ours", "renamed"),
                                           Note(r"a - l", "subtracts")])
    fragment = diff.to_html()
    rows = table_rows(fragment)
    assert [kind for kind, _ in rows] == [
        "cd-removed", "cd-added", "cd-note", "cd-same", "cd-gap", "cd-same", "cd-removed",
        "cd-added", "cd-note"]
    assert "10 more rows are the same" in rows[4][1]
    details = re.findall(r"<details>(.*?)</details>", fragment, flags=re.S)
    assert len(details) == 1
    text = strip_tags(details[0])
    for source in (theirs.source, ours.source):  # nothing is lost: every line is there
        for line in source.splitlines():
            assert line.strip() in text


def test_a_long_docstring_shows_its_first_line_and_the_toggle_holds_it_all():
    theirs = source_side("def f():\n    return 1\n", "theirs")
    ours = source_side('def f():\n    """Summary.\n\n    Details here.\n    """\n'
                       "    return 1\n", "ours")
    diff = PairDiff("doc", theirs, ours, [Note("Details here", "ours documents f")])
    assert diff.problems() == []  # a note may match any part of the docstring
    fragment = diff.to_html()
    table = re.sub(r"<details>.*?</details>", "", fragment, flags=re.S)
    assert '"""Summary. …' in strip_tags(table) and "Details here" not in table
    assert "Details here" in strip_tags(re.search(r"<details>(.*?)</details>", fragment,
                                                  flags=re.S).group(1))


def test_the_title_bar_of_a_unified_diff_opens_both_full_sources():
    theirs = source_side("def f(a):\n    return a\n", "torch 2.x: f", "torch/x.py", 10)
    ours = source_side("def f(a):\n    return a + 0\n", "convlab: f", "convlab/x.py", 3)
    fragment = PairDiff("bar", theirs, ours, [Note(r"a \+ 0", "adds zero")]).to_html()
    head = re.search(r"<thead>(.*?)</thead>", fragment, flags=re.S).group(1)
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", head, flags=re.S).group(1)
    assert "torch 2.x" in strip_tags(summary) and "full sources" in strip_tags(summary)
    opened = strip_tags(re.search(r"</summary>(.*?)</details>", head, flags=re.S).group(1))
    assert "torch/x.py, lines 10-11" in opened and "convlab/x.py, lines 3-4" in opened
    assert "return a + 0" in opened and "return a" in opened
    assert fragment.count("<details>") == 1  # no second toggle below the table
    side = PairDiff("bar", theirs, ours, [Note(r"a \+ 0", "adds zero")],
                    layout="side-by-side").to_html()
    assert side.count("<details>") == 1 and "<thead>" in side.split("<details>")[0]


# --- chapter 7's pairs against the installed torch -----------------------------------------


@pytest.mark.parametrize("name", list(conv_py_notes.PAIRS))
def test_every_difference_of_conv_py_has_its_note(name):
    """Fails when torch or convlab.nn changes so that a note no longer matches its
    difference, or a new difference has no note: update the notes in conv_py_notes."""
    diff = conv_py_notes.conv_py_diff(name)
    assert diff.hunks, f"{name}: no difference at all; is this pair still worth a diff?"
    assert diff.problems() == []
    assert diff.fingerprint() == conv_py_notes.PAIRS[name].reviewed, (
        f"{name}: the diff is not the one its notes were reviewed for; read it in chapter 7 "
        f"(or `python -m convlab.conv_py_notes`), fix the notes, then record "
        f"reviewed={diff.fingerprint()!r}")
    assert diff.left.path.startswith("torch/") and diff.right.path == "convlab/nn.py"
    assert f"torch {torch.__version__}" in diff.to_html()


def changed_torch(name, old, new):
    """Chapter 7's pair ``name`` with torch's source edited: ``old`` replaced by ``new``."""
    pair = conv_py_notes.PAIRS[name]
    theirs = conv_py_notes.conv_py_diff(name).left
    assert old in theirs.source
    edited = source_side(theirs.source.replace(old, new), theirs.label, theirs.path,
                         theirs.first_line)
    ours = conv_py_notes.conv_py_diff(name).right
    return PairDiff(name, edited, ours, list(pair.notes))


def test_a_new_difference_in_torch_is_flagged():
    """Even a change inside a hunk that already has its note changes the fingerprint."""
    name = "_ConvNd.__init__"
    reviewed = conv_py_notes.PAIRS[name].reviewed
    assert conv_py_notes.conv_py_diff(name).fingerprint() == reviewed
    diff = changed_torch(name, '"groups must be a positive integer"', '"groups must be > 0"')
    assert diff.fingerprint() != reviewed
    assert any("groups must be > 0" in (row.left.text if row.left else "")
               for row in diff.rows if row.kind != "same")
    original = conv_py_notes.PAIRS[name]
    try:  # problems() reports it, with the fingerprint to record after a review
        conv_py_notes.PAIRS[name] = Pair(original.theirs, original.ours, original.notes,
                                         reviewed="0" * 12)
        assert any(name in p and "the diff changed" in p for p in conv_py_notes.problems())
    finally:
        conv_py_notes.PAIRS[name] = original


def test_a_note_whose_line_left_torch_is_flagged():
    diff = changed_torch("_ConvNd.__init__", 'factory_kwargs = {"device": device, "dtype": dtype}',
                         "pass")
    problems = diff.problems()
    assert any("factory_kwargs" in p and "matches no difference" in p for p in problems)


def test_every_note_of_conv_py_fits_on_one_line():
    for name, pair in conv_py_notes.PAIRS.items():
        for note in pair.notes:
            assert len(note.text) <= 90, f"{name}: shorten {note.text!r}"
