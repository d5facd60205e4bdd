"""The deployable set as rules see it: rendered objects and hand-written manifests alike.

Shared traversal lives here as small helpers ("each workload", "each container of a
pod", "the GPUs a pod claims"), in the manner of kube-linter, not in rule base classes.
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, partial
from typing import Any, TypeVar

from gitops_gen.render.compose import LANE_LABEL
from gitops_gen.render.scheduling import NodeIndex, agent_vendor, is_pinned, tolerates_node
from gitops_gen.render.templating import RenderedTree
from gitops_gen.specs.manifests import POD_PATHS
from gitops_gen.specs.model import GPU_RESOURCES, Location, Node, Repo
from gitops_gen.specs.quantity import parse_quantity
from gitops_gen.specs.source import KeyPath, SourceDoc

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

    # Asked many times of every object by the rules, and worked out once each (the
    # objects are never modified once rendered or read).
    @cached_property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @cached_property
    def name(self) -> str:
        return str(self.data.get("metadata", {}).get("name", ""))

    @cached_property
    def namespace(self) -> str | None:
        ns = self.data.get("metadata", {}).get("namespace")
        return str(ns) if ns is not None else None

    @cached_property
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


def as_map(value: Any) -> Mapping[str, Any]:
    """A field that should hold a map, or {} when a hand-written manifest put anything
    else there (kubernetes-schema reports the wrong type; other rules read on)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A field that should hold a list, or [] when it holds anything else."""
    return value if isinstance(value, list) else []


def get(data: Any, path: KeyPath, default: Any = None) -> Any:
    """The value at `path`, or `default` where the path leaves the data."""
    for key in path:
        if not _has(data, key):
            return default
        data = data[key]
    return data


N = TypeVar("N", int, Fraction)


def _gpus_of(resource: str, container: Container) -> int:
    return container.gpus.get(resource, 0)


@dataclass(frozen=True)
class Container:
    path: KeyPath  # from the object root
    data: Mapping[str, Any]
    init: bool

    @cached_property
    def gpus(self) -> Mapping[str, int]:
        """container_gpus, worked out once (several rules ask)."""
        return container_gpus(self.data)

    @property
    def sidecar(self) -> bool:
        """A native sidecar: an init container that keeps running beside the app."""
        return self.init and self.data.get("restartPolicy") == "Always"


def pod_request(containers: Iterable[Container], amount: Callable[[Container], N], zero: N) -> N:
    """What the scheduler counts of one pod (Kubernetes' PodRequests), given each
    container's amount: the app containers plus every native sidecar, or, if more, an
    init container plus the sidecars started before it. `containers`: init containers
    first, in their order."""
    app = sidecars = largest_init = zero
    for container in containers:
        value = amount(container)
        if not container.init:
            app += value
        elif container.sidecar:
            sidecars += value
            largest_init = max(largest_init, sidecars)
        else:
            largest_init = max(largest_init, value + sidecars)
    return max(app + sidecars, largest_init)


@dataclass(frozen=True)
class Autoscaler:
    """An HPA or KEDA ScaledObject scaling a workload: it runs up to `max_replicas`."""

    obj: KubeObject
    max_replicas: int
    max_path: KeyPath
    # KEDA scales a Deployment up from 0; an HPA leaves a Deployment at 0 replicas alone.
    from_zero: bool

    def replicas(self, declared: int) -> int:
        """The most replicas the target may run, given the replicas its manifest declares."""
        if declared == 0 and not self.from_zero:
            return 0
        return max(declared, self.max_replicas)


@dataclass(frozen=True)
class GpuAccess:
    """A GPU a container can reach without requesting it from the device plugin."""

    vendor: str
    count: int | None  # None: every GPU of the vendor on the node
    route: str
    path: KeyPath  # from the object root
    requested: int = 0  # GPUs of the vendor the pod does request

    def on(self, node: Node) -> int:
        present = sum(g.count for g in node.gpus_of(self.vendor))
        return present if self.count is None else min(self.count, present)


@dataclass(frozen=True)
class GpuEnv:
    """What decides whether a container sees NVIDIA GPUs it did not request."""

    nvidia_runtimes: frozenset[str] = frozenset()  # RuntimeClass names of the NVIDIA runtime
    # The device plugin hands GPUs over by NVIDIA_VISIBLE_DEVICES (its default strategy):
    # then the runtime honours that variable in any container, requested or not.
    envvar_strategy: bool = True
    config_maps: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    # (namespace, name) -> the Secret's values as text (`data` decoded, `stringData`).
    secrets: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    default_namespace: str = ""

    def source(self, kind: str, namespace: str, name: Any) -> Mapping[str, Any] | None:
        """The data of a ConfigMap (`configMap...Ref`) or Secret (`secret...Ref`) in this
        repo; None for one it does not hold."""
        found = self.config_maps if kind.startswith("configMap") else self.secrets
        return found.get((namespace, name)) if isinstance(name, str) else None


@dataclass(frozen=True)
class Workload:
    obj: KubeObject
    pod_path: KeyPath
    replicas: int
    node: Node | None  # where it lands, when its placement pins exactly one known node
    candidates: tuple[str, ...]  # known nodes its nodeName/nodeSelector/affinity admit
    pinned: bool = True  # it has a nodeName, nodeSelector or required node affinity
    landing: tuple[str, ...] = ()  # known nodes it may land on: admitted, taints tolerated
    autoscaler: Autoscaler | None = None
    agent_vendor: str | None = None  # a GPU platform agent (device plugin, GFD, DCGM)
    gpu_env: GpuEnv = GpuEnv()

    # Rules ask these of every workload, some once per node: each is worked out once
    # (the objects are never modified once rendered or read).
    @cached_property
    def pod(self) -> Mapping[str, Any]:
        found = get(self.obj.data, self.pod_path, {})
        return found if isinstance(found, dict) else {}

    def containers(self) -> Iterator[Container]:
        return iter(self._containers)

    @cached_property
    def _containers(self) -> tuple[Container, ...]:
        return tuple(
            Container((*self.pod_path, key, index), container, init)
            for key, init in (("initContainers", True), ("containers", False))
            for index, container in enumerate(as_list(self.pod.get(key)))
            if isinstance(container, dict)
        )

    def gpu_claims(self) -> dict[str, int]:
        """GPUs one pod holds, per resource, as the scheduler counts them (pod_request):
        a native sidecar keeps running beside the app containers, so its GPUs add to
        theirs."""
        return dict(self._gpu_claims)

    @cached_property
    def _gpu_claims(self) -> dict[str, int]:
        resources = sorted({r for container in self.containers() for r in container.gpus})
        return {r: pod_request(self.containers(), partial(_gpus_of, r), 0) for r in resources}

    def unrequested_gpus(self) -> list[GpuAccess]:
        """GPUs the pod can see without requesting them (see gpu_access)."""
        return list(self._unrequested)

    @cached_property
    def _unrequested(self) -> tuple[GpuAccess, ...]:
        return () if self.agent_vendor is not None else tuple(gpu_access(self))

    def claims_on(self, node: Node) -> dict[str, int]:
        """GPUs one pod holds on `node`, per resource: requested, plus those it only sees."""
        claims = dict(self.gpu_claims())
        for access in self.unrequested_gpus():
            resource = GPU_RESOURCES[access.vendor]
            claims[resource] = max(claims.get(resource, 0), access.on(node))
        return {r: n for r, n in claims.items() if n}

    def max_replicas(self, declared: int) -> int:
        return self.autoscaler.replicas(declared) if self.autoscaler else declared


def is_gpu_resource(name: str) -> bool:
    return name in GPU_RESOURCE_NAMES or name.endswith("/gpu")


def gpu_count(value: Any) -> int | None:
    """A GPU count as the API server takes it: a whole, non-negative number; else None."""
    if isinstance(value, bool):
        return None
    try:
        amount = parse_quantity(value)
    except (ValueError, TypeError):
        return None
    return int(amount) if amount.denominator == 1 and amount >= 0 else None


def container_gpus(container: Mapping[str, Any]) -> dict[str, int]:
    """GPUs a container holds: the limit (Kubernetes requires it for extended resources).
    A count that is no whole number (`${GPUS}`, `0.5`) counts as 1: the workload still
    wants a GPU, and gpu-limit-equals-request blocks the value itself."""
    resources = as_map(container.get("resources"))
    limits = as_map(resources.get("limits"))
    requests = as_map(resources.get("requests"))
    found: dict[str, int] = {}
    for name in sorted(set(limits) | set(requests)):
        if is_gpu_resource(str(name)):
            count = gpu_count(limits.get(name, requests.get(name)))
            found[str(name)] = 1 if count is None else count
    return found


# NVIDIA's container runtime exposes the GPUs this variable lists to any container it
# runs (the GPU RuntimeClass, or the node's default runtime under the GPU Operator).
NVIDIA_VISIBLE = "NVIDIA_VISIBLE_DEVICES"
_NO_DEVICES = {"", "void", "none"}
# AMD GPUs are device nodes: /dev/kfd (compute) and /dev/dri (render nodes).
_AMD_DEVICE_PATHS = ("/dev/kfd", "/dev/dri")


def gpu_access(workload: Workload) -> Iterator[GpuAccess]:
    """Every route by which a pod reaches GPUs beyond those it requests: the NVIDIA
    runtime's NVIDIA_VISIBLE_DEVICES (all, indexes, UUIDs) in a pod requesting no NVIDIA
    GPU (with a request, the device plugin sets it), AMD device nodes mounted from the
    host, or a privileged container (it sees every device node)."""
    yield from _nvidia_access(workload)
    # Device nodes from the host show every AMD GPU, whatever the pod requests.
    amd = GPU_RESOURCES["amd"]
    requested_amd = max((c.gpus.get(amd, 0) for c in workload.containers()), default=0)
    for index, volume in enumerate(as_list(workload.pod.get("volumes"))):
        host = get(volume, ("hostPath", "path"))
        if isinstance(host, str) and _is_amd_device_path(host):
            yield GpuAccess(
                "amd",
                None,
                f"volume {volume.get('name', '?')!r} mounts {host} from the host",
                (*workload.pod_path, "volumes", index),
                requested_amd,
            )
    for container in workload.containers():
        if get(container.data, ("securityContext", "privileged")) is True:
            yield GpuAccess(
                "amd",
                None,
                f"container {container.data.get('name', '?')!r} is privileged",
                (*container.path, "securityContext", "privileged"),
                requested_amd,
            )


def _nvidia_access(workload: Workload) -> Iterator[GpuAccess]:
    """NVIDIA_VISIBLE_DEVICES in a container the device plugin gave no GPU (it overrides
    the variable only where it allocated one, and `nvidia.com/gpu: 0` allocates none),
    whether set, taken from a ConfigMap, or left to the image (a CUDA image sets `all`)
    in a pod that runs the NVIDIA runtime without any GPU request."""
    nvidia = GPU_RESOURCES["nvidia"]
    env = workload.gpu_env
    namespace = workload.obj.namespace or env.default_namespace
    asks = [c.gpus.get(nvidia, 0) > 0 for c in workload.containers()]
    unset = []
    for container, requested in zip(workload.containers(), asks, strict=True):
        if requested:
            continue
        name = container.data.get("name", "?")
        value, path = _visible_devices(container, namespace, env)
        if value is None:
            unset.append(name)
            continue
        if value.lower() in _NO_DEVICES:
            continue
        count = None if value.lower() in ("all", "(not known here)") else len(value.split(","))
        yield GpuAccess("nvidia", count, f"container {name!r} sets {NVIDIA_VISIBLE}={value}", path)
    runtime = workload.pod.get("runtimeClassName")
    if unset and not any(asks) and env.envvar_strategy and runtime in env.nvidia_runtimes:
        yield GpuAccess(
            "nvidia",
            None,
            f"it runs the NVIDIA runtime (runtimeClassName {runtime}) without a GPU request, "
            f"and {', '.join(repr(n) for n in unset)} leave {NVIDIA_VISIBLE} to the image (a "
            "CUDA image sets it to all): set it to void, or drop the runtime class",
            (*workload.pod_path, "runtimeClassName"),
        )


def _visible_devices(
    container: Container, namespace: str, env: GpuEnv
) -> tuple[str | None, KeyPath]:
    """The container's NVIDIA_VISIBLE_DEVICES and where it is set; None where it is not.
    An explicit `env` entry wins over `envFrom`, and the last `env` entry of the name over
    earlier ones, as in Kubernetes."""
    entries = [
        (index, item)
        for index, item in enumerate(as_list(container.data.get("env")))
        if isinstance(item, dict) and item.get("name") == NVIDIA_VISIBLE
    ]
    for index, item in entries[-1:]:
        where = (*container.path, "env", index)
        if "value" in item:
            return str(item.get("value") or "").strip(), where
        for kind in ("configMapKeyRef", "secretKeyRef"):
            ref = get(item, ("valueFrom", kind))
            data = env.source(kind, namespace, ref.get("name")) if isinstance(ref, dict) else None
            if data is not None and isinstance(data.get(str(ref.get("key"))), str):
                return str(data[str(ref.get("key"))]).strip(), where
        return "(not known here)", where
    # Each source sets prefix + key for each of its keys; a later source wins.
    found: tuple[str | None, KeyPath] = (None, ())
    for index, source in enumerate(as_list(container.data.get("envFrom"))):
        prefix = str(get(source, ("prefix",), "") or "")
        if not NVIDIA_VISIBLE.startswith(prefix):
            continue
        for kind in ("configMapRef", "secretRef"):
            data = env.source(kind, namespace, get(source, (kind, "name")))
            value = data.get(NVIDIA_VISIBLE[len(prefix) :]) if data is not None else None
            if isinstance(value, str):
                found = (value.strip(), (*container.path, "envFrom", index))
    return found


def normalised_host_path(path: str) -> str:
    """A hostPath as the kubelet mounts it: `//dev/./kfd` is /dev/kfd."""
    return posixpath.normpath("/" + path.lstrip("/"))


def _is_amd_device_path(path: str) -> bool:
    path = normalised_host_path(path)
    return path == "/dev" or any(path == p or path.startswith(p + "/") for p in _AMD_DEVICE_PATHS)


def _replicas(obj: KubeObject) -> int:
    spec = as_map(obj.data.get("spec"))
    if obj.kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"):
        value = spec.get("replicas", 1)
    elif obj.kind == "Job":
        # A suspended Job runs no pod until it is resumed.
        value = 0 if spec.get("suspend") is True else spec.get("parallelism", 1)
    elif obj.kind == "CronJob":
        job = as_map(as_map(spec.get("jobTemplate")).get("spec"))
        value = 0 if spec.get("suspend") is True else job.get("parallelism", 1)
    else:
        value = 1
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


# Autoscalers by kind: (max replicas field, its default, scales up from zero).
_AUTOSCALERS: Mapping[str, tuple[str, int | None, bool]] = {
    "HorizontalPodAutoscaler": ("maxReplicas", None, False),
    "ScaledObject": ("maxReplicaCount", 100, True),  # KEDA's default maximum
}


def _autoscalers(objects: list[KubeObject], default_ns: str) -> dict[tuple[str, ...], Autoscaler]:
    """(cluster, namespace, kind, name) of each scaled target -> its autoscaler."""
    found: dict[tuple[str, ...], Autoscaler] = {}
    for obj in objects:
        shape = _AUTOSCALERS.get(obj.kind)
        spec = obj.data.get("spec")
        if shape is None or not isinstance(spec, dict):
            continue
        field, default, from_zero = shape
        target = spec.get("scaleTargetRef") or {}
        value = spec.get(field, default)
        if not isinstance(target, dict) or not isinstance(value, int) or isinstance(value, bool):
            continue
        kind = str(target.get("kind", "Deployment"))
        key = (obj.cluster, obj.namespace or default_ns, kind, str(target.get("name", "")))
        scaler = Autoscaler(obj, value, ("spec", field), from_zero)
        if key not in found or found[key].max_replicas < value:
            found[key] = scaler
    return found


@dataclass(frozen=True)
class GpuClaim:
    """The NVIDIA GPUs a compose service reaches, and how."""

    ids: tuple[str, ...] | None  # device ids (indexes or UUIDs); None: every GPU of the host
    route: str
    path: KeyPath  # from the service's root


@dataclass(frozen=True)
class ComposeService:
    """One service of a compose host: rendered from a lane, or hand-written."""

    host: str
    name: str
    data: Mapping[str, Any]
    origin: Location
    doc: SourceDoc | None = None  # positions of a hand-written compose file
    lane: str | None = None
    # Other services wait for it to finish (a prefetch): it gives its reservations back.
    one_shot: bool = False

    @property
    def ident(self) -> str:
        return f"service/{self.host}/{self.name}"

    def where(self, *path: str | int) -> Location:
        if self.doc is not None:
            return Location(self.doc.file, self.doc.line_of(("services", self.name, *path)))
        return self.origin

    @property
    def replicas(self) -> int:
        """Containers `docker compose up` starts: none in a profile, else its scale."""
        if as_list(self.data.get("profiles")):
            return 0
        for value in (self.data.get("scale"), get(self.data, ("deploy", "replicas"))):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return 1

    @property
    def image(self) -> str | None:
        image = self.data.get("image")
        return image if isinstance(image, str) else None

    def reservation(self, resource: str) -> Any:
        """`cpus` or `memory` reserved (what the budget counts), else the limit."""
        for kind in ("reservations", "limits"):
            value = get(self.data, ("deploy", "resources", kind, resource))
            if value is not None:
                return value
        return None

    def gpu_claims(self) -> list[GpuClaim]:
        """Every route to the host's NVIDIA GPUs: device reservations (`count` takes the
        first cards, as Docker's NVIDIA hook does), `gpus:`, the NVIDIA runtime with
        NVIDIA_VISIBLE_DEVICES, a privileged container, /dev/nvidia* device nodes."""
        found: list[GpuClaim] = []
        devices = as_list(get(self.data, ("deploy", "resources", "reservations", "devices")))
        for index, device in enumerate(devices):
            if _is_gpu_request(device):
                path = ("deploy", "resources", "reservations", "devices", index)
                found.append(GpuClaim(_requested_ids(device), "a GPU device reservation", path))
        gpus = self.data.get("gpus")
        if gpus == "all":
            found.append(GpuClaim(None, "gpus: all", ("gpus",)))
        for index, device in enumerate(as_list(gpus)):
            if isinstance(device, dict):
                found.append(GpuClaim(_requested_ids(device), "gpus:", ("gpus", index)))
        visible = _environment(self.data).get(NVIDIA_VISIBLE)
        if self.data.get("runtime") == "nvidia" and not found:
            value = (visible or "all").strip()
            if value.lower() not in _NO_DEVICES:
                ids = None if value.lower() == "all" else tuple(value.split(","))
                found.append(
                    GpuClaim(ids, f"runtime nvidia with {NVIDIA_VISIBLE}={value}", ("runtime",))
                )
        if self.data.get("privileged") is True:
            found.append(GpuClaim(None, "a privileged container", ("privileged",)))
        for index, device in enumerate(as_list(self.data.get("devices"))):
            source = device.get("source") if isinstance(device, dict) else str(device)
            if isinstance(source, str) and source.split(":", 1)[0].startswith("/dev/nvidia"):
                found.append(GpuClaim(None, f"device {source}", ("devices", index)))
        return found


def _is_gpu_request(device: Any) -> bool:
    """A device request Docker hands to the NVIDIA runtime: driver nvidia, or no driver
    and the gpu capability."""
    if not isinstance(device, dict):
        return False
    driver = device.get("driver")
    capabilities = {str(c) for c in as_list(device.get("capabilities"))}
    return driver == "nvidia" or (driver in (None, "") and "gpu" in capabilities)


def _requested_ids(device: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The cards a request gets: its device_ids, the first `count`, or all of them."""
    ids = device.get("device_ids")
    if isinstance(ids, list):
        return tuple(str(i) for i in ids)
    count = device.get("count", "all")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return tuple(str(i) for i in range(count))
    return None  # "all", -1, or a value compose rejects (the schema rule says so)


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment")
    if isinstance(env, dict):
        return {str(k): str(v) for k, v in env.items() if v is not None}
    found = {}
    for item in as_list(env):
        key, sep, value = str(item).partition("=")
        if sep:
            found[key] = value
    return found


@dataclass(frozen=True)
class Inventory:
    objects: tuple[KubeObject, ...]
    workloads: tuple[Workload, ...]
    # Indexes, so that cross-resource rules stay linear in the number of objects.
    by_node: Mapping[str, tuple[Workload, ...]]
    lane_deployments: Mapping[str, Workload]
    services: tuple[ComposeService, ...] = ()  # of compose hosts, rendered and hand-written
    lane_services: Mapping[str, ComposeService] = field(default_factory=dict)

    def workloads_on(self, node: str) -> tuple[Workload, ...]:
        """What runs pods on the node: the workloads pinned to it alone, and the
        DaemonSets that land there."""
        return self.by_node.get(node, ())

    def services_on(self, host: str) -> tuple[ComposeService, ...]:
        return tuple(s for s in self.services if s.host == host)


def compose_services(repo: Repo, tree: RenderedTree) -> list[ComposeService]:
    """The services of every compose host: what gitops-gen renders, then what its
    hand-written compose file adds."""
    found: list[ComposeService] = []
    sources: list[tuple[str, Mapping[str, Any], Location, SourceDoc | None, bool]] = []
    for rendered in tree.compose:
        sources.append((rendered.path.split("/", 1)[0], rendered.data, rendered.origin, None, True))
    for name, written in sorted(repo.compose_files.items()):
        sources.append((name, written.data, Location(written.file, 1), written, False))
    for host, data, origin, doc, ours in sources:
        services = as_map(data.get("services"))
        awaited = {
            str(name)
            for service in services.values()
            for name, cond in as_map(as_map(service).get("depends_on")).items()
            if as_map(cond).get("condition") == "service_completed_successfully"
        }
        for name, service in services.items():
            if not isinstance(service, dict):
                continue
            lane = as_map(service.get("labels")).get(LANE_LABEL) if ours else None
            if lane not in repo.lanes:
                lane = None
            if lane is not None:
                where = repo.lanes[lane].where("name")
            elif doc is not None:
                where = Location(doc.file, doc.line_of(("services", name)))
            else:
                where = origin
            found.append(
                ComposeService(
                    host=host,
                    name=str(name),
                    data=service,
                    origin=where,
                    doc=doc,
                    lane=lane,
                    one_shot=str(name) in awaited,
                )
            )
    return found


def _lane_of_path(rendered_path: str) -> str | None:
    """`<cluster>/lanes/<lane>/deployment.yaml` -> `<lane>`."""
    parts = rendered_path.split("/")
    return parts[2] if len(parts) == 4 and parts[1] == "lanes" else None


def _gpu_env(repo: Repo, objects: list[KubeObject], default_ns: str) -> GpuEnv:
    plugin = repo.config.device_plugin
    runtimes = frozenset(rc.name for rc in repo.config.runtime_classes if rc.vendor == "nvidia")
    config_maps = {
        (obj.namespace or default_ns, obj.name): as_map(obj.data.get("data"))
        for obj in objects
        if obj.kind == "ConfigMap"
    }
    secrets = {
        (obj.namespace or default_ns, obj.name): _secret_values(obj.data)
        for obj in objects
        if obj.kind == "Secret"
    }
    return GpuEnv(
        nvidia_runtimes=runtimes,
        envvar_strategy=plugin is None or plugin.device_list_strategy == "envvar",
        config_maps=config_maps,
        secrets=secrets,
        default_namespace=default_ns,
    )


def _secret_values(data: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's values as the container sees them: `data` base64-decoded (a value that
    does not decode is left out), overridden by `stringData`."""
    values: dict[str, str] = {}
    for key, encoded in as_map(data.get("data")).items():
        try:
            values[str(key)] = base64.b64decode(str(encoded), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
    values.update(
        (str(k), v) for k, v in as_map(data.get("stringData")).items() if isinstance(v, str)
    )
    return values


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
    indexes = {cluster: NodeIndex(nodes) for cluster, nodes in nodes_by_cluster.items()}
    empty = NodeIndex(())
    workloads: list[Workload] = []
    by_node: dict[str, list[Workload]] = {}
    lane_deployments: dict[str, Workload] = {}
    default_ns = repo.config.namespace
    services = compose_services(repo, tree)
    autoscalers = _autoscalers(objects, default_ns)
    gpu_env = _gpu_env(repo, objects, default_ns)
    for obj in objects:
        pod_path = POD_PATHS.get(obj.kind)
        if pod_path is None:
            continue
        found = get(obj.data, pod_path, {})
        pod: Mapping[str, Any] = found if isinstance(found, dict) else {}
        pinned = is_pinned(pod)
        candidates = indexes.get(obj.cluster, empty).admitted(pod)
        placed = repo.nodes[candidates[0]] if pinned and len(candidates) == 1 else None
        landing = (
            (placed.name,)
            if placed is not None
            else tuple(n for n in candidates if tolerates_node(pod, repo.nodes[n]))
        )
        images = [
            str(c.get("image", "")) for c in as_list(pod.get("containers")) if isinstance(c, dict)
        ]
        workload = Workload(
            obj=obj,
            pod_path=pod_path,
            replicas=_replicas(obj),
            node=placed,
            candidates=candidates,
            pinned=pinned,
            landing=landing,
            autoscaler=autoscalers.get(
                (obj.cluster, obj.namespace or default_ns, obj.kind, obj.name)
            ),
            agent_vendor=agent_vendor(images) if obj.kind == "DaemonSet" else None,
            gpu_env=gpu_env,
        )
        workloads.append(workload)
        runs_on: tuple[str, ...] = (placed.name,) if placed is not None else ()
        if placed is None and obj.kind == "DaemonSet":
            runs_on = landing  # a pod on every node it admits and tolerates
        for name in runs_on:
            by_node.setdefault(name, []).append(workload)
        if obj.lane is not None and obj.kind == "Deployment":
            lane_deployments[obj.lane] = workload
    return Inventory(
        objects=tuple(objects),
        workloads=tuple(workloads),
        by_node={k: tuple(v) for k, v in by_node.items()},
        lane_deployments=lane_deployments,
        services=tuple(services),
        lane_services={s.lane: s for s in services if s.lane is not None},
    )
