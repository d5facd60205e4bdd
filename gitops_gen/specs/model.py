"""The typed, immutable view of a loaded repo: what the specs say, with where they say it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_gen.specs.source import KeyPath, SourceDoc

GPU_RESOURCES = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu"}


@dataclass(frozen=True)
class Location:
    """A place in a spec file; findings and errors point here."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Spec:
    """Anything loaded from a spec file can say where each of its keys came from."""

    doc: SourceDoc = field(repr=False, compare=False)
    prefix: KeyPath = field(default=(), repr=False, compare=False)

    def where(self, *path: str | int) -> Location:
        full = (*self.prefix, *path)
        return Location(self.doc.file, self.doc.line_of(full))


KUBERNETES = "kubernetes"
# Argo CD's name for the cluster it runs in (a cluster without `server` is deployed there).
IN_CLUSTER = "https://kubernetes.default.svc"
COMPOSE = "compose"


@dataclass(frozen=True)
class Cluster:
    """A deployment target: a Kubernetes cluster synced by Argo CD, or one docker compose
    host (its lanes, prefetch and gateway as a compose.yaml)."""

    name: str
    kubernetes_version: str
    server: str
    target: str = KUBERNETES
    publish_address: str = "127.0.0.1"  # compose: where the gateway's port is published
    compose_file: str | None = None  # compose: the hand-written file including the rendered

    @property
    def is_compose(self) -> bool:
        return self.target == COMPOSE


@dataclass(frozen=True)
class RequestLimit:
    request: str
    limit: str | None


@dataclass(frozen=True)
class CpuMemory:
    cpu: str
    memory: str


@dataclass(frozen=True)
class Resources:
    cpu: RequestLimit
    memory: RequestLimit


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    value: str | None
    effect: str | None


@dataclass(frozen=True)
class RuntimeClass:
    vendor: str
    name: str
    handler: str


@dataclass(frozen=True)
class ArgoCD:
    repo_url: str
    target_revision: str
    namespace: str
    project: str
    automated: bool
    hub: str | None = None  # the cluster whose Argo CD syncs them all (an ApplicationSet)


@dataclass(frozen=True)
class DevicePlugin(Spec):
    """A GPU vendor's device plugin, deployed as its upstream Helm chart pinned by version."""

    vendor: str = "nvidia"
    chart_repo: str = ""
    chart_name: str = ""
    chart_version: str = ""
    namespace: str = ""
    image: str = ""
    gfd: bool = True
    nfd: bool = True
    mig_strategy: str = "none"
    fail_on_init_error: bool = True
    device_list_strategy: str = "envvar"
    device_id_strategy: str = "uuid"
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    nfd_image: str | None = None  # the bundled node-feature-discovery's image (NVIDIA chart)


@dataclass(frozen=True)
class Prefetch(Spec):
    image: str = ""
    endpoint: str = "https://huggingface.co"
    token_secret: str | None = None


@dataclass(frozen=True)
class GatewayRoute:
    """An alias served by a backend outside gitops-gen (embeddings, speech-to-text, ...)."""

    alias: str
    model: str
    api_base: str


@dataclass(frozen=True)
class Gateway(Spec):
    name: str = "litellm"
    image: str = ""
    port: int = 4000
    resources: Resources | None = None
    extra_routes: tuple[GatewayRoute, ...] = ()
    master_key_secret: tuple[str, str] | None = None  # (Secret name, data key)


@dataclass(frozen=True)
class NetworkPolicies:
    enabled: bool
    metrics_from: str | None = None  # the metrics scraper's namespace
    node_cidrs: tuple[str, ...] = ()  # where kubelet probes come from, when filtered


@dataclass(frozen=True)
class DcgmExporter(Spec):
    """NVIDIA's DCGM exporter, deployed as its upstream Helm chart pinned by version."""

    chart_repo: str = ""
    chart_name: str = ""
    chart_version: str = ""
    image: str = ""
    namespace: str = "gpu-monitoring"


@dataclass(frozen=True)
class Monitoring(Spec):
    enabled: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # what Prometheus selects by
    dcgm_exporter: DcgmExporter | None = None


@dataclass(frozen=True)
class NodeFeatureRules:
    taints: bool = False


@dataclass(frozen=True)
class RepoConfig(Spec):
    clusters: tuple[Cluster, ...] = ()
    namespace: str = ""
    rendered_path: str = "rendered"  # where the output goes (argocd.renderedPath)
    gpu_lane_label: str = "gitops-gen.dev/gpu-lane"
    annotation_prefix: str = "gitops-gen.dev"
    node_selector_labels: tuple[str, ...] = ()
    argocd: ArgoCD | None = None
    runtime_classes: tuple[RuntimeClass, ...] = ()
    device_plugin: DevicePlugin | None = None  # NVIDIA (`devicePlugin`)
    amd_device_plugin: DevicePlugin | None = None  # AMD (`amdDevicePlugin`)
    prefetch: Prefetch | None = None
    gateway: Gateway | None = None
    network_policies: NetworkPolicies | None = None
    monitoring: Monitoring | None = None  # only when enabled
    node_feature_rules: NodeFeatureRules | None = None  # only when enabled

    @property
    def device_plugins(self) -> tuple[DevicePlugin, ...]:
        return tuple(p for p in (self.device_plugin, self.amd_device_plugin) if p is not None)

    @property
    def kube_clusters(self) -> tuple[Cluster, ...]:
        return tuple(c for c in self.clusters if not c.is_compose)

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def argocd_cluster(self, cluster: str) -> str:
        """Where the Argo CD objects of `cluster`'s tree live: the hub (argocd.hub), or
        the cluster itself when each cluster runs its own Argo CD."""
        hub = self.argocd.hub if self.argocd is not None else None
        return hub if hub is not None else cluster

    def device_plugin_for(self, vendor: str) -> DevicePlugin | None:
        return next((p for p in self.device_plugins if p.vendor == vendor), None)

    def runtime_class_for(self, vendor: str) -> RuntimeClass | None:
        return next((rc for rc in self.runtime_classes if rc.vendor == vendor), None)


@dataclass(frozen=True)
class Gpu:
    vendor: str
    model: str
    count: int
    vram_mib: int
    compute_capability: str | None
    gfx_version: str | None
    mig: bool
    device_groups: tuple[int, ...] = ()
    # The installed driver, when recorded (nvidia-smi / GFD's cuda.driver-version): driver
    # floors in the capability gates need it; unknown, they cannot be checked.
    driver_version: str | None = None
    # The newest CUDA the driver supports (nvidia-smi's "CUDA Version", GFD's
    # cuda.runtime-version): an image built on a newer CUDA does not start.
    cuda_version: str | None = None
    # Time-slicing replicas when the card is shared on purpose; None: one lane at a time.
    time_slicing: int | None = None
    power_limit_w: int | None = None  # the enforced power cap (nvidia-smi power.limit)

    @property
    def resource(self) -> str:
        return GPU_RESOURCES[self.vendor]

    @property
    def slots(self) -> int:
        """GPU lanes the card runs at once: its time-slicing replicas, else one."""
        return self.time_slicing or 1


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None
    effect: str

    def __str__(self) -> str:
        """As kubectl writes it: `key=value:Effect` (`key:Effect` without a value)."""
        value = f"={self.value}" if self.value else ""
        return f"{self.key}{value}:{self.effect}"


@dataclass(frozen=True)
class ModelCache:
    host_path: str | None  # a folder on the node, or
    mount_path: str
    size: str | None = None  # the model disk's size (a quantity), when hardware/ gives it
    claim: str | None = None  # a PersistentVolumeClaim holding the models

    def volume(self) -> dict[str, Any]:
        """The pod volume source of the cache (Kubernetes)."""
        if self.claim is not None:
            return {"persistentVolumeClaim": {"claimName": self.claim}}
        return {"hostPath": {"path": self.host_path, "type": "Directory"}}


@dataclass(frozen=True)
class Node(Spec):
    name: str = ""
    cluster: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    allocatable: CpuMemory = CpuMemory("0", "0")
    system_reserved: CpuMemory | None = None
    gpus: tuple[Gpu, ...] = ()
    model_cache: ModelCache = ModelCache("/", "/")

    @property
    def hostname(self) -> str:
        return self.labels.get("kubernetes.io/hostname", self.name)

    def gpus_of(self, vendor: str) -> tuple[Gpu, ...]:
        return tuple(g for g in self.gpus if g.vendor == vendor)


@dataclass(frozen=True)
class Evidence:
    gpu_model: str
    live_peak_mib: int | None
    date: str
    note: str | None
    ctx_size: int | None = None


@dataclass(frozen=True)
class LaneWorkflows:
    registry: str  # the WorkflowRegistry file, repo-relative
    mount_path: str  # where the server finds the workflows


@dataclass(frozen=True)
class Workflow:
    """A workflow the registry pins, and the file as it is in the repo."""

    name: str  # the file's name, beside the registry
    path: str  # repo-relative
    sha256: str  # pinned
    actual: str | None  # the file's sha256 now; None: no such file
    text: str | None
    where: Location


@dataclass(frozen=True)
class WorkflowRegistry(Spec):
    """Known-good workflows by hash (seed 000): only these reach the server."""

    path: str = ""
    workflows: tuple[Workflow, ...] = ()
    unlisted: tuple[str, ...] = ()  # .json files beside the registry that it does not pin


@dataclass(frozen=True)
class Lane(Spec):
    name: str = ""
    description: str | None = None
    active: bool = False
    node: str = ""
    gpus: int = 1
    gpu_vendor: str | None = None
    vram_mib: int | None = None  # declared by a generic lane (its most VRAM per GPU)
    engine: str = ""
    image: str = ""
    engine_version: str | None = None
    model: str | None = None
    served_name: str = ""
    serve: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    resources: Resources = Resources(RequestLimit("0", None), RequestLimit("0", None))
    shm_size: str = "8Gi"
    aliases: tuple[str, ...] = ()
    evidence: Evidence | None = None
    workflows: LaneWorkflows | None = None

    @property
    def replicas(self) -> int:
        return 1 if self.active else 0


@dataclass(frozen=True)
class ModelFile:
    path: str
    sha256: str | None
    size_bytes: int | None


@dataclass(frozen=True)
class Architecture:
    layers: int
    attention_layers: int
    kv_heads: int
    head_dim: int
    sliding_window: int | None
    sliding_window_layers: int
    context_length: int | None
    params: float | None
    active_params: float | None
    attention_heads: int | None = None
    hidden_size: int | None = None
    vocab_size: int | None = None
    intermediate_size: int | None = None  # MLP width per token (MoE: expert width x top-k)


@dataclass(frozen=True)
class ModelLock(Spec):
    name: str = ""
    format: str = "gguf"
    file: str | None = None
    files: tuple[ModelFile, ...] = ()
    hf_repo: str = ""
    revision: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    quant: str | None = None
    dtype: str | None = None
    architecture: Architecture | None = None
    prefetch: bool = True

    def artifact_files(self) -> tuple[ModelFile, ...]:
        """Every file to fetch and verify: the snapshot's or split GGUF's files, or the file."""
        if self.files:
            return self.files
        if self.file:
            return (ModelFile(self.file, self.sha256, self.size_bytes),)
        return ()


@dataclass(frozen=True)
class Manifest(Spec):
    """A hand-written Kubernetes object from manifests/, deployed and checked with the rest."""

    cluster: str = ""
    directory: str = "manifests"

    @property
    def data(self) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self.doc.data
        return data


@dataclass(frozen=True)
class Repo:
    """Everything loaded and cross-checked; the input of plan, render and check."""

    root: Path
    config: RepoConfig
    nodes: Mapping[str, Node]
    lanes: Mapping[str, Lane]
    models: Mapping[str, ModelLock]
    manifests: tuple[Manifest, ...] = ()
    # Compose host -> its hand-written compose file (the app beside the lanes), parsed.
    compose_files: Mapping[str, SourceDoc] = field(default_factory=dict)
    # Registry file -> the workflows it pins (for generic lanes' `workflows`).
    workflow_registries: Mapping[str, WorkflowRegistry] = field(default_factory=dict)
    # Spec file -> the digest of its kind and exact text, for every file the model was
    # built from (the config, hardware/, lanes/, the model lock, the workflow
    # registries); empty when the loader kept no cache.
    sources: Mapping[str, str] = field(default_factory=dict)

    def cluster_of(self, lane: Lane) -> str:
        return self.nodes[lane.node].cluster

    def on_compose(self, node: Node) -> bool:
        """Whether the node is a docker compose host (no Kubernetes, no Argo CD)."""
        cluster = self.config.cluster(node.cluster)
        return cluster is not None and cluster.is_compose

    def vendor_of(self, lane: Lane) -> str:
        """The GPU vendor a lane uses: stated, or its node's (the only one, by the loader)."""
        gpus = self.nodes[lane.node].gpus
        return lane.gpu_vendor or (gpus[0].vendor if gpus else "nvidia")

    def gpus_of(self, lane: Lane) -> tuple[Gpu, ...]:
        """The GPU entries of the lane's node that the lane can use."""
        return self.nodes[lane.node].gpus_of(self.vendor_of(lane))
