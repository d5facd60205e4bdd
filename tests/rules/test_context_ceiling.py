from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, MEASURED_AT, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "context-ceiling"
ROLLBACK = "lanes/vllm-rollback.yaml"
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
            replace(FAST, MEASURED_AT, ""),  # no validated point to go past
        ),
    ),
    Case(
        "beyond-the-validated-point",
        edits=(replace(FAST, MEASURED_AT, "\n  ctxSize: 32768"),),
        expect=(expect("warn", FAST, "ctxSize: 49152"),),
    ),
    Case(
        # vLLM refuses to start past max_position_embeddings: the active lane blocks.
        "vllm-max-model-len-past-the-trained-context-blocks",
        edits=(
            replace(ROLLBACK, "maxModelLen: 32768", "maxModelLen: 65536"),
            replace(ROLLBACK, "active: false", "active: true"),
        ),
        expect=(expect("block", ROLLBACK, "maxModelLen: 65536"),),
    ),
    Case(
        "parked-vllm-lane-past-the-trained-context-is-a-note",
        edits=(replace(ROLLBACK, "maxModelLen: 32768", "maxModelLen: 65536"),),
        expect=(expect("note", ROLLBACK, "maxModelLen: 65536"),),
    ),
    Case(
        "vllm-within-the-trained-context",
        edits=(replace(ROLLBACK, "active: false", "active: true"),),
    ),
    Case(
        # llama.cpp runs past the trained context (RoPE), degraded: a warning, even active.
        "llamacpp-past-the-trained-context-stays-a-warning",
        edits=(replace(FAST, "ctxSize: 49152", "ctxSize: 270000"),),
        expect=(expect("warn", FAST, "ctxSize: 270000"),),
    ),
    Case("ollama-16k-on-70b", repo="lab-48gb-comfyui"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
