"""The workflows, the composite action and the pre-commit hooks are valid for their tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_gen.specs.source import load_yaml
from tests.conftest import ROOT

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-workflows", sorted((ROOT / ".github" / "workflows").glob("*.yml"))),
        ("vendor.github-actions", [ROOT / "action.yml"]),
    ],
)
def test_valid_for_github(schema: str, files: list[Path]) -> None:
    assert files
    exe = str(CHECK_JSONSCHEMA) if CHECK_JSONSCHEMA.exists() else shutil.which("check-jsonschema")
    assert exe, "check-jsonschema is part of the test extra"
    done = subprocess.run(
        [exe, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_pull_request_workflow_runs_the_whole_job() -> None:
    action = (ROOT / "action.yml").read_text()
    for command in (
        "gitops-gen render --check",
        "gitops-gen check --format sarif",
        "gitops-gen check --format github",
        "gitops-gen diff --base",
        "upload-sarif",
        "GITHUB_STEP_SUMMARY",
        "<!-- gitops-gen diff -->",
    ):
        assert command in action, command
    workflow = load_yaml((ROOT / ".github" / "workflows" / "render-diff.yml").read_text())
    steps = workflow["jobs"]["gitops-gen"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0  # diff --base reads the base from git
    assert steps[1]["uses"] == "./"


def test_pre_commit_hooks_name_real_commands() -> None:
    hooks = load_yaml((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["gitops-gen", "gitops-gen-render", "gitops-gen-check"]
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        args = hook["entry"].split()[1:]
        done = subprocess.run(
            [sys.executable, "-m", "gitops_gen", *args, "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
    own = load_yaml((ROOT / ".pre-commit-config.yaml").read_text())
    own_ids = {h["id"] for repo in own["repos"] for h in repo["hooks"]}
    assert {"gitops-gen", "ruff", "mypy"} <= own_ids
