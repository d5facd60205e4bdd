from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "validation-evidence"
EVIDENCE = (
    "evidence:\n  gpuModel: rtx-pro-4000-blackwell-sff\n  livePeakMiB: 21648\n"
    '  date: "2026-06-12"\n  ctxSize: 49152  # the context it was measured at\n'
)
PARKED = tuple(
    expect("note", f"lanes/{name}.yaml", "active: false")
    for name in (
        "gpt-oss-agent",
        "qwen36-27b-deep",
        "qwen36-35b-gguf-longctx",
        "qwen36-nvfp4-experiment",
        "vllm-rollback",
    )
)
CASES = [
    Case("active-lane-has-evidence-parked-lanes-are-notes", expect=PARKED),
    Case(
        "active-lane-without-evidence",
        edits=(replace(FAST, EVIDENCE, ""), replace(FAST, "  note: about", "#  note: about")),
        expect=(expect("warn", FAST, "active: true"), *PARKED),
    ),
    Case(
        "evidence-from-another-gpu",
        edits=(replace(FAST, "gpuModel: rtx-pro-4000-blackwell-sff", "gpuModel: rtx-4090"),),
        expect=(expect("warn", FAST, "gpuModel: rtx-4090"), *PARKED),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
