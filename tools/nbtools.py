"""Notebook hygiene for the book's chapters: the Colab set-up cell, stripping, checks.

    python tools/nbtools.py strip book/*.ipynb      # remove outputs (keeps NBVAL_CHECK_OUTPUT)
    python tools/nbtools.py check book/*.ipynb      # fail if outputs/widget state are stored
    python tools/nbtools.py setup-cell book/*.ipynb # (re)write each chapter's Colab cell
    python tools/nbtools.py new book/09_topic.ipynb "Title"  # a new chapter skeleton

The repository URL lives in one place, ``_config.yml``'s ``repository.url``; the
set-up cell is generated from it and ``tests/test_notebooks.py`` checks they agree.
"""

from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECK_MARK = "NBVAL_CHECK_OUTPUT"
SETUP_TAG = "remove-cell"


def repository_url() -> str:
    """``repository.url`` from ``_config.yml`` (read without a YAML dependency)."""
    in_repo = False
    for line in (ROOT / "_config.yml").read_text().splitlines():
        if line.startswith("repository:"):
            in_repo = True
        elif in_repo and line.strip().startswith("url:"):
            return line.split("url:", 1)[1].strip().strip("\"'")
        elif line and not line.startswith(" "):
            in_repo = False
    raise RuntimeError("_config.yml has no repository.url")


def install_spec(url: str | None = None, branch: str = "main") -> str:
    """The pip requirement the Colab cell installs: ``convlab @ git+URL@branch``."""
    return f"convlab @ git+{url or repository_url()}@{branch}"


def setup_cell_source(url: str | None = None) -> str:
    return (
        "# Set-up for Google Colab (hidden on the website): install convlab from the\n"
        "# book's repository. Elsewhere convlab is already installed (`make book`).\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n"
        f"                    {install_spec(url)!r}], check=True)\n"
    )


def setup_cell() -> dict:
    return {"cell_type": "code", "execution_count": None, "id": "colab-setup",
            "metadata": {"tags": [SETUP_TAG]}, "outputs": [],
            "source": setup_cell_source().splitlines(keepends=True)}


def load(path) -> dict:
    return json.loads(pathlib.Path(path).read_text())


def save(path, nb: dict) -> None:
    pathlib.Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def strip(nb: dict) -> dict:
    """Remove outputs, execution counts and widget state; keep NBVAL_CHECK_OUTPUT outputs."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        cell["execution_count"] = None
        if CHECK_MARK not in source(cell):
            cell["outputs"] = []
        else:
            for out in cell["outputs"]:
                if "execution_count" in out:
                    out["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def problems(nb: dict) -> list[str]:
    """What is stored that should not be: outputs outside NBVAL_CHECK_OUTPUT, widget state."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and cell.get("outputs") and CHECK_MARK not in source(cell):
            found.append(f"cell {i} has stored outputs")
    if nb.get("metadata", {}).get("widgets"):
        found.append("stored widget state in metadata")
    return found


def set_setup_cell(nb: dict) -> dict:
    """Make the first cell the generated Colab set-up cell (replacing an old one)."""
    cells = nb["cells"]
    if cells and SETUP_TAG in cells[0].get("metadata", {}).get("tags", []) \
            and "google.colab" in source(cells[0]):
        cells[0] = setup_cell()
    else:
        cells.insert(0, setup_cell())
    return nb


def new_chapter(path, title: str) -> None:
    nb = {
        "cells": [
            setup_cell(),
            {"cell_type": "markdown", "id": "title", "metadata": {},
             "source": [f"# {title}\n", "\n", "In this chapter you will be able to ...\n"]},
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    save(path, nb)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, *paths = argv
    if command == "new":
        new_chapter(paths[0], paths[1])
        return 0
    status = 0
    for path in paths:
        nb = load(path)
        if command == "strip":
            save(path, strip(nb))
        elif command == "setup-cell":
            save(path, set_setup_cell(nb))
        elif command == "check":
            for problem in problems(nb):
                print(f"{path}: {problem}")
                status = 1
        else:
            print(f"unknown command {command!r}")
            return 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
