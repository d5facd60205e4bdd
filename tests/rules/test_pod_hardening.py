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
PLUGIN = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: gpu-plugin, namespace: kube-system}
spec:
  selector: {matchLabels: {app: gpu-plugin}}
  template:
    metadata: {labels: {app: gpu-plugin}}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: plugin
          image: IMAGE:v0.17.1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          volumeMounts: [{name: device-plugin, mountPath: /var/lib/kubelet/device-plugins}]
      volumes:
        - name: device-plugin
          hostPath: {path: /var/lib/kubelet/device-plugins}
"""


def plugin(image: str) -> dict[str, str]:
    return {"file": "manifests/plugin.yaml", "write": PLUGIN.replace("IMAGE", image)}


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
    # A device plugin cannot register without the kubelet's socket directory.
    Case("device-plugin-socket-directory", edits=(plugin("nvcr.io/nvidia/k8s-device-plugin"),)),
    Case(
        "socket-directory-for-anything-else",
        edits=(plugin("ghcr.io/example/node-agent"),),
        expect=(expect("block", "manifests/plugin.yaml", "- name: device-plugin"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
