"""The engine: severities and options from policies/, waivers, ordering, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.check import check_repo
from tests.conftest import ROOT, Result, copy_repo, edit
from tests.rules.cases import MEASURED_AT
from tests.rules.harness import TODAY

FAST = "lanes/qwen36-35b-gguf-fast.yaml"


def _policy(repo: Path, text: str) -> None:
    (repo / "policies" / "policy.yaml").write_text("kind: Policy\nrules:\n" + text)


def test_example_checks_clean_exit_0(cli: Callable[..., Result]) -> None:
    result = cli("check", "--format", "text", "--today", "2026-11-24", cwd=ROOT)
    assert result.code == 0, result.out
    assert result.out.splitlines()[-1] == "decision: PASS (7 notes)"


def test_warnings_only_exit_10(example: Path, cli: Callable[..., Result]) -> None:
    # The lane's context is past the one its evidence was measured at (a warning); the
    # estimate still fits the card.
    edit(example / FAST, MEASURED_AT, "\n  ctxSize: 32768")
    result = cli("check", "--format", "text", cwd=example)
    assert result.code == 10, result.out
    assert result.out.splitlines()[-1] == "decision: WARN (1 warning, 7 notes)"


def test_a_block_exits_20(example: Path, cli: Callable[..., Result]) -> None:
    edit(example / "lanes/qwen36-27b-deep.yaml", "active: false", "active: true")
    result = cli("check", "--format", "text", cwd=example)
    assert result.code == 20
    assert result.out.splitlines()[-1].startswith("decision: BLOCK (")


def test_invalid_input_exits_2(example: Path, cli: Callable[..., Result]) -> None:
    edit(example / FAST, "ctxSize: 49152", "ctxSize: lots")
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == f"{FAST}:12: serve.ctxSize: expected integer, got 'lots'"


def test_severity_can_be_raised_lowered_or_turned_off(example: Path) -> None:
    edit(example / FAST, "ctxSize: 49152", "ctxSize: 300000")
    _policy(example, "  context-ceiling: {severity: block}\n")
    assert {
        f.severity.label
        for f in check_repo(example, today=TODAY).findings
        if f.rule == "context-ceiling"
    } == {"BLOCK"}
    _policy(example, "  context-ceiling: {severity: off}\n")
    assert not [f for f in check_repo(example, today=TODAY).findings if f.rule == "context-ceiling"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "  context-cieling: {severity: warn}\n",
            "policies/policy.yaml:3: rules.context-cieling: unknown rule 'context-cieling' "
            "(gitops-gen rules lists them)",
        ),
        (
            "  pod-hardening: {options: {allowedPaths: []}}\n",
            "policies/policy.yaml:3: rules.pod-hardening.options.allowedPaths: unknown option "
            "'allowedPaths' of pod-hardening (options: allowedHostPaths)",
        ),
        (
            "  pod-hardening: {severity: fatal}\n",
            "policies/policy.yaml:3: rules.pod-hardening.severity: 'fatal' must be note, warn, "
            "block or off",
        ),
    ],
)
def test_bad_policy_is_invalid_input(
    example: Path, cli: Callable[..., Result], text: str, message: str
) -> None:
    _policy(example, text)
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == message


def test_waiver_needs_a_reason_and_a_date(example: Path, cli: Callable[..., Result]) -> None:
    (example / "policies" / "waivers.yaml").write_text(
        "kind: Waivers\nwaivers:\n  - {rule: known-broken, lane: x, reason: because}\n"
    )
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[:2] == [
        "policies/waivers.yaml:3: waivers[0]: missing required key 'expires'",
        "policies/waivers.yaml:3: waivers[0].reason: 'because' must say why (at least 10 characters)",
    ]


def test_repo_without_policies_uses_packaged_gates(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo")
    import shutil

    shutil.rmtree(repo / "policies")
    edit(repo / FAST, 'flashAttn: "on"', 'flashAttn: "off"')
    rules = {f.rule for f in check_repo(repo, today=TODAY).findings if f.counts}
    assert rules == {"runtime-capability"}


def test_findings_are_sorted_and_stable(example: Path) -> None:
    edit(example / "lanes/qwen36-27b-deep.yaml", "active: false", "active: true")
    first = check_repo(example, today=TODAY).findings
    assert first == sorted(first)
    assert check_repo(example, today=TODAY).findings == first
