from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "context-ceiling"
CASES = [
    Case("within-trained-context"),
    Case(
        "beyond-trained-context",
        edits=(replace(FAST, "ctxSize: 49152", "ctxSize: 300000"),),
        expect=(expect("warn", FAST, "ctxSize: 300000"),),
    ),
    Case(
        "llamacpp-context-is-split-over-slots",
        edits=(
            replace(FAST, "ctxSize: 49152", "ctxSize: 600000"),
            replace(FAST, "parallel: 1", "parallel: 4"),
        ),
    ),
    Case(
        "beyond-the-validated-point",
        edits=(replace(FAST, '  date: "2026-06-12"', '  date: "2026-06-12"\n  ctxSize: 32768'),),
        expect=(expect("warn", FAST, "ctxSize: 49152"),),
    ),
    Case(
        "vllm-max-model-len",
        edits=(replace("lanes/vllm-rollback.yaml", "maxModelLen: 32768", "maxModelLen: 65536"),),
        expect=(expect("warn", "lanes/vllm-rollback.yaml", "maxModelLen: 65536"),),
    ),
    Case("ollama-16k-on-70b", repo="lab-48gb-comfyui"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
