from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import DEEP, FAST, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "single-active-gpu-lane"
CASES = [
    Case("example-one-active-five-parked"),
    Case(
        "second-lane-active",
        edits=(replace(DEEP, "active: false", "active: true"),),
        expect=(expect("block", DEEP, "active: true"), expect("block", FAST, "active: true")),
    ),
    Case(
        "switch-keeps-one-active",
        edits=(
            replace(DEEP, "active: false", "active: true"),
            replace(FAST, "active: true", "active: false"),
        ),
    ),
    Case(
        "handwritten-comfyui-counts-against-the-card",
        repo="lab-48gb-comfyui",
        edits=(replace("manifests/comfyui.yaml", "replicas: 0", "replicas: 1"),),
        expect=(
            expect("block", "manifests/comfyui.yaml", "replicas: 1"),
            expect("block", "lanes/qwen25-32b.yaml", "active: true"),
        ),
    ),
    Case("tensor-parallel-lane-owns-both-gpus", repo="h100x2-tp2"),
    Case(
        "third-gpu-claim-on-two-gpus",
        repo="h100x2-tp2",
        edits=(replace("lanes/llama31-8b.yaml", "active: false", "active: true"),),
        expect=(
            expect("block", "lanes/llama31-8b.yaml", "active: true"),
            expect("block", "lanes/mistral-small-24b-tp2.yaml", "active: true"),
        ),
    ),
    Case("amd-and-nvidia-are-separate-budgets", repo="mixed-nvidia-amd"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
