from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "waiver-expired"
WAIVERS = "policies/waivers.yaml"


def waiver(expires: str) -> dict[str, str]:
    return replace(
        WAIVERS,
        "waivers: []",
        (
            "waivers:\n  - rule: validation-evidence\n    lane: qwen36-35b-gguf-fast\n"
            "    reason: re-measuring after the driver update\n"
            f'    expires: "{expires}"\n'
        ),
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
