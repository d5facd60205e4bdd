"""The deployable set as rules see it: rendered objects and hand-written manifests alike.

Shared traversal lives here as small helpers ("each workload", "each container of a
pod", "the GPUs a pod claims"), in the manner of kube-linter, not in rule base classes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_gen.model import GPU_RESOURCES, Location, Node, Repo
from gitops_gen.quantity import parse_quantity
from gitops_gen.render import RenderedTree
from gitops_gen.source import KeyPath, SourceDoc

# Where the pod spec sits in each workload kind.
POD_PATHS: Mapping[str, KeyPath] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
GPU_RESOURCE_NAMES = frozenset(GPU_RESOURCES.values())


@dataclass(frozen=True)
class KubeObject:
    """One object of the deployable set, traced to the spec or manifest it comes from."""

    data: Mapping[str, Any]
    origin: Location
    cluster: str
    doc: SourceDoc | None = None  # positions of a hand-written manifest
    rendered_path: str | None = None
    lane: str | None = None

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.data.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.data.get("metadata", {}).get("namespace")
        return str(ns) if ns is not None else None

    @property
    def ident(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind}/{self.name}"
        )

    def where(self, *path: str | int) -> Location:
        """The line of `path` in a hand-written manifest; for rendered objects, the spec."""
        if self.doc is not None:
            return Location(self.doc.file, self.doc.line_of(tuple(path)))
        return self.origin


def _has(data: Any, key: str | int) -> bool:
    if isinstance(data, dict):
        return isinstance(key, str) and key in data
    return isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)


def get(data: Any, path: KeyPath, default: Any = None) -> Any:
    """The value at `path`, or `default` where the path leaves the data."""
    for key in path:
        if not _has(data, key):
            return default
        data = data[key]
    return data


@dataclass(frozen=True)
class Container:
    path: KeyPath  # from the object root
    data: Mapping[str, Any]
    init: bool


@dataclass(frozen=True)
class Workload:
    obj: KubeObject
    pod_path: KeyPath
    replicas: int
    node: Node | None  # where it lands, when its placement pins exactly one known node
    candidates: tuple[str, ...]

    @property
    def pod(self) -> Mapping[str, Any]:
        found = get(self.obj.data, self.pod_path, {})
        return found if isinstance(found, dict) else {}

    def containers(self) -> Iterator[Container]:
        for key, init in (("initContainers", True), ("containers", False)):
            for index, container in enumerate(self.pod.get(key) or []):
                if isinstance(container, dict):
                    yield Container((*self.pod_path, key, index), container, init)

    def gpu_claims(self) -> dict[str, int]:
        """GPUs one pod holds, per resource: max(sum of app containers, largest init)."""
        app: dict[str, int] = {}
        init: dict[str, int] = {}
        for container in self.containers():
            for resource, count in container_gpus(container.data).items():
                if container.init:
                    init[resource] = max(init.get(resource, 0), count)
                else:
                    app[resource] = app.get(resource, 0) + count
        return {r: max(app.get(r, 0), init.get(r, 0)) for r in sorted(app.keys() | init.keys())}


def is_gpu_resource(name: str) -> bool:
    return name in GPU_RESOURCE_NAMES or name.endswith("/gpu")


def container_gpus(container: Mapping[str, Any]) -> dict[str, int]:
    """GPUs a container holds: the limit (Kubernetes requires it for extended resources)."""
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    found: dict[str, int] = {}
    for name in sorted(set(limits) | set(requests)):
        if is_gpu_resource(str(name)):
            value = limits.get(name, requests.get(name))
            try:
                found[str(name)] = int(parse_quantity(str(value)))
            except (ValueError, TypeError):
                found[str(name)] = 0
    return found


def _replicas(obj: KubeObject) -> int:
    spec = obj.data.get("spec") or {}
    if obj.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        value = spec.get("replicas", 1)
    elif obj.kind == "Job":
        value = spec.get("parallelism", 1)
    elif obj.kind == "CronJob":
        value = 0 if spec.get("suspend") else 1
    else:
        value = 1
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _placement(pod: Mapping[str, Any], nodes: list[Node]) -> tuple[str, ...]:
    """The known nodes a pod may land on. A pod with neither nodeName nor nodeSelector may
    land on nodes hardware/ does not describe: it is placed nowhere we can account for."""
    node_name = pod.get("nodeName")
    if isinstance(node_name, str):
        return tuple(n.name for n in nodes if node_name in (n.name, n.hostname))
    selector = pod.get("nodeSelector") or {}
    if not isinstance(selector, dict) or not selector:
        return ()
    matches = []
    for node in nodes:
        labels = {**node.labels, "kubernetes.io/hostname": node.hostname}
        if all(labels.get(k) == v for k, v in selector.items()):
            matches.append(node.name)
    return tuple(matches)


@dataclass(frozen=True)
class Inventory:
    objects: tuple[KubeObject, ...]
    workloads: tuple[Workload, ...]
    # Indexes, so that cross-resource rules stay linear in the number of objects.
    by_node: Mapping[str, tuple[Workload, ...]]
    lane_deployments: Mapping[str, Workload]

    def workloads_on(self, node: str) -> tuple[Workload, ...]:
        return self.by_node.get(node, ())


def _lane_of_path(rendered_path: str) -> str | None:
    """`<cluster>/lanes/<lane>/deployment.yaml` -> `<lane>`."""
    parts = rendered_path.split("/")
    return parts[2] if len(parts) == 4 and parts[1] == "lanes" else None


def build_inventory(repo: Repo, tree: RenderedTree) -> Inventory:
    objects: list[KubeObject] = []
    for rendered in tree.objects:
        objects.append(
            KubeObject(
                data=rendered.data,
                origin=rendered.origin,
                cluster=rendered.path.split("/", 1)[0],
                rendered_path=rendered.path,
                lane=_lane_of_path(rendered.path),
            )
        )
    for manifest in repo.manifests:
        objects.append(
            KubeObject(
                data=manifest.data,
                origin=manifest.where(),
                cluster=manifest.cluster,
                doc=manifest.doc,
            )
        )
    nodes_by_cluster: dict[str, list[Node]] = {}
    for node in repo.nodes.values():
        nodes_by_cluster.setdefault(node.cluster, []).append(node)
    workloads: list[Workload] = []
    by_node: dict[str, list[Workload]] = {}
    lane_deployments: dict[str, Workload] = {}
    for obj in objects:
        pod_path = POD_PATHS.get(obj.kind)
        if pod_path is None:
            continue
        pod = get(obj.data, pod_path, {})
        candidates = _placement(
            pod if isinstance(pod, dict) else {}, nodes_by_cluster.get(obj.cluster, [])
        )
        placed = repo.nodes[candidates[0]] if len(candidates) == 1 else None
        workload = Workload(
            obj=obj, pod_path=pod_path, replicas=_replicas(obj), node=placed, candidates=candidates
        )
        workloads.append(workload)
        if placed is not None:
            by_node.setdefault(placed.name, []).append(workload)
        if obj.lane is not None and obj.kind == "Deployment":
            lane_deployments[obj.lane] = workload
    return Inventory(
        objects=tuple(objects),
        workloads=tuple(workloads),
        by_node={k: tuple(v) for k, v in by_node.items()},
        lane_deployments=lane_deployments,
    )
