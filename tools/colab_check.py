"""Test the Colab set-up cell's install command the way Colab runs it, from a local clone.

    python tools/colab_check.py --python .venv-colab/bin/python

Every chapter's hidden first cell runs ``pip install -q "convlab @ git+<repository.url>@main"``
(``tools/nbtools.py install_spec``). This script clones the repository's committed
``main`` into a temporary directory and, in the Colab-like environment:

1. resolves the same requirement with ``git+file://<clone>@main`` as a dry run and fails
   if pip would install or change anything besides convlab itself (a pin on torch,
   numpy, matplotlib or ipywidgets would force a reinstall and a runtime restart in Colab);
2. installs it for real and imports it from outside the working tree (a fresh process in
   a temporary directory), checking that the chapters' imports work;
3. puts the working tree back (``pip install --no-deps -e .``), so that the widget tests
   and nbval that follow test the code as it is now.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from nbtools import install_spec  # noqa: E402

IMPORTS = ("import convlab, convlab.widgets, convlab.explore, convlab.exercises; "
           "print(convlab.__file__)")


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(map(str, command)), flush=True)
    return subprocess.run(list(map(str, command)), check=True, text=True, **kwargs)


def check_install(python: str, branch: str) -> int:
    """Steps 1 and 2 of the module docstring; 0 when the install command works."""
    pip = [python, "-m", "pip"]
    with tempfile.TemporaryDirectory(prefix="convlab-colab-") as tmp:
        clone = pathlib.Path(tmp) / "clone"
        run("git", "clone", "-q", "--branch", branch, ROOT, clone)
        spec = install_spec(url=clone.as_uri(), branch=branch)  # same shape as Colab's
        report = pathlib.Path(tmp) / "report.json"
        run(*pip, "install", "-q", "--dry-run", "--report", report, spec)
        planned = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                   for item in json.loads(report.read_text())["install"]}
        others = {name: v for name, v in planned.items() if name != "convlab"}
        if others:
            print(f"FAIL: installing {spec!r} would also install/change {others}")
            return 1
        run(*pip, "install", "-q", "--force-reinstall", "--no-deps", spec)
        run(*pip, "check")
        imported = subprocess.run([python, "-c", IMPORTS], cwd=tmp, capture_output=True,
                                  text=True)
        if imported.returncode:
            print(f"FAIL: the installed convlab (committed {branch}) does not import:\n"
                  f"{imported.stderr[-2000:]}")
            return 1
        where = imported.stdout.strip()
        if str(ROOT / "src") in where:
            print(f"FAIL: convlab was imported from the working tree ({where}), not the install")
            return 1
        print(f"ok: {spec!r} installs only convlab and imports from {where}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=str(ROOT / ".venv-colab" / "bin" / "python"))
    parser.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    python = str(pathlib.Path(args.python).absolute())  # not resolved: keep the venv
    try:
        return check_install(python, args.branch)
    finally:  # always put the working tree back for the tests that follow
        run(python, "-m", "pip", "install", "-q", "--no-deps", "-e", ROOT)


if __name__ == "__main__":
    sys.exit(main())
