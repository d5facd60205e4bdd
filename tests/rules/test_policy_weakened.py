from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.rules.cases import expect, replace
from tests.rules.harness import Case, assert_case, git_commit, prepare, run

RULE = "policy-weakened"
POLICY = "policies/policy.yaml"
WAIVERS = "policies/waivers.yaml"


def setting(text: str) -> dict[str, str]:
    return replace(
        POLICY,
        "  vram-fit: {options: {warnAt: 0.95}}",
        f"  vram-fit: {{options: {{warnAt: 0.95}}}}\n{text}",
    )


def waiver(
    rule: str, expires: str = "2026-12-31", lane: str = "qwen36-35b-gguf-fast"
) -> dict[str, str]:
    return replace(
        WAIVERS,
        "waivers: []",
        f"waivers:\n  - rule: {rule}\n    lane: {lane}\n"
        f'    reason: the vendor publishes the digest next week\n    expires: "{expires}"\n',
    )


CORE_OFF = setting("  single-active-gpu-lane: {severity: off}")
DIGEST_WARN = setting("  image-digest-pinned: {severity: warn}")
CASES = [
    Case("the-examples-weaken-nothing"),
    Case("the-examples-weaken-nothing-in-a-change", base=True),
    # As it stands, with or without a base: core rules below block, off or waived.
    Case("core-rule-off", edits=(CORE_OFF,), expect=(expect("warn", POLICY, "single-active"),)),
    Case(
        "core-rule-off-unquoted-is-yaml-false",
        edits=(setting("  single-active-gpu-lane:\n    severity: off"),),
        expect=(expect("warn", POLICY, "severity: off"),),
    ),
    Case("core-rule-warn", edits=(DIGEST_WARN,), expect=(expect("warn", POLICY, "image-digest"),)),
    Case("core-rule-block-is-fine", edits=(setting("  image-digest-pinned: {severity: block}"),)),
    Case(
        "gate-rule-below-block",
        edits=(setting("  waiver-expired: {severity: warn}"),),
        expect=(expect("warn", POLICY, "waiver-expired"),),
    ),
    Case(
        "core-rule-waived",
        edits=(waiver("image-digest-pinned"),),
        expect=(expect("warn", WAIVERS, "rule: image-digest-pinned"),),
    ),
    # Only against a base: what this change loosens.
    Case("other-rule-lowered-without-base", edits=(setting("  pod-hardening: {severity: warn}"),)),
    Case(
        "other-rule-lowered-in-this-change",
        base=True,
        edits=(setting("  pod-hardening: {severity: warn}"),),
        expect=(expect("warn", POLICY, "pod-hardening"),),
    ),
    Case(
        "other-rule-switched-off-in-this-change",
        base=True,
        edits=(setting("  known-broken: {severity: off}"),),
        expect=(expect("warn", POLICY, "known-broken"),),
    ),
    Case(
        "other-rule-raised-in-this-change",
        base=True,
        edits=(setting("  context-ceiling: {severity: block}"),),
    ),
    Case(
        "configured-options-removed-for-their-defaults",
        base=True,
        edits=(replace(POLICY, "  vram-fit: {options: {warnAt: 0.95}}\n", "  {}\n"),),
    ),
    Case(
        "other-rule-waived-in-this-change-is-a-note",
        base=True,
        edits=(waiver("validation-evidence", lane="qwen36-27b-deep"),),
        expect=(expect("note", WAIVERS, "rule: validation-evidence"),),
    ),
    Case(
        "max-lifetime-raised-in-this-change",
        base=True,
        edits=(setting("  waiver-expired: {options: {maxLifetimeDays: 3650}}"),),
        expect=(expect("warn", POLICY, "maxLifetimeDays"),),
    ),
    Case(
        "max-lifetime-lowered-in-this-change",
        base=True,
        edits=(setting("  waiver-expired: {options: {maxLifetimeDays: 30}}"),),
    ),
    Case(
        "core-rule-off-in-this-change",
        base=True,
        edits=(CORE_OFF,),
        expect=(expect("warn", POLICY, "single-active"),),
    ),
    Case(
        "raised-to-block-by-the-team",
        edits=(CORE_OFF, setting("  policy-weakened: {severity: block}")),
        expect=(expect("block", POLICY, "single-active"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def _messages(case: Case, tmp_path: Path) -> list[str]:
    _repo, findings = run(case, tmp_path)
    return [f.message for f in findings if f.rule == RULE]


def test_messages_name_the_rule_and_what_changed(tmp_path: Path) -> None:
    case = Case("c", base=True, edits=(CORE_OFF, waiver("image-digest-pinned", "2026-12-01")))
    assert _messages(case, tmp_path) == [
        "core rule single-active-gpu-lane is set to off: the gate no longer blocks on it "
        "(lowered from block in this change)",
        "core rule image-digest-pinned is waived for lane qwen36-35b-gguf-fast until "
        "2026-12-01, added in this change: the vendor publishes the digest next week",
    ]


def test_an_old_weakening_of_a_core_rule_still_shows(tmp_path: Path) -> None:
    """Merged long ago is no reason to stop saying it: a present state, not a change."""
    from gitops_gen.check import check_repo
    from gitops_gen.pr.base import load_at, policy_at
    from tests.rules.harness import TODAY

    repo = prepare(Case("c", edits=(CORE_OFF,)), tmp_path)
    git_commit(repo, "core rule off")
    findings = check_repo(
        repo, today=TODAY, base=load_at(repo, "HEAD"), base_policy=policy_at(repo, "HEAD")
    ).findings
    assert [(f.severity.label, f.message) for f in findings if f.rule == RULE] == [
        ("WARN", "core rule single-active-gpu-lane is set to off: the gate no longer blocks on it")
    ]


def test_a_waiver_extended_in_this_change(tmp_path: Path) -> None:
    repo = prepare(
        Case("c", edits=(waiver("validation-evidence", lane="qwen36-27b-deep"),)), tmp_path
    )
    git_commit(repo, "waiver")
    text = (repo / WAIVERS).read_text()
    (repo / WAIVERS).write_text(text.replace("2026-12-31", "2027-01-31"))
    from gitops_gen.check import check_repo
    from gitops_gen.pr.base import load_at, policy_at
    from tests.rules.harness import TODAY

    findings = check_repo(
        repo, today=TODAY, base=load_at(repo, "HEAD"), base_policy=policy_at(repo, "HEAD")
    ).findings
    assert [(f.severity.label, f.message) for f in findings if f.rule == RULE] == [
        (
            "NOTE",
            "validation-evidence is waived for lane qwen36-27b-deep until 2027-01-31, "
            "extended from 2026-12-31 in this change: the vendor publishes the digest next week",
        )
    ]


def test_it_heads_the_report(example: Path, cli: Callable[..., Result]) -> None:
    prepare_edits = (CORE_OFF, waiver("validation-evidence", lane="qwen36-27b-deep"))
    for edit in prepare_edits:
        target = example / edit["file"]
        target.write_text(target.read_text().replace(edit["replace"], edit["with"], 1))
    result = cli("check", "--today", "2026-11-24", cwd=example)
    lines = result.out.splitlines()
    assert lines[2] == "policy (the gate itself)"
    assert lines[3].startswith("  [WARN] policy-weakened: core rule single-active-gpu-lane")
    assert result.code == 10  # a weakened gate never passes in silence
    markdown = cli("check", "--today", "2026-11-24", "--format", "markdown", cwd=example).out
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "`" in line]
    assert "`policy-weakened`" in rows[0]


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            POLICY,
            "kind: Policy\nrules:\n  policy-weakened: {severity: off}\n",
            f"{POLICY}:3: rules.policy-weakened.severity: policy-weakened cannot be set to off: "
            "it is how a weakened gate shows (warn or block)",
        ),
        (
            POLICY,
            "kind: Policy\nrules:\n  policy-weakened: {severity: note}\n",
            f"{POLICY}:3: rules.policy-weakened.severity: policy-weakened cannot be set to note: "
            "it is how a weakened gate shows (warn or block)",
        ),
        (
            WAIVERS,
            "kind: Waivers\nwaivers:\n  - {rule: policy-weakened, object: Policy/x, "
            "reason: nobody needs to know, expires: '2026-12-01'}\n",
            f"{WAIVERS}:3: waivers[0].rule: policy-weakened cannot be waived: it keeps the gate "
            "itself honest",
        ),
    ],
)
def test_it_cannot_be_silenced(
    example: Path, cli: Callable[..., Result], file: str, text: str, message: str
) -> None:
    (example / file).write_text(text)
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == message
