"""Checks on the built website, the product most readers meet (issues 2 and 8).

Run after the strict build: ``make build && make site-check``.
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest
from sitelib import ROOT, chapter_files, local_target, pages, references, soup

PAGE_BUDGET = 3 * 1024 * 1024  # a page with its images
SITE_BUDGET = 60 * 1024 * 1024  # the whole _build/html
TRACEBACK = "Traceback (most recent call last)"


def _chapter_pages(site: pathlib.Path) -> list[pathlib.Path]:
    return sorted((site / "book").glob("0*.html"))


def test_every_toc_file_is_built(site, toc):
    missing = [f for f in chapter_files(toc) if not (site / f"{f}.html").exists()]
    assert not missing, f"pages in _toc.yml that were not built: {missing}"


WIDGET_MIME = ("application/vnd.jupyter.widget-view+json",
               "application/vnd.jupyter.widget-state+json")


def test_no_live_widget_outputs(site):
    """Live ipywidgets cannot recompute on the website: their outputs and state are left out.

    (book/_ext/convlab_sphinx.py removes them; the notebooks keep the live widgets.)
    """
    bad = {p.relative_to(site).as_posix(): [m for m in WIDGET_MIME if m in p.read_text()]
           for p in pages(site)}
    bad = {name: found for name, found in bad.items() if found}
    assert not bad, f"pages with live-widget views or widget state: {bad}"


def _external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def test_pages_load_nothing_from_other_hosts(site):
    """Scripts, stylesheets, fonts, icons and images come from the site itself.

    (Links to Colab and GitHub are fine: a reader follows them on purpose.) The browser
    check also records every request a page makes; this catches it without a browser.
    """
    bad = []
    for page in pages(site):
        document = soup(page)
        for element in document.select("script[src], img[src], iframe[src], source[src]"):
            if _external(element["src"]):
                bad.append(f"{page.relative_to(site).as_posix()}: <{element.name}> "
                           f"{element['src']}")
        for element in document.select("link[href]"):
            if _external(element["href"]) and not {"canonical", "alternate"} & set(
                    element.get("rel", [])):
                bad.append(f"{page.relative_to(site).as_posix()}: <link rel="
                           f"{' '.join(element.get('rel', []))}> {element['href']}")
    assert not bad, "pages that load from other hosts:\n" + "\n".join(sorted(set(bad)))


def test_mathjax_is_served_from_the_site(site):
    """Every page with math loads MathJax (and its fonts) from ``_static/mathjax``."""
    fonts = list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert fonts, "MathJax's CHTML fonts are not in the built site"
    with_math = [p for p in pages(site) if soup(p).select("span.math, div.math")]
    assert with_math, "no page has math"
    missing = []
    for page in with_math:
        sources = [s["src"] for s in soup(page).select("script[src]") if "mathjax" in s["src"]]
        targets = [local_target(page, src.split("?")[0]) for src in sources]
        if not targets or not all(t is not None and t.is_file() for t in targets):
            missing.append(f"{page.relative_to(site).as_posix()}: {sources}")
    assert not missing, "pages whose MathJax is not served by the site:\n" + "\n".join(missing)


def test_no_script_is_included_twice(site):
    """An inline script included twice (sphinx-thebe's ``const THEBE_JS_URL``) is an error."""
    bad = {}
    for page in pages(site):
        scripts = [s.get("src") or s.get_text() for s in soup(page).find_all("script")
                   if s.get("type") in (None, "text/javascript", "module")]
        twice = sorted({s[:60] for s in scripts if s.strip() and scripts.count(s) > 1})
        if twice:
            bad[page.relative_to(site).as_posix()] = twice
    assert not bad, f"scripts included twice: {bad}"


def _bad_outputs(page: pathlib.Path) -> list[str]:
    found = []
    for element in soup(page).select(".output.stderr, .output.traceback, .output.error"):
        found.append(f"{' '.join(element['class'])}: {element.get_text()[:200]!r}")
    for element in soup(page).select(".cell_output, .output"):
        if TRACEBACK in element.get_text():
            found.append(f"traceback in output: {element.get_text()[:200]!r}")
    return found


def test_no_stderr_or_traceback_output(site):
    bad = {p.relative_to(site).as_posix(): out for p in pages(site) if (out := _bad_outputs(p))}
    assert not bad, f"pages with stderr/traceback/error outputs: {bad}"


def test_chapter_pages_have_a_colab_link(site, config):
    pages_found = _chapter_pages(site)
    assert pages_found, "no chapter pages (book/0*.html) were built"
    url = config["repository"]["url"].rstrip("/").removesuffix(".git")
    org_repo = re.sub(r"^https?://github\.com/", "", url)
    branch = config["repository"].get("branch", "main")
    book_path = (config["repository"].get("path_to_book") or "").strip("/")
    missing = []
    for page in pages_found:
        notebook = "/".join(filter(None, [book_path, "book", page.stem + ".ipynb"]))
        expected = (f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/"
                    f"{notebook}")
        hrefs = {a.get("href") for a in soup(page).find_all("a")}
        if expected not in hrefs:
            missing.append(f"{page.name}: expected {expected}")
    assert not missing, "chapter pages without their Colab launch link:\n" + "\n".join(missing)


def _page_weight(site: pathlib.Path, page: pathlib.Path) -> int:
    """Bytes of the page plus the local images it shows (inline images are in the page)."""
    images = {local_target(page, url) for tag, url in references(page) if tag == "img"}
    return page.stat().st_size + sum(i.stat().st_size for i in images if i and i.is_file())


def test_every_page_with_its_images_is_under_budget(site):
    weights = {p.relative_to(site).as_posix(): _page_weight(site, p) for p in pages(site)}
    heavy = {name: f"{size / 2**20:.2f} MB" for name, size in weights.items()
             if size >= PAGE_BUDGET}
    print("\nheaviest pages:", sorted(weights.items(), key=lambda kv: -kv[1])[:5])
    assert not heavy, f"pages over {PAGE_BUDGET / 2**20:.0f} MB with their images: {heavy}"


def test_whole_site_is_under_budget(site):
    total = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    print(f"\nsite size: {total / 2**20:.1f} MB")
    assert total < SITE_BUDGET, f"_build/html is {total / 2**20:.1f} MB (budget 60 MB)"


def test_no_broken_internal_links_or_images(site):
    broken = []
    for page in pages(site):
        for tag, url in references(page):
            target = local_target(page, url)
            if target is not None and not target.exists():
                broken.append(f"{page.relative_to(site).as_posix()}: <{tag}> {url}")
    assert not broken, "broken internal links or images:\n" + "\n".join(sorted(set(broken)))


def test_internal_anchors_exist(site):
    """Links to ``page.html#id`` within the book's own pages point at an existing id."""
    broken = []
    for page in pages(site):
        for element in soup(page).select("article a[href]"):
            url = element["href"]
            if "#" not in url or not url.split("#")[1]:
                continue
            target = page if url.startswith("#") else local_target(page, url)
            if target is None or target.suffix != ".html" or not target.exists():
                continue
            anchor = url.split("#", 1)[1]
            if soup(target).find(id=anchor) is None and soup(target).find(
                    attrs={"name": anchor}) is None:
                broken.append(f"{page.relative_to(site).as_posix()}: {url}")
    assert not broken, "links to missing anchors:\n" + "\n".join(sorted(set(broken)))


def test_static_explorers_are_self_contained(site):
    """Explorers need no kernel and no network: no external scripts, every frame inline."""
    bad = []
    for page in pages(site):
        for explorer in soup(page).select("div.convlab-explorer"):
            name = f"{page.relative_to(site).as_posix()}#{explorer.get('id')}"
            if explorer.select("script[src]"):
                bad.append(f"{name}: loads an external script")
            image = explorer.select_one("img.convlab-frame")
            if image is None or not image.get("src", "").startswith("data:image/"):
                bad.append(f"{name}: no inline frame image")
            if not explorer.select("[data-index]"):
                bad.append(f"{name}: no controls")
    assert not bad, "broken static explorers:\n" + "\n".join(bad)


def test_search_index_is_built(site):
    index = site / "searchindex.js"
    assert (site / "search.html").exists() and index.exists(), "no search page/index"
    text = index.read_text().lower()
    for word in ("convolut", "stride", "pad"):
        assert word in text, f"search index does not know {word!r}"


def test_api_reference_documents_convlab(site):
    page = site / "book" / "api.html"
    if not page.exists():
        pytest.skip("no API page in this build")
    documented = {dt.get("id") for dt in soup(page).select("dl.py dt[id]")}
    for name in ("convlab.arithmetic.conv_output_size", "convlab.viz.imshow"):
        assert name in documented, f"API reference does not document {name}"
    assert soup(page).select(".math"), "the API reference renders no math"


def test_build_log_has_no_warnings():
    """Zero Sphinx warnings: ``-W`` already fails the build; a saved log is checked too."""
    log = pathlib.Path(os.environ.get("CONVLAB_BUILD_LOG", ROOT / "_build" / "build.log"))
    if not log.exists():
        pytest.skip(f"no saved build log at {log}")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text())  # drop colour codes
    # Sphinx's format is "<where>: WARNING: ..." (a kernel's "[App] WARNING |" line is not one)
    warnings = [line for line in plain.splitlines()
                if re.search(r"(^|: )(WARNING|ERROR|CRITICAL): ", line)]
    assert not warnings, "warnings in the build log:\n" + "\n".join(warnings[:20])
