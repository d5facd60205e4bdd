from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import LOCK, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "model-locked"
CASES = [
    Case("every-model-locked"),
    Case(
        "branch-revision",
        edits=(
            replace(LOCK, "revision: 6a4ee9637272f25d395040ac19424bf31763f19c", "revision: main"),
        ),
        expect=(expect("block", LOCK, "revision: main"),),
    ),
    Case(
        "no-revision",
        edits=(replace(LOCK, ", revision: 6a4ee9637272f25d395040ac19424bf31763f19c", ""),),
        expect=(expect("block", LOCK, "unsloth/Qwen3.6-27B-GGUF"),),
    ),
    Case(
        "no-sha256",
        edits=(
            replace(
                LOCK,
                "    sha256: 331a2c21bc065f529009dca35148e8c8a74b0f80982ce69aef96eced8320af93\n",
                "",
            ),
        ),
        expect=(expect("block", LOCK, "qwen36-27b-q4-k-m:"),),
    ),
    Case(
        "no-size",
        edits=(replace(LOCK, "    sizeBytes: 16815263744\n", ""),),
        expect=(expect("block", LOCK, "qwen36-27b-q4-k-m:"),),
    ),
    Case(
        "shared-model-reported-per-lane",
        edits=(
            replace(LOCK, "revision: 369028386c4cf378516e07f8773c00cc59a727b1", "revision: v1.0"),
        ),
        expect=(expect("block", LOCK, "revision: v1.0"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    findings = assert_case(RULE, case, tmp_path)
    if case.id == "shared-model-reported-per-lane":
        lanes = sorted(f.lane or "" for f in findings if f.rule == RULE)
        assert lanes == ["qwen36-35b-gguf-fast", "qwen36-35b-gguf-longctx"]
