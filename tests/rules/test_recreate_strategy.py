from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import SIDECAR, expect, sidecar
from tests.rules.harness import Case, assert_case

RULE = "recreate-strategy"
CASES = [
    Case("rendered-lanes-recreate"),
    Case(
        "rolling-update",
        edits=(sidecar(("strategy: {type: Recreate}", "strategy: {type: RollingUpdate}")),),
        expect=(expect("block", SIDECAR, "  strategy:"),),
    ),
    Case(
        "no-strategy-means-rolling-update",
        edits=(sidecar(("  strategy: {type: Recreate}\n", "")),),
        expect=(expect("block", SIDECAR, "spec:"),),
    ),
    Case(
        "non-gpu-deployment-may-roll",
        edits=(
            sidecar(
                ("strategy: {type: Recreate}", "strategy: {type: RollingUpdate}"),
                (", nvidia.com/gpu: 1", ""),
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
