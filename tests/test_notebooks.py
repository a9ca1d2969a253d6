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


# --- one notation everywhere (book/notation.md) -------------------------------------------
MARKDOWN_PAGES = sorted((ROOT / "book").glob("*.md"))
INDEX_LETTERS = set("ncoqijuvl")  # book/notation.md, "Index letters"
# letters allowed inside an index expression besides the index letters: hyper-parameters
# (s, p, d, k and their per-dimension subscripts H, W) and sizes (N, C, H, W, L, G)
INDEX_EXPRESSION_LETTERS = INDEX_LETTERS | set("spdkNCHWLG")
TENSOR_INDEXING = re.compile(r"(?<![A-Za-z])([A-Za-z])(?:_[A-Za-z0-9])?\s*\[([^\[\]]*)\]")


def _math_spans(markdown: str) -> list[str]:
    """The LaTeX of every ``$...$`` and ``$$...$$`` in ``markdown`` (code spans skipped)."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    spans = re.findall(r"\$\$(.+?)\$\$", text, flags=re.S)
    text = re.sub(r"\$\$(.+?)\$\$", " ", text, flags=re.S)
    return spans + re.findall(r"\$([^$]+)\$", text)


def notation_problems(markdown: str) -> list[str]:
    """Where ``markdown``'s formulas leave the notation of ``book/notation.md``."""
    found = []
    for math in _math_spans(markdown):
        flat = re.sub(r"_\\(?:text|mathrm)\{\w+\}", "_q", math)  # x_\text{pad}: one subscript
        flat = re.sub(r"\\(text|mathrm|operatorname|mathbf)\{[^}]*\}", " ", flat)
        flat = re.sub(r"\\[A-Za-z]+", " ", flat)  # \sum, \dots, \tilde, \xi, ...
        flat = flat.replace("{", "").replace("}", "")
        for sub in re.findall(r"(?<![A-Za-z])[spdk]_[hw](?![A-Za-z])", flat):
            found.append(f"{sub}: per-dimension subscripts are H and W ($s_H$, $d_W$)")
        for name, inside in TENSOR_INDEXING.findall(flat):
            if name in "XYW":
                found.append(f"{name}[{inside}]: tensors are lower-case ($x$, $w$, $y$)")
            letters = set(re.findall(r"(?<![A-Za-z_])[A-Za-z](?![A-Za-z])", inside))
            stray = sorted(letters - INDEX_EXPRESSION_LETTERS)
            if stray:
                found.append(f"{name}[{inside}]: index letter(s) {stray} (use n, c, o, q, i, j, "
                             f"u, v, i', j', l)")
        if re.search(r"C_\\text\{(in|out)\}\s*/\s*g\b", math):
            found.append(f"{math.strip()[:60]}: the number of groups is $G$")
    return found


def test_notation_checker_catches_drift():
    assert notation_problems("$y[n, o, i, j] = b[o] + x_p[n, c, s i + d u, s j + d v]$") == []
    assert notation_problems("$x_\\text{pad}[n, c, i', j']$ and `x[h, w]` in code") == []
    assert notation_problems("$Y[i, j] = X[i+u, j+v] W[u, v]$")
    assert notation_problems("$g[n, o, h, w]$")
    assert notation_problems("$$\\sum_m x[m] w[m - i]$$")
    assert notation_problems("$(C_\\text{out}, C_\\text{in}/g, k_H, k_W)$")
    assert notation_problems("$\\tilde{x}[n, c, y s_H + i d_H, x s_W + j d_W]$")
    assert notation_problems("$s_h i + d_h u$")


@pytest.mark.parametrize("path", NOTEBOOKS + MARKDOWN_PAGES, ids=lambda p: p.name)
def test_index_letters_match_the_notation_page(path):
    """Tensors are indexed with the letters of book/notation.md, everywhere."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        texts = [nbtools.source(c) for c in cells if c["cell_type"] == "markdown"]
    else:
        texts = [path.read_text()]
    problems = [p for text in texts for p in notation_problems(text)]
    assert not problems, f"{path.name}: " + "; ".join(problems[:8])
