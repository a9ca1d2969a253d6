"""The Simplified Chinese edition's sources (issue 16): catalogs, Chinese notebooks, glossary.

- every message of every page is translated (no empty or fuzzy entry: this fails, with the
  counts per file, until the chapters are translated), and no translation lost a formula,
  code span, citation or link target of its English;
- the .po files are up to date with the English sources (a fresh extraction agrees), so an
  English edit that nobody translated fails;
- ``tools/i18n_markdown.py`` finds in each page exactly the messages Sphinx extracts, and
  the Chinese notebooks keep every code cell, output and id byte for byte;
- the glossary fixes the terms the issue names, one Chinese term per idea.

The checks on the built Chinese site are in ``tests/site/test_editions.py``.
"""

from __future__ import annotations

import fcntl
import json
import os
import pathlib
import re
import subprocess
import sys

import polib
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import convlab_i18n  # noqa: E402
import i18n  # noqa: E402
import i18n_markdown  # noqa: E402
import nbtools  # noqa: E402

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _page(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()


@pytest.fixture(scope="session")
def extracted(tmp_path_factory) -> pathlib.Path:
    """The .pot files of a fresh gettext extraction (once for all pytest-xdist workers).

    The workers' temporary directories share this session's parent; without xdist the
    parent is shared by every session (``pytest-of-<user>``), so the session's own is used."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    pot = shared / "i18n-pot"
    with open(shared / "i18n-pot.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (pot / "done").exists():
            result = subprocess.run([sys.executable, str(ROOT / "tools" / "i18n.py"), "pot",
                                     str(pot)], capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
            (pot / "done").touch()
    return pot


# --- the catalogs ------------------------------------------------------------------------
def test_every_message_is_translated():
    """No empty and no fuzzy entry in any .po file (``python tools/i18n.py check``)."""
    stats = i18n.statistics()
    assert stats, f"no .po files under {i18n.PO_DIR}"
    problems = i18n.report(stats)
    assert not problems, ("untranslated messages (translate them in the .po files, see "
                          "README \"中文版\"):\n" + "\n".join(problems))


def test_translations_keep_formulas_code_citations_and_links():
    broken = {page: s["broken"] for page, s in i18n.statistics().items() if s["broken"]}
    assert not broken, f"translations that changed what they must keep: {broken}"


def test_po_files_are_up_to_date_with_the_english(extracted):
    """Every English message has an entry, and no entry is left from deleted English."""
    stale = i18n.stale_messages(extracted)
    assert not stale, "run `python tools/i18n.py extract`:\n" + "\n".join(stale)


def _toc_captions() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return {part["caption"] for part in toc.get("parts", []) if part.get("caption")}


def _markdown_of(page: str) -> list[str]:
    notebook = ROOT / f"{page}.ipynb"
    if notebook.exists():
        return [nbtools.source(c) for c in nbtools.load(notebook)["cells"]
                if c["cell_type"] == "markdown"]
    return [(ROOT / f"{page}.md").read_text(encoding="utf-8")]


def test_markdown_messages_are_the_ones_sphinx_extracts(extracted):
    """tools/i18n_markdown.py finds what Sphinx's gettext builder finds, page by page."""
    differ = []
    for page, pot in i18n.pot_files(extracted).items():
        sphinx = {e.msgid for e in polib.pofile(str(pot))} - _toc_captions()
        ours = {m.msgid for text in _markdown_of(page) for m in i18n_markdown.messages(text)}
        if sphinx != ours:
            differ.append(f"{page}: Sphinx only {sorted(sphinx - ours)[:3]}, "
                          f"ours only {sorted(ours - sphinx)[:3]}")
    assert not differ, "\n".join(differ)


def test_api_docstrings_are_not_messages(extracted):
    """The API page translates its own prose; autodoc's docstrings stay as the code says."""
    msgids = {e.msgid for e in polib.pofile(str(extracted / "book" / "api.pot"))}
    assert "API reference" in msgids
    assert not [m for m in msgids if "Alias for field" in m or "Raises ``" in m], msgids


# --- the Chinese notebooks ----------------------------------------------------------------
def _without_source(cell: dict) -> dict:
    return {k: v for k, v in cell.items() if k != "source"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chinese_notebooks_keep_every_code_cell_byte_for_byte(path):
    """Only Markdown sources change: code, outputs, ids, tags and metadata are identical."""
    english = nbtools.load(path)
    chinese, _ = i18n.translate_notebook(english, i18n.catalog(_page(path)))
    assert chinese["metadata"] == english["metadata"]
    assert (chinese["nbformat"], chinese["nbformat_minor"]) == (english["nbformat"],
                                                                english["nbformat_minor"])
    assert len(chinese["cells"]) == len(english["cells"])
    for k, (zh, en) in enumerate(zip(chinese["cells"], english["cells"])):
        if en["cell_type"] == "markdown":
            assert _without_source(zh) == _without_source(en), f"cell {k}"
        else:
            assert json.dumps(zh, sort_keys=True) == json.dumps(en, sort_keys=True), f"cell {k}"


def _marked(msgid: str) -> str:
    """A stand-in translation that keeps what a translation must keep."""
    return msgid if i18n.needs_no_translator(msgid, set()) else f"译文〔{msgid}〕"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_block_of_a_chapter_can_be_replaced(path):
    """With a translation for every message, each block of each Markdown cell is replaced."""
    english = nbtools.load(path)
    for cell in english["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = nbtools.source(cell)
        before = i18n_markdown.messages(text)
        formulas = {m.msgid for m in before if m.kind == "math"}  # these stay as they are
        lookup = lambda msgid: msgid if msgid in formulas else _marked(msgid)  # noqa: B023
        translated, missing = i18n_markdown.translate(text, lookup)
        after = i18n_markdown.messages(translated)
        assert not missing
        assert [m.kind for m in after] == [m.kind for m in before], text[:80]
        assert [m.msgid for m in after] == [i18n_markdown.message_id(lookup(m.msgid))
                                            if m.kind != "math" else m.msgid
                                            for m in before], text[:80]


def test_every_markdown_cell_of_the_chinese_notebooks_is_translated():
    """Each Markdown cell's every block has a translation (fails until chapters are done)."""
    todo = []
    for path in NOTEBOOKS:
        translations = i18n.catalog(_page(path))
        chinese, cells = i18n.translate_notebook(nbtools.load(path), translations)
        untranslated = [c for c in cells if c["untranslated"]]
        if untranslated:
            blocks = sum(len(c["untranslated"]) for c in untranslated)
            todo.append(f"{path.name}: {len(untranslated)} of {len(cells)} Markdown cells "
                        f"({blocks} blocks) untranslated")
        # what was translated is really in the notebook: no English block is left over
        english_left = {m.msgid for c in chinese["cells"] if c["cell_type"] == "markdown"
                        for m in i18n_markdown.messages(nbtools.source(c))
                        if m.msgid in translations and translations[m.msgid] != m.msgid}
        assert not english_left, f"{path.name}: translated but not replaced: {english_left}"
    assert not todo, "\n".join(todo)


# --- the tools on small cases ------------------------------------------------------------
def test_translate_keeps_the_markdown_structure():
    text = ("# A title\n\nA paragraph that\nspans two lines.\n\n- an item that\n  continues\n"
            "- two\n\n| a | b |\n| --- | --- |\n| `x` | cell |\n\n$$\nx = y\n$$\n\n"
            "```python\n# code stays\nprint(1)\n```\n\n> quoted\n> text\n\n"
            "```{image} x.png\n:alt: An alt text\n:width: 50%\n```\n\n"
            ":::{note}\nInside a note.\n:::\n")
    table = {"A title": "标题", "A paragraph that spans two lines.": "一段跨两行的文字。",
             "an item that continues": "一个延续的条目", "two": "二", "a": "甲", "b": "乙",
             "cell": "单元格", "quoted text": "引文", "An alt text": "替代文字",
             "Inside a note.": "注释里的话。"}
    translated, missing = i18n_markdown.translate(text, table.get)
    assert [m.msgid for m in missing] == ["`x`", "\nx = y\n"]
    assert translated == ("# 标题\n\n一段跨两行的文字。\n\n- 一个延续的条目\n- 二\n\n"
                          "| 甲 | 乙 |\n| --- | --- |\n| `x` | 单元格 |\n\n$$\nx = y\n$$\n\n"
                          "```python\n# code stays\nprint(1)\n```\n\n> 引文\n\n"
                          "```{image} x.png\n:alt: 替代文字\n:width: 50%\n```\n\n"
                          ":::{note}\n注释里的话。\n:::\n")


def test_table_cells_with_pipes_are_escaped():
    translated, _ = i18n_markdown.translate("| a |\n| --- |\n| b |\n", {"b": "x | y"}.get)
    assert translated.splitlines()[2] == "| x \\| y |"


@pytest.mark.parametrize("msgid, verbatim", [
    ("`conv2d_naive`", True), ("$H_\\text{out}$", True),
    ("{cite:t}`dumoulin2016guide`: transposed convolution arithmetic.", False),
    ("{cite}`dumoulin2016guide`", True), ("`N`, $N$, <https://pytorch.org>", True),
    ("[`conv.py`](07_reading_conv_py.ipynb)", True), ("卷积", True),
    ("the `stride`", False), ("Chapter 2.", False), ("3x3", False),
])
def test_autofill_copies_only_what_needs_no_translator(msgid, verbatim):
    assert i18n.needs_no_translator(msgid, set()) is verbatim


@pytest.mark.parametrize("msgstr, problem", [
    ("用 `x` 计算 $y$，见[第 2 章](02.md)。", None),
    ("用 `x` 计算，见[第 2 章](02.md)。", "lost"),
    ("用 `x` 计算 $y$，见[第 2 章](03.md)。", "lost"),
    ("用 `x` `z` 计算 $y$，见[第 2 章](02.md)。", "added"),
    ("**用**。`x` $y$ [第 2 章](02.md)", None),
    ("**用。**后 `x` $y$ [第 2 章](02.md)", "emphasis"),
    ("用 `x`\n计算 $y$ [第 2 章](02.md)", "line break"),
    ("1. 用 `x` 计算 $y$ [第 2 章](02.md)", "one paragraph"),
    ("1\\. 用 `x` 计算 $y$ [第 2 章](02.md)", None),
])
def test_check_catches_translations_that_break_the_markup(msgstr, problem):
    problems = i18n.placeable_problems("Use `x` for $y$, see [chapter 2](02.md).", msgstr)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("pagename, this, other, url", [
    ("book/01_x", "en", "zh_CN", "../zh_CN/book/01_x.html"),
    ("book/01_x", "zh_CN", "en", "../../book/01_x.html"),
    ("search", "en", "zh_CN", "zh_CN/search.html"),
    ("search", "zh_CN", "en", "../search.html"),
])
def test_language_switch_links_the_twin(pagename, this, other, url):
    assert convlab_i18n.twin_url(pagename, this, other) == url


# --- the glossary ------------------------------------------------------------------------
ISSUE_TERMS = {  # issue 16 and the terms the book uses: English -> the Chinese term
    "convolution": "卷积", "cross-correlation": "互相关", "kernel": "卷积核", "stride": "步幅",
    "padding": "填充", "dilated": "膨胀卷积（空洞卷积）", "grouped convolution": "分组卷积",
    "depthwise separable convolution": "深度可分离卷积", "transposed convolution": "转置卷积",
    "receptive field": "感受野", "feature map": "特征图", "channel": "通道", "batch": "批量",
    "bias": "偏置", "weight": "权重", "pooling": "池化", "max pooling": "最大池化",
    "average pooling": "平均池化", "backpropagation": "反向传播", "gradient": "梯度",
    "output padding": "输出填充", "checkerboard artifacts": "棋盘格伪影",
    "equivariance": "等变性", "im2col": "im2col", "Winograd": "Winograd 算法",
}


def test_glossary_fixes_the_terms_of_the_issue():
    terms = i18n.glossary_terms()
    missing = []
    for english, chinese in ISSUE_TERMS.items():
        rows = [zh for en, zh in terms if re.search(rf"(^|[ ,(]){re.escape(english)}\b", en)]
        if not any(chinese in re.split(r"[,、]\s*", zh) or chinese == zh for zh in rows):
            missing.append(f"{english} -> {chinese} (rows: {rows})")
    assert not missing, "glossary rows missing:\n" + "\n".join(missing)


def test_glossary_uses_one_chinese_term_per_idea():
    seen: dict[str, str] = {}
    twice = []
    for english, chinese in i18n.glossary_terms():
        for term in re.split(r"[,、]\s*", chinese):
            if term in seen and seen[term] != english:
                twice.append(f"{term}: {seen[term]!r} and {english!r}")
            seen.setdefault(term, english)
    assert not twice, twice


def test_search_dictionary_holds_the_glossary_terms(tmp_path):
    i18n.write_jieba_dict(tmp_path / "dict.txt")
    words = (tmp_path / "dict.txt").read_text(encoding="utf-8").split()
    assert {"转置卷积", "卷积", "深度可分离卷积", "膨胀卷积", "空洞卷积"} <= set(words)


def test_glossary_is_in_the_appendix():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    appendix = [p for p in toc["parts"] if p["caption"] == "Appendix"][0]
    assert {"file": "book/glossary"} in appendix["chapters"]


# --- publishing ------------------------------------------------------------------------------
def test_requirements_pin_the_translation_tools():
    pins = (ROOT / "requirements.txt").read_text().lower()
    for package in ("jieba==", "polib=="):
        assert package in pins, f"requirements.txt does not pin {package}"


def test_the_workflow_publishes_the_chinese_notebooks():
    """The branch the Chinese pages' Colab buttons open is the one the workflow pushes."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    on = workflow.get(True, workflow.get("on"))
    assert "push" in on
    jobs = workflow["jobs"]
    uploads = [s for s in jobs["test-and-build"]["steps"]
               if s.get("uses", "").startswith("actions/upload-artifact")
               and s["with"]["path"] == "_build/notebooks-zh_CN"]
    assert uploads, "test-and-build does not keep _build/notebooks-zh_CN"
    publish = jobs["publish-chinese-notebooks"]
    assert publish["needs"] == "test-and-build"
    assert "pull_request" in publish["if"] and "refs/heads/main" in publish["if"]
    assert publish["permissions"] == {"contents": "write"}
    runs = "\n".join(step.get("run", "") for step in publish["steps"])
    assert f"git push --force origin HEAD:refs/heads/{i18n.NOTEBOOKS_BRANCH}" in runs
    downloads = [s for s in publish["steps"]
                 if s.get("uses", "").startswith("actions/download-artifact")]
    assert downloads and downloads[0]["with"]["name"] == uploads[0]["with"]["name"]


def _catalog_file(path: pathlib.Path, entries: list[tuple[str, str]], fuzzy=()) -> None:
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for msgid, msgstr in entries:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr,
                                flags=["fuzzy"] if msgid in fuzzy else []))
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))


def test_an_english_edit_makes_its_entry_fuzzy_and_new_text_empty(tmp_path):
    """What `extract` does with the English of the next edit, on small catalogs."""
    pot, locales = tmp_path / "pot", tmp_path / "locales"
    po_dir = locales / i18n.LANG / "LC_MESSAGES"
    edited = "The kernel slides over the image, one position at a time."
    _catalog_file(pot / "book" / "a.pot", [(edited, ""), ("A brand new paragraph here.", ""),
                                           ("Summary", ""), ("`conv2d`, $k$", "")])
    _catalog_file(pot / "book" / "b.pot", [("Summary", "")])
    (pot / "verbatim.json").write_text("[]")
    _catalog_file(po_dir / "book" / "a.po", [
        ("The kernel slides over the image, one pixel at a time.",
         "卷积核在图像上滑动，每次一个像素。"),
        ("A paragraph that was deleted.", "一段被删掉的文字。")])
    _catalog_file(po_dir / "book" / "b.po", [("Summary", "小结")])
    _catalog_file(po_dir / "book" / "gone.po", [("Old page", "旧页面")])
    counts = i18n.update_catalogs(pot, locales)
    assert counts == {"reused": 1, "autofilled": 1}
    a = polib.pofile(str(po_dir / "book" / "a.po"))
    fuzzy = a.find(edited)
    assert fuzzy.fuzzy and fuzzy.msgstr == "卷积核在图像上滑动，每次一个像素。"
    assert fuzzy.previous_msgid.endswith("one pixel at a time.")  # what the English was
    assert a.find("A brand new paragraph here.").msgstr == ""
    assert a.find("Summary").msgstr == "小结"  # the same English translated on page b
    assert a.find("`conv2d`, $k$").msgstr == "`conv2d`, $k$"
    assert a.find("A paragraph that was deleted.") is None and not a.obsolete_entries()
    assert not (po_dir / "book" / "gone.po").exists()
    problems = i18n.report(i18n.statistics(po_dir))
    assert problems == ["book/a.po: 1 untranslated, 1 fuzzy, 0 broken, of 4"], problems
