from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import SIDECAR, expect, sidecar
from tests.rules.harness import Case, assert_case

RULE = "pod-hardening"
VOLUME = (
    "            capabilities: {drop: [ALL]}\n",
    "            capabilities: {drop: [ALL]}\n      volumes:\n"
    "        - name: host\n          hostPath: {path: /var/run}\n",
)
CACHE = (
    "            capabilities: {drop: [ALL]}\n",
    "            capabilities: {drop: [ALL]}\n      volumes:\n"
    "        - name: cache\n          hostPath: {path: /models/vllm/comfyui}\n",
)
POLICY = {
    "file": "policies/policy.yaml",
    "write": (
        "kind: Policy\nrules:\n  pod-hardening:\n    options: {allowedHostPaths: [/var/run]}\n"
    ),
}
CASES = [
    Case("rendered-and-handwritten-pods-hardened", edits=(sidecar(),)),
    Case(
        "host-network",
        edits=(
            sidecar(
                (
                    "      enableServiceLinks: false\n",
                    "      enableServiceLinks: false\n      hostNetwork: true\n",
                )
            ),
        ),
        expect=(expect("block", SIDECAR, "hostNetwork: true"),),
    ),
    Case(
        "privileged-container",
        edits=(
            sidecar(
                (
                    "allowPrivilegeEscalation: false",
                    "allowPrivilegeEscalation: false\n            privileged: true",
                )
            ),
        ),
        expect=(expect("block", SIDECAR, "          securityContext:"),),
    ),
    Case(
        "service-account-token-mounted",
        edits=(sidecar(("      automountServiceAccountToken: false\n", "")),),
        expect=(expect("block", SIDECAR, "    spec:"),),
    ),
    Case(
        "capabilities-not-dropped",
        edits=(sidecar(("{drop: [ALL]}", "{drop: [NET_RAW]}")),),
        expect=(expect("block", SIDECAR, "          securityContext:"),),
    ),
    Case(
        "host-path-outside-the-model-cache",
        edits=(sidecar(VOLUME),),
        expect=(expect("block", SIDECAR, "        - name: host"),),
    ),
    Case("host-path-inside-the-model-cache", edits=(sidecar(CACHE),)),
    Case("host-path-allowed-by-policy", edits=(sidecar(VOLUME), POLICY)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
