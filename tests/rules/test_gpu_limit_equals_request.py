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
    # A template placeholder left in a copied manifest: no GPU rule could count it.
    Case(
        "placeholder-gpu-count",
        edits=(sidecar(("nvidia.com/gpu: 1", "nvidia.com/gpu: '${ACCELERATOR_QUANTITY}'")),),
        expect=(
            expect("block", SIDECAR, "            requests:"),
            expect("block", SIDECAR, "            limits:"),
        ),
    ),
    Case(
        "fractional-gpu-count",
        edits=(sidecar((LIMITS, '            limits: {cpu: "1", nvidia.com/gpu: "0.5"}')),),
        expect=(
            expect("block", SIDECAR, "            limits:"),
            expect("block", SIDECAR, "          resources:"),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_placeholder_count_still_claims_the_card(tmp_path: Path) -> None:
    """The workload stays visible to the GPU rules: it claims at least one GPU."""
    from tests.rules.cases import RUNNING
    from tests.rules.harness import run

    edit = sidecar(RUNNING, ("nvidia.com/gpu: 1", "nvidia.com/gpu: '${ACCELERATOR_QUANTITY}'"))
    _repo, findings = run(Case("placeholder-running", edits=(edit,)), tmp_path)
    assert {f.rule for f in findings if f.object == "Deployment/vllm/sidecar-gpu"} >= {
        "single-active-gpu-lane",
        "gpu-limit-equals-request",
    }
    message = next(f.message for f in findings if f.rule == RULE)
    assert message == (
        "container 'main' sets resources.requests.nvidia.com/gpu to '${ACCELERATOR_QUANTITY}', "
        "which is not a whole number of GPUs: the API server refuses it, and no GPU rule can "
        "count it"
    )
