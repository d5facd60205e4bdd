from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import SIDECAR, expect, sidecar
from tests.rules.harness import Case, assert_case

RULE = "gpu-limit-equals-request"
LIMITS = '            limits: {cpu: "1", memory: 1Gi, nvidia.com/gpu: 1}'
REQUESTS = "            requests: {cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}"
CASES = [
    Case("rendered-lanes-request-equals-limit"),
    Case("handwritten-equal", edits=(sidecar(),)),
    Case("limit-only-is-fine", edits=(sidecar((REQUESTS, "            requests: {cpu: 100m}")),)),
    Case(
        "request-without-limit",
        edits=(sidecar((LIMITS, '            limits: {cpu: "1"}')),),
        expect=(expect("block", SIDECAR, "          resources:"),),
    ),
    Case(
        "request-differs-from-limit",
        edits=(sidecar((REQUESTS, "            requests: {nvidia.com/gpu: 2}")),),
        expect=(expect("block", SIDECAR, "          resources:"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
