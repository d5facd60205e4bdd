from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import DEEP, FAST, NODE, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "cpu-memory-budget"
CASES = [
    Case("example-fits-with-system-reserved"),
    Case(
        "cpu-request-too-big",
        edits=(
            replace(FAST, 'cpu: {request: "8", limit: "14"}', 'cpu: {request: "13", limit: "14"}'),
        ),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "memory-request-too-big",
        edits=(
            replace(
                FAST, "memory: {request: 32Gi, limit: 64Gi}", "memory: {request: 48Gi, limit: 64Gi}"
            ),
        ),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "limits-may-overcommit",
        edits=(
            replace(FAST, 'cpu: {request: "8", limit: "14"}', 'cpu: {request: "8", limit: "64"}'),
        ),
    ),
    Case(
        "parked-lanes-do-not-count",
        edits=(
            replace(DEEP, 'cpu: {request: "8", limit: "14"}', 'cpu: {request: "64", limit: "64"}'),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_message_gives_the_numbers(tmp_path: Path) -> None:
    _repo, findings = run(CASES[1], tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "cpu requests on gpu-worker-1 are 15755m of 15 allocatable (105%): "
        "systemReserved 2755m, qwen36-35b-gguf-fast 13"
    )
