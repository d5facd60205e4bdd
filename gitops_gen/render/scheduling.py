"""Where a pod may land and how many of it may run, decided offline as the scheduler,
the autoscalers and the device plugins would.

A pod lands on a node its nodeName, nodeSelector and required node affinity admit and
whose NoSchedule/NoExecute taints it tolerates; a pod with none of the three may land
on any such node. An autoscaler runs its target up to its maximum replicas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gitops_gen.specs.model import Node, RepoConfig, Taint, Toleration

# An image path containing one of these runs a GPU platform agent: it must see the GPUs
# to serve them (the device plugin, feature discovery, metrics exporters).
GPU_AGENT_IMAGES = (
    "k8s-device-plugin",
    "gpu-feature-discovery",
    "dcgm-exporter",
    "device-metrics-exporter",
)
# Helm charts that deploy a device plugin, by chart name.
DEVICE_PLUGIN_CHARTS = {
    "nvidia-device-plugin": "nvidia",
    "gpu-operator": "nvidia",
    "amd-gpu": "amd",
}
DEVICE_PLUGIN_SOCKETS = "/var/lib/kubelet/device-plugins"


def tolerates(tolerations: Iterable[Any], taint: Taint) -> bool:
    """Whether any toleration matches the taint, by the scheduler's rules (an absent
    operator is Equal; an absent value is the empty one)."""
    if not isinstance(tolerations, (list, tuple)):
        return False  # not a list: kubernetes-schema reports it; it tolerates nothing
    for t in tolerations:
        if not isinstance(t, Mapping):
            continue
        if t.get("effect") not in (None, "", taint.effect):
            continue
        if taint.effect == "NoExecute" and t.get("tolerationSeconds") is not None:
            continue  # evicted once the seconds run out: the pod cannot stay there
        if t.get("operator") == "Exists":
            if t.get("key") in (None, "", taint.key):
                return True
        elif t.get("key") == taint.key and str(t.get("value") or "") == (taint.value or ""):
            return True
    return False


def toleration_for(taint: Taint) -> dict[str, str]:
    """The toleration that admits exactly `taint` (its key, value and effect)."""
    entry = {"key": taint.key}
    if taint.value is not None:
        entry.update(operator="Equal", value=taint.value)
    else:
        entry["operator"] = "Exists"
    entry["effect"] = taint.effect
    return entry


def toleration_dict(toleration: Toleration) -> dict[str, str]:
    """A declared toleration (gitops-gen.yaml) as the pod spec writes it."""
    entry = {"key": toleration.key, "operator": toleration.operator}
    if toleration.value is not None:
        entry["value"] = toleration.value
    if toleration.effect is not None:
        entry["effect"] = toleration.effect
    return entry


def tolerates_node(pod: Mapping[str, Any], node: Node) -> bool:
    tolerations = pod.get("tolerations") or []
    return all(
        tolerates(tolerations, t) for t in node.taints if t.effect in ("NoSchedule", "NoExecute")
    )


def required_terms(pod: Mapping[str, Any]) -> list[Any] | None:
    affinity = pod.get("affinity") or {}
    node_affinity = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    required = (node_affinity or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    terms = (required or {}).get("nodeSelectorTerms") if isinstance(required, dict) else None
    return terms if isinstance(terms, list) and terms else None


def is_pinned(pod: Mapping[str, Any]) -> bool:
    return bool(
        isinstance(pod.get("nodeName"), str) or pod.get("nodeSelector") or required_terms(pod)
    )


def admitted(pod: Mapping[str, Any], nodes: Iterable[Node]) -> tuple[str, ...]:
    """The known nodes the pod's nodeName, nodeSelector and required affinity admit."""
    node_name = pod.get("nodeName")
    selector = pod.get("nodeSelector") or {}
    terms = required_terms(pod)
    match = compile_terms(terms) if terms is not None else None
    found = []
    for node in nodes:
        labels = {**node.labels, "kubernetes.io/hostname": node.hostname}
        if isinstance(node_name, str) and node_name not in (node.name, node.hostname):
            continue
        if isinstance(selector, dict) and not all(labels.get(k) == v for k, v in selector.items()):
            continue
        if match is not None and not match(labels, node):
            continue
        found.append(node.name)
    return tuple(found)


class NodeIndex:
    """The nodes of one cluster, indexed so that placing a pod costs what its selector
    narrows to, not a scan of every node: `admitted` gives exactly what the function of
    that name gives, in the same order."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = tuple(nodes)
        self._labels = [
            {**node.labels, "kubernetes.io/hostname": node.hostname} for node in self.nodes
        ]
        self._by_name: dict[str, list[int]] = {}
        self._by_label: dict[tuple[str, str], list[int]] = {}
        for index, node in enumerate(self.nodes):
            for name in {node.name, node.hostname}:
                self._by_name.setdefault(name, []).append(index)
            for pair in self._labels[index].items():
                self._by_label.setdefault(pair, []).append(index)

    def admitted(self, pod: Mapping[str, Any]) -> tuple[str, ...]:
        node_name = pod.get("nodeName")
        selector = pod.get("nodeSelector") or {}
        terms = required_terms(pod)
        chosen: set[int] | None = None
        if isinstance(node_name, str):
            chosen = set(self._by_name.get(node_name, ()))
        odd: list[tuple[Any, Any]] = []  # non-string values: compared as the definition does
        if isinstance(selector, dict):
            for key, value in selector.items():
                if not isinstance(value, str):
                    odd.append((key, value))
                    continue
                found = set(self._by_label.get((key, value), ()))
                chosen = found if chosen is None else chosen & found
        order = range(len(self.nodes)) if chosen is None else sorted(chosen)
        match = compile_terms(terms) if terms is not None else None
        return tuple(
            self.nodes[i].name
            for i in order
            if all(self._labels[i].get(key) == value for key, value in odd)
            and (match is None or match(self._labels[i], self.nodes[i]))
        )


# A node affinity compiled once: (labels the scheduler sees, the node) -> it matches.
TermsMatcher = Callable[[Mapping[str, str], Node], bool]


def compile_terms(terms: Iterable[Any]) -> TermsMatcher:
    """Required nodeSelectorTerms (any term, all of its expressions) as one predicate.
    Each expression's values become a set here, once: a term such as `hostname In [every
    GPU node]` is matched against every node, so a list per call would cost nodes^2."""
    compiled = [_compile_term(t) for t in terms]
    return lambda labels, node: any(match(labels, node) for match in compiled)


def _compile_term(term: Any) -> TermsMatcher:
    if not isinstance(term, dict):
        return lambda labels, node: False
    checks = [(_compile_expression(e), False) for e in term.get("matchExpressions") or []]
    checks += [(_compile_expression(e), True) for e in term.get("matchFields") or []]
    if not checks:
        return lambda labels, node: False

    def match(labels: Mapping[str, str], node: Node) -> bool:
        fields = {"metadata.name": node.name}
        return all(holds(fields if is_field else labels) for holds, is_field in checks)

    return match


def _compile_expression(expression: Any) -> Callable[[Mapping[str, str]], bool]:
    if not isinstance(expression, dict):
        return lambda labels: False
    key, operator = str(expression.get("key")), expression.get("operator")
    raw = [str(v) for v in expression.get("values") or []]
    values = frozenset(raw)
    if operator == "In":
        return lambda labels: labels.get(key) in values
    if operator == "NotIn":
        return lambda labels: labels.get(key) not in values
    if operator == "Exists":
        return lambda labels: labels.get(key) is not None
    if operator == "DoesNotExist":
        return lambda labels: labels.get(key) is None
    if operator in ("Gt", "Lt") and raw:
        try:
            bound = int(raw[0])
        except ValueError:
            return lambda labels: False
        greater = operator == "Gt"

        def compare(labels: Mapping[str, str]) -> bool:
            value = labels.get(key)
            if value is None:
                return False
            try:
                number = int(value)
            except ValueError:
                return False
            return number > bound if greater else number < bound

        return compare
    return lambda labels: False


def agent_vendor(images: Iterable[str]) -> str | None:
    """The GPU vendor a platform agent serves, from its images; None for other pods."""
    for image in images:
        path = image.split("@", 1)[0].lower()
        if ":" in path.rsplit("/", 1)[-1]:
            path = path.rsplit(":", 1)[0]  # the tag (v0.17.0-amd64) says nothing of the vendor
        if any(agent in path for agent in GPU_AGENT_IMAGES):
            return "amd" if ("rocm" in path or "amd" in path) else "nvidia"
    return None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def device_plugin_of(data: Mapping[str, Any], config: RepoConfig) -> str | None:
    """The vendor whose device plugin this object deploys: a DaemonSet running a device
    plugin image, or an Argo CD Application of a device plugin chart."""
    kind = data.get("kind")
    if kind == "DaemonSet":
        pod = _map(_map(_map(data.get("spec")).get("template")).get("spec"))
        containers = pod.get("containers")
        images = [
            str(c.get("image", ""))
            for c in (containers if isinstance(containers, list) else [])
            if isinstance(c, dict) and "device-plugin" in str(c.get("image", ""))
        ]
        return agent_vendor(images)
    if kind != "Application":
        return None
    charts = dict(DEVICE_PLUGIN_CHARTS)
    if config.device_plugin is not None:
        charts[config.device_plugin.chart_name] = "nvidia"
    spec = data.get("spec") or {}
    sources = [spec.get("source"), *(spec.get("sources") or [])]
    for source in sources:
        if isinstance(source, dict) and source.get("chart") in charts:
            return charts[str(source["chart"])]
    return None
