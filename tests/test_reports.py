"""Every output format, snapshot-tested on one repo with a block, a warning, notes and a
waiver; SARIF validated against the official 2.1.0 schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from syrupy.assertion import SnapshotAssertion

from gitops_gen.check.engine import as_rule
from gitops_gen.check.findings import Finding, Severity
from gitops_gen.check.reports import FORMAT_NAMES, LaneState, Report, render_report
from gitops_gen.check.rules import REGISTRY
from tests.conftest import ROOT, Result, copy_repo, edit

SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
FAST = "lanes/qwen36-35b-gguf-fast.yaml"


@pytest.fixture(scope="module")
def mixed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_repo(ROOT, tmp_path_factory.mktemp("mixed") / "repo")
    edit(repo / "lanes/qwen36-27b-deep.yaml", "active: false", "active: true")  # block
    edit(repo / FAST, "ctxSize: 49152", "ctxSize: 300000")  # warn
    (repo / "policies" / "waivers.yaml").write_text(
        "kind: Waivers\nwaivers:\n  - rule: validation-evidence\n    lane: qwen36-27b-deep\n"
        '    reason: measured on the bench card, re-run booked\n    expires: "2026-12-31"\n'
    )
    return repo


@pytest.mark.parametrize("fmt", [f for f in FORMAT_NAMES if f != "text"] + ["text"])
def test_each_format_matches_its_snapshot(
    fmt: str, mixed_repo: Path, cli: Callable[..., Result], snapshot: SnapshotAssertion
) -> None:
    result = cli("check", "--format", fmt, "--today", "2026-11-24", cwd=mixed_repo)
    assert result.code == 20
    assert result.out == snapshot


def test_sarif_validates_against_the_official_schema(
    mixed_repo: Path, cli: Callable[..., Result]
) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    sarif = json.loads(
        cli("check", "--format", "sarif", "--today", "2026-11-24", cwd=mixed_repo).out
    )
    jsonschema.Draft7Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [as_rule(m).ID for m in REGISTRY]
    levels = {r["level"] for r in run["results"]}
    assert levels == {"error", "warning", "note"}
    first = run["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"].endswith(".yaml") and first["region"]["startLine"] >= 1
    assert any("suppressions" in r for r in run["results"])


def test_json_carries_decision_and_exit_code(mixed_repo: Path, cli: Callable[..., Result]) -> None:
    data = json.loads(cli("check", "--format", "json", "--today", "2026-11-24", cwd=mixed_repo).out)
    assert data["decision"] == "block" and data["exitCode"] == 20
    assert data["counts"]["waived"] == 1


def test_auto_format_is_github_inside_actions(mixed_repo: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    exe = Path(sys.executable).parent / "gitops-gen"
    out = subprocess.run(
        [str(exe), "check", "--today", "2026-11-24"],
        cwd=mixed_repo,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert out.startswith("::")


def test_github_commands_escape_their_data() -> None:
    finding = Finding(
        file="lanes/a,b:c.yaml",
        line=3,
        rule="placement",
        object="Deployment/x",
        message="100% bad\nreally",
        severity=Severity.BLOCK,
        remediation="Fix it.",
    )
    report = Report(
        findings=[finding],
        rules=tuple(as_rule(m) for m in REGISTRY),
        lanes=(LaneState("a", True, "n"),),
    )
    line = render_report(report, "github").splitlines()[0]
    assert line == (
        "::error file=lanes/a%2Cb%3Ac.yaml,line=3,title=gitops-gen placement::"
        "100%25 bad%0Areally%0Afix: Fix it."
    )


def test_output_option_writes_a_file(
    mixed_repo: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    target = tmp_path / "report.sarif"
    result = cli("check", "--format", "sarif", "-o", str(target), cwd=mixed_repo)
    assert result.code == 20 and result.out == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"
