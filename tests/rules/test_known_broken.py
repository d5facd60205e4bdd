from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "known-broken"
NVFP4 = "lanes/qwen36-nvfp4-experiment.yaml"
CASES = [
    Case("parked-broken-experiment-is-a-note", expect=(expect("note", NVFP4, "model:"),)),
    Case(
        "activating-the-broken-experiment-blocks",
        edits=(
            replace(NVFP4, "active: false", "active: true"),
            replace(FAST, "active: true", "active: false"),
        ),
        expect=(expect("block", NVFP4, "model:"),),
    ),
    Case(
        "a-newer-vllm-no-longer-matches",
        edits=(
            replace(NVFP4, "engineVersion: 0.12.0", "engineVersion: 0.13.0"),
            replace(
                NVFP4, "vllm-openai:v0.12.0@sha256:613a95a5", "vllm-openai:v0.13.0@sha256:aaaaaaaa"
            ),
        ),
    ),
    Case(
        # Seed 000: declaring a newer version does not change the image that runs.
        "a-newer-declared-version-on-the-old-image-still-matches",
        edits=(replace(NVFP4, "engineVersion: 0.12.0", "engineVersion: 0.13.0"),),
        expect=(expect("note", NVFP4, "model:"),),
    ),
    Case(
        "profile-matching-the-active-lane",
        edits=(
            {
                "file": "policies/known-broken.yaml",
                "append": (
                    "  - id: qwen36-fast-on-b8210\n    match: {lane: qwen36-35b-gguf-fast, "
                    'engineVersion: ">=b8200"}\n    reason: tool calls loop\n'
                ),
            },
        ),
        expect=(expect("block", FAST, "model:"), expect("note", NVFP4, "model:")),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
