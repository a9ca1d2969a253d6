"""The two editions of the built site (issue 16): English at the root, Chinese in ``zh_CN/``.

The other checks in this directory walk every page under the site, the Chinese pages
included; these check what is particular to having two editions: every page links its
twin, the Chinese pages show the translations and open Chinese notebooks in Colab, the
Chinese build reused the English build's execution, and Chinese search has Chinese words.
Run after ``make build`` (``make site-check``).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import sys

import polib
import pytest
from sitelib import ROOT, chapter_files, local_target, pages, soup

sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402
import nbtools  # noqa: E402

ZH = i18n.LANG
LANG_ATTR = {"en": "en", ZH: "zh-CN"}


@pytest.fixture(scope="session")
def chinese(site) -> pathlib.Path:
    path = site / ZH
    if not (path / "index.html").exists():
        pytest.fail(f"no Chinese edition at {path}: run `make build` first")
    return path


def _is_redirect(page: pathlib.Path) -> bool:
    """``index.html`` only sends the browser to the root page (sphinx-external-toc)."""
    return soup(page).select_one('meta[http-equiv="Refresh"]') is not None


def _english_pages(site: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in pages(site) if p.relative_to(site).parts[0] != ZH]


def _reading_pages(pages_found: list[pathlib.Path]) -> list[pathlib.Path]:
    return [p for p in pages_found if not _is_redirect(p)]


def _log(name: str) -> str:
    log = pathlib.Path(os.environ.get("CONVLAB_BUILD_LOG", ROOT / "_build" / "build.log"))
    path = log.parent / name
    if not path.exists():
        pytest.skip(f"no saved build log at {path}")
    return re.sub(r"\x1b\[[0-9;]*m", "", path.read_text())


def test_every_toc_file_is_built_in_chinese(chinese, toc):
    missing = [f for f in chapter_files(toc) if not (chinese / f"{f}.html").exists()]
    assert not missing, f"pages in _toc.yml without a Chinese page: {missing}"


def test_both_editions_have_the_same_pages(site, chinese):
    english = {p.relative_to(site).as_posix() for p in _english_pages(site)}
    chinese_pages = {p.relative_to(chinese).as_posix() for p in pages(chinese)}
    assert english == chinese_pages, (f"English only: {sorted(english - chinese_pages)}; "
                                      f"Chinese only: {sorted(chinese_pages - english)}")


def _switch_problems(page: pathlib.Path, twin: pathlib.Path, hreflang: str) -> list[str]:
    links = soup(page).select("a.convlab-language-switch")
    if len(links) != 1:
        return [f"{len(links)} language switches"]
    link = links[0]
    found = []
    if local_target(page, link["href"]) != twin.resolve():
        found.append(f"switch links {link['href']}, not its twin")
    elif not twin.exists():
        found.append(f"its twin {link['href']} does not exist")
    if link.get("hreflang") != hreflang:
        found.append(f"switch has hreflang={link.get('hreflang')!r}")
    alternate = soup(page).select_one(f'link[rel="alternate"][hreflang="{hreflang}"]')
    if alternate is None or local_target(page, alternate["href"]) != twin.resolve():
        found.append('no <link rel="alternate"> to its twin')
    return found


def test_every_page_links_its_twin_in_the_other_language(site, chinese):
    """English page -> zh_CN/<same path>; Chinese page -> ../<same path>; both exist."""
    bad = []
    for page in _reading_pages(_english_pages(site)):
        twin = chinese / page.relative_to(site)
        bad += [f"{page.relative_to(site)}: {p}" for p in _switch_problems(page, twin, "zh-CN")]
    for page in _reading_pages(pages(chinese)):
        twin = site / page.relative_to(chinese)
        bad += [f"{page.relative_to(site)}: {p}" for p in _switch_problems(page, twin, "en")]
    assert not bad, "pages without a working language switch:\n" + "\n".join(bad)


def test_pages_say_their_language(site, chinese):
    bad = [f"{p.relative_to(site)}: lang={soup(p).html.get('lang')!r}"
           for edition, edition_pages in (("en", _english_pages(site)), (ZH, pages(chinese)))
           for p in _reading_pages(edition_pages)
           if soup(p).html.get("lang") != LANG_ATTR[edition]]
    assert not bad, bad


def _plain(markdown: str) -> str:
    """The text a reader sees of a one-line Markdown message (code marks and emphasis gone)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"\s+", " ", text.replace("`", "").replace("*", "")).strip()


def _h1(page: pathlib.Path) -> str:
    heading = soup(page).select_one("article h1")
    for extra in heading.select(".headerlink, .section-number"):
        extra.extract()
    return heading.get_text(" ", strip=True).replace("  ", " ")


def _title_msgid(page: str) -> str:
    source = ROOT / f"{page}.ipynb"
    if source.exists():
        texts = [nbtools.source(c) for c in nbtools.load(source)["cells"]
                 if c["cell_type"] == "markdown"]
    else:
        texts = [(ROOT / f"{page}.md").read_text(encoding="utf-8")]
    for text in texts:
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise AssertionError(f"{page} has no title")


def test_chinese_pages_show_their_translated_titles(site, chinese, toc):
    """Each page's title on the Chinese page is the msgstr of its .po (English: the msgid)."""
    bad = []
    for page in chapter_files(toc):
        msgid = _title_msgid(page)
        msgstr = i18n.catalog(page).get(msgid)
        if not msgstr:
            continue  # not translated yet: test_i18n.py says so
        english, chinese_title = _h1(site / f"{page}.html"), _h1(chinese / f"{page}.html")
        if re.sub(r"\s", "", english) != re.sub(r"\s", "", _plain(msgid)):
            bad.append(f"{page}: English title {english!r}, source {msgid!r}")
        if re.sub(r"\s", "", chinese_title) != re.sub(r"\s", "", _plain(msgstr)):
            bad.append(f"{page}: Chinese title {chinese_title!r}, .po says {msgstr!r}")
    assert not bad, "\n".join(bad)


def _article_text(page: pathlib.Path) -> str:
    return re.sub(r"\s+", " ", soup(page).select_one("article").get_text(" "))


def test_chinese_pages_show_no_translated_paragraph_in_english(site, chinese, toc):
    """A paragraph with a translation never shows its English on the Chinese page."""
    bad, checked = [], 0
    for page in chapter_files(toc):
        po = i18n.PO_DIR / f"{page}.po"
        if not po.exists():
            continue
        english_text = _article_text(site / f"{page}.html")
        chinese_text = _article_text(chinese / f"{page}.html")
        for entry in polib.pofile(str(po)).translated_entries():
            plain = _plain(entry.msgid)
            if entry.msgstr == entry.msgid or len(plain) < 40 or re.search(r"[{$\\]", plain):
                continue
            if plain in english_text:  # as rendered in English: the check can see it
                checked += 1
                if plain in chinese_text:
                    bad.append(f"{page}: {plain[:70]!r}")
    assert checked, "no translated paragraph was found on the English pages"
    assert not bad, "translated paragraphs shown in English on the Chinese pages:\n" + \
        "\n".join(bad)


def test_the_sidebar_captions_are_translated(chinese):
    captions = [c.get_text(strip=True) for c in
                soup(chinese / "book" / "intro.html").select(".bd-links .caption-text")]
    translations = i18n.catalog("book/intro")
    expected = [translations.get(c, c) for c in ("From a loop to the module", "Appendix")]
    assert captions == expected, captions


def test_chinese_chapters_open_the_chinese_notebooks_in_colab(site, chinese, config):
    """Colab opens book/<chapter>.ipynb on the branch the workflow pushes the notebooks to."""
    url = config["repository"]["url"].rstrip("/").removesuffix(".git")
    org_repo = re.sub(r"^https?://github\.com/", "", url)
    notebooks = site.parents[0] / f"notebooks-{ZH}"
    chapters, bad = sorted((chinese / "book").glob("0*.html")), []
    assert chapters, "no Chinese chapter pages (zh_CN/book/0*.html)"
    for page in chapters:
        notebook = f"book/{page.stem}.ipynb"
        expected = (f"https://colab.research.google.com/github/{org_repo}/blob/"
                    f"{i18n.NOTEBOOKS_BRANCH}/{notebook}")
        if expected not in {a.get("href") for a in soup(page).find_all("a")}:
            bad.append(f"{page.name}: no link {expected}")
        generated = notebooks / notebook
        if not generated.exists():
            bad.append(f"{page.name}: {generated} was not generated")
        download = chinese / "_sources" / notebook
        if generated.exists() and download.read_bytes() != generated.read_bytes():
            bad.append(f"{page.name}: the download button offers another notebook")
    assert not bad, "\n".join(bad)


def test_every_notebook_executed_once_for_both_editions(toc):
    """Notebooks execute once: ``tools/i18n.py execute`` runs them into an empty cache (or,
    for one that failed there, the English build does); the builds read the cache."""
    executed, english = _log("execute.log"), _log("build.log")
    chinese = _log(f"build-{ZH}.log")
    notebooks = [f for f in chapter_files(toc) if (ROOT / f"{f}.ipynb").exists()]
    assert notebooks
    for name in notebooks:
        before = re.search(rf"{re.escape(name)}\.ipynb: executed into the cache", executed)
        by_build = re.search(rf"{re.escape(name)}\.ipynb: Executed notebook in", english)
        assert bool(before) != bool(by_build), \
            f"{name} executed {'twice' if before else 'never'} (is the cache emptied first?)"
        assert by_build or re.search(rf"{re.escape(name)}\.ipynb: Using cached notebook",
                                     english), f"the English build did not read {name}"
        assert re.search(rf"{re.escape(name)}\.ipynb: Using cached notebook", chinese), \
            f"the Chinese build did not take {name} from the cache"
    assert "Executing notebook" not in chinese, "the Chinese build executed a notebook"


def test_chinese_build_log_has_no_warnings():
    warnings = [line for line in _log(f"build-{ZH}.log").splitlines()
                if re.search(r"(^|: )(WARNING|ERROR|CRITICAL): ", line)]
    assert not warnings, "warnings in the Chinese build log:\n" + "\n".join(warnings[:20])


def test_chinese_search_index_has_chinese_words(chinese):
    """Sphinx's Chinese search (jieba, with the glossary as its dictionary) indexed words."""
    text = (chinese / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])  # Search.setIndex({...})
    words = set(index["terms"]) | set(index["titleterms"])
    missing = [w for w in ("卷积", "转置卷积", "转置", "步幅", "感受野") if w not in words]
    assert not missing, f"the Chinese search index has no word {missing}"
    assert "stride" in words, "Latin words are indexed too"
