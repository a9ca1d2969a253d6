"""Fixtures for the checks on the built website (run after `make build`, by `make site-check`).

The site is read from ``_build/html`` at the repository root, or from the directory named
by the ``CONVLAB_SITE`` environment variable (to check a trial build elsewhere).
"""

from __future__ import annotations

import os
import pathlib

import pytest
import yaml
from sitelib import ROOT


def site_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("CONVLAB_SITE", ROOT / "_build" / "html")).resolve()


def book_root() -> pathlib.Path:
    """The book's source root: the directory two levels above the site (``<root>/_build/html``)."""
    return site_dir().parents[1]


@pytest.fixture(scope="session")
def site() -> pathlib.Path:
    path = site_dir()
    if not (path / "index.html").exists():
        pytest.fail(f"no built site at {path}: run `make build` first")
    return path


@pytest.fixture(scope="session")
def config() -> dict:
    return yaml.safe_load((book_root() / "_config.yml").read_text())


@pytest.fixture(scope="session")
def toc() -> dict:
    return yaml.safe_load((book_root() / "_toc.yml").read_text())
