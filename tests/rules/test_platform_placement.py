from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, NODE, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "platform-placement"
MIXED_CONFIG = "gitops-gen.yaml"
AMD_PLUGIN = """\
amdDevicePlugin:
  chart: {repoURL: https://rocm.github.io/k8s-device-plugin/, name: amd-gpu, version: 0.21.0}
  image: docker.io/rocm/k8s-device-plugin:1.31.0.9@sha256:3b58ccc494d785f5a7a3970cd386e14ce2dd17b07c268a1c98db14ec98d863d1
"""
HAND_WRITTEN_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: extra
  namespace: argocd
spec:
  project: team-x
  source: {repoURL: https://git.example.com/platform/llm-gitops.git, path: extra}
  destination: {server: https://kubernetes.default.svc, namespace: llm}
"""
CASES = [
    Case("root-platform-placed"),
    Case("h100-platform-placed", repo="h100x2-tp2"),
    Case("lab-platform-placed", repo="lab-48gb-comfyui"),
    Case("mixed-platform-placed", repo="mixed-nvidia-amd"),
    Case(
        "node-selector-label-the-node-lacks",
        edits=(
            replace(
                CONFIG,
                '    workload.ai/gpu: "true"\n  tolerations:',
                '    workload.ai/gpu-ready: "true"\n  tolerations:',
            ),
        ),
        expect=(expect("block", CONFIG, "  nodeSelector:", after="devicePlugin:"),),
    ),
    Case(
        "convention-label-missing-on-the-node",
        edits=(replace(NODE, '  workload.ai/gpu: "true"\n', ""),),
        expect=(
            expect("block", NODE, "labels:"),
            # The plugin's own nodeSelector asks for the same label.
            expect("block", CONFIG, "  nodeSelector:", after="devicePlugin:"),
        ),
    ),
    Case(
        "amd-gpus-without-an-amd-plugin",
        repo="mixed-nvidia-amd",
        edits=(replace(MIXED_CONFIG, AMD_PLUGIN, ""),),
        expect=(expect("block", "hardware/brain.yaml", "gpus:"),),
    ),
    Case(
        "amd-plugin-selecting-a-missing-label",
        repo="mixed-nvidia-amd",
        edits=(
            replace(
                MIXED_CONFIG,
                "version: 0.21.0}\n",
                'version: 0.21.0}\n  nodeSelector: {example.com/amd: "true"}\n',
            ),
        ),
        expect=(expect("block", MIXED_CONFIG, "nodeSelector: {example.com/amd"),),
    ),
    Case(
        "unknown-chart",
        edits=(replace(CONFIG, "name: nvidia-device-plugin", "name: gpu-operator"),),
        expect=(expect("warn", CONFIG, "name: gpu-operator"),),
    ),
    Case(
        "chart-version-not-checked",
        edits=(replace(CONFIG, "version: 0.19.2", "version: 0.20.0"),),
        expect=(expect("warn", CONFIG, "version: 0.20.0"),),
    ),
    Case(
        "hand-written-application-in-a-missing-project",
        repo="h100x2-tp2",
        edits=({"file": "manifests/extra-app.yaml", "write": HAND_WRITTEN_APP},),
        expect=(expect("block", "manifests/extra-app.yaml", "project: team-x"),),
    ),
    Case(
        "hand-written-application-outside-the-project",
        repo="h100x2-tp2",
        edits=(
            {
                "file": "manifests/extra-app.yaml",
                "write": HAND_WRITTEN_APP.replace("team-x", "llm").replace(
                    "https://git.example.com/platform/llm-gitops.git",
                    "https://git.example.com/other.git",
                ),
            },
        ),
        expect=(expect("block", "manifests/extra-app.yaml", "project: llm"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_platform_placement(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
