"""Helpers shared by the site checks: list the built pages, parse them, resolve their links."""

from __future__ import annotations

import functools
import pathlib
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository
SKIP_DIRS = {"_static", "_sources", "_images"}  # theme assets and copies, not pages


def pages(site: pathlib.Path) -> list[pathlib.Path]:
    """Every HTML page of the built site (theme assets and source copies excluded)."""
    return sorted(p for p in site.rglob("*.html")
                  if not SKIP_DIRS & set(p.relative_to(site).parts[:-1]))


@functools.lru_cache(maxsize=64)
def _soup(path: str, mtime: float) -> BeautifulSoup:
    return BeautifulSoup(pathlib.Path(path).read_text(encoding="utf-8"), "html.parser")


def soup(page: pathlib.Path) -> BeautifulSoup:
    return _soup(str(page), page.stat().st_mtime)


def local_target(page: pathlib.Path, url: str) -> pathlib.Path | None:
    """The file a relative ``href``/``src`` points to, or None for external/anchor/data URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("#", "data:", "mailto:", "javascript:")):
        return None
    if not parts.path:
        return None
    target = (page.parent / unquote(parts.path)).resolve()
    return target / "index.html" if url.endswith("/") else target


def references(page: pathlib.Path) -> list[tuple[str, str]]:
    """(tag, url) of every link, image, stylesheet and script on the page."""
    found = []
    for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"),
                      ("source", "src"), ("iframe", "src")):
        for element in soup(page).find_all(tag):
            if element.get(attr):
                found.append((tag, element[attr]))
    return found


def chapter_files(toc: dict) -> list[str]:
    """The ``file:`` entries of ``_toc.yml`` (root first), e.g. ``book/01_what_is_a_conv...``."""
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files
