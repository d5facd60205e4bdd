"""Node labels and taints applied by Node Feature Discovery from hardware/, not by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_gen.check.validation import KubeSchemas
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.conftest import ROOT, Result, copy_repo, edit

H100 = ROOT / "examples" / "h100x2-tp2"


def _objects(repo: Path) -> dict[str, dict[str, Any]]:
    return {o.path: dict(o.data) for o in render_repo(load_repo(repo)).objects}


def test_a_rule_per_node_with_its_labels_gpu_facts_and_taints() -> None:
    objects = _objects(H100)
    rule = objects["gpu-prod/nodes/h100-node-a.yaml"]
    (only,) = rule["spec"]["rules"]
    assert only["matchFeatures"] == [
        {
            "feature": "system.name",
            "matchExpressions": {"nodename": {"op": "In", "value": ["h100-node-a"]}},
        }
    ]
    assert only["labels"] == {
        "gitops-gen.dev/nvidia-gpu-compute-capability": "9.0",
        "gitops-gen.dev/nvidia-gpu-count": "2",
        "gitops-gen.dev/nvidia-gpu-model": "h100-sxm-80gb",
        "gitops-gen.dev/nvidia-gpu-vram-mib": "81559",
        # the hardware/ label the device plugin selects by; never kubernetes.io/hostname
        "nvidia.com/gpu.present": "true",
    }
    assert only["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert list(KubeSchemas("1.33").violations(rule)) == []
    plugin = objects["gpu-prod/argocd/apps/nvidia-device-plugin.yaml"]
    values = plugin["spec"]["source"]["helm"]["valuesObject"]
    assert values["nfd"]["master"] == {"config": {"enableTaints": True}}
    nodes_app = objects["gpu-prod/argocd/apps/nodes.yaml"]
    assert nodes_app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "0"


def _with_config(tmp_path: Path, old: str, new: str) -> dict[str, dict[str, Any]]:
    """The H100 example's objects with one edit to its gitops-gen.yaml."""
    repo = copy_repo(H100, tmp_path / "repo")
    edit(repo / "gitops-gen.yaml", old, new)
    return _objects(repo)


def test_the_gpu_facts_are_labels_lanes_may_select_by(tmp_path: Path) -> None:
    objects = _with_config(
        tmp_path,
        "namespace: llm\n",
        "namespace: llm\nconventions:\n  nodeSelectorLabels: [gitops-gen.dev/nvidia-gpu-model]\n",
    )
    pod = objects["gpu-prod/lanes/llama31-8b/deployment.yaml"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["gitops-gen.dev/nvidia-gpu-model"] == "h100-sxm-80gb"


def test_without_taints_the_rule_only_labels(tmp_path: Path) -> None:
    objects = _with_config(
        tmp_path,
        "nodeFeatureRules: {enabled: true, taints: true}",
        "nodeFeatureRules: {enabled: true}",
    )
    assert "taints" not in objects["gpu-prod/nodes/h100-node-a.yaml"]["spec"]["rules"][0]
    values = objects["gpu-prod/argocd/apps/nvidia-device-plugin.yaml"]["spec"]["source"]["helm"]
    assert "master" not in values["valuesObject"]["nfd"]


def test_rules_need_node_feature_discovery(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = copy_repo(H100, tmp_path / "repo")
    edit(
        repo / "gitops-gen.yaml",
        '  nodeSelector: {nvidia.com/gpu.present: "true"}',
        '  nodeSelector: {nvidia.com/gpu.present: "true"}\n  nfd: false\n  gfd: false',
    )
    result = cli("render", cwd=repo)
    assert result.code == 2
    assert result.err.splitlines()[0].endswith(
        "nodeFeatureRules: NodeFeatureRules need Node Feature Discovery: set "
        "devicePlugin.nfd: true (the NVIDIA device plugin chart installs it)"
    )
