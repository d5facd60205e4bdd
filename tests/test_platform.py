"""The device-plugin charts' placement model (gitops_gen/platform.py).

The chart facts were checked against the real charts (nvidia-device-plugin 0.19.2 with
its bundled NFD 0.17.3, amd-gpu 0.21.0) rendered by Helm v4: the same DaemonSets with
the same nodeSelector, required affinity and tolerations for each values case below.
These tests pin that model and replay the field failures with the values gitops-gen
used to render.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.pipeline import build_repo
from gitops_gen.render.platform import (
    chart_facts,
    helm_merge,
    placements,
    schedule_platform,
)
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.model import Node, Taint
from tests.conftest import ROOT

EXAMPLES = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]
# Device plugins run on Kubernetes only (a compose host gets its GPUs from Docker).
KUBE_EXAMPLES = [p for p in EXAMPLES if load_repo(p).config.kube_clusters]


def _node(name: str, labels: dict[str, str], taints: tuple[Taint, ...] = ()) -> Node:
    from gitops_gen.specs.model import Gpu

    gpu = Gpu("nvidia", "h100-sxm-80gb", 2, 81559, "9.0", None, True)
    return Node(doc=None, name=name, labels=labels, taints=taints, gpus=(gpu,))  # type: ignore[arg-type]


def _plugin(chart: str = "nvidia-device-plugin", vendor: str = "nvidia"):  # type: ignore[no-untyped-def]
    from gitops_gen.specs.model import DevicePlugin

    return DevicePlugin(doc=None, vendor=vendor, chart_name=chart, chart_version="0.19.2")  # type: ignore[arg-type]


H100 = _node(
    "h100-node-a",
    {"kubernetes.io/hostname": "h100-node-a", "nvidia.com/gpu.present": "true"},
    (Taint("nvidia.com/gpu", "present", "NoSchedule"),),
)
HOMELAB = _node(
    "gpu-worker-1",
    {"kubernetes.io/hostname": "gpu-worker-1", "workload.ai/gpu": "true"},
    (Taint("workload.ai/dedicated", "gpu", "NoSchedule"),),
)


def test_helm_merge_maps_merge_lists_replace_null_deletes() -> None:
    defaults = {"a": {"x": 1, "y": 2}, "l": [1, 2], "s": "keep", "gone": {"k": 1}}
    merged = helm_merge(defaults, {"a": {"y": 3, "z": 4}, "l": [], "gone": None})
    assert merged == {"a": {"x": 1, "y": 3, "z": 4}, "l": [], "s": "keep"}


def test_empty_tolerations_drop_the_charts_defaults() -> None:
    """`with .Values.tolerations` renders nothing for []: not even nvidia.com/gpu."""
    chart = chart_facts()["nvidia-device-plugin"]
    plugin_pod = next(
        p for p in placements(chart, {"tolerations": []}) if p.daemon_set == "nvidia-device-plugin"
    )
    assert plugin_pod.tolerations == ()
    default_pod = next(p for p in placements(chart, {}) if p.daemon_set == "nvidia-device-plugin")
    assert {
        "key": "nvidia.com/gpu",
        "operator": "Exists",
        "effect": "NoSchedule",
    } in default_pod.tolerations


def test_old_h100_values_leave_the_tainted_node_without_a_plugin() -> None:
    """examples/h100x2-tp2 as rendered before: `tolerations: []` on a tainted node."""
    old = {
        "nodeSelector": {"nvidia.com/gpu.present": "true"},
        "tolerations": [],
        "gfd": {"enabled": True},
        "nfd": {"enabled": True},
    }
    misses = schedule_platform(_plugin(), old, [H100])
    unplaced = {m.daemon_set: m.reasons for m in misses}
    assert "nvidia-device-plugin" in unplaced
    assert any(
        "does not tolerate taint nvidia.com/gpu=present:NoSchedule" in r
        for r in unplaced["nvidia-device-plugin"]
    )


def test_old_homelab_values_wait_for_labels_nfd_cannot_add() -> None:
    """The root example as rendered before: the chart's default affinity needs NFD's
    pci-10de label, and the bundled NFD worker does not tolerate the node's taint."""
    old = {
        "nodeSelector": {"workload.ai/gpu": "true"},
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
            {
                "key": "workload.ai/dedicated",
                "operator": "Equal",
                "value": "gpu",
                "effect": "NoSchedule",
            },
        ],
        "gfd": {"enabled": True},
        "nfd": {"enabled": True},
    }
    unplaced = {m.daemon_set: m.reasons for m in schedule_platform(_plugin(), old, [HOMELAB])}
    assert any("affinity" in r for r in unplaced["nvidia-device-plugin"])
    assert any("workload.ai/dedicated=gpu:NoSchedule" in r for r in unplaced["nfd-worker"])
    # Had the NFD worker tolerated the taint, its label would have satisfied the affinity.
    old["nfd"] = {"enabled": True, "worker": {"tolerations": old["tolerations"]}}
    assert schedule_platform(_plugin(), old, [HOMELAB]) == []


def test_node_labels_from_a_tolerated_nfd_worker_satisfy_the_default_affinity() -> None:
    bare = _node("n1", {"kubernetes.io/hostname": "n1"})
    values = {"nfd": {"enabled": True}}
    assert schedule_platform(_plugin(), values, [bare]) == []
    assert schedule_platform(_plugin(), {"nfd": {"enabled": False}}, [bare]) != []


def test_amd_default_selector_is_ignored_until_enabled_and_nulled_keys_go() -> None:
    chart = chart_facts()["amd-gpu"]
    (pod,) = placements(chart, {})
    assert pod.node_selector == {}
    (pod,) = placements(chart, {"node_selector_enabled": True})
    assert pod.node_selector["feature.node.kubernetes.io/pci-0300_1002.present"] == "true"
    (pod,) = placements(
        chart,
        {
            "node_selector_enabled": True,
            "node_selector": {
                "feature.node.kubernetes.io/pci-0300_1002.present": None,
                "kubernetes.io/arch": None,
                "kubernetes.io/hostname": "brain",
            },
        },
    )
    assert pod.node_selector == {"kubernetes.io/hostname": "brain"}


@pytest.mark.parametrize("repo", KUBE_EXAMPLES, ids=lambda p: p.name if p != ROOT else "root")
def test_every_example_platform_schedules_on_its_gpu_nodes(repo: Path) -> None:
    """Each rendered device-plugin Application, read back from the rendered objects, puts
    every required DaemonSet on every GPU node of its vendor; no values list is empty."""
    build = build_repo(repo)
    checked = 0
    for plugin in build.repo.config.device_plugins:
        for cluster in build.repo.config.kube_clusters:  # a chart Application per cluster
            nodes = [
                n
                for n in build.repo.nodes.values()
                if n.gpus_of(plugin.vendor) and n.cluster == cluster.name
            ]
            if not nodes:
                continue
            (app,) = [
                o
                for o in build.tree.objects
                if o.data.get("kind") == "Application"
                and o.path.startswith(f"{cluster.name}/")
                and o.data["spec"]["source"].get("chart") == plugin.chart_name
            ]
            values = app.data["spec"]["source"]["helm"]["valuesObject"]
            assert values["tolerations"], "an empty list would drop the chart's own tolerations"
            assert schedule_platform(plugin, values, nodes) == []
            checked += 1
    assert checked >= len(build.repo.config.kube_clusters)
