from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import expect, replace
from tests.rules.harness import Case, assert_case

RULE = "tensor-parallel-shm"
TP2 = "lanes/mistral-small-24b-tp2.yaml"
ONE_GPU = "lanes/llama31-8b.yaml"
CASES = [
    Case("tp2-with-16gi-of-shm", repo="h100x2-tp2"),
    Case(
        "tp2-with-a-tiny-shm",
        repo="h100x2-tp2",
        edits=(replace(TP2, "shmSize: 16Gi", "shmSize: 64Mi"),),
        expect=(expect("block", TP2, "shmSize: 64Mi"),),
    ),
    Case(
        "tensor-parallel-size-defaults-to-the-gpus",
        repo="h100x2-tp2",
        edits=(
            replace(TP2, "shmSize: 16Gi", "shmSize: 512Mi"),
            replace(TP2, "  tensorParallelSize: 2\n", ""),
        ),
        expect=(expect("block", TP2, "shmSize: 512Mi"),),
    ),
    Case(
        "two-gpus-without-tensor-parallelism",
        repo="h100x2-tp2",
        edits=(
            replace(TP2, "shmSize: 16Gi", "shmSize: 64Mi"),
            replace(TP2, "tensorParallelSize: 2", "tensorParallelSize: 1"),
        ),
    ),
    Case(
        "the-default-8gi-is-enough",
        repo="h100x2-tp2",
        edits=(replace(TP2, "shmSize: 16Gi\n", ""),),
    ),
    Case(
        "a-single-gpu-needs-no-nccl",
        repo="h100x2-tp2",
        edits=(replace(ONE_GPU, "gpus: 1", "gpus: 1\nshmSize: 64Mi"),),
    ),
    Case(
        "parked-tp-lane-is-a-note",
        repo="h100x2-tp2",
        edits=(
            replace(TP2, "shmSize: 16Gi", "shmSize: 64Mi"),
            replace(TP2, "active: true", "active: false"),
        ),
        expect=(expect("note", TP2, "shmSize: 64Mi"),),
    ),
    Case(
        "the-floor-is-an-option",
        repo="h100x2-tp2",
        edits=(
            {
                "file": "policies/policy.yaml",
                "write": (
                    "kind: Policy\nrules:\n  tensor-parallel-shm: {options: {minShm: 32Gi}}\n"
                ),
            },
        ),
        expect=(expect("block", TP2, "shmSize: 16Gi"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
