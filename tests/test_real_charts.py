"""The placement model against the real GPU charts rendered by real Helm.

The charts are the upstream ones, vendored unmodified in tests/data/charts (NOTICE there:
nvidia-device-plugin 0.19.2 with its bundled NFD chart, amd-gpu 0.21.0, dcgm-exporter
4.8.2), and Helm is real Helm v4 in-process (helm-python-sdk, a test dependency). Each
example's rendered chart values are rendered by Helm: every device-plugin DaemonSet's
nodeSelector, required node affinity and tolerations must equal what gitops-gen's chart
model says and must land on the example's GPU nodes of its cluster; the DCGM exporter
must run the pinned image with the GPU runtime on exactly those nodes.
GITOPS_GEN_CHARTS may point at another folder of unpacked charts (other versions).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.pipeline import build_repo
from gitops_gen.render.platform import (
    PodPlacement,
    chart_facts,
    node_labels,
    placements,
    why_not,
)
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.model import Node
from tests.conftest import ROOT

CHARTS = Path(os.environ.get("GITOPS_GEN_CHARTS") or ROOT / "tests" / "data" / "charts")
EXAMPLES = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]


def _render(chart_dir: Path, version: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's objects, rendered by Helm with these values."""
    import helm_python as helm

    chart = helm.Chart.load(str(chart_dir))
    assert yaml.safe_load((chart_dir / "Chart.yaml").read_text())["version"] == version, (
        f"{chart_dir} is not version {version}: vendor the version the examples pin"
    )
    found = []
    for text in chart.render(values, name="rel", namespace="ns", is_install=True).values():
        found += [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    return found


def _placement(pod: dict[str, Any]) -> tuple[Any, ...]:
    affinity = (pod.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    return (
        pod.get("nodeSelector") or {},
        required.get("nodeSelectorTerms") or [],
        pod.get("tolerations") or [],
    )


def _daemon_sets(chart_dir: Path, version: str, values: dict[str, Any]) -> list[Any]:
    return _canonical(
        _placement(doc["spec"]["template"]["spec"])
        for doc in _render(chart_dir, version, values)
        if doc.get("kind") == "DaemonSet"
    )


def _canonical(items: Any) -> list[Any]:
    """Order-free, key-order-free form of a list of placements."""
    return sorted((json.loads(json.dumps(i, sort_keys=True)) for i in items), key=json.dumps)


def _chart_app(build: Any, cluster: str, chart: str) -> dict[str, Any]:
    (app,) = [
        o.data
        for o in build.tree.objects
        if o.data.get("kind") == "Application"
        and o.path.startswith(f"{cluster}/")
        and o.data["spec"]["source"].get("chart") == chart
    ]
    return app


def _cluster_nodes(build: Any, cluster: str, vendor: str) -> list[Node]:
    return [n for n in build.repo.nodes.values() if n.cluster == cluster and n.gpus_of(vendor)]


@pytest.mark.parametrize("repo", EXAMPLES, ids=lambda p: p.name if p != ROOT else "root")
def test_rendered_platform_matches_real_helm_and_schedules(repo: Path) -> None:
    build = build_repo(repo)
    checked = 0
    for cluster in build.repo.config.kube_clusters:
        for plugin in build.repo.config.device_plugins:
            nodes = _cluster_nodes(build, cluster.name, plugin.vendor)
            if not nodes:
                continue
            values = _chart_app(build, cluster.name, plugin.chart_name)["spec"]["source"]
            values = values["helm"]["valuesObject"]
            chart_dir = CHARTS / plugin.chart_name
            real = _daemon_sets(chart_dir, plugin.chart_version, values)
            model = placements(chart_facts()[plugin.chart_name], values)
            assert real == _canonical(
                (dict(p.node_selector), list(p.required_terms), list(p.tolerations)) for p in model
            )
            for node in nodes:
                for pod in model:
                    if pod.required:
                        assert why_not(pod, node, node_labels(node)) == [], (
                            pod.daemon_set,
                            node.name,
                        )
            checked += 1
    if build.repo.config.kube_clusters:
        assert checked >= len(build.repo.config.kube_clusters)


def _has_dcgm(repo: Path) -> bool:
    monitoring = load_repo(repo).config.monitoring
    return monitoring is not None and monitoring.dcgm_exporter is not None


DCGM_EXAMPLES = [p for p in EXAMPLES if _has_dcgm(p)]


@pytest.mark.parametrize("repo", DCGM_EXAMPLES, ids=lambda p: p.name if p != ROOT else "root")
def test_the_dcgm_exporter_runs_pinned_on_exactly_the_nvidia_nodes(repo: Path) -> None:
    build = build_repo(repo)
    monitoring = build.repo.config.monitoring
    assert monitoring is not None and monitoring.dcgm_exporter is not None
    dcgm = monitoring.dcgm_exporter
    for cluster in build.repo.config.kube_clusters:
        nodes = _cluster_nodes(build, cluster.name, "nvidia")
        if not nodes:
            continue
        values = _chart_app(build, cluster.name, dcgm.chart_name)["spec"]["source"]
        objects = _render(
            CHARTS / dcgm.chart_name, dcgm.chart_version, values["helm"]["valuesObject"]
        )
        (daemon_set,) = [o for o in objects if o.get("kind") == "DaemonSet"]
        pod = daemon_set["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == dcgm.image  # repository:tag@sha256, as pinned
        runtime = build.repo.config.runtime_class_for("nvidia")
        assert pod.get("runtimeClassName") == (runtime.name if runtime else None)
        selector, terms, tolerations = _placement(pod)
        placement = PodPlacement(
            chart=dcgm.chart_name,
            daemon_set=daemon_set["metadata"]["name"],
            node_selector=selector,
            required_terms=tuple(terms),
            tolerations=tuple(tolerations),
            adds_labels={},
            required=True,
        )
        for node in build.repo.nodes.values():
            reasons = why_not(placement, node, node_labels(node))
            on_gpu = node in nodes
            assert (reasons == []) == on_gpu, (node.name, reasons)
        (monitor,) = [o for o in objects if o.get("kind") == "ServiceMonitor"]
        for key, value in monitoring.labels.items():
            assert monitor["metadata"]["labels"][key] == value
