"""The plan step: every decision about the output is made here, in plain Python.

Templates only lay out the values planned here (GPU counts, tolerations from taints,
nodeSelector from labels, engine args, digests, paths). Every planned file says which
spec line it comes from, so checks on rendered objects point back to the specs.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_gen.render.emitter import dump_yaml
from gitops_gen.render.platform import chart_facts, plugin_values
from gitops_gen.render.scheduling import toleration_for
from gitops_gen.specs.engines import launch, model_path
from gitops_gen.specs.model import (
    GPU_RESOURCES,
    DcgmExporter,
    DevicePlugin,
    Gateway,
    Gpu,
    Lane,
    Location,
    ModelLock,
    Monitoring,
    NetworkPolicies,
    Node,
    Repo,
    RepoConfig,
    WorkflowRegistry,
)

MANAGED_BY = {"app.kubernetes.io/managed-by": "gitops-gen"}

# The scripts are constants: spec values reach them only through environment
# variables, never by interpolation, so no lock entry can inject shell.
PREFETCH_SCRIPT = """\
set -eu
if [ -f "$MARKER" ] && printf '%s\\n' "$MODEL_FILES" | cmp -s - "$MARKER"; then
  echo "already verified: $MARKER"; exit 0
fi
mkdir -p "$TARGET_DIR" "$(dirname "$MARKER")"
if [ -n "${HF_TOKEN_FILE:-}" ] && [ -f "$HF_TOKEN_FILE" ]; then HF_TOKEN=$(cat "$HF_TOKEN_FILE"); fi
printf '%s\\n' "$MODEL_FILES" | while read -r sum path; do
  dest="$TARGET_DIR/$path"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && echo "$sum  $dest" | sha256sum -c - >/dev/null 2>&1; then
    echo "ok: $path"; continue
  fi
  set -- --fail --location --retry 5 --retry-delay 10 --continue-at -
  if [ -n "${HF_TOKEN:-}" ]; then set -- "$@" --header "Authorization: Bearer $HF_TOKEN"; fi
  echo "downloading: $path"
  curl "$@" --output "$dest.part" "$BASE_URL/$path"
  if ! echo "$sum  $dest.part" | sha256sum -c -; then rm -f "$dest.part"; exit 1; fi
  mv "$dest.part" "$dest"
done
printf '%s\\n' "$MODEL_FILES" > "$MARKER.tmp"
mv "$MARKER.tmp" "$MARKER"
echo "verified: $MARKER"
"""

HF_TOKEN_DIR = "/var/run/secrets/gitops-gen/hf-token"

VERIFY_SCRIPT = """\
if [ -f "$MARKER" ] && printf '%s\\n' "$MODEL_FILES" | cmp -s - "$MARKER"; then
  echo "model verified: $MARKER"; exit 0
fi
echo "model files are not verified yet; wait for Job $PREFETCH_JOB" >&2
exit 1
"""


@dataclass(frozen=True)
class PlannedFile:
    """One file under rendered/: a template and its values, or plain data to dump."""

    path: str
    origin: Location
    values: Mapping[str, Any]
    template: str | None = None
    compose: bool = False  # a compose file: checked as a compose host's services
    # The render-cache key of the output, known without the values (render/units.py).
    cached: str | None = None


class LaneInputs(Protocol):
    """What a lane's own files are planned from besides the lane itself. Nothing else of
    the repo (no other lane) is in reach of the planner: the lane-unit cache
    (render/units.py) keys those files by the sources of exactly these."""

    @property
    def config(self) -> RepoConfig: ...
    @property
    def nodes(self) -> Mapping[str, Node]: ...
    @property
    def models(self) -> Mapping[str, ModelLock]: ...
    @property
    def workflow_registries(self) -> Mapping[str, WorkflowRegistry]: ...
    def vendor_of(self, lane: Lane) -> str: ...
    def gpus_of(self, lane: Lane) -> tuple[Gpu, ...]: ...


@dataclass(frozen=True)
class LanePlan:
    """A lane's own files (its Deployment, Service, ...) and the URL its Service serves."""

    files: list[PlannedFile]
    base_url: str


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str
    digest: str

    @property
    def tag_with_digest(self) -> str:
        """The Helm-chart form `v0.19.2@sha256:...` (tag and digest together)."""
        if self.digest:
            return f"{self.tag}@{self.digest}" if self.tag else self.digest
        return self.tag


def parse_image(ref: str) -> ImageRef:
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return ImageRef(name[:colon], name[colon + 1 :], digest)
    return ImageRef(name, "", digest)


def lane_component(lane: Lane) -> str:
    """What a lane is, for labels: a generic server (ComfyUI, speech to text) is a GPU
    lane but no LLM."""
    return "gpu-lane" if lane.engine == "generic" else "llm-lane"


def k8s_name(*parts: str, limit: int = 63) -> str:
    """Join parts into a DNS label; too long, it keeps a hash of the whole so names stay unique."""
    name = "-".join(p for p in parts if p)
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def model_sums(model: ModelLock) -> str | None:
    """The `sha256  path` lines a prefetch writes and a server checks; None if not locked."""
    files = model.artifact_files()
    if not files or any(f.sha256 is None for f in files):
        return None
    return "\n".join(f"{f.sha256}  {f.path}" for f in sorted(files, key=lambda f: f.path))


def model_target_dir(model: ModelLock, node: Node) -> str:
    mount = node.model_cache.mount_path.rstrip("/")
    return f"{mount}/gguf" if model.format == "gguf" else f"{mount}/hf/{model.name}"


def model_marker(model: ModelLock, node: Node) -> str:
    return f"{node.model_cache.mount_path.rstrip('/')}/.gitops-gen/{model.name}.sha256sums"


def prefetch_job_name(model: ModelLock, node: Node, sums: str) -> str:
    # Jobs are immutable: a new lock entry or node gets a new name, hence a new Job.
    return k8s_name("prefetch", model.name, short_hash(f"{node.name}\n{sums}"))


def tolerations_for(node: Node) -> list[dict[str, str]]:
    """Tolerate exactly the node's taints, so GPU pods land there and nowhere else."""
    return [toleration_for(taint) for taint in node.taints]


def node_selector_for(node: Node, config: RepoConfig) -> dict[str, str]:
    selector = {key: node.labels[key] for key in config.node_selector_labels if key in node.labels}
    selector["kubernetes.io/hostname"] = node.hostname
    return dict(sorted(selector.items()))


def _request_limit(
    requests: dict[str, Any], limits: dict[str, Any], name: str, request: str, limit: str | None
) -> None:
    requests[name] = request
    if limit is not None:
        limits[name] = limit


# --- per lane -----------------------------------------------------------------------


def plan_lane(lane: Lane, repo: LaneInputs) -> dict[str, Any]:
    """The planned values of one lane (seed 002's chart contract, everything decided): what
    its templates lay out."""
    config = repo.config
    node = repo.nodes[lane.node]
    model = repo.models.get(lane.model) if lane.model else None
    run = launch(lane, model, node)
    vendor = repo.vendor_of(lane)
    image = parse_image(lane.image)

    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    _request_limit(requests, limits, "cpu", lane.resources.cpu.request, lane.resources.cpu.limit)
    _request_limit(
        requests, limits, "memory", lane.resources.memory.request, lane.resources.memory.limit
    )
    gpu_resource = None
    if lane.gpus > 0:
        gpu_resource = GPU_RESOURCES[vendor]
        # Extended resources: request == limit, never a burstable budget.
        requests[gpu_resource] = lane.gpus
        limits[gpu_resource] = lane.gpus

    selector = {"app.kubernetes.io/name": lane.engine, "app.kubernetes.io/instance": lane.name}
    labels = {**selector, "app.kubernetes.io/component": lane_component(lane), **MANAGED_BY}
    if lane.gpus > 0:
        labels[config.gpu_lane_label] = "true"

    runtime_class = config.runtime_class_for(vendor) if lane.gpus > 0 else None
    env = {**run.env, **lane.env}
    values: dict[str, Any] = {
        "name": lane.name,
        "namespace": config.namespace,
        "node": node.name,
        "engine": lane.engine,
        "active": lane.active,
        "replicaCount": lane.replicas,
        "image": {
            "repository": image.repository,
            "tag": image.tag,
            "digest": image.digest,
            "ref": lane.image,
        },
        "runtimeClassName": runtime_class.name if runtime_class else None,
        "labels": labels,
        "selectorLabels": selector,
        "annotations": {},
        "command": run.command,
        "args": run.args,
        "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
        "port": run.port,
        "healthPath": run.health_path,
        "startupFailureThreshold": run.startup_seconds // 10,
        "postStart": run.post_start,
        "readyCommand": run.ready_command,
        "resources": {"requests": requests, "limits": limits},
        "gpu": {"vendor": vendor, "resource": gpu_resource, "count": lane.gpus},
        "nodeSelector": node_selector_for(node, config),
        "tolerations": tolerations_for(node),
        "modelCache": {
            **node.model_cache.volume(),
            "mountPath": node.model_cache.mount_path,
            "readOnly": run.cache_read_only,
            "ggufDir": f"{node.model_cache.mount_path.rstrip('/')}/gguf",
        },
        "shm": {"sizeLimit": lane.shm_size},
        "model": None,
        "prefetch": {"enabled": False, "modelFileRefs": []},
        "verify": None,
        "aliases": list(lane.aliases),
        "workflows": None,
    }
    if model is not None:
        _plan_model(values, model, node, config)
    if lane.description:
        values["annotations"][f"{config.annotation_prefix}/description"] = lane.description
    pinned = pinned_workflows(lane, repo)
    if lane.workflows is not None and pinned is not None:
        values["workflows"] = {
            "configMap": k8s_name(lane.name, "workflows"),
            "mountPath": lane.workflows.mount_path,
        }
        # A new or changed workflow restarts the server, which reads them at start.
        digest = hashlib.sha256(pinned[REGISTRY_KEY].encode()).hexdigest()
        values["annotations"][f"{config.annotation_prefix}/workflows-sha256"] = digest
    return values


REGISTRY_KEY = "registry.json"


def pinned_workflows(lane: Lane, repo: LaneInputs) -> dict[str, str] | None:
    """File name -> text of each workflow whose file matches its pin, and the registry
    (name -> sha256) as JSON for a gateway that checks requests against it; None for a
    lane without workflows. An unpinned or changed file is never rendered."""
    if lane.workflows is None:
        return None
    registry = repo.workflow_registries.get(lane.workflows.registry)
    found = [w for w in (registry.workflows if registry else ()) if w.text and w.actual == w.sha256]
    data = {w.name: w.text or "" for w in sorted(found, key=lambda w: w.name)}
    pins = {w.name: w.sha256 for w in sorted(found, key=lambda w: w.name)}
    data[REGISTRY_KEY] = json.dumps(pins, indent=2, sort_keys=True) + "\n"
    return data


def _plan_model(values: dict[str, Any], model: ModelLock, node: Node, config: RepoConfig) -> None:
    prefix = config.annotation_prefix
    files = model.artifact_files()
    size = model.size_bytes or sum(f.size_bytes or 0 for f in files) or None
    sums = model_sums(model)
    values["model"] = {
        "ref": model.name,
        "format": model.format,
        "path": model_path(model, node),
        "source": {"hf": model.hf_repo, "revision": model.revision},
        "sha256": model.sha256,
        "sizeBytes": size,
    }
    annotations: dict[str, str] = {f"{prefix}/model-ref": model.name}
    if len(files) == 1:
        if files[0].sha256:
            annotations[f"{prefix}/model-file-sha256"] = files[0].sha256
        if size:
            annotations[f"{prefix}/model-file-size-bytes"] = str(size)
    else:
        # Several files (a snapshot, a split GGUF): the digest of their checksum list.
        if sums:
            annotations[f"{prefix}/model-files-sha256"] = hashlib.sha256(sums.encode()).hexdigest()
        if size:
            annotations[f"{prefix}/model-size-bytes"] = str(size)
    if model.revision:
        annotations[f"{prefix}/model-revision"] = model.revision
    values["annotations"] = annotations
    if sums is not None and model.prefetch and config.prefetch is not None:
        job = prefetch_job_name(model, node, sums)
        values["prefetch"] = {"enabled": True, "modelFileRefs": [model.name], "job": job}
        values["verify"] = {
            "image": config.prefetch.image,
            "script": VERIFY_SCRIPT,
            "env": [
                {"name": "MODEL_FILES", "value": sums},
                {"name": "MARKER", "value": model_marker(model, node)},
                {"name": "PREFETCH_JOB", "value": job},
            ],
        }


# --- per node and model: prefetch ---------------------------------------------------


def plan_prefetch(model: ModelLock, node: Node, repo: Repo) -> dict[str, Any] | None:
    config = repo.config
    sums = model_sums(model)
    if sums is None or not model.prefetch or config.prefetch is None:
        return None
    revision = model.revision or "main"
    env: list[dict[str, Any]] = [
        {"name": "MODEL_FILES", "value": sums},
        {
            "name": "BASE_URL",
            "value": f"{config.prefetch.endpoint}/{model.hf_repo}/resolve/{revision}",
        },
        {"name": "TARGET_DIR", "value": model_target_dir(model, node)},
        {"name": "MARKER", "value": model_marker(model, node)},
    ]
    if config.prefetch.token_secret:
        # Read from the mounted Secret, never put in the environment (Checkov CKV_K8S_35).
        env.append({"name": "HF_TOKEN_FILE", "value": f"{HF_TOKEN_DIR}/HF_TOKEN"})
    return {
        "name": prefetch_job_name(model, node, sums),
        "namespace": config.namespace,
        "labels": {
            "app.kubernetes.io/name": "model-prefetch",
            "app.kubernetes.io/instance": model.name,
            "app.kubernetes.io/component": "model-prefetch",
            **MANAGED_BY,
        },
        "annotations": {f"{config.annotation_prefix}/model-ref": model.name},
        "image": config.prefetch.image,
        "script": PREFETCH_SCRIPT,
        "env": env,
        "nodeSelector": {"kubernetes.io/hostname": node.hostname},
        "tolerations": tolerations_for(node),
        "modelCache": {
            **node.model_cache.volume(),
            "mountPath": node.model_cache.mount_path,
        },
        "tokenSecret": config.prefetch.token_secret,
        "tokenDir": HF_TOKEN_DIR,
    }


# --- gateway ------------------------------------------------------------------------


def lane_base_url(lane_values: Mapping[str, Any]) -> str:
    return (
        f"http://{lane_values['name']}.{lane_values['namespace']}.svc.cluster.local:"
        f"{lane_values['port']}/v1"
    )


def plan_gateway_config(
    lanes: list[Lane], base_urls: Mapping[str, str], repo: Repo
) -> dict[str, Any]:
    """LiteLLM config: each alias routed to the active lane(s) serving it, at the lane's
    base URL (its Service in the cluster, or its service on the compose host).

    An alias only parked lanes serve still routes to them, so the gateway config stays
    complete; the checker warns about it.
    """
    serving: dict[str, list[Lane]] = {}
    for lane in lanes:
        for alias in lane.aliases:
            serving.setdefault(alias, []).append(lane)
    model_list: list[dict[str, Any]] = []
    for alias in sorted(serving):
        candidates = serving[alias]
        chosen = [lane for lane in candidates if lane.active] or candidates
        for lane in chosen:
            model_list.append(
                {
                    "model_name": alias,
                    "litellm_params": {
                        "model": f"openai/{lane.served_name}",
                        "api_base": base_urls[lane.name],
                        "api_key": "none",
                    },
                    "model_info": {"lane": lane.name, "active": lane.active},
                }
            )
    gateway = repo.config.gateway
    for route in sorted(gateway.extra_routes if gateway else (), key=lambda r: r.alias):
        model_list.append(
            {
                "model_name": route.alias,
                "litellm_params": {
                    "model": route.model,
                    "api_base": route.api_base,
                    "api_key": "none",
                },
            }
        )
    config: dict[str, Any] = {"model_list": model_list, "litellm_settings": {"drop_params": True}}
    if gateway is not None and gateway.master_key_secret is not None:
        # LiteLLM reads the key from the environment the Deployment fills from the Secret.
        config["general_settings"] = {"master_key": f"os.environ/{MASTER_KEY_ENV}"}
    return config


# --- security contexts --------------------------------------------------------------

POD_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "fsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}

CONTAINER_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
SECURITY = {"pod": POD_SECURITY_CONTEXT, "container": CONTAINER_SECURITY_CONTEXT}


# --- the whole repo -----------------------------------------------------------------


def _application(
    name: str,
    *,
    repo: Repo,
    wave: int,
    source: dict[str, Any],
    namespace: str,
    server: str,
    create_namespace: bool = False,
) -> dict[str, Any]:
    argocd = repo.config.argocd
    assert argocd is not None
    sync: dict[str, Any] = {}
    if argocd.automated:
        sync["automated"] = {"prune": True, "selfHeal": True}
    options = ["CreateNamespace=true"] if create_namespace else []
    if options:
        sync["syncOptions"] = options
    return {
        "name": name,
        "namespace": argocd.namespace,
        "project": argocd.project,
        "wave": str(wave),
        "labels": dict(MANAGED_BY),
        "source": source,
        "destination": {"server": server, "namespace": namespace},
        "syncPolicy": sync,
    }


class _PinnedChart(Protocol):
    @property
    def chart_repo(self) -> str: ...
    @property
    def chart_name(self) -> str: ...
    @property
    def chart_version(self) -> str: ...
    @property
    def namespace(self) -> str: ...


def _chart_application(
    chart: _PinnedChart, values: dict[str, Any], *, cluster: str, server: str, repo: Repo
) -> dict[str, Any]:
    """A GPU platform chart (device plugin, DCGM exporter) as an Application pinned by
    version, synced before the lanes (wave -1) into its own namespace."""
    source = {
        "repoURL": chart.chart_repo,
        "chart": chart.chart_name,
        "targetRevision": chart.chart_version,
        "helm": {"releaseName": chart.chart_name, "valuesObject": values},
    }
    return _application(
        k8s_name(cluster, chart.chart_name),
        repo=repo,
        wave=-1,
        source=source,
        namespace=chart.namespace,
        server=server,
        create_namespace=True,
    )


def _dir_source(repo: Repo, path: str) -> dict[str, Any]:
    argocd = repo.config.argocd
    assert argocd is not None
    return {
        "repoURL": argocd.repo_url,
        "targetRevision": argocd.target_revision,
        "path": f"{repo.config.rendered_path}/{path}",
        "directory": {"recurse": True},
    }


def plan_device_plugin_values(
    plugin: DevicePlugin, repo: Repo, nodes: Sequence[Node]
) -> dict[str, Any]:
    """Values for a vendor's upstream device-plugin chart; only keys the chart defines."""
    image = parse_image(plugin.image)
    nfd = parse_image(plugin.nfd_image) if plugin.nfd_image else None
    return plugin_values(
        plugin,
        repo.config,
        nodes,
        image=(image.repository, image.tag_with_digest),
        nfd_image=(nfd.repository, nfd.tag_with_digest) if nfd else None,
    )


# Cluster-scoped kinds a hand-written manifest may hold (the project must allow them).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "CSIDriver",
        "CustomResourceDefinition",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "NodeFeatureRule",
        "PersistentVolume",
        "PriorityClass",
        "RuntimeClass",
        "StorageClass",
        "ValidatingWebhookConfiguration",
        "VolumeSnapshotClass",
    }
)


def cluster_vendors(repo: Repo, cluster: str) -> set[str]:
    """The GPU vendors of a cluster's nodes: which device plugins and runtimes it needs."""
    return {g.vendor for n in repo.nodes.values() if n.cluster == cluster for g in n.gpus}


def plan_app_project(
    repo: Repo, cluster: str, server: str, *, argocd_here: bool = True
) -> dict[str, Any]:
    """`argocd_here`: Argo CD's own objects go to this cluster (not so for a cluster a
    hub syncs from elsewhere)."""
    argocd = repo.config.argocd
    assert argocd is not None
    config = repo.config
    vendors = cluster_vendors(repo, cluster)
    plugins = [p for p in config.device_plugins if p.vendor in vendors]
    manifests = [m for m in repo.manifests if m.cluster == cluster]
    namespaces = {config.namespace, *(p.namespace for p in plugins)}
    if argocd_here:
        namespaces.add(argocd.namespace)
    dcgm = config.monitoring.dcgm_exporter if config.monitoring else None
    dcgm = dcgm if dcgm is not None and "nvidia" in vendors else None
    if dcgm is not None:
        namespaces.add(dcgm.namespace)
    kinds = {("", "Namespace")}
    if config.node_feature_rules is not None:
        kinds.add(("nfd.k8s-sigs.io", "NodeFeatureRule"))
    if any(rc.vendor in vendors for rc in config.runtime_classes):
        kinds.add(("node.k8s.io", "RuntimeClass"))
    facts = chart_facts()
    for plugin in plugins:
        chart = facts.get(plugin.chart_name)
        kinds.update(chart.cluster_kinds if chart else ())
    for manifest in manifests:
        data = manifest.data
        kind = str(data.get("kind", ""))
        api_version = str(data.get("apiVersion", ""))
        metadata = data.get("metadata")
        namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
        if kind in CLUSTER_SCOPED_KINDS:
            kinds.add((api_version.rpartition("/")[0], kind))
        elif isinstance(namespace, str):
            namespaces.add(namespace)
    return {
        "name": argocd.project,
        "namespace": argocd.namespace,
        "labels": dict(MANAGED_BY),
        "description": f"GPU lanes of cluster {cluster}, rendered by gitops-gen",
        "sourceRepos": sorted(
            {
                argocd.repo_url,
                *(p.chart_repo for p in plugins),
                *([dcgm.chart_repo] if dcgm else []),
            }
        ),
        "destinations": [{"server": server, "namespace": ns} for ns in sorted(namespaces)],
        "clusterResourceWhitelist": [
            {"group": group, "kind": kind} for group, kind in sorted(kinds)
        ],
    }


def plan_lane_files(lane: Lane, repo: LaneInputs, base: str) -> LanePlan:
    """A lane's own files in the tree `base` (its cluster's)."""
    config = repo.config
    files: list[PlannedFile] = []

    def add(path: str, origin: Location, values: Mapping[str, Any], template: str) -> None:
        files.append(PlannedFile(f"{base}/lanes/{lane.name}/{path}", origin, values, template))

    values = plan_lane(lane, repo)
    values["security"] = _lane_security(lane, repo, SECURITY)
    origin = lane.where("name")
    add("deployment.yaml", origin, values, "lane-deployment.yaml.j2")
    add("service.yaml", origin, _service(values), "service.yaml.j2")
    workflows = pinned_workflows(lane, repo)
    if workflows is not None and values["workflows"] is not None:
        configmap = {
            "name": values["workflows"]["configMap"],
            "namespace": config.namespace,
            "labels": {**values["selectorLabels"], **MANAGED_BY},
            "data": workflows,
        }
        add("workflows.yaml", lane.where("workflows"), configmap, "workflows-configmap.yaml.j2")
    isolation = _isolation(config)
    if isolation is not None:
        policy = _lane_policy(values, config, isolation)
        add("networkpolicy.yaml", origin, policy, "networkpolicy.yaml.j2")
    monitor = _pod_monitor(lane, values, config)
    if monitor is not None:
        add("podmonitor.yaml", origin, monitor, "podmonitor.yaml.j2")
    return LanePlan(files, lane_base_url(values))


def _isolation(config: RepoConfig) -> NetworkPolicies | None:
    """The NetworkPolicies to render, if they are enabled."""
    isolation = config.network_policies
    return isolation if isolation is not None and isolation.enabled else None


# Plans a lane's own files in a cluster's tree: plan_lane_files, or what a cache knows.
LanePlanner = Callable[[Lane, str], LanePlan]


def plan_cluster(
    cluster: str, server: str, repo: Repo, lane_planner: LanePlanner | None = None
) -> list[PlannedFile]:
    """Every file of one Kubernetes cluster's tree: platform, lanes, models, gateway, Argo CD."""
    config = repo.config
    config_at = config.where
    base = cluster
    lanes = [lane for lane in repo.lanes.values() if repo.cluster_of(lane) == cluster]
    nodes = [node for node in repo.nodes.values() if node.cluster == cluster]
    files: list[PlannedFile] = []

    def add(path: str, origin: Location, values: Mapping[str, Any], template: str | None) -> None:
        files.append(PlannedFile(f"{base}/{path}", origin, values, template))

    security = SECURITY
    isolation = _isolation(config)

    def lane_files(lane: Lane, base: str) -> LanePlan:
        return (
            plan_lane_files(lane, repo, base) if lane_planner is None else lane_planner(lane, base)
        )

    # Platform: namespace and runtime classes.
    add(
        "platform/namespace.yaml",
        config_at("namespace"),
        {"name": config.namespace, "labels": dict(MANAGED_BY)},
        "namespace.yaml.j2",
    )
    vendors = cluster_vendors(repo, cluster)
    for index, rc in enumerate(config.runtime_classes):
        if rc.vendor in vendors:
            add(
                f"platform/runtimeclass-{rc.name}.yaml",
                config_at("runtimeClasses", index),
                {"name": rc.name, "handler": rc.handler, "labels": dict(MANAGED_BY)},
                "runtimeclass.yaml.j2",
            )

    # Nodes: their labels (and taints) applied by Node Feature Discovery from hardware/.
    if config.node_feature_rules is not None:
        for node in sorted(nodes, key=lambda n: n.name):
            rule = plan_node_feature_rule(node, config)
            add(f"nodes/{node.name}.yaml", node.where("name"), rule, "nodefeaturerule.yaml.j2")

    # Lanes: Deployment, Service.
    urls: dict[str, str] = {}
    for lane in lanes:
        planned = lane_files(lane, base)
        files.extend(planned.files)
        urls[lane.name] = planned.base_url

    # Models: one prefetch Job per (node, locked model) used by a lane on that node.
    wanted = sorted({(lane.node, lane.model) for lane in lanes if lane.model})
    for node_name, model_name in wanted:
        model = repo.models[model_name]
        job = plan_prefetch(model, repo.nodes[node_name], repo)
        if job is not None:
            job["security"] = security
            add(f"models/{node_name}/{model_name}.yaml", model.where(), job, "prefetch-job.yaml.j2")
    if isolation is not None and wanted:
        # The prefetch Jobs serve nothing: no connection may reach them.
        add(
            "models/networkpolicy.yaml",
            config_at("networkPolicies"),
            _policy(PREFETCH_POLICY, config.namespace, {**PREFETCH_LABELS, **MANAGED_BY}, []),
            "networkpolicy.yaml.j2",
        )

    # Gateway: LiteLLM config, Deployment and Service.
    gateway = config.gateway
    if gateway is not None:
        litellm = plan_gateway_config(lanes, urls, repo)
        gw = _gateway_values(gateway, litellm, config.namespace, security)
        add("gateway/configmap.yaml", gateway.where(), gw, "gateway-configmap.yaml.j2")
        add("gateway/deployment.yaml", gateway.where(), gw, "gateway-deployment.yaml.j2")
        add("gateway/service.yaml", gateway.where(), _service(gw), "service.yaml.j2")
        if isolation is not None:
            # Clients of the gateway live anywhere: it admits all of them, on its port only.
            ports = [{"port": gw["port"], "protocol": "TCP"}]
            policy = _policy(gw["name"], gw["namespace"], gw["selectorLabels"], [{"ports": ports}])
            add("gateway/networkpolicy.yaml", gateway.where(), policy, "networkpolicy.yaml.j2")

    # Monitoring: the alerts of the field notes, on this cluster's lanes and cards.
    monitoring = config.monitoring
    if monitoring is not None:
        rules = plan_alerts(lanes, nodes, repo)
        add("monitoring/prometheusrule.yaml", monitoring.where(), rules, "prometheusrule.yaml.j2")

    # Argo CD: one Application per group, a chart Application, and the root app-of-apps.
    argocd = config.argocd
    assert argocd is not None
    groups = [
        ("platform", -2, config_at("namespace")),
        ("models", 0, config_at("prefetch")),
        ("lanes", 1, config_at("namespace")),
    ]
    if gateway is not None:
        groups.append(("gateway", 2, gateway.where()))
    if config.node_feature_rules is not None:
        # After the device plugin's chart (wave -1) has installed NFD and its CRDs.
        groups.append(("nodes", 0, config_at("nodeFeatureRules")))
    if monitoring is not None:
        groups.append(("monitoring", 3, monitoring.where()))
    for group, wave, origin in groups:
        app = _application(
            k8s_name(cluster, group),
            repo=repo,
            wave=wave,
            source=_dir_source(repo, f"{base}/{group}"),
            namespace=config.namespace,
            server=server,
        )
        add(f"argocd/apps/{group}.yaml", origin, app, "application.yaml.j2")
    manifest_dirs = sorted({m.directory for m in repo.manifests if m.cluster == cluster})
    for directory in manifest_dirs:
        # Hand-written objects (e.g. a ComfyUI Deployment sharing the card) sync as they are.
        # renderedPath says where this repo's root sits in Git; manifests/ is its sibling.
        in_git = posixpath.join(posixpath.dirname(config.rendered_path), directory)
        source = {
            "repoURL": argocd.repo_url,
            "targetRevision": argocd.target_revision,
            "path": in_git,
            "directory": {"recurse": False},
        }
        first = next(m for m in repo.manifests if m.directory == directory)
        app = _application(
            k8s_name(cluster, "manifests"),
            repo=repo,
            wave=1,
            source=source,
            namespace=config.namespace,
            server=server,
        )
        add("argocd/apps/manifests.yaml", first.where(), app, "application.yaml.j2")
    for plugin in config.device_plugins:
        if plugin.vendor not in vendors:
            continue
        values = plan_device_plugin_values(plugin, repo, nodes)
        app = _chart_application(plugin, values, cluster=cluster, server=server, repo=repo)
        add(f"argocd/apps/{plugin.chart_name}.yaml", plugin.where(), app, "application.yaml.j2")
    dcgm = monitoring.dcgm_exporter if monitoring is not None else None
    if monitoring is not None and dcgm is not None and "nvidia" in vendors:
        values = plan_dcgm_values(dcgm, monitoring, repo, nodes)
        app = _chart_application(dcgm, values, cluster=cluster, server=server, repo=repo)
        add(f"argocd/apps/{dcgm.chart_name}.yaml", dcgm.where(), app, "application.yaml.j2")
    if argocd.hub is not None:
        # One Argo CD syncs every cluster: the hub's tree makes each cluster's root.
        if cluster == argocd.hub:
            for path, origin, values, template in plan_fleet(repo, server):
                add(path, origin, values, template)
        return files
    if argocd.project != "default":
        # Nothing syncs under a project that does not exist: render it, allowing exactly
        # the sources, namespaces and cluster-scoped kinds this cluster's apps deploy.
        add(
            "argocd/apps/appproject.yaml",
            config_at("argocd", "project"),
            plan_app_project(repo, cluster, server),
            "appproject.yaml.j2",
        )
    root = _root_application(repo, k8s_name(cluster, "root"), f"{base}/argocd/apps", server)
    add("argocd/root.yaml", config_at("argocd"), root, "application.yaml.j2")
    return files


def _root_application(repo: Repo, name: str, folder: str, server: str) -> dict[str, Any]:
    """An app of apps: the one Application applied by hand, syncing a folder of Argo CD
    objects into Argo CD's own namespace."""
    argocd = repo.config.argocd
    assert argocd is not None
    return _application(
        name,
        repo=repo,
        wave=0,
        source=_dir_source(repo, folder),
        namespace=argocd.namespace,
        server=server,
    )


def plan_fleet(repo: Repo, hub_server: str) -> list[tuple[str, Location, dict[str, Any], str]]:
    """The hub's Argo CD objects for every cluster (paths under the hub's tree): an
    ApplicationSet whose list generator makes each cluster's root Application on the hub
    (each syncs that cluster's argocd/apps/, whose Applications deploy to its server),
    one AppProject admitting every cluster's destinations, and the root that syncs both."""
    config = repo.config
    argocd = config.argocd
    assert argocd is not None and argocd.hub is not None
    hub = argocd.hub
    clusters = sorted(config.kube_clusters, key=lambda c: c.name)
    elements = [
        {
            "cluster": c.name,
            "name": k8s_name(c.name, "root"),
            "path": f"{config.rendered_path}/{c.name}/argocd/apps",
        }
        for c in clusters
    ]
    template = _application(
        "{{.name}}",
        repo=repo,
        wave=0,
        source={**_dir_source(repo, ""), "path": "{{.path}}"},
        namespace=argocd.namespace,
        server=hub_server,
    )
    template["labels"] = {**template["labels"], FLEET_CLUSTER_LABEL: "{{.cluster}}"}
    where = config.where("argocd", "hub")
    fleet: list[tuple[str, Location, dict[str, Any], str]] = [
        (
            "argocd/fleet/applicationset.yaml",
            where,
            {
                "name": k8s_name(hub, "fleet"),
                "namespace": argocd.namespace,
                "labels": dict(MANAGED_BY),
                "elements": elements,
                "template": template,
            },
            "applicationset.yaml.j2",
        )
    ]
    if argocd.project != "default":
        projects = [
            plan_app_project(repo, c.name, c.server, argocd_here=c.name == hub) for c in clusters
        ]
        fleet.append(
            (
                "argocd/fleet/appproject.yaml",
                config.where("argocd", "project"),
                _merge_projects(projects, [c.name for c in clusters]),
                "appproject.yaml.j2",
            )
        )
    root = _root_application(repo, k8s_name(hub, "fleet"), f"{hub}/argocd/fleet", hub_server)
    fleet.append(("argocd/root.yaml", where, root, "application.yaml.j2"))
    return fleet


# The label a generated root Application carries with its cluster's name.
FLEET_CLUSTER_LABEL = "gitops-gen.dev/cluster"


def _merge_projects(projects: list[dict[str, Any]], clusters: list[str]) -> dict[str, Any]:
    """One project for the hub: every cluster's sources, destinations and kinds."""
    first = projects[0]

    def union(key: str) -> list[Any]:
        seen = {json.dumps(item, sort_keys=True): item for p in projects for item in p[key]}
        return [seen[k] for k in sorted(seen)]

    return {
        **first,
        "description": f"GPU lanes of clusters {', '.join(clusters)}, rendered by gitops-gen",
        "sourceRepos": sorted({r for p in projects for r in p["sourceRepos"]}),
        "destinations": union("destinations"),
        "clusterResourceWhitelist": union("clusterResourceWhitelist"),
    }


def plan_node_feature_rule(node: Node, config: RepoConfig) -> dict[str, Any]:
    """One NodeFeatureRule matching the node by name: its hardware/ labels (NFD never
    sets kubernetes.io/ ones, nor need it: the kubelet does) with its GPU facts (the
    loader added them), and with `taints`, its taints."""
    labels = {k: v for k, v in node.labels.items() if not _kubernetes_io(k)}
    rule: dict[str, Any] = {
        "name": f"gitops-gen {node.name}",
        "labels": dict(sorted(labels.items())),
        "matchFeatures": [
            {
                "feature": "system.name",
                "matchExpressions": {"nodename": {"op": "In", "value": [node.name]}},
            }
        ],
    }
    features = config.node_feature_rules
    if features is not None and features.taints and node.taints:
        rule["taints"] = [
            {"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect}
            for t in node.taints
        ]
    return {"name": k8s_name("gitops-gen", node.name), "labels": dict(MANAGED_BY), "rules": [rule]}


def _kubernetes_io(key: str) -> bool:
    domain = key.partition("/")[0] if "/" in key else ""
    return (
        domain == "kubernetes.io"
        or domain.endswith(".kubernetes.io")
        or domain in ("k8s.io",)
        or domain.endswith(".k8s.io")
    )


# Where each engine serves Prometheus metrics; llama.cpp only with --metrics.
def metrics_path(lane: Lane) -> str | None:
    if lane.engine == "vllm":
        return "/metrics"
    if lane.engine == "llamacpp" and lane.serve.get("metrics"):
        return "/metrics"
    return None


def _pod_monitor(
    lane: Lane, values: Mapping[str, Any], config: RepoConfig
) -> dict[str, Any] | None:
    path = metrics_path(lane)
    if config.monitoring is None or path is None:
        return None
    return {
        "name": lane.name,
        "namespace": config.namespace,
        "labels": {**config.monitoring.labels, **MANAGED_BY},
        "selectorLabels": values["selectorLabels"],
        "path": path,
    }


def _alternation(names: Sequence[str]) -> str:
    """A PromQL regex matching exactly these names (lane names are DNS labels: no escaping)."""
    return "|".join(sorted(names))


def plan_alerts(lanes: Sequence[Lane], nodes: Sequence[Node], repo: Repo) -> dict[str, Any]:
    """The field notes' alerts: a lane not ready, lanes restarting, more GPU pods running on
    a node than its cards hold (seed 002's "exactly one GPU LLM"), a GPU pod Pending, and
    a card held at its power cap for 10 minutes (seed 000's 300 W; needs the DCGM
    exporter and powerLimitW in hardware/)."""
    config = repo.config
    monitoring = config.monitoring
    assert monitoring is not None
    ns = config.namespace
    names = _alternation([lane.name for lane in lanes])
    rules: list[dict[str, Any]] = []
    if lanes:
        selector = f'namespace="{ns}", deployment=~"{names}"'
        rules.append(
            {
                "alert": "GPULaneNotReady",
                "expr": (
                    f"kube_deployment_status_replicas_available{{{selector}}}\n"
                    f"  < kube_deployment_spec_replicas{{{selector}}}"
                ),
                "for": "15m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "GPU lane {{ $labels.deployment }} has been unready for 15 minutes",
                },
            }
        )
        rules.append(
            {
                "alert": "GPULaneRestarting",
                "expr": (
                    "increase(kube_pod_container_status_restarts_total"
                    f'{{namespace="{ns}", container="server", pod=~"({names})-.*"}}[1h]) > 2'
                ),
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "A GPU lane's server restarted more than twice in an hour "
                    "({{ $labels.pod }})",
                },
            }
        )
    for node in sorted(nodes, key=lambda n: n.name):
        for vendor, resource in GPU_RESOURCES.items():
            gpus = node.gpus_of(vendor)
            if not gpus:
                continue
            held = sum(g.count * g.slots for g in gpus)
            metric = resource.replace(".", "_").replace("/", "_")
            rules.append(
                {
                    "alert": "GPUPodsOverCards",
                    "expr": (
                        "sum by (node) (\n"
                        f'  kube_pod_container_resource_limits{{resource="{metric}", '
                        f'node="{node.name}"}}\n'
                        "  * on (namespace, pod) group_left ()"
                        ' (kube_pod_status_phase{phase="Running"} == 1)\n'
                        f") > {held}"
                    ),
                    "for": "5m",
                    "labels": {"severity": "critical"},
                    "annotations": {
                        "summary": f"More {resource} pods run on {node.name} than its "
                        f"{held} GPU slot(s) hold",
                    },
                }
            )
    rules.append(
        {
            "alert": "GPUPodPending",
            "expr": (
                "sum by (namespace, pod) (\n"
                '  kube_pod_container_resource_limits{resource=~"nvidia_com_gpu|amd_com_gpu"}\n'
                "  * on (namespace, pod) group_left ()"
                ' (kube_pod_status_phase{phase="Pending"} == 1)\n'
                ") > 0"
            ),
            "for": "15m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "GPU pod {{ $labels.pod }} has been Pending for 15 minutes"},
        }
    )
    if monitoring.dcgm_exporter is not None:
        for node in sorted(nodes, key=lambda n: n.name):
            for gpu in node.gpus_of("nvidia"):
                if gpu.power_limit_w is None:
                    continue
                # At the cap: within 2% of it (the driver holds the draw just under).
                floor = round(gpu.power_limit_w * 0.98, 1)
                rules.append(
                    {
                        "alert": "GPUPowerAtCap",
                        "expr": (
                            f'DCGM_FI_DEV_POWER_USAGE{{Hostname="{node.name}", '
                            f'modelName!=""}} >= {floor}'
                        ),
                        "for": "10m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"{gpu.model} on {node.name} has drawn its "
                            f"{gpu.power_limit_w} W cap for 10 minutes: it is power-bound",
                        },
                    }
                )
    return {
        "name": "gitops-gen-gpu-lanes",
        "namespace": ns,
        "labels": {**monitoring.labels, **MANAGED_BY},
        "groups": [{"name": "gpu-lanes", "rules": rules}],
    }


def plan_dcgm_values(
    dcgm: DcgmExporter, monitoring: Monitoring, repo: Repo, nodes: Sequence[Node]
) -> dict[str, Any]:
    """Values for NVIDIA's dcgm-exporter chart (4.x): the pinned image, the NVIDIA runtime,
    on the NVIDIA GPU nodes by hostname, tolerating their taints, its ServiceMonitor
    labelled for your Prometheus."""
    image = parse_image(dcgm.image)
    targets = sorted((n for n in nodes if n.gpus_of("nvidia")), key=lambda n: n.name)
    runtime = repo.config.runtime_class_for("nvidia")
    values: dict[str, Any] = {
        "image": {"repository": image.repository, "tag": image.tag_with_digest},
        "serviceMonitor": {"enabled": True, "additionalLabels": dict(monitoring.labels)},
        "tolerations": [],
    }
    # The chart's own toleration, then the GPU nodes' taints (a list replaces the default).
    default = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
    for toleration in [
        {**default, "effect": "NoSchedule"},
        *(toleration_for(t) for n in targets for t in n.taints),
    ]:
        if toleration not in values["tolerations"]:
            values["tolerations"].append(toleration)
    if runtime is not None:
        values["runtimeClassName"] = runtime.name
    if targets:
        values["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": sorted({n.hostname for n in targets}),
                                }
                            ]
                        }
                    ]
                }
            }
        }
    return values


def _lane_security(lane: Lane, repo: LaneInputs, security: Mapping[str, Any]) -> Mapping[str, Any]:
    """The hardened contexts, plus the groups owning the GPU device nodes when the node
    says so (AMD's /dev/kfd and /dev/dri/renderD* are not world-accessible)."""
    groups = sorted({g for gpu in repo.gpus_of(lane) for g in gpu.device_groups})
    if lane.gpus == 0 or not groups:
        return security
    return {**security, "pod": {**security["pod"], "supplementalGroups": groups}}


PREFETCH_POLICY = "model-prefetch"
PREFETCH_LABELS = {"app.kubernetes.io/component": "model-prefetch"}


def _policy(
    name: str, namespace: str, pods: Mapping[str, str], ingress: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": dict(MANAGED_BY),
        "podLabels": dict(pods),
        "ingress": ingress,
    }


def _lane_policy(
    values: Mapping[str, Any], config: RepoConfig, isolation: NetworkPolicies
) -> dict[str, Any]:
    """A lane admits the gateway (or, without one or without aliases the gateway routes,
    as a ComfyUI lane, its own namespace) and the metrics scraper's namespace, on its
    port; nothing else reaches the card's server."""
    ports = [{"port": values["port"], "protocol": "TCP"}]
    if config.gateway is not None and values["aliases"]:
        gateway = _gateway_selector(config.gateway)
        sources: list[dict[str, Any]] = [{"podSelector": {"matchLabels": gateway}}]
    else:
        sources = [{"podSelector": {}}]
    ingress = [{"from": sources, "ports": ports}]
    if isolation.metrics_from is not None:
        scraper = {"kubernetes.io/metadata.name": isolation.metrics_from}
        ingress.append({"from": [{"namespaceSelector": {"matchLabels": scraper}}], "ports": ports})
    ingress += _probe_sources(isolation, ports)
    return _policy(values["name"], values["namespace"], values["selectorLabels"], ingress)


def _probe_sources(isolation: NetworkPolicies, ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The kubelet probes the serving port; most network plugins never filter that, some
    do: their nodes' addresses are admitted on it, nothing else."""
    if not isolation.node_cidrs:
        return []
    return [
        {"from": [{"ipBlock": {"cidr": cidr}} for cidr in isolation.node_cidrs], "ports": ports}
    ]


def _service(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "namespace": values["namespace"],
        "labels": values["labels"],
        "selector": values["selectorLabels"],
        "port": values["port"],
    }


def _gateway_selector(gateway: Gateway) -> dict[str, str]:
    return {"app.kubernetes.io/name": "litellm", "app.kubernetes.io/instance": gateway.name}


def _gateway_values(
    gateway: Gateway, litellm: dict[str, Any], namespace: str, security: Mapping[str, Any]
) -> dict[str, Any]:
    text = dump_yaml(litellm)
    selector = _gateway_selector(gateway)
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    if gateway.resources is not None:
        res = gateway.resources
        _request_limit(requests, limits, "cpu", res.cpu.request, res.cpu.limit)
        _request_limit(requests, limits, "memory", res.memory.request, res.memory.limit)
    return {
        "name": gateway.name,
        "namespace": namespace,
        "image": gateway.image,
        "port": gateway.port,
        "labels": {**selector, "app.kubernetes.io/component": "gateway", **MANAGED_BY},
        "selectorLabels": selector,
        "configName": k8s_name(gateway.name, "config"),
        "config": text,
        "configChecksum": hashlib.sha256(text.encode()).hexdigest(),
        "resources": {"requests": requests, "limits": limits},
        "security": security,
        "env": _master_key_env(gateway),
    }


MASTER_KEY_ENV = "LITELLM_MASTER_KEY"


def _master_key_env(gateway: Gateway) -> list[dict[str, Any]]:
    if gateway.master_key_secret is None:
        return []
    name, key = gateway.master_key_secret
    return [{"name": MASTER_KEY_ENV, "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}]
