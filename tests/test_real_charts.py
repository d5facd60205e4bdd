"""The placement model against the real device-plugin charts rendered by real Helm.

Opt-in: the chart archives are not vendored here. Point GITOPS_GEN_CHARTS at a folder
holding the unpacked charts (`nvidia-device-plugin/` at 0.19.2, with its bundled NFD
chart in `charts/`, and `amd-gpu/` at 0.21.0, e.g. from `helm pull --untar`) and install
the `real-charts` extra (helm-python-sdk, Helm v4 in-process). Each example's rendered
device-plugin values are then rendered by Helm, and every DaemonSet's nodeSelector,
required node affinity and tolerations must equal what gitops-gen's chart model says,
and must land on the example's GPU nodes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.pipeline import build_repo
from gitops_gen.render.platform import chart_facts, node_labels, placements, why_not
from gitops_gen.specs.model import Node
from tests.conftest import ROOT

CHARTS = os.environ.get("GITOPS_GEN_CHARTS")
EXAMPLES = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]

pytestmark = pytest.mark.skipif(
    not CHARTS,
    reason="opt-in: set GITOPS_GEN_CHARTS to unpacked upstream charts (see the docstring)",
)


def _daemon_sets(chart_dir: Path, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    helm = pytest.importorskip("helm_python", reason="pip install -e '.[real-charts]'")
    chart = helm.Chart.load(str(chart_dir))
    found = []
    for text in chart.render(values, name="rel", namespace="ns", is_install=True).values():
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and doc.get("kind") == "DaemonSet":
                pod = doc["spec"]["template"]["spec"]
                affinity = (pod.get("affinity") or {}).get("nodeAffinity") or {}
                required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
                found.append(
                    (
                        pod.get("nodeSelector") or {},
                        required.get("nodeSelectorTerms") or [],
                        pod.get("tolerations") or [],
                    )
                )
    return _canonical(found)


def _canonical(items: Any) -> list[Any]:
    """Order-free, key-order-free form of a list of placements."""
    return sorted((json.loads(json.dumps(i, sort_keys=True)) for i in items), key=json.dumps)


@pytest.mark.parametrize("repo", EXAMPLES, ids=lambda p: p.name if p != ROOT else "root")
def test_rendered_platform_matches_real_helm_and_schedules(repo: Path) -> None:
    assert CHARTS is not None
    build = build_repo(repo)
    for plugin in build.repo.config.device_plugins:
        nodes: list[Node] = [n for n in build.repo.nodes.values() if n.gpus_of(plugin.vendor)]
        apps = [
            o.data
            for o in build.tree.objects
            if o.data.get("kind") == "Application"
            and o.data["spec"]["source"].get("chart") == plugin.chart_name
        ]
        if not nodes:
            continue
        values = apps[0]["spec"]["source"]["helm"]["valuesObject"]
        real = _daemon_sets(Path(CHARTS) / plugin.chart_name, values)
        model = placements(chart_facts()[plugin.chart_name], values)
        assert real == _canonical(
            (dict(p.node_selector), list(p.required_terms), list(p.tolerations)) for p in model
        )
        for node in nodes:
            for pod in model:
                if pod.required:
                    assert why_not(pod, node, node_labels(node)) == [], (pod.daemon_set, node.name)
