"""Two functions' real source read as a diff: what is the same, what changed, and why.

Chapter 7 reads ``torch/nn/modules/conv.py`` next to ``convlab.nn``. Printing both in
full buries the point; a diff shows it. :func:`pair_diff` takes two live objects (so
the diff is whatever the installed torch holds), splits both sources into *logical
lines*, aligns them with ``difflib`` and renders HTML that a notebook displays.

- A logical line is one statement on one row: the eight physical lines that black
  gives ``raise ValueError(\\n f"..."\\n f"..."\\n)`` become
  ``raise ValueError(f"...")``, so a difference of layout is not a difference.
- A row is *same*, *changed* (both sides, the differing words marked), *removed*
  (torch only) or *added* (convlab only). A *hunk* is a run of rows that differ.
- A :class:`Note` explains a hunk in one line and names it by a regular expression
  that must match one of the hunk's differing rows. :meth:`PairDiff.problems` lists
  every note that matches nothing and every hunk that no note explains, and
  :meth:`PairDiff.fingerprint` changes with any difference, so a note cannot silently
  go stale when torch (or convlab) changes. The note's number also marks the end of the
  line it matched (:func:`note_refs`), so the reader sees which line it explains.
- A docstring of several lines shows its first line. Below the diff, both full
  sources sit behind a ``<details>`` toggle, exactly as written, with their file line
  numbers.

For example::

    diff = pair_diff(torch_conv._ConvNd.extra_repr, cnn._ConvNd.extra_repr,
                     notes=[Note(r"parts\\.append", "a list of f-strings, joined")])
    diff.problems()   # [] when every difference has its note
    diff              # last expression of a cell: renders the diff
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import html
import importlib
import inspect
import io
import re
import textwrap
import tokenize

# --- logical lines -------------------------------------------------------------------------

_OPEN, _CLOSE = "([{", ")]}"
_NOISE_COMMENT = re.compile(r"#\s*(type:\s*ignore|noqa|pyre-|mypy:)")
# Python 3.12+ tokenizes an f-string as FSTRING_START ... FSTRING_END (3.14: t-strings too)
_STRING_STARTS = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START")
                  if hasattr(tokenize, n)}
_STRING_ENDS = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END")
                if hasattr(tokenize, n)}
_LITERAL = re.compile(r"(?P<prefix>[A-Za-z]*)(?P<quote>['\"])(?P<body>.*)(?P=quote)", re.S)


@dataclasses.dataclass(frozen=True)
class LogicalLine:
    """One statement (or one paragraph of comments) of a source, on one row.

    ``first`` and ``last`` are its line numbers in the object's file (1-based, inclusive).
    """

    first: int
    last: int
    text: str

    @property
    def key(self) -> str:
        """The text with runs of whitespace collapsed (what the alignment compares)."""
        return " ".join(self.text.split())


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _slice(physical: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    """The source text between two ``(row, col)`` positions of :mod:`tokenize`."""
    if start[0] == end[0]:
        return physical[start[0] - 1][start[1]:end[1]]
    return "\n".join([physical[start[0] - 1][start[1]:], *physical[start[0]:end[0] - 1],
                      physical[end[0] - 1][:end[1]]])


def _atoms(tokens, physical: list[str]) -> list[tuple[int, tuple, tuple, str]]:
    """``(type, start, end, text as written)`` per code token; an f-string is one STRING."""
    atoms, depth, start = [], 0, None
    for token in tokens:
        if token.type in _STRING_STARTS:
            start = token.start if depth == 0 else start
            depth += 1
        elif depth:
            depth -= token.type in _STRING_ENDS
            if depth == 0:
                atoms.append((tokenize.STRING, start, token.end,
                              _slice(physical, start, token.end)))
        elif token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
            atoms.append((token.type, token.start, token.end,
                          _slice(physical, token.start, token.end)))
    return atoms


def _merge_literals(a: str, b: str) -> str | None:
    """``f"x " f"{y}"`` -> ``f"x {y}"``; ``None`` when the two cannot be one literal."""
    ma, mb = _LITERAL.fullmatch(a), _LITERAL.fullmatch(b)
    if not (ma and mb) or ma["quote"] != mb["quote"] or "\n" in a + b:
        return None
    if a[len(ma["prefix"]):].startswith(ma["quote"] * 3):
        return None
    pa, pb = ma["prefix"].lower(), mb["prefix"].lower()
    if pa.replace("f", "") != pb.replace("f", "") or "b" in pa:
        return None
    body_a, body_b = ma["body"], mb["body"]
    if "f" in pa and "f" not in pb:  # braces of a plain literal must not become fields
        body_b = body_b.replace("{", "{{").replace("}", "}}")
    if "f" in pb and "f" not in pa:
        body_a = body_a.replace("{", "{{").replace("}", "}}")
    prefix = ma["prefix"] if "f" in pa or "f" not in pb else mb["prefix"]
    return f"{prefix}{ma['quote']}{body_a}{body_b}{ma['quote']}"


def _join_tokens(tokens, physical: list[str]) -> str:
    """The tokens of one logical line as one row of text.

    Spacing inside a physical line is kept as written; a line break inside brackets
    becomes one space (none after an opening or before a closing bracket); black's
    trailing comma before a closing bracket on its own line is dropped; adjacent
    one-line string literals become one; comments inside the statement move to its
    end, and ``# type: ignore``-style comments are dropped.
    """
    comments = [t.string for t in tokens if t.type == tokenize.COMMENT
                and not _NOISE_COMMENT.match(t.string)]
    parts, previous = [], None  # parts alternate: separator, text, separator, text, ...
    for kind, start, end, text in _atoms(tokens, physical):
        if previous is None:
            parts.append(" " * start[1])
        elif kind == previous[0] == tokenize.STRING and (
                merged := _merge_literals(parts[-1], text)) is not None:
            parts[-1] = merged
            previous = (kind, start, end, merged)
            continue
        elif start[0] == previous[2][0]:  # same physical line: the spacing as written
            parts.append(physical[start[0] - 1][previous[2][1]:start[1]])
        elif previous[3] in _OPEN or text in _CLOSE:
            if previous[3] == "," and text in _CLOSE:
                parts[-1] = ""  # black's trailing comma
            parts.append("")
        else:
            parts.append(" ")
        parts.append(text)
        previous = (kind, start, end, text)
    code = "".join(parts).rstrip()
    if not comments:
        return code
    if code.strip():
        return f"{code}  {'  '.join(comments)}"
    return " " * tokens[0].start[1] + "  ".join(comments)


def logical_lines(source: str, first_line: int = 1) -> list[LogicalLine]:
    """Split ``source`` into :class:`LogicalLine` s (dedented; blank lines dropped).

    ``first_line`` is the file's line number of the source's first line. Consecutive
    comment lines at one indentation are one row (one paragraph).
    """
    source = textwrap.dedent(source)
    physical = source.splitlines()
    lines, pending = [], []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        pending.append(token)
        comment_only = all(t.type in (tokenize.COMMENT, tokenize.NL) for t in pending)
        if not (token.type == tokenize.NEWLINE or (token.type == tokenize.NL and comment_only)):
            continue
        text = _join_tokens(pending, physical)
        first, last = (pending[0].start[0] + first_line - 1,
                       pending[-1].start[0] + first_line - 1)
        pending = []
        if not text.strip():
            continue
        before = lines[-1] if lines else None
        if (comment_only and before and before.text.lstrip().startswith("#")
                and _indent(before.text) == _indent(text) and before.last == first - 1):
            lines[-1] = LogicalLine(before.first, last,
                                    f"{before.text} {text.lstrip()[1:].strip()}")
        else:
            lines.append(LogicalLine(first, last, text))
    return lines


# --- alignment -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of the diff: ``kind`` is same, changed, removed (left only) or added."""

    kind: str
    left: LogicalLine | None
    right: LogicalLine | None


def _similarity(a: LogicalLine, b: LogicalLine) -> float:
    return difflib.SequenceMatcher(None, a.key, b.key, autojunk=False).ratio()


def _align(left: list[LogicalLine], right: list[LogicalLine], cutoff: float = 0.55) -> list[Row]:
    """Rows for a block that difflib calls replaced: the most similar lines pair first.

    The best-matching pair (ratio above ``cutoff``) is a changed row; the lines before
    it and after it are aligned the same way; lines without a partner are removed
    (left) or added (right) rows.
    """
    best, where = cutoff, None
    for a, line_a in enumerate(left):
        for b, line_b in enumerate(right):
            ratio = _similarity(line_a, line_b)
            if ratio > best:
                best, where = ratio, (a, b)
    if where is None:
        return ([Row("removed", line, None) for line in left]
                + [Row("added", None, line) for line in right])
    a, b = where
    return (_align(left[:a], right[:b], cutoff) + [Row("changed", left[a], right[b])]
            + _align(left[a + 1:], right[b + 1:], cutoff))


def _header(line: LogicalLine) -> str | None:
    """``"def"`` or ``"class"`` for a line that opens one, else ``None``."""
    match = re.match(r"\s*(?:async\s+)?(def|class)\s", line.text)
    return match.group(1) if match else None


def diff_rows(left: list[LogicalLine], right: list[LogicalLine]) -> list[Row]:
    """Align two lists of logical lines into :class:`Row` s.

    Two ``def`` lines (or two ``class`` lines) that open both sources face each other
    even when the names differ.
    """
    if left and right and _header(left[0]) and _header(left[0]) == _header(right[0]):
        kind = "same" if left[0].key == right[0].key else "changed"
        return [Row(kind, left[0], right[0])] + diff_rows(left[1:], right[1:])
    matcher = difflib.SequenceMatcher(None, [line.key for line in left],
                                      [line.key for line in right], autojunk=False)
    rows = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            rows += [Row("same", a, b) for a, b in zip(left[a0:a1], right[b0:b1])]
        else:
            rows += _align(left[a0:a1], right[b0:b1])
    return rows


def hunks(rows: list[Row], gap: int = 1) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of rows that differ.

    Runs separated by at most ``gap`` same rows are one hunk: a change that an
    unchanged ``if`` line happens to interrupt is one difference with one note.
    """
    runs = []
    for k, row in enumerate(rows):
        if row.kind == "same":
            continue
        if runs and k - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], k + 1)
        else:
            runs.append((k, k + 1))
    return runs


@dataclasses.dataclass(frozen=True)
class Note:
    """Why a difference exists: shown after the hunk in which ``pattern`` matches."""

    pattern: str
    text: str

    def matches(self, rows) -> bool:
        """Does ``pattern`` occur in a row of ``rows`` that differs (on either side)?"""
        return any(re.search(self.pattern, line.text) for row in rows if row.kind != "same"
                   for line in (row.left, row.right) if line is not None)


# --- one pair ------------------------------------------------------------------------------


@dataclasses.dataclass
class Side:
    """One side of a pair: its label, file (from the package root), source, lines."""

    label: str
    path: str
    source: str
    first_line: int
    lines: list[LogicalLine]


def _short_path(path: str) -> str:
    """``.../site-packages/torch/nn/modules/conv.py`` -> ``torch/nn/modules/conv.py``."""
    parts = path.replace("\\", "/").split("/")
    for root in ("torch", "convlab"):
        if root in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(root):])
    return parts[-1]


def source_side(source: str, label: str, path: str = "?", first_line: int = 1) -> Side:
    """One side of a diff from source text (``first_line``: its line number in ``path``)."""
    source = textwrap.dedent(source)
    return Side(label, path, source, first_line, logical_lines(source, first_line))


def side(obj, label: str) -> Side:
    """The live source of ``obj`` (a function, method or class) as one side of a diff."""
    source_lines, first_line = inspect.getsourcelines(obj)
    return source_side("".join(source_lines), label,
                       _short_path(inspect.getsourcefile(obj) or "?"), first_line)


@dataclasses.dataclass
class PairDiff:
    """Two sources aligned row by row, with the notes that explain their hunks.

    ``layout`` is ``"unified"`` (one column; a changed line right above its
    replacement: legible in a narrow page) or ``"side-by-side"`` (two columns).
    Runs of more than ``fold`` same rows farther than ``context`` rows from any hunk
    fold into one line (the full sources, behind the title bar or below the table, hold them).
    """

    name: str
    left: Side
    right: Side
    notes: list[Note]
    layout: str = "unified"
    context: int = 1
    fold: int = 2

    def __post_init__(self):
        self.rows = diff_rows(self.left.lines, self.right.lines)
        self.hunks = hunks(self.rows)

    def notes_for(self, hunk: tuple[int, int]) -> list[int]:
        """Indices of the notes whose pattern matches a differing row of ``hunk``."""
        rows = self.rows[hunk[0]:hunk[1]]
        return [k for k, note in enumerate(self.notes) if note.matches(rows)]

    def stale_notes(self) -> list[Note]:
        """Notes whose pattern matches no differing row."""
        used = {k for hunk in self.hunks for k in self.notes_for(hunk)}
        return [note for k, note in enumerate(self.notes) if k not in used]

    def problems(self) -> list[str]:
        """Notes that match no difference, and differences that no note explains."""
        found = [f"{self.name}: note {note.text[:50]!r} (pattern {note.pattern!r}) matches "
                 f"no difference" for note in self.stale_notes()]
        for hunk in self.hunks:
            if not self.notes_for(hunk):
                row = self.rows[hunk[0]]
                found.append(f"{self.name}: no note explains the difference at "
                             f"{(row.left or row.right).text.strip()[:60]!r}")
        return found

    def fingerprint(self) -> str:
        """A short hash of the rows that differ: it changes whenever the difference does.

        Notes are reviewed against one fingerprint; a new difference that happens to sit
        inside a hunk that already has its note still changes the fingerprint.
        """
        text = "\n".join(f"{row.kind}:{row.left.key if row.left else ''}|"
                          f"{row.right.key if row.right else ''}"
                          for row in self.rows if row.kind != "same")
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def counts(self) -> dict:
        """How many rows of each kind the diff has."""
        kinds = [row.kind for row in self.rows]
        return {kind: kinds.count(kind) for kind in ("same", "changed", "removed", "added")}

    def to_html(self) -> str:
        return to_html(self)

    def _repr_html_(self) -> str:
        return to_html(self)


def _module_label(obj) -> str:
    """``torch 2.x.y`` for torch's objects, the top package's name for the others."""
    module = inspect.getmodule(obj)
    root = module.__name__.split(".")[0] if module else "?"
    version = getattr(importlib.import_module(root), "__version__", None) if module else None
    return f"{root} {version}" if root == "torch" and version else root


def pair_diff(theirs, ours, notes=(), name: str | None = None, layout: str = "unified",
              labels: tuple[str, str] | None = None) -> PairDiff:
    """Diff the live sources of ``theirs`` (left, −) and ``ours`` (right, +)."""
    name = name or getattr(ours, "__qualname__", repr(ours))
    left_label, right_label = labels or (f"{_module_label(theirs)}: {theirs.__qualname__}",
                                         f"{_module_label(ours)}: {ours.__qualname__}")
    return PairDiff(name, side(theirs, left_label), side(ours, right_label), list(notes),
                    layout=layout)


def resolve(path: str):
    """``"torch.nn.modules.conv:_ConvNd.__init__"`` -> that object (module, then attributes)."""
    module_name, _, attributes = path.partition(":")
    obj = importlib.import_module(module_name)
    for attribute in attributes.split(".") if attributes else ():
        obj = getattr(obj, attribute)
    return obj


# --- HTML ----------------------------------------------------------------------------------

STYLE = """<style>
.convlab-diff{margin:0.4em 0 0.9em 0}
.convlab-diff table{table-layout:fixed;width:100%;border-collapse:collapse;margin:0;
 font-family:var(--pst-font-family-monospace,monospace);font-size:11px;line-height:1.2;
 border:1px solid rgba(128,128,128,.35)}
.convlab-diff th{font-family:var(--pst-font-family-base,sans-serif);font-size:12.5px;
 text-align:left;padding:3px 6px;background:rgba(128,128,128,.12);font-weight:600;
 overflow-wrap:anywhere}
.convlab-diff td{padding:0 4px;vertical-align:top;border:none}
.convlab-diff td.cd-no{text-align:right;color:rgba(128,128,128,.95);user-select:none;
 padding-right:5px}
.convlab-diff td.cd-sign{text-align:center;user-select:none;padding:0}
.convlab-diff td.cd-code{white-space:pre-wrap;overflow-wrap:anywhere}
.convlab-diff td.cd-code div{padding-left:var(--hang);text-indent:calc(-1 * var(--hang))}
.convlab-diff tr.cd-removed td.cd-paint{background:rgba(220,60,60,.13)}
.convlab-diff tr.cd-added td.cd-paint{background:rgba(40,170,70,.15)}
.convlab-diff tr.cd-changed td.cd-left{background:rgba(220,60,60,.13)}
.convlab-diff tr.cd-changed td.cd-right{background:rgba(40,170,70,.15)}
.convlab-diff td.cd-left{border-right:1px solid rgba(128,128,128,.35)}
.convlab-diff td.cd-empty{background:rgba(128,128,128,.08)}
.convlab-diff del{text-decoration:none;background:rgba(220,60,60,.32);border-radius:2px}
.convlab-diff ins{text-decoration:none;background:rgba(40,170,70,.38);border-radius:2px}
.convlab-diff .cd-ref{display:inline-block;text-indent:0;margin-left:0.7em;padding:0 0.4em;
 font-family:var(--pst-font-family-base,sans-serif);font-size:10.5px;font-weight:700;
 line-height:1.35;border-radius:3px;background:rgba(255,170,0,.4);user-select:none}
.convlab-diff .cd-minus{color:#c03030;font-weight:700}
.convlab-diff .cd-plus{color:#208040;font-weight:700}
.convlab-diff tr.cd-note td{font-family:var(--pst-font-family-base,sans-serif);
 font-size:13px;line-height:1.35;padding:2px 8px 3px 8px;background:rgba(255,190,0,.14);
 border-top:1px solid rgba(255,170,0,.4);border-bottom:1px solid rgba(255,170,0,.4)}
.convlab-diff tr.cd-gap td{text-align:center;font-family:var(--pst-font-family-base,sans-serif);
 font-size:12px;color:rgba(128,128,128,.95);background:rgba(128,128,128,.06)}
.convlab-diff .cd-problem{font-family:var(--pst-font-family-base,sans-serif);font-size:13px;
 color:#b00020;background:rgba(220,0,30,.08);padding:2px 8px}
.convlab-diff details{margin:0.3em 0 0 0;font-size:13.5px}
.convlab-diff details summary{cursor:pointer}
.convlab-diff p.cd-source{margin:0.5em 0 0 0;font-weight:600;font-size:13px}
.convlab-diff th details{margin:0;font-size:inherit}
.convlab-diff th details > :not(summary){font-weight:400}
.convlab-diff summary.cd-bar{display:flex;justify-content:space-between;gap:1em;
 list-style:none}
.convlab-diff summary.cd-bar::-webkit-details-marker{display:none}
.convlab-diff .cd-open{font-weight:400;white-space:nowrap;
 color:var(--pst-color-link,#0a58ca)}
.convlab-diff .cd-open::before{content:"\\25B8\\00a0"}
.convlab-diff details[open] .cd-open::before{content:"\\25BE\\00a0"}
.convlab-diff details pre{font-size:12px;line-height:1.35;white-space:pre-wrap;
 overflow-wrap:anywhere;margin:0.3em 0;padding:6px 8px}
</style>"""

_WORD = re.compile(r"\w+|\s+|[^\w\s]")


def _marked(text: str, other: str, tag: str) -> str:
    """``text`` as HTML, the words that are not in ``other`` wrapped in ``<tag>``.

    A marked span never crosses a line break, so the result can be split at newlines, and
    never covers the spaces at its ends (a line that only moved deeper is not a change of
    its words).
    """
    mine, theirs = _WORD.findall(text), _WORD.findall(other)
    out = []
    matcher = difflib.SequenceMatcher(None, mine, theirs, autojunk=False)
    for op, a0, a1, _, _ in matcher.get_opcodes():
        for k, piece in enumerate("".join(mine[a0:a1]).split("\n")):
            core = piece.strip()
            if op == "equal" or not core:
                marked = html.escape(piece)
            else:  # the words only: an indentation or a space around them stays unmarked
                start = piece.index(core)
                marked = (f"{piece[:start]}<{tag}>{html.escape(core)}</{tag}>"
                          f"{piece[start + len(core):]}")
            out.append(("\n" if k else "") + marked)
    return "".join(out)


_DOCSTRING = re.compile(r'\s*[rRuU]?("""|\'\'\')')


def _shown_text(line: LogicalLine) -> str:
    """What a row shows: the line, except that a docstring of several lines shows its
    first line (the full docstring is in the full source)."""
    if "\n" in line.text and _DOCSTRING.match(line.text):
        return f"{line.text.splitlines()[0]} …"
    return line.text


def _code(line: LogicalLine, other: LogicalLine | None, tag: str, refs=()) -> str:
    """The inside of a code cell: one ``<div>`` per line of the row; a line that wraps
    hangs 4 columns right of its own indentation. ``other`` is the line this one
    replaces (or is replaced by): the words that differ are marked with ``tag``.
    ``refs``: the numbers of the notes that explain this line, shown at its end."""
    text = _shown_text(line)
    body = (_marked(text, _shown_text(other), tag) if other is not None
            else html.escape(text))
    pieces = body.split("\n")
    pieces[-1] += "".join(f'<span class="cd-ref">{k}</span>' for k in refs)
    return "".join(f'<div style="--hang:{_indent(piece) + 4}ch">{piece or " "}</div>'
                   for piece in pieces)


def note_refs(diff: PairDiff) -> dict[tuple[int, str], list[int]]:
    """Where each note points, for the reader: ``(row index, "left" or "right")`` of the
    first differing line of each hunk it explains that its pattern matches (convlab's
    line before torch's on a changed row) -> the numbers (1-based) of those notes."""
    refs: dict[tuple[int, str], list[int]] = {}
    for start, stop in diff.hunks:
        for k in diff.notes_for((start, stop)):
            spots = ((i, part) for i in range(start, stop) if diff.rows[i].kind != "same"
                     for part in ("right", "left") if getattr(diff.rows[i], part) is not None)
            spot = next(spot for spot in spots
                        if re.search(diff.notes[k].pattern, getattr(diff.rows[spot[0]],
                                                                    spot[1]).text))
            refs.setdefault(spot, []).append(k + 1)
    return refs


def _number(line: LogicalLine | None) -> str:
    if line is None:
        return ""
    return str(line.first)


def _gap_row(count: int) -> str:
    rows = "row is" if count == 1 else "rows are"
    return (f'<tr class="cd-gap"><td colspan="4">{count} more {rows} the same in both '
            f"(see the full sources)</td></tr>")


def _note_row(diff: PairDiff, hunk: tuple[int, int], shown: set) -> str:
    """The notes of ``hunk`` (numbered; a note already shown above is only referred to)."""
    indices = diff.notes_for(hunk)
    if not indices:
        return ('<tr class="cd-note"><td colspan="4" class="cd-problem">No note explains this '
                "difference (the installed torch may differ from the one the notes were "
                "written for).</td></tr>")
    new = [k for k in indices if k not in shown]
    shown.update(indices)
    texts = ([f"<b>{k + 1}</b>&ensp;{html.escape(diff.notes[k].text)}" for k in new]
             or [f"<b>{k + 1}</b>&ensp;as above" for k in indices])
    return f'<tr class="cd-note"><td colspan="4">{"<br>".join(texts)}</td></tr>'


def _visible(diff: PairDiff) -> list:
    """Row indices to draw, with ``("gap", count)`` where a long run of same rows folds."""
    near = set()
    for start, stop in diff.hunks:
        near.update(range(start - diff.context, stop + diff.context))
    out, run = [], []
    for k, row in enumerate(diff.rows):
        if row.kind == "same" and k not in near:
            run.append(k)
            continue
        out += [("gap", len(run))] if len(run) > diff.fold else run
        out.append(k)
        run = []
    return out + ([("gap", len(run))] if len(run) > diff.fold else run)


def _unified_rows(diff: PairDiff) -> list[str]:
    """A same row once; a changed row as torch's line (−) right above convlab's (+)."""
    ends = {stop - 1: (start, stop) for start, stop in diff.hunks}
    shown, body, refs = set(), [], note_refs(diff)

    def line(kind, sign, numbers, code):
        paint = " cd-paint" if kind != "same" else ""
        return (f'<tr class="cd-{kind}"><td class="cd-no{paint}">{numbers[0]}</td>'
                f'<td class="cd-no{paint}">{numbers[1]}</td><td class="cd-sign{paint}">{sign}'
                f'</td><td class="cd-code{paint}">{code}</td></tr>')

    for item in _visible(diff):
        if isinstance(item, tuple):
            body.append(_gap_row(item[1]))
            continue
        row = diff.rows[item]
        changed = row.kind == "changed"
        if row.kind == "same":
            body.append(line("same", "", (row.left.first, row.right.first),
                             _code(row.left, None, "")))
        if row.left is not None and row.kind != "same":
            body.append(line("removed", "−", (row.left.first, ""),
                             _code(row.left, row.right if changed else None, "del",
                                   refs.get((item, "left"), ()))))
        if row.right is not None and row.kind != "same":
            body.append(line("added", "+", ("", row.right.first),
                             _code(row.right, row.left if changed else None, "ins",
                                   refs.get((item, "right"), ()))))
        if item in ends:
            body.append(_note_row(diff, ends[item], shown))
    return body


def _side_by_side_rows(diff: PairDiff) -> list[str]:
    """Torch's line on the left, convlab's on the right, empty where a side has none."""
    ends = {stop - 1: (start, stop) for start, stop in diff.hunks}
    shown, body, refs = set(), [], note_refs(diff)

    def cells(line, other, column, tag, spot=()):
        if line is None:
            return f'<td class="cd-no cd-empty"></td><td class="cd-code cd-empty {column}"></td>'
        return (f'<td class="cd-no">{_number(line)}</td><td class="cd-code {column}">'
                f"{_code(line, other, tag, refs.get(spot, ()))}</td>")

    for item in _visible(diff):
        if isinstance(item, tuple):
            body.append(_gap_row(item[1]))
            continue
        row = diff.rows[item]
        changed = row.kind == "changed"
        paint = {"removed": "cd-paint", "added": "cd-paint"}.get(row.kind, "")
        body.append(f'<tr class="cd-{row.kind}">'
                    + cells(row.left, row.right if changed else None, f"cd-left {paint}", "del",
                            (item, "left"))
                    + cells(row.right, row.left if changed else None, f"cd-right {paint}",
                            "ins", (item, "right"))
                    + "</tr>")
        if item in ends:
            body.append(_note_row(diff, ends[item], shown))
    return body


def _source_html(source: str, first_line: int) -> str:
    """A full source with its file line numbers, highlighted when pygments is installed."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        numbered = "\n".join(f"{first_line + k:4d}  {line}"
                             for k, line in enumerate(source.splitlines()))
        return f'<div class="highlight"><pre>{html.escape(numbered)}</pre></div>'
    formatter = HtmlFormatter(noclasses=True, nobackground=True, linenos="inline",
                              linenostart=first_line)
    return highlight(source, PythonLexer(), formatter)


def _sources(left: Side, right: Side) -> tuple[list[str], str]:
    """Where each full source is (``path, lines a-b``), and both sources as HTML."""
    spans, parts = [], []
    for part in (left, right):
        last = part.first_line + len(part.source.splitlines()) - 1
        where = f"{part.path}, lines {part.first_line}-{last}"
        spans.append(html.escape(where))
        parts.append(f'<p class="cd-source">{html.escape(part.label)} ({html.escape(where)})'
                     f"</p>{_source_html(part.source, part.first_line)}")
    return spans, "".join(parts)


def _details(left: Side, right: Side) -> str:
    """Both full sources, exactly as written, behind one toggle that names their files."""
    spans, parts = _sources(left, right)
    return (f"<details><summary>Full sources, as written: {spans[0]}; {spans[1]}</summary>"
            f"{parts}</details>")


def _head_details(head: str, left: Side, right: Side) -> str:
    """The diff's title bar as the toggle of both full sources, which open below it.

    The bar names the two objects; its right end says "full sources" (the files and
    lines head each source when open). One bar instead of a title and a toggle line:
    the diff takes one line less on the page, and nothing moves out of reach."""
    spans, parts = _sources(left, right)
    where = f"{spans[0]}; {spans[1]}"
    return (f'<details><summary class="cd-bar"><span>{head}</span>'
            f'<span class="cd-open" title="{where}">full sources</span></summary>'
            f"{parts}</details>")


def _unified_head(left: str, right: str) -> str:
    """``− torch 2.x: Name  + convlab: Name``, or ``Name: − torch 2.x  + convlab``."""
    minus, plus = '<span class="cd-minus">−</span>', '<span class="cd-plus">+</span>'
    (left_lib, _, left_name), (right_lib, _, right_name) = (left.partition(": "),
                                                            right.partition(": "))
    if left_name and left_name == right_name:
        return (f"<code>{html.escape(left_name)}</code>: {minus} {html.escape(left_lib)} "
                f"&emsp; {plus} {html.escape(right_lib)}")
    return f"{minus} {html.escape(left)} &emsp; {plus} {html.escape(right)}"


def to_html(diff: PairDiff) -> str:
    """The diff as a self-contained HTML fragment (styles, table, stale notes, toggles)."""
    left, right = diff.left, diff.right
    if diff.layout == "unified":
        columns = ('<col style="width:2.7em"><col style="width:2.7em">'
                   '<col style="width:1.2em"><col>')
        title = _head_details(_unified_head(left.label, right.label), left, right)
        head = f'<tr><th colspan="4">{title}</th></tr>'
        rows = _unified_rows(diff)
        below = ""
    elif diff.layout == "side-by-side":
        columns = '<col style="width:2.7em"><col><col style="width:2.7em"><col>'
        head = "".join(f'<th colspan="2">{html.escape(part.label)}<br><code>'
                       f"{html.escape(part.path)}</code></th>" for part in (left, right))
        head = f"<tr>{head}</tr>"
        rows = _side_by_side_rows(diff)
        below = _details(left, right)
    else:
        raise ValueError(f"layout must be 'unified' or 'side-by-side', got {diff.layout!r}")
    stale = "".join(f'<p class="cd-problem cd-stale">A note no longer matches any difference: '
                    f"{html.escape(note.text)}</p>" for note in diff.stale_notes())
    return (f'{STYLE}<div class="convlab-diff" data-pair="{html.escape(diff.name)}">'
            f'<table class="cd-{diff.layout}"><colgroup>{columns}</colgroup>'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{stale}"
            f"{below}</div>")
