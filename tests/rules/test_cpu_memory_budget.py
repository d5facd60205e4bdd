from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import (
    COMPOSE_ACTIVE,
    COMPOSE_FILE,
    COMPOSE_NODE,
    COMPOSE_REPO,
    DEEP,
    FAST,
    NODE,
    expect,
    replace,
)
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


# A compose host: the services' reservations, hand-written ones included; a prefetch
# the lanes wait for finishes and gives its share back.
CASES += [
    Case("compose-host-fits", repo=COMPOSE_REPO),
    Case(
        "compose-a-hand-written-reservation-too-big",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_FILE, '{cpus: "1", memory: 2g}', '{cpus: "1", memory: 40g}'),),
        expect=(expect("block", COMPOSE_NODE, "memory: 64Gi"),),
    ),
    Case(
        "compose-a-lane-request-too-big",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_ACTIVE, 'cpu: {request: "4"', 'cpu: {request: "13"'),),
        expect=(expect("block", COMPOSE_NODE, 'cpu: "16"'),),
    ),
    Case(
        "compose-a-service-in-a-profile-does-not-count",
        repo=COMPOSE_REPO,
        edits=(
            replace(COMPOSE_FILE, '{cpus: "1", memory: 2g}', '{cpus: "1", memory: 40g}'),
            replace(COMPOSE_FILE, "  postgres:\n", "  postgres:\n    profiles: [db]\n"),
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
