from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "waiver-expired"
WAIVERS = "policies/waivers.yaml"


def waiver(expires: str, created: str | None = None) -> dict[str, str]:
    return replace(
        WAIVERS,
        "waivers: []",
        (
            "waivers:\n  - rule: validation-evidence\n    lane: qwen36-35b-gguf-fast\n"
            "    reason: re-measuring after the driver update\n"
            + (f'    created: "{created}"\n' if created else "")
            + f'    expires: "{expires}"\n'
        ),
    )


def max_days(days: int) -> dict[str, str]:
    return replace(
        "policies/policy.yaml",
        "rules:\n",
        f"rules:\n  waiver-expired: {{options: {{maxLifetimeDays: {days}}}}}\n",
    )


NO_EVIDENCE = replace(FAST, "gpuModel: rtx-pro-4000-blackwell-sff", "gpuModel: rtx-4090")
CASES = [
    Case("no-waivers"),
    Case("live-waiver", edits=(waiver("2026-12-31"),)),
    Case("expires-today-is-still-live", edits=(waiver("2026-11-24"),)),
    Case(
        "expired-waiver",
        edits=(waiver("2026-11-23"),),
        expect=(expect("block", WAIVERS, "expires:"),),
    ),
    # The maximum lifetime (default 90 days; today is 2026-11-24): issue 8.
    Case(
        "expires-in-9999",
        edits=(waiver("9999-12-31"),),
        expect=(expect("block", WAIVERS, "expires:"),),
    ),
    Case("ninety-days-from-today", edits=(waiver("2027-02-22"),)),
    Case(
        "ninety-one-days-from-today",
        edits=(waiver("2027-02-23"),),
        expect=(expect("block", WAIVERS, "expires:"),),
    ),
    Case(
        "counted-from-created",
        edits=(waiver("2027-01-15", created="2026-10-01"),),
        expect=(expect("block", WAIVERS, "expires:"),),
    ),
    Case("created-recently", edits=(waiver("2027-02-01", created="2026-11-20"),)),
    Case(
        "created-in-the-future-counts-from-today",
        edits=(waiver("2027-07-01", created="2027-06-01"),),
        expect=(expect("block", WAIVERS, "expires:"),),
    ),
    Case("maximum-raised", edits=(waiver("2027-06-01"), max_days(365))),
    Case(
        "maximum-lowered",
        edits=(waiver("2026-12-31"), max_days(30)),
        expect=(expect("block", WAIVERS, "expires:"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_live_waiver_waives_its_finding(tmp_path: Path) -> None:
    _repo, findings = run(Case("w", edits=(NO_EVIDENCE, waiver("2026-12-31"))), tmp_path)
    (finding,) = [f for f in findings if f.rule == "validation-evidence" and f.lane == FAST[6:-5]]
    assert finding.waived == "re-measuring after the driver update"
    assert not finding.counts


def test_expired_waiver_waives_nothing(tmp_path: Path) -> None:
    _repo, findings = run(Case("w", edits=(NO_EVIDENCE, waiver("2026-01-31"))), tmp_path)
    (finding,) = [f for f in findings if f.rule == "validation-evidence" and f.lane == FAST[6:-5]]
    assert finding.waived is None and finding.counts


def test_an_over_long_waiver_says_by_how_much(tmp_path: Path) -> None:
    _repo, findings = run(Case("w", edits=(waiver("2027-01-15", created="2026-10-01"),)), tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "waiver of validation-evidence for lane qwen36-35b-gguf-fast expires 2027-01-15, "
        "106 days after created (2026-10-01), more than the maximum of 90 days: "
        "re-measuring after the driver update"
    )


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            WAIVERS,
            "kind: Waivers\nwaivers:\n  - {rule: known-broken, lane: x, reason: '          ', "
            "expires: '2026-12-01'}\n",
            f"{WAIVERS}:3: waivers[0].reason: '          ' must say why (at least 10 characters)",
        ),
        (
            WAIVERS,
            "kind: Waivers\nwaivers:\n  - {rule: known-broken, lane: x, reason: a real reason, "
            "created: '2026-12-02', expires: '2026-12-01'}\n",
            f"{WAIVERS}:3: waivers[0].created: created 2026-12-02 is after expires 2026-12-01",
        ),
        (
            WAIVERS,
            "kind: Waivers\nwaivers:\n  - {rule: waiver-expired, object: Waiver/known-broken, "
            "reason: a real reason, expires: '2026-12-01'}\n",
            f"{WAIVERS}:3: waivers[0].rule: waiver-expired cannot be waived: it keeps the gate "
            "itself honest",
        ),
        (
            "policies/policy.yaml",
            "kind: Policy\nrules:\n  waiver-expired: {options: {maxLifetimeDays: ninety}}\n",
            "policies/policy.yaml:3: rules.waiver-expired.options.maxLifetimeDays: expected an "
            "integer like 90, got 'ninety'",
        ),
    ],
)
def test_bad_waivers_are_invalid_input(
    example: Path, cli: Callable[..., Result], file: str, text: str, message: str
) -> None:
    (example / file).write_text(text)
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == message
