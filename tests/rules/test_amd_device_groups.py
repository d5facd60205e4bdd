from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "amd-device-groups"
BRAIN = "hardware/brain.yaml"
WHISPER = "lanes/whisper-stt-amd.yaml"
NO_GROUPS = replace(BRAIN, ",\n     deviceGroups: [44, 992]}", "}")
CASES = [
    Case("amd-card-lists-its-groups", repo="mixed-nvidia-amd"),
    Case(
        # The active AMD lane blocks; the parked one is a note.
        "amd-card-without-device-groups",
        repo="mixed-nvidia-amd",
        edits=(NO_GROUPS,),
        expect=(
            expect("block", BRAIN, "vendor: amd"),
            expect("note", BRAIN, "vendor: amd"),
        ),
    ),
    Case(
        "parked-amd-lanes-only-note",
        repo="mixed-nvidia-amd",
        edits=(NO_GROUPS, replace(WHISPER, "active: true", "active: false")),
        expect=(expect("note", BRAIN, "vendor: amd"),),
    ),
    Case("nvidia-lanes-need-no-groups"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_findings_name_the_lanes(tmp_path: Path) -> None:
    _repo, findings = run(CASES[1], tmp_path)
    found = sorted((f.lane, f.severity.label) for f in findings if f.rule == RULE)
    assert found == [("qwen3-embedding-amd", "NOTE"), ("whisper-stt-amd", "BLOCK")]
    assert all("cannot open /dev/kfd" in f.message for f in findings if f.rule == RULE)
