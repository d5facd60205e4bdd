"""The GPU platform: the device plugins' values, and where their DaemonSets can run.

A lane only gets its GPU once its vendor's device plugin runs on the node. The charts'
own defaults do not place it there on their own: the NVIDIA chart requires NFD labels
that its bundled NFD worker cannot add on a tainted node, and `tolerations: []` removes
even the chart's default toleration. So the values are planned from hardware/ (every
node taint tolerated, the GPU nodes selected by hostname), and `schedule_platform`
proves, offline, that each enabled DaemonSet of each chart lands on each GPU node:
the chart defaults (defaults/device-plugin-charts.yaml) merged with the rendered values
as Helm merges them, then the scheduler's node selector, required node affinity and
taint rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from gitops_gen.render.scheduling import (
    TermsMatcher,
    compile_terms,
    tolerates,
    toleration_dict,
    toleration_for,
)
from gitops_gen.specs.model import DevicePlugin, Node, RepoConfig

# Tolerations the DaemonSet controller adds to every DaemonSet pod (node conditions).
DAEMONSET_TOLERATIONS: tuple[Mapping[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
# Labels the kubelet sets on every node; hardware/ may state other values (arm64 nodes).
KUBELET_LABELS = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}


@dataclass(frozen=True)
class DaemonSetFacts:
    name: str
    enabled_by: tuple[str, ...]  # value paths; the first one set decides (Helm conditions)
    node_selector: str | None
    node_selector_enabled_by: str | None
    affinity: str | None
    tolerations: str | None
    adds_labels: Mapping[str, str]
    fixed_node_selector: Mapping[str, str]
    required: bool  # must run on every GPU node of its vendor


@dataclass(frozen=True)
class ChartFacts:
    name: str
    vendor: str
    source: str
    checked_versions: tuple[str, ...]
    cluster_kinds: tuple[tuple[str, str], ...]  # (API group, kind) of cluster-scoped objects
    defaults: Mapping[str, Any]
    daemon_sets: tuple[DaemonSetFacts, ...]


@functools.cache
def chart_facts() -> Mapping[str, ChartFacts]:
    """The known device-plugin charts, by chart name (packaged data, read once)."""
    from gitops_gen.specs.source import load_yaml

    text = (
        resources.files("gitops_gen")
        .joinpath("defaults/device-plugin-charts.yaml")
        .read_text(encoding="utf-8")
    )
    charts: dict[str, ChartFacts] = {}
    for name, data in load_yaml(text)["charts"].items():
        charts[name] = ChartFacts(
            name=name,
            vendor=data["vendor"],
            source=" ".join(str(data["source"]).split()),
            checked_versions=tuple(data["checkedVersions"]),
            cluster_kinds=tuple((k["group"], k["kind"]) for k in data.get("clusterKinds", [])),
            defaults=data["defaults"],
            daemon_sets=tuple(
                DaemonSetFacts(
                    name=ds["name"],
                    enabled_by=tuple(ds["enabledBy"]),
                    node_selector=ds.get("nodeSelector"),
                    node_selector_enabled_by=ds.get("nodeSelectorEnabledBy"),
                    affinity=ds.get("affinity"),
                    tolerations=ds.get("tolerations"),
                    adds_labels=ds.get("addsLabels", {}),
                    fixed_node_selector=ds.get("fixedNodeSelector", {}),
                    required=ds.get("required", True),
                )
                for ds in data["daemonSets"]
            ),
        )
    return charts


# --- Helm's value semantics ----------------------------------------------------------


def helm_merge(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """User values over chart defaults: maps merge key by key, anything else replaces,
    and null deletes the default."""
    merged: dict[str, Any] = dict(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_UNSET = object()


def value_at(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _UNSET
        node = node[part]
    return node


def _truthy(value: Any) -> bool:
    """Go template truth, as `with` and `if` see it: empty maps and lists are false."""
    return value is not _UNSET and bool(value)


def _enabled(facts: DaemonSetFacts, values: Mapping[str, Any]) -> bool:
    for path in facts.enabled_by:
        found = value_at(values, path)
        if found is not _UNSET:
            return bool(found)
    return not facts.enabled_by


# --- the scheduler's view --------------------------------------------------------------


@dataclass(frozen=True)
class PodPlacement:
    """Where one DaemonSet's pods may go, as its pod template will say."""

    chart: str
    daemon_set: str
    node_selector: Mapping[str, str]
    required_terms: tuple[Mapping[str, Any], ...]  # node affinity: any term, all expressions
    tolerations: tuple[Mapping[str, Any], ...]
    adds_labels: Mapping[str, str]
    required: bool

    @cached_property
    def affinity(self) -> TermsMatcher:
        """The required node affinity, compiled once for every node it is matched to."""
        return compile_terms(self.required_terms)


def placements(chart: ChartFacts, values: Mapping[str, Any]) -> tuple[PodPlacement, ...]:
    """The enabled DaemonSets of `chart` with `values` rendered over its defaults."""
    merged = helm_merge(chart.defaults, values)
    found = []
    for ds in chart.daemon_sets:
        if not _enabled(ds, merged):
            continue
        selector: Any = value_at(merged, ds.node_selector) if ds.node_selector else _UNSET
        if ds.node_selector_enabled_by and not _truthy(
            value_at(merged, ds.node_selector_enabled_by)
        ):
            selector = _UNSET
        affinity: Any = value_at(merged, ds.affinity) if ds.affinity else _UNSET
        terms: Any = value_at(
            affinity if isinstance(affinity, Mapping) else {},
            "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
        )
        tolerations: Any = value_at(merged, ds.tolerations) if ds.tolerations else _UNSET
        if not isinstance(selector, Mapping):
            selector = {}
        if not isinstance(terms, list):
            terms = []
        if not isinstance(tolerations, list):
            tolerations = []
        found.append(
            PodPlacement(
                chart=chart.name,
                daemon_set=ds.name,
                node_selector={
                    **{str(k): str(v) for k, v in selector.items()},
                    **ds.fixed_node_selector,
                },
                required_terms=tuple(terms),
                tolerations=tuple(tolerations),
                adds_labels=ds.adds_labels,
                required=ds.required,
            )
        )
    return tuple(found)


def node_labels(node: Node) -> dict[str, str]:
    """The labels the scheduler sees on `node`: hardware/'s, the hostname, the kubelet's."""
    return {**KUBELET_LABELS, **node.labels, "kubernetes.io/hostname": node.hostname}


def why_not(placement: PodPlacement, node: Node, labels: Mapping[str, str]) -> list[str]:
    """Why `placement`'s pods cannot run on `node` (empty: they can)."""
    reasons = []
    tolerations = (*placement.tolerations, *DAEMONSET_TOLERATIONS)
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            reasons.append(f"does not tolerate taint {taint}")
    missing = {k: v for k, v in placement.node_selector.items() if labels.get(k) != str(v)}
    if missing:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(missing.items()))
        reasons.append(f"nodeSelector needs {shown}, which the node does not have")
    if placement.required_terms and not placement.affinity(labels, node):
        keys = sorted(
            {
                str(e.get("key"))
                for t in placement.required_terms
                if isinstance(t, Mapping)
                for e in t.get("matchExpressions") or []
            }
        )
        reasons.append(
            "its required node affinity matches none of the node's labels (it asks for "
            + ", ".join(keys)
            + ")"
        )
    return reasons


@dataclass(frozen=True)
class Unplaced:
    """A DaemonSet of a device plugin that cannot run on a GPU node that needs it."""

    plugin: DevicePlugin
    daemon_set: str
    node: Node
    reasons: tuple[str, ...]


def schedule_platform(
    plugin: DevicePlugin, values: Mapping[str, Any], nodes: Sequence[Node]
) -> list[Unplaced]:
    """Every (DaemonSet, GPU node) pair where the rendered chart leaves the node without it.

    Labels an enabled labelling DaemonSet (NFD) adds count only on nodes it reaches."""
    chart = chart_facts().get(plugin.chart_name)
    if chart is None:
        return []
    found = []
    pods = placements(chart, values)
    for node in nodes:
        labels = node_labels(node)
        for pod in pods:
            if pod.adds_labels and not why_not(pod, node, labels):
                labels.update(pod.adds_labels)
        for pod in pods:
            reasons = why_not(pod, node, labels) if pod.required else []
            if reasons:
                found.append(Unplaced(plugin, pod.daemon_set, node, tuple(reasons)))
    return found


# --- the values gitops-gen renders ----------------------------------------------------


def taint_tolerations(nodes: Iterable[Node]) -> list[dict[str, str]]:
    """A toleration for each NoSchedule/NoExecute taint of `nodes`, in first-seen order."""
    return _union(
        toleration_for(taint)
        for node in nodes
        for taint in node.taints
        if taint.effect in ("NoSchedule", "NoExecute")
    )


def _union(*lists: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for items in lists:
        for item in items:
            entry = dict(item)
            if entry not in out:
                out.append(entry)
    return out


def gpu_nodes(plugin: DevicePlugin, nodes: Iterable[Node]) -> list[Node]:
    """The nodes that need `plugin`: those with a GPU of its vendor, by name."""
    return sorted((n for n in nodes if n.gpus_of(plugin.vendor)), key=lambda n: n.name)


def plugin_values(
    plugin: DevicePlugin,
    config: RepoConfig,
    nodes: Sequence[Node],
    *,
    image: tuple[str, str],
    nfd_image: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The chart values for `plugin` on a cluster whose nodes are `nodes`; `image` is the
    plugin image's (repository, tag@digest).

    Tolerations are never empty (the chart would drop its own defaults): the chart's
    defaults, the declared ones and every taint of the GPU nodes. The pods are placed on
    the GPU nodes by hostname, so no label has to exist before the plugin runs."""
    chart = chart_facts().get(plugin.chart_name)
    defaults = chart.defaults if chart else {}
    targets = gpu_nodes(plugin, nodes)
    tolerations = _union(
        value_at(defaults, "tolerations") if chart else [],
        (toleration_dict(t) for t in plugin.tolerations),
        taint_tolerations(targets),
    )
    repository, tag = image
    if plugin.vendor == "amd":
        return _amd_values(plugin, defaults, targets, tolerations, repository, tag)
    runtime_class = config.runtime_class_for("nvidia")
    values: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag},
        "runtimeClassName": runtime_class.name if runtime_class else None,
        "migStrategy": plugin.mig_strategy,
        "failOnInitError": plugin.fail_on_init_error,
        "deviceListStrategy": plugin.device_list_strategy,
        "deviceIDStrategy": plugin.device_id_strategy,
        "nodeSelector": dict(plugin.node_selector) or None,
        "affinity": _hostname_affinity(targets),
        "tolerations": tolerations,
        "gfd": {"enabled": plugin.gfd},
        "nfd": {"enabled": plugin.nfd},
    }
    if plugin.nfd or plugin.gfd:
        nfd_defaults = value_at(defaults, "nfd.worker.tolerations") if chart else []
        if nfd_image is not None:
            values["nfd"]["image"] = {"repository": nfd_image[0], "tag": nfd_image[1]}
        values["nfd"]["worker"] = {
            "tolerations": _union(
                nfd_defaults if isinstance(nfd_defaults, list) else [],
                taint_tolerations(targets),
            )
        }
    sharing = time_slicing_config(targets)
    if sharing is not None:
        values["config"] = sharing
    features = config.node_feature_rules
    if plugin.nfd and features is not None and features.taints and any(n.taints for n in nodes):
        # NodeFeatureRules taint nodes only where nfd-master is told it may.
        values["nfd"].setdefault("master", {})["config"] = {"enableTaints": True}
    return {k: v for k, v in values.items() if v is not None}


# The node label that picks one of the plugin's named configs (the chart's config.map).
CONFIG_LABEL = "nvidia.com/device-plugin.config"


def time_slicing_name(replicas: int) -> str:
    return f"time-sliced-{replicas}"


def time_slicing_config(targets: Sequence[Node]) -> dict[str, Any] | None:
    """The plugin's config map when a card is shared on purpose: `default` (no sharing)
    and one time-sliced config per replica count. When every GPU node shares alike, that
    config is the default; otherwise a shared node selects its own by the node label
    CONFIG_LABEL (platform-placement checks hardware/ says so)."""
    shared = {n.name: g.time_slicing for n in targets for g in n.gpus_of("nvidia")}
    counts = sorted({r for r in shared.values() if r})
    if not counts:
        return None
    configs = {"default": "version: v1\n"}
    for replicas in counts:
        configs[time_slicing_name(replicas)] = (
            "version: v1\n"
            "sharing:\n"
            "  timeSlicing:\n"
            "    failRequestsGreaterThanOne: true\n"
            "    resources:\n"
            "      - name: nvidia.com/gpu\n"
            f"        replicas: {replicas}\n"
        )
    uniform = len(counts) == 1 and all(shared.values())
    return {"map": configs, "default": time_slicing_name(counts[0]) if uniform else "default"}


def _hostname_affinity(targets: Sequence[Node]) -> dict[str, Any] | None:
    if not targets:
        return None
    expression = {
        "key": "kubernetes.io/hostname",
        "operator": "In",
        "values": sorted({n.hostname for n in targets}),
    }
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [expression]}]
            }
        }
    }


def _amd_values(
    plugin: DevicePlugin,
    defaults: Mapping[str, Any],
    targets: Sequence[Node],
    tolerations: list[dict[str, Any]],
    repository: str,
    tag: str,
) -> dict[str, Any]:
    # The chart can only select nodes by nodeSelector, and its default selector needs an
    # NFD label (pci-0300_1002) nothing here adds: select by the declared labels, else by
    # hostname on a single node, and null the defaults out (Helm would merge them in).
    selector: dict[str, Any] = dict(plugin.node_selector)
    if not selector and len(targets) == 1:
        selector = {"kubernetes.io/hostname": targets[0].hostname}
    values: dict[str, Any] = {
        "dp": {"image": {"repository": repository, "tag": tag}},
        "tolerations": tolerations,
        "labeller": {"enabled": False},
        "node_selector_enabled": bool(selector),
    }
    if selector:
        default_selector = value_at(defaults, "node_selector")
        if isinstance(default_selector, Mapping):
            for key in default_selector:
                selector.setdefault(key, None)
        values["node_selector"] = dict(sorted(selector.items()))
    return values
