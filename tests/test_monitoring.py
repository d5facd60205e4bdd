"""Observability as code: monitors on the lanes' metrics, the field notes' alerts, the
DCGM exporter; each object validated against the real Prometheus Operator CRDs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.check.validation import KubeSchemas
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.conftest import ROOT, Result, copy_repo, edit

CONFIG = "gitops-gen.yaml"
NODE = "hardware/gpu-worker-1.yaml"


def _objects(repo: Path) -> dict[str, dict[str, Any]]:
    return {o.path: dict(o.data) for o in render_repo(load_repo(repo)).objects}


def _rules(objects: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    rule = objects["homelab/monitoring/prometheusrule.yaml"]
    return {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}


def test_a_pod_monitor_for_each_lane_that_serves_metrics() -> None:
    objects = _objects(ROOT)
    monitors = {p.split("/")[2] for p, o in objects.items() if o["kind"] == "PodMonitor"}
    lanes = load_repo(ROOT).lanes.values()
    expected = {
        lane.name
        for lane in lanes
        if lane.engine == "vllm" or (lane.engine == "llamacpp" and lane.serve.get("metrics"))
    }
    assert monitors == expected
    assert "qwen36-27b-deep" in monitors and "vllm-rollback" in monitors
    monitor = objects["homelab/lanes/vllm-rollback/podmonitor.yaml"]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    deployment = objects["homelab/lanes/vllm-rollback/deployment.yaml"]
    pod = deployment["spec"]["template"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] in ports


def test_a_llamacpp_lane_without_metrics_gets_no_monitor(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo")
    edit(repo / "lanes/qwen36-27b-deep.yaml", "  metrics: true\n", "")
    assert "homelab/lanes/qwen36-27b-deep/podmonitor.yaml" not in _objects(repo)


def test_the_alerts_of_the_field_notes() -> None:
    rules = _rules(_objects(ROOT))
    assert sorted(rules) == [
        "GPULaneNotReady",
        "GPULaneRestarting",
        "GPUPodPending",
        "GPUPodsOverCards",
        "GPUPowerAtCap",
    ]
    over = rules["GPUPodsOverCards"]["expr"]
    assert 'node="gpu-worker-1"' in over and over.endswith(") > 1")
    power = rules["GPUPowerAtCap"]
    assert power["for"] == "10m"
    assert power["expr"] == (
        'DCGM_FI_DEV_POWER_USAGE{Hostname="gpu-worker-1", modelName!=""} >= 68.6'
    )
    assert 'deployment=~"gpt-oss-agent|qwen36-27b-deep|' in rules["GPULaneNotReady"]["expr"]


def test_a_time_sliced_card_holds_its_replicas(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo")
    edit(repo / NODE, "    mig: false", "    mig: false\n    timeSlicing: {replicas: 2}")
    assert _rules(_objects(repo))["GPUPodsOverCards"]["expr"].endswith(") > 2")


def test_no_power_alert_without_a_declared_cap(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo")
    edit(repo / NODE, "    # nvidia-smi's power.limit on this SFF card.\n    powerLimitW: 70\n", "")
    assert "GPUPowerAtCap" not in _rules(_objects(repo))


def test_the_dcgm_exporter_runs_on_the_gpu_nodes_pinned() -> None:
    app = _objects(ROOT)["homelab/argocd/apps/dcgm-exporter.yaml"]
    source = app["spec"]["source"]
    assert (source["chart"], source["targetRevision"]) == ("dcgm-exporter", "4.8.2")
    values = source["helm"]["valuesObject"]
    assert values["image"]["tag"].startswith("4.5.3-4.8.2-distroless@sha256:")
    assert values["runtimeClassName"] == "nvidia"
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["gpu-worker-1"]
    assert {
        "key": "workload.ai/dedicated",
        "operator": "Equal",
        "value": "gpu",
        "effect": "NoSchedule",
    } in values["tolerations"]
    assert values["serviceMonitor"]["additionalLabels"] == {"release": "kube-prometheus-stack"}


def test_monitors_and_rules_validate_against_the_real_crds() -> None:
    schemas = KubeSchemas("1.35")
    objects = _objects(ROOT)
    crd_objects = [o for o in objects.values() if o["apiVersion"] == "monitoring.coreos.com/v1"]
    assert len(crd_objects) == 7
    for obj in crd_objects:
        assert list(schemas.violations(obj)) == []
    rule = dict(objects["homelab/monitoring/prometheusrule.yaml"])
    broken = {**rule, "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "for": "10"}]}]}}
    paths = {v.path for v in schemas.violations(broken)}
    # The CRD requires expr, and `for` must be a Prometheus duration ("10" is not).
    assert paths == {"spec.groups[0].rules[0]", "spec.groups[0].rules[0].for"}


def test_an_unshipped_operator_version_is_refused(
    example: Path, cli: Callable[..., Result]
) -> None:
    edit(example / CONFIG, 'prometheusOperator: "0.93.0"', 'prometheusOperator: "0.70.0"')
    result = cli("render", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0].startswith(
        f"{CONFIG}:61: monitoring.prometheusOperator: expected one of '0.93.0'"
    )


@pytest.mark.parametrize("repo", ["lab-48gb-comfyui"])
def test_seed_000_alerts_on_its_300_w_cap(repo: str) -> None:
    objects = {
        o.path: dict(o.data) for o in render_repo(load_repo(ROOT / "examples" / repo)).objects
    }
    rule = objects["lab/monitoring/prometheusrule.yaml"]
    alerts = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
    assert alerts["GPUPowerAtCap"]["expr"].endswith(">= 294.0")
