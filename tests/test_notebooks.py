"""Notebook hygiene: the Colab set-up cell agrees with _config.yml; outputs are stripped."""

import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import nbtools  # noqa: E402

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 1


def test_every_toc_entry_exists():
    toc = (ROOT / "_toc.yml").read_text()
    for entry in re.findall(r"(?:file|root):\s*(\S+)", toc):
        candidates = [ROOT / f"{entry}{ext}" for ext in (".ipynb", ".md")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists missing page {entry}"


def test_repository_url_is_read_from_config():
    url = nbtools.repository_url()
    assert url.startswith("https://github.com/")
    assert nbtools.install_spec() == f"convlab @ git+{url}@main"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_setup_cell(path):
    nb = json.loads(path.read_text())
    first = nb["cells"][0]
    assert first["cell_type"] == "code"
    assert "remove-cell" in first["metadata"].get("tags", []), "set-up cell must be hidden"
    assert nbtools.source(first) == nbtools.setup_cell_source(), (
        f"{path.name}: Colab set-up cell disagrees with _config.yml; run "
        f"`python tools/nbtools.py setup-cell {path.relative_to(ROOT)}`")
    # no other cell installs convlab from somewhere else
    for cell in nb["cells"][1:]:
        assert "git+" not in nbtools.source(cell), f"{path.name}: a second install cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_stripped(path):
    nb = json.loads(path.read_text())
    assert nbtools.problems(nb) == []
    ids = [c.get("id") for c in nb["cells"]]
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_strip_keeps_checked_outputs():
    nb = {"cells": [
        {"cell_type": "code", "source": "# NBVAL_CHECK_OUTPUT\nprint(1)", "metadata": {},
         "execution_count": 3, "outputs": [{"output_type": "stream", "name": "stdout",
                                            "text": "1\n"}]},
        {"cell_type": "code", "source": "print(2)", "metadata": {}, "execution_count": 4,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "2\n"}]},
    ], "metadata": {"widgets": {"state": {}}}}
    stripped = nbtools.strip(nb)
    assert stripped["cells"][0]["outputs"] and not stripped["cells"][1]["outputs"]
    assert stripped["cells"][0]["execution_count"] is None
    assert "widgets" not in stripped["metadata"]
    assert nbtools.problems(stripped) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notation_matches_the_notation_page(path):
    """Shapes are written $H_\\text{out}$, $C_\\text{in}$ (book/notation.md), not $H_{out}$."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            drift = re.findall(r"[NHWCL]_\{(?:in|out)\}", nbtools.source(cell))
            assert not drift, f"{path.name}: write {drift[0]} as in book/notation.md"
