"""A Markdown text's translatable messages, found as Sphinx finds them, and replaced.

Sphinx's gettext builder makes one message of each paragraph, heading, table cell,
display formula and image ``:alt:`` text of a page: the block's Markdown source, its
line breaks turned into spaces (``sphinx.util.nodes.extract_messages``; myst-parser keeps
the source of each block as the node's ``rawsource``). ``messages(text)`` finds the same
blocks with myst-parser's own markdown-it parser, and ``translate(text, lookup)`` rewrites
every block whose message ``lookup`` translates, leaving everything else (list markers,
indentation, blank lines, code fences, directives' options) exactly as it was.

``tools/i18n.py notebooks`` uses it on the Markdown cells of the chapters, and
``tests/test_i18n.py`` checks that it finds exactly the messages Sphinx extracted.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable

# myst-parser's extensions of _config.yml (parse.myst_enable_extensions)
MYST_EXTENSIONS = ("dollarmath", "amsmath", "colon_fence", "deflist")
# directives whose content is Markdown (its paragraphs are messages of the page)
MARKDOWN_DIRECTIVES = {
    "admonition", "attention", "caution", "danger", "dropdown", "epigraph", "error",
    "figure", "hint", "important", "margin", "note", "seealso", "sidebar", "tip", "topic",
    "warning", "card", "tab-item",
}
# directives whose argument is a title (a message of its own)
TITLED_DIRECTIVES = {"admonition", "dropdown", "topic", "sidebar", "card", "tab-item"}
TRANSLATABLE_OPTIONS = ("alt", "caption")
OPTION = re.compile(r"^(\s*):([\w-]+):(\s*)(.*)$")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@dataclasses.dataclass
class Message:
    """One translatable block: its message id and where it is in the text."""

    msgid: str
    kind: str  # "text" (paragraph, heading), "cell", "math", "option", "title"
    line: int  # first line of the block (0-based)
    end: int  # one past its last line
    cell: int = -1  # "cell": which cell of the table row


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)),
                            RendererHTML)


def message_id(source: str) -> str:
    """A block's message as Sphinx writes it: line breaks become spaces, ends stripped."""
    return source.replace("\n", " ").strip()


def _directive(info: str) -> tuple[str, str] | None:
    match = re.match(r"^\{([\w:-]+)\}\s*(.*)$", info.strip())
    return (match.group(1), match.group(2)) if match else None


def _split_options(body: list[str]) -> int:
    """How many leading lines of a directive's body are its options (``:key: value``)."""
    if body and body[0].strip() == "---":  # a YAML block of options
        for k in range(1, len(body)):
            if body[k].strip() == "---":
                return k + 1
        return len(body)
    count = 0
    while count < len(body) and OPTION.match(body[count]):
        count += 1
    return count


def messages(text: str) -> list[Message]:
    """Every translatable block of ``text`` in document order (see the module docstring)."""
    found: list[Message] = []
    tokens = _parser().parse(text)
    cell_of_row: dict[int, int] = {}
    for k, token in enumerate(tokens):
        if token.type == "inline" and token.map:
            parent = tokens[k - 1].type if k else ""
            if parent in ("th_open", "td_open"):
                row = token.map[0]
                cell_of_row[row] = cell_of_row.get(row, -1) + 1
                if message_id(token.content):  # an empty cell is no message
                    found.append(Message(message_id(token.content), "cell", row, row + 1,
                                         cell_of_row[row]))
            elif message_id(token.content):
                found.append(Message(message_id(token.content), "text", *token.map))
        elif token.type in ("math_block", "amsmath") and token.map:
            found.append(Message(token.content, "math", *token.map))
        elif token.type in ("fence", "colon_fence") and token.map:
            found += _directive_messages(token, text.splitlines())
    return found


def _directive_messages(token, lines: list[str]) -> list[Message]:
    directive = _directive(token.info)
    if directive is None:
        return []  # a code block
    name, argument = directive
    start, end = token.map
    found = []
    if name in TITLED_DIRECTIVES and argument:
        found.append(Message(message_id(argument), "title", start, start + 1))
    if name == "math":
        body = token.content.splitlines(keepends=True)
        skip = _split_options([b.rstrip("\n") for b in body])
        return found + [Message("".join(body[skip:]).strip("\n"), "math", start, end)]
    body_lines = lines[start + 1:end - 1]
    options = _split_options(body_lines)
    for offset in range(options):
        match = OPTION.match(body_lines[offset])
        if match and match.group(2) in TRANSLATABLE_OPTIONS and match.group(4).strip():
            line = start + 1 + offset
            found.append(Message(message_id(match.group(4)), "option", line, line + 1))
    if name in MARKDOWN_DIRECTIVES:
        indent = len(lines[start]) - len(lines[start].lstrip())
        content_start = start + 1 + options
        content = "\n".join(line[indent:] for line in lines[content_start:end - 1])
        for inner in messages(content):
            inner.line += content_start
            inner.end += content_start
            found.append(inner)
    return found


def _replace_block(lines: list[str], message: Message, msgstr: str) -> None:
    first = message.msgid.split(" ")[0] if message.kind == "text" else ""
    if message.kind == "text":
        where = lines[message.line].find(first)
        if where < 0:
            raise ValueError(f"cannot find {message.msgid[:60]!r} on line {message.line + 1}")
        prefix = lines[message.line][:where]
        kept = []  # a setext heading keeps its underline
        last = lines[message.end - 1] if message.end - message.line > 1 else ""
        if re.fullmatch(r"\s*(=+|-+)\s*", last):
            kept = [last]
        lines[message.line:message.end] = [prefix + msgstr.replace("\n", " ")] + kept
    elif message.kind == "math":
        opening, closing = lines[message.line], lines[message.end - 1]
        if opening.strip() == "$$" and closing.strip() == "$$":
            lines[message.line + 1:message.end - 1] = msgstr.strip("\n").split("\n")
        elif msgstr != message.msgid:
            raise ValueError(f"cannot place the translation of the formula on line "
                             f"{message.line + 1} (only $$ blocks on lines of their own)")
    elif message.kind in ("option", "title"):
        line = lines[message.line]
        where = line.rfind(message.msgid)
        if where < 0:
            raise ValueError(f"cannot find {message.msgid!r} on line {message.line + 1}")
        lines[message.line] = line[:where] + msgstr.replace("\n", " ") \
            + line[where + len(message.msgid):]


def _replace_cells(line: str, cells: dict[int, str]) -> str:
    """The table row ``line`` with cell k's text replaced by ``cells[k]``."""
    parts = UNESCAPED_PIPE.split(line)
    lead = 1 if line.strip().startswith("|") else 0  # text before a leading pipe is empty
    for k, text in cells.items():
        old = parts[lead + k]
        pad_left = old[:len(old) - len(old.lstrip())] or " "
        pad_right = old[len(old.rstrip()):] or " "
        parts[lead + k] = pad_left + UNESCAPED_PIPE.sub(r"\\|", text.replace("\n", " ")) \
            + pad_right
    return "|".join(parts)


def translate(text: str, lookup: Callable[[str], str | None]) -> tuple[str, list[Message]]:
    """``text`` with every block ``lookup`` translates replaced; and the blocks it did not.

    ``lookup(msgid)`` returns the translation, or None when there is none.
    """
    found = messages(text)
    lines = text.split("\n")
    untranslated, rows = [], {}
    for message in reversed(found):  # bottom up: earlier line numbers stay valid
        msgstr = lookup(message.msgid)
        if msgstr is None:
            untranslated.append(message)
        elif message.kind == "cell":
            rows.setdefault(message.line, {})[message.cell] = msgstr
        else:
            _flush_rows(lines, rows, below=message.line)
            _replace_block(lines, message, msgstr)
    _flush_rows(lines, rows, below=-1)
    return "\n".join(lines), untranslated[::-1]


def _flush_rows(lines: list[str], rows: dict[int, dict[int, str]], below: int) -> None:
    """Rewrite the table rows collected so far that lie below line ``below``."""
    for row in sorted([r for r in rows if r > below], reverse=True):
        lines[row] = _replace_cells(lines[row], rows.pop(row))


def is_one_paragraph(text: str) -> bool:
    """Does ``text``, parsed on its own as Sphinx parses a translation, give one paragraph?

    Sphinx uses a translated message only when it parses to the same kind of node as the
    English block: a table cell's ``1. [Title](page.md)`` translated as ``1. [标题](page.md)``
    would parse as a numbered list and be dropped silently; ``1\\. [标题](page.md)`` works.
    """
    types = [t.type for t in _parser().parse(text)]
    return types == ["paragraph_open", "inline", "paragraph_close"]


def stray_emphasis_marks(text: str) -> int:
    """How many ``*`` of ``text`` Markdown shows as plain text (emphasis that did not parse).

    CommonMark treats Chinese punctuation as punctuation: ``**粗体。**后文`` is not bold
    (the closing ``**`` follows punctuation and precedes a letter); ``**粗体**。后文`` is.
    """
    count = 0
    for block in _parser().parseInline(text):
        for child in block.children or []:
            if child.type == "text":
                count += child.content.count("*")
    return count
