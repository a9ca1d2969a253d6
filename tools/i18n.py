"""The Simplified Chinese edition, from one source: Sphinx gettext, .po files, two builds.

    python tools/i18n.py extract      # the English text's messages -> locales/zh_CN/**.po
    python tools/i18n.py autofill     # messages that are only math/code/URLs/citations
    python tools/i18n.py check        # per-file counts; fails on empty or fuzzy entries
    python tools/i18n.py build en     # strict HTML build of one edition (`make build`)
    python tools/i18n.py build zh_CN
    python tools/i18n.py notebooks    # Chinese notebooks -> _build/notebooks-zh_CN/book/

**Messages.** ``extract`` runs Sphinx's gettext builder on the same notebooks and pages
as the site (execution off: code and outputs are not messages) into ``_build/gettext``,
one ``.pot`` per page, then updates ``locales/zh_CN/LC_MESSAGES/<page>.po`` as
``sphinx-intl update`` does (``merge``): a new paragraph gets an empty entry, a changed
one keeps its old translation marked *fuzzy* (with the old English as ``#| msgid``), a
deleted one goes. It then settles what needs no translator: an entry whose English is
translated on another page gets that translation (one sentence, one translation), and
``autofill`` copies messages that are only formulas, code, URLs or citations. The API
page's docstrings are code documentation and never become messages (``convlab_i18n``).

**Check.** ``check`` fails while any entry is empty or fuzzy, or is broken: a translation
that lost or added a formula, code span, citation or link target of its English, has
emphasis that does not parse, or would not be used by Sphinx (``placeable_problems``).

**Builds.** ``build en`` and ``build zh_CN`` are Jupyter Book's own build (its
``build_sphinx``, with ``_config.yml``) plus overrides: both execute notebooks through
one jupyter-cache (``_build/.jupyter_cache``, emptied by ``make build``), so the English
build executes each chapter once and the Chinese build reuses the outputs; the Chinese
build adds ``language``, the catalogs, Chinese search (jieba, with the glossary's terms
as its dictionary), the Chinese title and the branch of the Chinese notebooks, and is
moved to ``_build/html/zh_CN``.

**Notebooks.** ``notebooks`` writes each chapter with its Markdown cells translated from
the page's ``.po`` (``tools/i18n_markdown.py``) and every other cell as it is; the
Pages workflow publishes them on the branch ``notebooks-zh_CN``, where the Chinese
pages' Colab buttons open them.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import pickle
import re
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import i18n_markdown  # noqa: E402
import nbtools  # noqa: E402

LANG = "zh_CN"
LOCALES = ROOT / "locales"
PO_DIR = LOCALES / LANG / "LC_MESSAGES"
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"  # one execution for both editions
GETTEXT = BUILD / "gettext"
NOTEBOOKS_OUT = BUILD / f"notebooks-{LANG}"
NOTEBOOKS_BRANCH = f"notebooks-{LANG}"  # where .github/workflows/book.yml publishes them
GLOSSARY = ROOT / "book" / "glossary.md"
LINE_WIDTH = 76
HEADER = ("The book's messages in Simplified Chinese, written by tools/i18n.py extract from\n"
          "the English sources: translate each msgstr (README: 中文版 / Chinese edition).")
# Sphinx's verbatim nodes: a message of one of these is a formula or raw markup
VERBATIM_NODES = ("math_block", "raw")


# --- builds --------------------------------------------------------------------------------
def sphinx_build(builder: str, outdir: pathlib.Path, doctrees: pathlib.Path,
                 overrides: dict, strict: bool = True) -> int:
    """Jupyter Book's build of the book (``jupyter-book build --all [-W -n --keep-going]``)."""
    from jupyter_book.sphinx import build_sphinx

    config = {"external_toc_path": (ROOT / "_toc.yml").as_posix(),
              "latex_individualpages": False, "nitpicky": strict, **overrides}
    result = build_sphinx(ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"),
                          confoverrides=config, doctreedir=doctrees, builder=builder,
                          warningiserror=strict, keep_going=strict, freshenv=True)
    return 1 if isinstance(result, Exception) else int(result or 0)


def translated_title() -> str | None:
    """The Chinese book title: the translation of the root page's title in its .po."""
    import polib

    title = _config_value("title")
    po = PO_DIR / "book" / "intro.po"
    if not title or not po.exists():
        return None
    entry = polib.pofile(str(po)).find(title)
    return entry.msgstr if entry and entry.translated() else None


def _config_value(key: str) -> str | None:
    import yaml

    return yaml.safe_load((ROOT / "_config.yml").read_text()).get(key)


def edition_overrides(lang: str) -> dict:
    overrides = {"nb_execution_mode": "cache", "nb_execution_cache_path": CACHE.as_posix()}
    if lang == "en":
        return overrides
    locales = BUILD / LANG / "locales"  # Sphinx writes .mo files next to the .po files
    if locales.exists():
        shutil.rmtree(locales)
    shutil.copytree(LOCALES, locales)
    userdict = BUILD / LANG / "jieba_userdict.txt"
    write_jieba_dict(userdict)
    overrides.update({
        "language": lang, "locale_dirs": [locales.as_posix()], "gettext_compact": False,
        "html_search_options": {"dict": userdict.as_posix()},
        "html_theme_options": {"repository_branch": NOTEBOOKS_BRANCH},
        # docutils' smart quotes read a straight ' after a Han character as a closing
        # quote (**'half' 填充** became ’half’); Chinese text writes its own “” and ‘’
        "smartquotes": False,
    })
    if title := translated_title():
        overrides["html_title"] = title
    return overrides


def measures_time(chapter: pathlib.Path) -> bool:
    """A chapter whose prose is computed from timings it takes (notebook metadata
    ``"convlab": {"measures_time": true}``): it must run with the machine to itself."""
    metadata = json.loads(chapter.read_text()).get("metadata", {})
    return bool(metadata.get("convlab", {}).get("measures_time"))


def execute() -> int:
    """Execute every chapter into the jupyter-cache before the builds: one per core, except
    the chapters that time code (:func:`measures_time`), which then run one at a time.

    The builds then find every notebook in the cache (myst-nb matches on the code cells),
    so the book still executes once, but on all cores instead of one chapter after another,
    and no timing on a page was measured while another chapter ran. A chapter that fails
    here is left to the English build, which runs it and reports the error the usual way.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    started = time.monotonic()
    cache = get_cache(CACHE)
    chapters = sorted((ROOT / "book").glob("*.ipynb"), key=lambda p: -p.stat().st_size)
    for chapter in chapters:  # the biggest first: the pool's last task is a short one
        cache.add_nb_to_project(str(chapter))
    timeout = (yaml_config().get("execute") or {}).get("timeout", 30)
    timed = [str(c) for c in chapters if measures_time(c)]
    succeeded, failed = [], []
    for executor, uris in (("local-parallel", [str(c) for c in chapters if str(c) not in timed]),
                           ("local-serial", timed)):
        if not uris:
            continue
        result = load_executor(executor, cache=cache).run_and_cache(
            filter_uris=uris, timeout=timeout, allow_errors=False)
        succeeded += result.succeeded
        failed += result.excepted + result.errored
    for uri in succeeded:
        alone = " (alone: it times code)" if uri in timed else ""
        print(f"{pathlib.Path(uri).relative_to(ROOT)}: executed into the cache{alone}")
    print(f"executed {len(succeeded)} of {len(chapters)} notebooks in "
          f"{time.monotonic() - started:.0f} s" + (f"; left to the build: {failed}" if failed
                                                   else ""))
    return 0


def yaml_config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "_config.yml").read_text())


def build(lang: str) -> int:
    """Build one edition strictly: English into _build/html, Chinese into _build/html/zh_CN."""
    started = time.monotonic()
    status = _build(lang)
    print(f"{lang} edition built in {time.monotonic() - started:.0f} s (status {status})")
    return status


def _build(lang: str) -> int:
    if lang == "en":
        return sphinx_build("html", BUILD / "html", BUILD / ".doctrees", edition_overrides(lang))
    # myst-nb writes its outputs next to the builder's directory: build apart, then move
    work = BUILD / lang
    status = sphinx_build("html", work / "html", work / ".doctrees", edition_overrides(lang))
    if status == 0:
        target = BUILD / "html" / lang
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work / "html"), target)
        print(f"The {lang} edition is in {target.relative_to(ROOT)}")
    return status


# --- messages ------------------------------------------------------------------------------
def gettext(pot_dir: pathlib.Path, doctrees: pathlib.Path) -> None:
    """Sphinx's gettext builder on the book: one .pot per page (notebooks not executed)."""
    status = sphinx_build("gettext", pot_dir, doctrees, {
        "gettext_compact": False, "gettext_location": False, "gettext_uuid": False,
        "nb_execution_mode": "off", "project": _config_value("title") or ""}, strict=False)
    if status:
        raise SystemExit(f"sphinx gettext failed ({status})")
    verbatim = sorted(verbatim_messages(doctrees))
    (pot_dir / "verbatim.json").write_text(json.dumps(verbatim, ensure_ascii=False, indent=0))


def verbatim_messages(doctrees: pathlib.Path) -> set[str]:
    """Messages of formulas and raw markup (Sphinx's doctrees say which node each came from)."""
    from sphinx.util.nodes import extract_messages

    found = set()
    for path in doctrees.rglob("*.doctree"):
        with open(path, "rb") as file:
            doctree = pickle.load(file)
        for node, msg in extract_messages(doctree):
            if node.tagname in VERBATIM_NODES:
                found.add(msg)
    return found


def pot_files(pot_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """page (``book/intro``) -> its .pot file."""
    return {p.relative_to(pot_dir).with_suffix("").as_posix(): p
            for p in sorted(pot_dir.rglob("*.pot"))}


def po_files(po_dir: pathlib.Path = PO_DIR) -> dict[str, pathlib.Path]:
    """page (``book/intro``) -> its .po file."""
    return {p.relative_to(po_dir).with_suffix("").as_posix(): p
            for p in sorted(po_dir.rglob("*.po"))}


def extract() -> int:
    """Update the .po files from the English sources; fill what needs no translator."""
    if GETTEXT.exists():
        shutil.rmtree(GETTEXT)
    gettext(GETTEXT, BUILD / ".doctrees-gettext")
    update_catalogs(GETTEXT, LOCALES)
    return check()


def update_catalogs(pot_dir: pathlib.Path, locales: pathlib.Path) -> dict[str, int]:
    """Bring the .po files to the messages of ``pot_dir``; drop gone pages; reuse; autofill."""
    po_dir = locales / LANG / "LC_MESSAGES"
    pages = pot_files(pot_dir)
    for page, pot_path in pages.items():
        po_path = po_dir / f"{page}.po"
        old = _load(po_path) if po_path.exists() else None
        new = merge(old, _load(pot_path))
        if old is None or _entries(old) != _entries(new):
            _dump(po_path, new)
            print(f"{'Update' if old else 'Create'}: {po_path.relative_to(locales)}")
    for page, po in po_files(po_dir).items():
        if page not in pages:
            print(f"Remove: {po.relative_to(locales)} (no such page any more)")
            po.unlink()
    counts = {"reused": reuse_translations(po_dir),
              "autofilled": autofill(po_dir, pot_dir / "verbatim.json")}
    print(f"reused {counts['reused']} translations of the same English from other pages; "
          f"autofilled {counts['autofilled']} messages")
    return counts


def merge(po, pot):
    """``po`` brought to the messages of ``pot``, as ``sphinx-intl update`` (babel) does it.

    A message still there keeps its entry; a new message whose English is close to that of
    a message that went (babel's rule: ``difflib.get_close_matches``, cutoff 0.6) starts
    from that one's translation, marked fuzzy, with the old English as ``#| msgid``; any
    other new message is empty; messages that went are dropped. (sphinx-intl writes no
    ``#| msgid``, and babel reads one back as a comment: polib keeps it.)
    """
    import difflib

    import polib

    old = {e.msgid: e for e in (po or []) if e.msgid and not e.obsolete}
    wanted = {e.msgid for e in pot}
    gone = {e.msgid.lower().strip(): e for e in old.values() if e.msgstr and e.msgid not in wanted}
    merged = polib.POFile(wrapwidth=LINE_WIDTH, check_for_duplicates=True)
    merged.header = HEADER
    merged.metadata = {"Project-Id-Version": _config_value("title") or "",
                       "POT-Creation-Date": pot.metadata.get("POT-Creation-Date", ""),
                       "Language": LANG, "MIME-Version": "1.0",
                       "Content-Type": "text/plain; charset=UTF-8",
                       "Content-Transfer-Encoding": "8bit"}
    for template in pot:
        entry = polib.POEntry(msgid=template.msgid, msgstr="")
        if template.msgid in old:
            kept = old[template.msgid]
            entry.msgstr, entry.flags = kept.msgstr, list(kept.flags)
            entry.previous_msgid, entry.tcomment = kept.previous_msgid, kept.tcomment
        elif close := difflib.get_close_matches(template.msgid.lower().strip(), gone, n=1):
            entry.msgstr, entry.flags = gone[close[0]].msgstr, ["fuzzy"]
            entry.previous_msgid = gone[close[0]].msgid
        merged.append(entry)
    return merged


def _entries(po) -> list[tuple]:
    return [(e.msgid, e.msgstr, tuple(e.flags), e.previous_msgid) for e in po]


def _load(path: pathlib.Path):
    import polib

    return polib.pofile(str(path), wrapwidth=LINE_WIDTH)


def _dump(path: pathlib.Path, po) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    po.wrapwidth = LINE_WIDTH
    po.save(str(path))


def _to_do(catalog) -> list:
    """The entries a translator would have to look at: empty or fuzzy."""
    return catalog.untranslated_entries() + catalog.fuzzy_entries()


def _settle(entry, msgstr: str) -> None:
    entry.msgstr = msgstr
    if entry.fuzzy:
        entry.flags.remove("fuzzy")
    entry.previous_msgid = None


def reuse_translations(po_dir: pathlib.Path = PO_DIR) -> int:
    """Fill an empty or fuzzy entry whose English is translated on another page.

    The same English sentence gets the same Chinese everywhere; an exact match is better
    than the guess a fuzzy entry starts from.
    """
    paths = po_files(po_dir)
    catalogs = {page: _load(path) for page, path in paths.items()}
    memory = {}
    for catalog in catalogs.values():
        for entry in catalog.translated_entries():
            memory.setdefault(entry.msgid, entry.msgstr)
    count = 0
    for page, catalog in catalogs.items():
        changed = 0
        for entry in _to_do(catalog):
            if entry.msgid in memory:
                _settle(entry, memory[entry.msgid])
                changed += 1
        if changed:
            _dump(paths[page], catalog)
            count += changed
    return count


# inline pieces that are the same in every language
MATH_SPAN = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
CITATION = re.compile(r"\{(?:cite(?::[a-z]+)?|eq|math|numref|py:\w+)\}`[^`]*`")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
URL = re.compile(r"<?https?://[^\s>)]+>?")


def prose(msgid: str) -> str:
    """``msgid`` without its formulas, code, citations, link targets and URLs."""
    text = CITATION.sub(" ", msgid)
    text = CODE_SPAN.sub(" ", text)
    text = MATH_SPAN.sub(" ", text)
    text = LINK_TARGET.sub("]", text)
    return URL.sub(" ", text)


def needs_no_translator(msgid: str, verbatim: set[str], terms: set[str] = frozenset()) -> bool:
    """A formula, raw markup, only code/math/URLs/citations, already Chinese, or a term.

    ``terms`` are the glossary's English and Chinese columns: that page shows them in both
    editions.
    """
    if msgid in verbatim or msgid in terms:
        return True
    return not re.search(r"[A-Za-z]", prose(msgid))


def autofill(po_dir: pathlib.Path = PO_DIR, verbatim_file: pathlib.Path | None = None) -> int:
    """Copy every empty or fuzzy message that needs no translator to its msgstr."""
    verbatim_file = verbatim_file or GETTEXT / "verbatim.json"
    verbatim = set(json.loads(verbatim_file.read_text())) if verbatim_file.exists() else set()
    glossary_page = GLOSSARY.relative_to(ROOT).with_suffix("").as_posix()
    count = 0
    for page, path in po_files(po_dir).items():
        terms = {cell for row in glossary_terms() for cell in row} \
            if page == glossary_page else set()
        catalog = _load(path)
        changed = 0
        for entry in _to_do(catalog):
            if needs_no_translator(entry.msgid, verbatim, terms):
                _settle(entry, entry.msgid)
                changed += 1
        if changed:
            _dump(path, catalog)
            count += changed
    return count


# --- checks --------------------------------------------------------------------------------
def placeables(text: str) -> list[str]:
    """What a translation must keep exactly: formulas, code spans, citations, link targets."""
    found = CITATION.findall(text)
    rest = CITATION.sub(" ", text)
    found += [m.group(0) for m in CODE_SPAN.finditer(rest)]
    rest = CODE_SPAN.sub(" ", rest)
    found += MATH_SPAN.findall(rest)
    found += [f"]({target})" for target in LINK_TARGET.findall(rest)]
    return sorted(found)


def placeable_problems(msgid: str, msgstr: str) -> list[str]:
    """How ``msgstr`` differs from ``msgid`` in its formulas, code, citations and links."""
    if not msgstr or msgstr == msgid:
        return []
    want, have = placeables(msgid), placeables(msgstr)
    problems = []
    missing = [p for p in want if p not in have or want.count(p) > have.count(p)]
    extra = [p for p in have if p not in want]
    if missing:
        problems.append(f"lost {sorted(set(missing))}")
    if extra:
        problems.append(f"added {sorted(set(extra))}")
    if "\n" not in msgid and not i18n_markdown.is_one_paragraph(msgstr):
        problems.append("does not read as one paragraph on its own, so Sphinx would not use "
                        "it (a leading '1. ' or '- ' starts a list: write '1\\. ')")
    if i18n_markdown.stray_emphasis_marks(msgstr) > i18n_markdown.stray_emphasis_marks(msgid):
        problems.append("has emphasis that does not parse (put Chinese punctuation outside "
                        "the ** or *: **粗体**，not **粗体，**)")
    if "\n" in msgstr.strip("\n") and "\n" not in msgid.strip("\n"):
        problems.append("has a line break (it would show as a space between Chinese words)")
    return problems


def statistics(po_dir: pathlib.Path = PO_DIR) -> dict[str, dict]:
    """page -> counts of translated, fuzzy and untranslated entries, and broken ones."""
    import polib

    stats = {}
    for page, path in po_files(po_dir).items():
        po = polib.pofile(str(path))
        broken = [f"{e.msgid[:50]!r}: {'; '.join(p)}" for e in po.translated_entries()
                  if (p := placeable_problems(e.msgid, e.msgstr))]
        stats[page] = {"translated": len(po.translated_entries()),
                       "fuzzy": len(po.fuzzy_entries()),
                       "untranslated": len(po.untranslated_entries()),
                       "broken": broken}
    return stats


def report(stats: dict[str, dict]) -> list[str]:
    """One line per page that is not done (empty, fuzzy or broken entries)."""
    lines = []
    for page, s in stats.items():
        if s["fuzzy"] or s["untranslated"] or s["broken"]:
            total = s["translated"] + s["fuzzy"] + s["untranslated"]
            lines.append(f"{page}.po: {s['untranslated']} untranslated, {s['fuzzy']} fuzzy, "
                         f"{len(s['broken'])} broken, of {total}")
            lines += [f"    broken: {b}" for b in s["broken"]]
    return lines


def check(po_dir: pathlib.Path = PO_DIR) -> int:
    stats = statistics(po_dir)
    for page, s in stats.items():
        total = s["translated"] + s["fuzzy"] + s["untranslated"]
        print(f"{page + '.po':45} {s['translated']:4} translated {s['fuzzy']:4} fuzzy "
              f"{s['untranslated']:4} untranslated {len(s['broken']):3} broken  (of {total})")
    problems = report(stats)
    if problems:
        print("\nnot done:\n" + "\n".join(problems))
    return 1 if problems else 0


def stale_messages(pot_dir: pathlib.Path, po_dir: pathlib.Path = PO_DIR) -> list[str]:
    """Where the .po files and freshly extracted .pot files disagree (msgids per page)."""
    import polib

    pots, pos = pot_files(pot_dir), po_files(po_dir)
    problems = [f"{page}: no .po file" for page in pots if page not in pos]
    problems += [f"{page}: a .po file for a page that is not built" for page in pos
                 if page not in pots]
    for page in sorted(set(pots) & set(pos)):
        want = {e.msgid for e in polib.pofile(str(pots[page]))}
        have = {e.msgid for e in polib.pofile(str(pos[page])) if not e.obsolete}
        if want - have:
            problems.append(f"{page}: {len(want - have)} new English messages, e.g. "
                            f"{sorted(want - have)[0][:70]!r}")
        if have - want:
            problems.append(f"{page}: {len(have - want)} messages no longer in the English, "
                            f"e.g. {sorted(have - want)[0][:70]!r}")
    return problems


# --- glossary and search -------------------------------------------------------------------
def glossary_terms(path: pathlib.Path = GLOSSARY) -> list[tuple[str, str]]:
    """(English, 中文) of every row of the glossary's tables (header rows excluded)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in i18n_markdown.UNESCAPED_PIPE.split(line.strip())[1:-1]]
        if len(cells) >= 2 and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            rows.append((cells[0], cells[1]))
    return rows


def chinese_words(text: str) -> list[str]:
    """The runs of Han characters in ``text`` that are words (two characters or more)."""
    return [w for w in re.findall(r"[\u4e00-\u9fff]+", text) if len(w) >= 2]


def write_jieba_dict(path: pathlib.Path) -> None:
    """jieba's user dictionary: every Chinese term of the glossary, one per line.

    With it, Sphinx's Chinese search indexes 转置卷积 as a word of its own (and also 转置,
    卷积), so a search for the whole term finds the pages that use it.
    """
    words = dict.fromkeys(w for _, zh in glossary_terms() for w in chinese_words(zh))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")


# --- notebooks -----------------------------------------------------------------------------
def catalog(page: str, po_dir: pathlib.Path = PO_DIR) -> dict[str, str]:
    """msgid -> msgstr of a page's translated entries (fuzzy ones are not used, as in Sphinx)."""
    import polib

    path = po_dir / f"{page}.po"
    if not path.exists():
        return {}
    return {e.msgid: e.msgstr for e in polib.pofile(str(path)).translated_entries()}


def translate_notebook(nb: dict, translations: dict[str, str]) -> tuple[dict, list[dict]]:
    """The notebook with its Markdown cells translated; per Markdown cell, what was not."""
    out = json.loads(json.dumps(nb))
    cells = []
    for index, cell in enumerate(out["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text, missing = i18n_markdown.translate(nbtools.source(cell), translations.get)
        cell["source"] = text.splitlines(keepends=True)
        cells.append({"index": index, "id": cell.get("id"),
                      "untranslated": [m.msgid for m in missing]})
    return out, cells


def notebooks(out_dir: pathlib.Path = NOTEBOOKS_OUT, po_dir: pathlib.Path = PO_DIR,
              strict: bool = False, site: pathlib.Path | None = None) -> int:
    """Write the Chinese notebooks (the English ones with translated Markdown cells).

    With ``site`` (the built Chinese edition), each also replaces the copy of the English
    notebook in the site's ``_sources/`` that the page's download button offers.
    """
    untranslated_cells = 0
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        page = path.relative_to(ROOT).with_suffix("").as_posix()
        chinese, cells = translate_notebook(nbtools.load(path), catalog(page, po_dir))
        target = out_dir / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbtools.save(target, chinese)
        if site is not None and (site / "_sources" / path.relative_to(ROOT)).exists():
            shutil.copyfile(target, site / "_sources" / path.relative_to(ROOT))
        todo = [c for c in cells if c["untranslated"]]
        untranslated_cells += len(todo)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
              f"{len(cells) - len(todo)} of {len(cells)} Markdown cells translated")
    return 1 if strict and untranslated_cells else 0


# --- command line --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="update the .po files from the English sources")
    commands.add_parser("autofill", help="copy messages that need no translator")
    check_parser = commands.add_parser("check", help="fail on empty or fuzzy entries")
    check_parser.add_argument("--up-to-date", action="store_true",
                              help="also extract into a temporary directory and compare")
    commands.add_parser("execute", help="execute the chapters into the cache, in parallel")
    build_parser = commands.add_parser("build", help="build one edition of the site")
    build_parser.add_argument("lang", choices=["en", LANG])
    nb_parser = commands.add_parser("notebooks", help="write the Chinese notebooks")
    nb_parser.add_argument("--out", type=pathlib.Path, default=NOTEBOOKS_OUT)
    nb_parser.add_argument("--site", type=pathlib.Path,
                           help="the built Chinese site: its download buttons offer them")
    nb_parser.add_argument("--strict", action="store_true",
                           help="fail when a Markdown cell is not fully translated")
    commands.add_parser("jieba-dict", help="print jieba's user dictionary (the glossary)")
    pot_parser = commands.add_parser("pot", help="only extract the .pot files into OUT")
    pot_parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args(argv)
    if args.command == "extract":
        return extract()
    if args.command == "autofill":
        print(f"autofilled {autofill()} messages")
        return 0
    if args.command == "check":
        status = check()
        if args.up_to_date:
            with tempfile.TemporaryDirectory() as tmp:
                gettext(pathlib.Path(tmp) / "pot", pathlib.Path(tmp) / "doctrees")
                stale = stale_messages(pathlib.Path(tmp) / "pot")
            print("\n".join(["\nout of date (run: python tools/i18n.py extract):", *stale])
                  if stale else "\nthe .po files are up to date with the English sources")
            status = status or (1 if stale else 0)
        return status
    if args.command == "execute":
        return execute()
    if args.command == "build":
        return build(args.lang)
    if args.command == "notebooks":
        return notebooks(args.out, strict=args.strict, site=args.site)
    if args.command == "pot":
        with tempfile.TemporaryDirectory() as tmp:
            gettext(args.out, pathlib.Path(tmp) / "doctrees")
        return 0
    if args.command == "jieba-dict":
        with tempfile.TemporaryDirectory() as tmp:
            write_jieba_dict(pathlib.Path(tmp) / "dict.txt")
            print((pathlib.Path(tmp) / "dict.txt").read_text(), end="")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
