from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import DEEP, NO_GPU_REQUEST, SIDECAR, expect, replace, sees_nvidia, sidecar
from tests.rules.harness import Case, assert_case

RULE = "unrequested-gpu-access"
AMD = "manifests/rocm.yaml"
ROCM_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: rocm-shell, namespace: inference}
spec:
  nodeSelector: {kubernetes.io/hostname: brain}
  containers:
    - name: shell
      image: docker.io/rocm/dev-ubuntu-24.04:6.4@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      securityContext: {privileged: PRIVILEGED}
  volumes:
    - name: kfd
      hostPath: {path: KFD}
"""
PLUGIN = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: extra-plugin, namespace: kube-system}
spec:
  selector: {matchLabels: {app: p}}
  template:
    metadata: {labels: {app: p}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
        - name: plugin
          image: nvcr.io/nvidia/k8s-device-plugin:v0.17.1
          env: [{name: NVIDIA_VISIBLE_DEVICES, value: all}]
"""


def rocm(privileged: str = "false", kfd: str = "/srv/scratch", gpus: int = 0) -> dict[str, str]:
    text = ROCM_POD.replace("PRIVILEGED", privileged).replace("KFD", kfd)
    if gpus:
        text = text.replace(
            "      securityContext:",
            f"      resources: {{limits: {{amd.com/gpu: {gpus}}}}}\n      securityContext:",
        )
    return {"file": AMD, "write": text}


KFD_VOLUME = (
    "            capabilities: {drop: [ALL]}\n",
    "            capabilities: {drop: [ALL]}\n      volumes:\n"
    "        - name: kfd\n          hostPath: {path: /dev/kfd}\n",
)
CASES = [
    Case("requested-gpus-only"),
    Case(
        "sees-every-nvidia-gpu",
        edits=(sidecar(*NO_GPU_REQUEST, sees_nvidia("all")),),
        expect=(expect("block", SIDECAR, "NVIDIA_VISIBLE_DEVICES"),),
    ),
    Case(
        "sees-listed-gpus",
        edits=(sidecar(*NO_GPU_REQUEST, sees_nvidia("GPU-1b2c,GPU-3d4e")),),
        expect=(expect("block", SIDECAR, "NVIDIA_VISIBLE_DEVICES"),),
    ),
    Case("void-sees-none", edits=(sidecar(*NO_GPU_REQUEST, sees_nvidia("void")),)),
    Case("empty-sees-none", edits=(sidecar(*NO_GPU_REQUEST, sees_nvidia("")),)),
    Case("requested-and-visible", edits=(sidecar(sees_nvidia("all")),)),
    Case(
        "lane-without-gpus-but-visible-devices",
        edits=(
            replace(DEEP, "gpus: 1", "gpus: 0"),
            replace(DEEP, "aliases:", "env: {NVIDIA_VISIBLE_DEVICES: all}\naliases:"),
        ),
        expect=(expect("block", DEEP, "env: {NVIDIA_VISIBLE_DEVICES"),),
    ),
    Case(
        "amd-device-nodes-from-the-host",
        repo="mixed-nvidia-amd",
        edits=(rocm(kfd="/dev/kfd"),),
        expect=(expect("block", AMD, "- name: kfd"),),
    ),
    Case(
        "privileged-sees-amd-devices",
        repo="mixed-nvidia-amd",
        edits=(rocm(privileged="true"),),
        expect=(expect("block", AMD, "privileged: true"),),
    ),
    Case("other-host-paths-see-nothing", repo="mixed-nvidia-amd", edits=(rocm(),)),
    # Requesting one of two AMD GPUs does not limit what /dev/kfd and /dev/dri show.
    Case(
        "device-nodes-show-more-than-requested",
        repo="mixed-nvidia-amd",
        edits=(
            replace("hardware/brain.yaml", "count: 1, vramMiB: 16304", "count: 2, vramMiB: 16304"),
            rocm(kfd="/dev/kfd", gpus=1),
        ),
        expect=(expect("block", AMD, "- name: kfd"),),
    ),
    Case(
        "device-nodes-of-a-one-gpu-node-requested",
        repo="mixed-nvidia-amd",
        edits=(rocm(kfd="/dev/kfd", gpus=1),),
    ),
    Case("no-amd-gpu-on-the-node", edits=(sidecar(KFD_VOLUME),)),
    Case("device-plugin-may-see-its-gpus", edits=({"file": "manifests/p.yaml", "write": PLUGIN},)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_messages_name_the_route(tmp_path: Path) -> None:
    from tests.rules.harness import run

    cases = {c.id: c for c in CASES}
    expected = {
        "sees-every-nvidia-gpu": "sees every nvidia GPU without requesting it (container 'main' "
        "sets NVIDIA_VISIBLE_DEVICES=all): the device plugin does not account for it",
        "device-nodes-show-more-than-requested": "sees every amd GPU but requests 1 (volume "
        "'kfd' mounts /dev/kfd from the host): the device plugin does not account for the "
        "others",
    }
    for case_id, message in expected.items():
        _repo, findings = run(cases[case_id], tmp_path / case_id)
        assert [f.message for f in findings if f.rule == RULE] == [message]
