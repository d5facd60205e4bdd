from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.rules.cases import CONFIG, expect
from tests.rules.harness import Case, assert_case

RULE = "single-device-plugin"
PLUGIN = "manifests/device-plugin.yaml"
DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: nvidia-device-plugin-daemonset, namespace: kube-system}
spec:
  selector: {matchLabels: {name: nvidia-device-plugin-ds}}
  template:
    metadata: {labels: {name: nvidia-device-plugin-ds}}
    spec:
      containers:
        - name: nvidia-device-plugin-ctr
          image: IMAGE
"""
APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: CHART, namespace: argocd}
spec:
  project: default
  source: {repoURL: REPO, chart: CHART, targetRevision: 0.17.1}
  destination: {server: https://kubernetes.default.svc, namespace: kube-system}
"""


def daemonset(image: str) -> dict[str, str]:
    return {"file": PLUGIN, "write": DAEMONSET.replace("IMAGE", image)}


def application(chart: str, repo: str = "https://nvidia.github.io/k8s-device-plugin") -> dict:  # type: ignore[type-arg]
    return {"file": PLUGIN, "write": APPLICATION.replace("CHART", chart).replace("REPO", repo)}


def without_device_plugin() -> str:
    lines = (ROOT / CONFIG).read_text().splitlines(keepends=True)
    start = lines.index("devicePlugin:\n")
    end = lines.index("prefetch:\n")
    return "".join(lines[:start] + lines[end:])


CASES = [
    Case("only-gitops-gens-own"),
    Case(
        "upstream-static-daemonset",
        edits=(daemonset("nvcr.io/nvidia/k8s-device-plugin:v0.17.1"),),
        expect=(expect("block", PLUGIN, "kind: DaemonSet"),),
    ),
    Case(
        "application-of-the-chart",
        edits=(application("nvidia-device-plugin"),),
        expect=(expect("block", PLUGIN, "kind: Application"),),
    ),
    Case(
        "application-of-the-gpu-operator",
        edits=(application("gpu-operator", "https://helm.ngc.nvidia.com/nvidia"),),
        expect=(expect("block", PLUGIN, "kind: Application"),),
    ),
    Case("amd-plugin-beside-the-nvidia-one", edits=(daemonset("rocm/k8s-device-plugin:1.31.0.6"),)),
    Case(
        "no-device-plugin-in-gitops-gen-yaml",
        edits=(
            {"file": CONFIG, "write": without_device_plugin()},
            daemonset("nvcr.io/nvidia/k8s-device-plugin:v0.17.1"),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
