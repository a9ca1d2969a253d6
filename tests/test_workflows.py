"""The GitHub Actions workflow that tests the book and publishes it to GitHub Pages.

``make lint`` validates every workflow against GitHub's workflow schema with
check-jsonschema (offline, schema vendored in the package); these tests show that the
linter really rejects a broken workflow, and check what the schema cannot: that jobs
refer to jobs that exist, and that the book workflow tests with ``make test`` and
deploys ``_build/html`` the way GitHub Pages expects.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BOOK = ROOT / ".github" / "workflows" / "book.yml"
LINTER = shutil.which("check-jsonschema", path=str(pathlib.Path(sys.executable).parent))


def _lint(path: pathlib.Path) -> subprocess.CompletedProcess:
    if LINTER is None:
        pytest.fail("check-jsonschema is not installed (it is in requirements.txt)")
    return subprocess.run([LINTER, "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=60)


def _load(path: pathlib.Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as True
    return workflow


def test_there_is_a_book_workflow():
    assert BOOK in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pass_the_linter(path):
    result = _lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("typo", [
    ("runs-on: ubuntu-latest", "run-on: ubuntu-latest"),
    ("      - uses: actions/checkout@v4", "      - use: actions/checkout@v4"),
    ("  push:", "  pushh:"),
    ("timeout-minutes: 90", "timeout-minutes: ninety"),
    ("        with:\n          path: _build/html", "        width:\n          path: _build/html"),
], ids=["runs-on", "uses", "event", "type", "with"])
def test_the_linter_rejects_a_broken_workflow(tmp_path, typo):
    text = BOOK.read_text()
    assert typo[0] in text, f"the test's typo {typo[0]!r} no longer matches book.yml"
    broken = tmp_path / "book.yml"
    broken.write_text(text.replace(typo[0], typo[1], 1))
    result = _lint(broken)
    assert result.returncode != 0, f"the linter accepted {typo[1]!r}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_jobs_need_jobs_that_exist(path):
    jobs = _load(path)["jobs"]
    for name, job in jobs.items():
        needs = job.get("needs", [])
        for other in [needs] if isinstance(needs, str) else needs:
            assert other in jobs, f"{path.name}: job {name!r} needs unknown job {other!r}"


def test_the_book_workflow_tests_then_deploys_the_built_site():
    workflow = _load(BOOK)
    assert {"push", "pull_request"} <= set(workflow["on"])
    build, deploy = workflow["jobs"]["test-and-build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    assert any(run.startswith("make test") for run in runs), runs
    uses = {step.get("uses", "").split("@")[0]: step for step in build["steps"]}
    assert "actions/configure-pages" in uses
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "test-and-build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    # pull requests test, and never deploy
    assert "pull_request" in deploy["if"] and "refs/heads/main" in deploy["if"]
