"""Load a repo: read every spec file, validate it, build the model, cross-check references.

Every problem in every file is collected before giving up, so one run shows them all.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from gitops_gen.cache import Cache, digest
from gitops_gen.errors import InputError, Problem
from gitops_gen.specs.engines import managed_flags_in, opaque_flags_in
from gitops_gen.specs.manifests import MANIFESTS_DIR, load_manifests, service_name_problem
from gitops_gen.specs.model import (
    IN_CLUSTER,
    KUBERNETES,
    Architecture,
    ArgoCD,
    Cluster,
    CpuMemory,
    DcgmExporter,
    DevicePlugin,
    Evidence,
    Gateway,
    GatewayRoute,
    Gpu,
    Lane,
    LaneWorkflows,
    Location,
    ModelCache,
    ModelFile,
    ModelLock,
    Monitoring,
    NetworkPolicies,
    Node,
    NodeFeatureRules,
    Prefetch,
    Repo,
    RepoConfig,
    RequestLimit,
    Resources,
    RuntimeClass,
    Taint,
    Toleration,
    Workflow,
    WorkflowRegistry,
)
from gitops_gen.specs.schema import SpecSchemas
from gitops_gen.specs.source import KeyPath, SourceDoc, format_path, parse_yaml, read_text

CONFIG_FILE = "gitops-gen.yaml"
LOCK_FILE = "models.lock.yaml"
HARDWARE_DIR = "hardware"
LANES_DIR = "lanes"

# Engines that load a single GGUF file; vLLM takes a safetensors snapshot (or a GGUF file).
GGUF_ENGINES = {"llamacpp", "ollama"}

# A path inside the repo, never `..` or absolute (config.schema.json's composeFile).
COMPOSE_FILE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*\Z")

T = TypeVar("T")


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    def where(self, *path: str | int) -> Location: ...


N = TypeVar("N", bound=_Named)


def spec_files(root: Path, directory: str) -> list[str]:
    """Spec files of a directory as repo-relative paths, in a stable order."""
    folder = root / directory
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(f"{directory}/{p.name}" for p in found)


def load_repo(
    root: Path, *, schemas: SpecSchemas | None = None, cache: Cache | None = None
) -> Repo:
    """Every spec of the repo, checked; with a cache, a file whose exact text parsed and
    passed its schema before is not parsed or validated again."""
    schemas = schemas or SpecSchemas()
    problems: list[Problem] = []
    real_root = root.resolve()
    sources: dict[str, str] = {}

    def load(relpath: str, kind: str, build: Callable[[SourceDoc], T]) -> T | None:
        try:
            text = read_text(root, relpath, real_root)
            key = digest("spec", kind, text) if cache is not None else ""
            if cache is not None:
                sources[relpath] = key
            doc = _cached_doc(cache, key, relpath)
            if doc is not None:
                return build(doc)
            doc = parse_yaml(text, file=relpath)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
        found = schemas.problems(kind, doc)
        if found:
            problems.extend(found)
            return None
        _remember_doc(cache, key, doc)
        return build(doc)

    if not (root / CONFIG_FILE).is_file():
        raise InputError(
            [
                Problem(
                    CONFIG_FILE,
                    0,
                    "",
                    f"file not found in {root} (is this a gitops-gen repo? "
                    "'gitops-gen init' scaffolds one)",
                )
            ]
        )
    config = load(CONFIG_FILE, "config", _config)
    hardware = spec_files(root, HARDWARE_DIR)
    nodes = [n for f in hardware if (n := load(f, "node", _node))]
    # A node file that failed to load is reported once, not as "unknown node" per lane.
    all_nodes_loaded = len(nodes) == len(hardware)
    lanes = [x for f in spec_files(root, LANES_DIR) if (x := load(f, "lane", _lane))]
    models: dict[str, ModelLock] | None = {}
    if (root / LOCK_FILE).exists():
        models = load(LOCK_FILE, "models-lock", _models)

    if config is None:
        raise InputError(problems)
    if models:
        _check_model_files(models, problems)
    _check_rendered_path(root, config, problems)
    _check_targets(config, problems)
    node_map = _unique("node", nodes, problems)
    lane_map = _unique("lane", lanes, problems)
    node_map = {name: _with_cluster(node, config, problems) for name, node in node_map.items()}
    if config.node_feature_rules is not None:
        _check_feature_rules(config, problems)
        node_map = {
            name: replace(node, labels={**node.labels, **gpu_fact_labels(node, config)})
            for name, node in node_map.items()
        }
    for lane in lane_map.values():
        # A lock that failed to load is reported once, not once per lane that uses it.
        _cross_check(lane, node_map if all_nodes_loaded else None, models, problems)
        node = node_map.get(lane.node)
        target = config.cluster(node.cluster) if node is not None else None
        problem = service_name_problem(lane.name)
        if target is not None and not target.is_compose and problem is not None:
            where = lane.where("name")
            problems.append(
                Problem(where.file, where.line, "name", f"{problem} (the lane's Service)")
            )
    _check_compose_hosts(config, node_map, problems)
    lanes_on: dict[str, list[Lane]] = {}
    for lane in lane_map.values():
        lanes_on.setdefault(lane.node, []).append(lane)
    for node in node_map.values():
        target = config.cluster(node.cluster)
        _check_model_cache(node, target is not None and target.is_compose, problems)
        _check_time_slicing(node, lanes_on.get(node.name, []), problems)
    registries: dict[str, WorkflowRegistry] = {}
    for path in sorted({lane.workflows.registry for lane in lane_map.values() if lane.workflows}):
        registry = load(path, "workflows", lambda doc: _workflow_registry(root, doc))
        if registry is not None:
            registries[path] = registry
    manifests = load_manifests(root, config, problems)
    compose_files = _compose_files(root, config, problems)
    if problems or models is None:
        raise InputError(problems)
    return Repo(
        root=root,
        config=config,
        nodes=node_map,
        lanes=lane_map,
        models=models,
        manifests=manifests,
        compose_files=compose_files,
        workflow_registries=registries,
        sources=sources,
    )


def _workflow_registry(root: Path, doc: SourceDoc) -> WorkflowRegistry:
    """The registry and each workflow file as it is now (its sha256, its text); a file
    that cannot be read counts as missing, and the workflow rule says so."""
    folder = posixpath.dirname(doc.file)
    listed = []
    for index, entry in enumerate(doc.data["workflows"]):
        path = posixpath.join(folder, entry["file"])
        try:
            text: str | None = read_text(root, path)
        except InputError:
            text = None
        actual = None if text is None else hashlib.sha256(text.encode()).hexdigest()
        where = Location(doc.file, doc.line_of(("workflows", index)))
        listed.append(Workflow(entry["file"], path, entry["sha256"], actual, text, where))
    names = {w.name for w in listed}
    beside = sorted(
        p.name for p in (root / folder).iterdir() if p.suffix == ".json" and p.name not in names
    )
    return WorkflowRegistry(doc=doc, path=doc.file, workflows=tuple(listed), unlisted=tuple(beside))


def compose_file_paths(root: Path) -> list[str]:
    """The hand-written compose files gitops-gen.yaml names, read leniently (for copying
    a revision's specs; loading the repo checks them properly)."""
    try:
        data = parse_yaml(read_text(root, CONFIG_FILE), file=CONFIG_FILE).data
    except InputError:
        return []
    clusters = data.get("clusters") if isinstance(data, dict) else None
    found = []
    for cluster in clusters if isinstance(clusters, list) else []:
        path = cluster.get("composeFile") if isinstance(cluster, dict) else None
        if isinstance(path, str) and COMPOSE_FILE_PATH.match(path):
            found.append(path)
    return sorted(set(found))


def gpu_fact_labels(node: Node, config: RepoConfig) -> dict[str, str]:
    """The labels Node Feature Discovery puts on a node from its GPU facts in hardware/,
    per vendor: <annotationPrefix>/<vendor>-gpu-model, -gpu-count, -gpu-vram-mib, and
    -gpu-compute-capability (NVIDIA) or -gpu-gfx (AMD), from the vendor's first card."""
    prefix = config.annotation_prefix
    found: dict[str, str] = {}
    for vendor in sorted({g.vendor for g in node.gpus}):
        gpus = node.gpus_of(vendor)
        first = gpus[0]
        found[f"{prefix}/{vendor}-gpu-model"] = first.model
        found[f"{prefix}/{vendor}-gpu-count"] = str(sum(g.count for g in gpus))
        found[f"{prefix}/{vendor}-gpu-vram-mib"] = str(first.vram_mib)
        if first.compute_capability:
            found[f"{prefix}/{vendor}-gpu-compute-capability"] = first.compute_capability
        if first.gfx_version:
            found[f"{prefix}/{vendor}-gpu-gfx"] = first.gfx_version
    return dict(sorted(found.items()))


def _check_feature_rules(config: RepoConfig, problems: list[Problem]) -> None:
    """NodeFeatureRules need Node Feature Discovery, which the NVIDIA chart bundles."""
    plugin = config.device_plugin
    if config.kube_clusters and (plugin is None or not plugin.nfd):
        problems.append(
            config.doc.problem(
                ("nodeFeatureRules",),
                "NodeFeatureRules need Node Feature Discovery: set devicePlugin.nfd: true (the "
                "NVIDIA device plugin chart installs it)",
            )
        )


def _check_time_slicing(node: Node, lanes: list[Lane], problems: list[Problem]) -> None:
    """A shared card is the node's only card of its vendor, so that every lane of the
    vendor there is on it (the device plugin, not gitops-gen, would pick among several),
    and each lane takes one replica of it."""
    for index, gpu in enumerate(node.gpus):
        if gpu.time_slicing is None:
            continue
        where = ("gpus", index, "timeSlicing")
        if gpu.vendor != "nvidia":
            problems.append(
                node.doc.problem(where, "time-slicing is the NVIDIA device plugin's; not for AMD")
            )
        elif gpu.count != 1 or len(node.gpus_of(gpu.vendor)) != 1:
            problems.append(
                node.doc.problem(
                    where,
                    "only a node's single NVIDIA card may be time-sliced (count: 1): with "
                    "several, the device plugin picks the card and the VRAM of the lanes "
                    "sharing one cannot be checked",
                )
            )
        for lane in lanes:
            if lane.gpus > 1 and (lane.gpu_vendor or gpu.vendor) == gpu.vendor:
                problems.append(
                    lane.doc.problem(
                        ("gpus",),
                        f"node {node.name!r} time-slices its card: a lane takes one replica "
                        "of it (gpus: 1)",
                    )
                )


def _check_model_cache(node: Node, on_compose: bool, problems: list[Problem]) -> None:
    cache = node.model_cache
    if (cache.host_path is None) == (cache.claim is None):
        problems.append(
            node.doc.problem(
                ("modelCache",),
                "give exactly one of hostPath and persistentVolumeClaim: where the models are",
            )
        )
    elif on_compose and cache.claim is not None:
        problems.append(
            node.doc.problem(
                ("modelCache", "persistentVolumeClaim"),
                "a compose host keeps its models in a folder (hostPath), not a Kubernetes claim",
            )
        )


def _check_compose_hosts(
    config: RepoConfig, nodes: Mapping[str, Node], problems: list[Problem]
) -> None:
    """A compose host is one machine, with NVIDIA GPUs (Docker's GPU device requests)."""
    seen: dict[str, Node] = {}
    for node in nodes.values():
        cluster = config.cluster(node.cluster)
        if cluster is None or not cluster.is_compose:
            continue
        first = seen.setdefault(cluster.name, node)
        if first is not node:
            problems.append(
                node.doc.problem(
                    ("name",),
                    f"compose host {cluster.name!r} is one machine and already has node "
                    f"{first.name!r} ({first.doc.file}); give this one its own compose host",
                )
            )
        for index, gpu in enumerate(node.gpus):
            if gpu.vendor != "nvidia":
                problems.append(
                    node.doc.problem(
                        ("gpus", index, "vendor"),
                        f"compose host {cluster.name!r}: gitops-gen renders NVIDIA GPU "
                        f"reservations for compose; {gpu.vendor} GPUs need a Kubernetes target",
                    )
                )


def _compose_files(root: Path, config: RepoConfig, problems: list[Problem]) -> dict[str, SourceDoc]:
    """Each compose host's hand-written compose file, parsed with its lines; what it holds
    is checked by the compose rules, as hand-written manifests are."""
    found: dict[str, SourceDoc] = {}
    for cluster in config.clusters:
        if cluster.compose_file is None:
            continue
        try:
            doc = parse_yaml(read_text(root, cluster.compose_file), file=cluster.compose_file)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(doc.data, dict):
            problems.append(doc.problem((), "expected a compose file (a mapping)"))
            continue
        found[cluster.name] = doc
    return found


def _cached_doc(cache: Cache | None, key: str, relpath: str) -> SourceDoc | None:
    found = cache.get("spec", key) if cache is not None else None
    if not (isinstance(found, list) and len(found) == 2 and isinstance(found[1], dict)):
        return None
    return SourceDoc(file=relpath, data=found[0], lines=found[1])


def _remember_doc(cache: Cache | None, key: str, doc: SourceDoc) -> None:
    """Kept only if it survives JSON as the same data (no dates, no non-string keys)."""
    if cache is None or not cache.enabled:
        return
    try:
        data = json.loads(json.dumps(doc.data))
    except (TypeError, ValueError):
        return
    if data == doc.data:
        cache.put("spec", key, [data, dict(doc.lines)])  # marshal keeps the tuple keys


def _check_model_files(models: Mapping[str, ModelLock], problems: list[Problem]) -> None:
    """A split GGUF's `file` (what the server is given) is one of the `files` its prefetch
    fetches; and two GGUF entries whose files share a path (every GGUF lands in the one
    gguf/ folder of the model cache) hold the same bytes, or one lane would load the
    other's model."""
    owners: dict[str, tuple[ModelLock, str | None]] = {}  # file path -> (model, sha256)
    for model in models.values():
        if model.format != "gguf":
            continue
        paths = [f.path for f in model.files]
        if model.file and paths and model.file not in paths:
            problems.append(
                model.doc.problem(
                    (*model.prefix, "file"),
                    f"{model.file!r} is not one of files (the server is given it, and the "
                    f"prefetch fetches only files): name the first shard, {paths[0]!r}",
                )
            )
        for found in model.artifact_files():
            other, theirs = owners.setdefault(found.path, (model, found.sha256))
            if other is not model and (found.sha256 is None or found.sha256 != theirs):
                problems.append(
                    model.doc.problem(
                        (*model.prefix,),
                        f"its file {found.path!r} is also model {other.name!r}'s, with other "
                        "contents: both prefetch it to the same gguf/ path, so one lane would "
                        "load the other's model; lock one of them from another file",
                    )
                )


def _unique(kind: str, items: list[N], problems: list[Problem]) -> dict[str, N]:
    by_name: dict[str, N] = {}
    for item in items:
        name = item.name
        first = by_name.get(name)
        if first is not None:
            where, other = item.where("name"), first.where("name")
            problems.append(
                Problem(
                    where.file,
                    where.line,
                    "name",
                    f"duplicate {kind} name {name!r} (also in {other})",
                )
            )
            continue
        by_name[name] = item
    return dict(sorted(by_name.items()))


def _check_targets(config: RepoConfig, problems: list[Problem]) -> None:
    """What a target needs and what only one kind of target takes."""

    def report(path: KeyPath, message: str) -> None:
        problems.append(config.doc.problem(path, message))

    kube = config.kube_clusters
    problem = service_name_problem(config.gateway.name) if config.gateway is not None else None
    if kube and problem is not None:
        report(("gateway", "name"), f"{problem} (the gateway's Service)")
    if kube and config.argocd is None:
        report((), f"missing required key 'argocd' (cluster {kube[0].name!r} is synced by Argo CD)")
    if kube and not config.namespace:
        report((), f"missing required key 'namespace' (the lanes of cluster {kube[0].name!r})")
    data = config.doc.data
    for index, cluster in enumerate(config.clusters):
        given = data["clusters"][index]
        if cluster.is_compose:
            for key in ("kubernetesVersion", "server"):
                if key in given:
                    report(("clusters", index, key), f"a compose host has no {key}; remove it")
        else:
            for key in ("publishAddress", "composeFile"):
                if key in given:
                    report(
                        ("clusters", index, key),
                        f"{key} applies to a compose host (target: compose) only",
                    )
    if config.argocd is not None and config.argocd.hub is not None:
        _check_hub(config, config.argocd.hub, report)


def _check_hub(config: RepoConfig, hub: str, report: Callable[[KeyPath, str], None]) -> None:
    """One Argo CD syncs every cluster: it must be one of them, and it must be able to
    tell the others apart (each by its own server, none by the hub's in-cluster address)."""
    if hub not in {c.name for c in config.kube_clusters}:
        known = ", ".join(c.name for c in config.kube_clusters) or "none"
        report(
            ("argocd", "hub"),
            f"hub {hub!r} is not a Kubernetes cluster of this repo (clusters: {known})",
        )
        return
    given = config.doc.data["clusters"]
    servers: dict[str, str] = {}
    for index, cluster in enumerate(config.clusters):
        if cluster.is_compose:
            continue
        if cluster.name != hub and "server" not in given[index]:
            report(
                ("clusters", index),
                f"cluster {cluster.name!r} needs its server: the hub {hub!r} syncs it, and "
                f"without one its objects would go to the hub itself ({IN_CLUSTER})",
            )
            continue
        address = _api_address(cluster.server)
        other = servers.get(address)
        if other is not None:
            report(
                ("clusters", index, "server"),
                f"cluster {cluster.name!r} has the server of cluster {other!r}: one Argo CD "
                "would deploy both trees to the same cluster",
            )
        servers.setdefault(address, cluster.name)


def _api_address(server: str) -> str:
    """The API server a URL reaches: scheme and host in any letter case, and the scheme's
    own port written out or not, are one address (Argo CD itself matches the text, so the
    rendered server stays as written)."""
    parts = urllib.parse.urlsplit(server)
    try:
        port = parts.port
    except ValueError:
        return server
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    shown = "" if port is None or port == default else f":{port}"
    return f"{parts.scheme.lower()}://{host}{shown}{parts.path.rstrip('/')}"


def _with_cluster(node: Node, config: RepoConfig, problems: list[Problem]) -> Node:
    names = [c.name for c in config.clusters]
    if node.cluster:
        if node.cluster not in names:
            where = node.where("cluster")
            problems.append(
                Problem(
                    where.file,
                    where.line,
                    "cluster",
                    f"unknown cluster {node.cluster!r} "
                    f"(gitops-gen.yaml defines: {', '.join(names)})",
                )
            )
        return node
    if len(names) > 1:
        where = node.where("name")
        problems.append(
            Problem(
                where.file,
                where.line,
                "cluster",
                f"missing required key 'cluster' (gitops-gen.yaml defines "
                f"several: {', '.join(names)})",
            )
        )
        return node
    return replace(node, cluster=names[0])


# vLLM's smallest default max_num_seqs (engine/arg_utils.py: 256 for the OpenAI server,
# more on large cards).
VLLM_LEAST_SEQS = 256


def _cross_check(
    lane: Lane,
    nodes: Mapping[str, Node] | None,
    models: Mapping[str, ModelLock] | None,
    problems: list[Problem],
) -> None:
    """References from a lane to its node and model; `None` = that side failed to load."""

    def report(key: str | KeyPath, message: str) -> None:
        path = (key,) if isinstance(key, str) else key
        where = lane.where(*path)
        problems.append(Problem(where.file, where.line, format_path(path), message))

    for index, flag, what in opaque_flags_in(lane):
        report(
            ("serve", "extraArgs", index),
            f"{flag} reads {what}, which may set the flags gitops-gen sets from serve: and "
            "checks where no rule sees them; pass its settings in extraArgs instead",
        )
    for index, flag, key in managed_flags_in(lane):
        report(
            ("serve", "extraArgs", index),
            f"{flag} is set from {key} and checked there; extraArgs may not repeat it "
            "(the server takes the last value, which no rule would see)",
        )
    tokens, seqs = lane.serve.get("maxNumBatchedTokens"), lane.serve.get("maxNumSeqs")
    if lane.engine == "vllm" and tokens is not None and tokens < (seqs or VLLM_LEAST_SEQS):
        # vLLM's SchedulerConfig: every running sequence takes at least a token a step.
        below = (
            f"serve.maxNumSeqs ({seqs})"
            if seqs is not None
            else f"the maxNumSeqs vLLM takes when it is not set ({VLLM_LEAST_SEQS} or more)"
        )
        report(
            ("serve", "maxNumBatchedTokens"),
            f"{tokens} is below {below}: vLLM refuses to start unless "
            "maxNumBatchedTokens >= maxNumSeqs",
        )
    if lane.engine == "ollama" and lane.gpus > 0 and "ctxSize" not in lane.serve:
        report(
            "serve" if "serve" in lane.doc.data else "engine",
            "an Ollama lane must set serve.ctxSize: without it Ollama picks the context "
            "itself (4096 in older releases, more with more VRAM in newer ones), so its VRAM "
            "cannot be checked",
        )
    if lane.engine == "generic" and lane.gpus > 0 and lane.vram_mib is None:
        report(
            "engine",
            "a generic GPU lane must declare vramMiB (the most VRAM it keeps on each GPU): "
            "gitops-gen cannot estimate a server it does not know",
        )
    if lane.engine != "generic" and lane.workflows is not None:
        report("workflows", f"workflows are for generic lanes (ComfyUI), not {lane.engine}")
    if lane.engine != "generic" and lane.vram_mib is not None:
        report(
            "vramMiB",
            f"vramMiB is for generic lanes; a {lane.engine} lane is estimated from its model "
            "(record a measured peak in evidence.livePeakMiB)",
        )
    if nodes is not None:
        node = nodes.get(lane.node)
        if node is None:
            known = ", ".join(nodes) or "none"
            report("node", f"unknown node {lane.node!r} (hardware/ defines: {known})")
        elif lane.gpus > 0:
            vendors = sorted({g.vendor for g in node.gpus})
            if lane.gpu_vendor is None and len(vendors) > 1:
                report(
                    "gpus",
                    f"node {node.name!r} has {' and '.join(vendors)} GPUs; "
                    "set gpuVendor to say which this lane uses",
                )
            elif lane.gpu_vendor is not None and lane.gpu_vendor not in vendors:
                report(
                    "gpuVendor",
                    f"node {node.name!r} has no {lane.gpu_vendor} GPU "
                    f"(it has: {', '.join(vendors)})",
                )
    if lane.model is not None and models is not None:
        model = models.get(lane.model)
        if model is None:
            known = ", ".join(models) or f"none, or {LOCK_FILE} is missing"
            report("model", f"unknown model {lane.model!r} ({LOCK_FILE} defines: {known})")
        elif lane.engine in GGUF_ENGINES and model.format != "gguf":
            report(
                "model",
                f"engine {lane.engine} needs a gguf model; {lane.model!r} is {model.format}",
            )


# --- building the model from validated data -------------------------------------------


def _request_limit(data: Mapping[str, Any]) -> RequestLimit:
    return RequestLimit(str(data["request"]), _opt_str(data.get("limit")))


def _resources(data: Mapping[str, Any]) -> Resources:
    return Resources(_request_limit(data["cpu"]), _request_limit(data["memory"]))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _tolerations(items: list[Mapping[str, Any]]) -> tuple[Toleration, ...]:
    return tuple(
        Toleration(t["key"], t["operator"], t.get("value"), t.get("effect")) for t in items
    )


# Paths of the repo that rendered/ may never be or contain.
RESERVED_PATHS = frozenset(
    {
        CONFIG_FILE,
        HARDWARE_DIR,
        LANES_DIR,
        LOCK_FILE,
        MANIFESTS_DIR,
        "policies",
        "workflows",
        ".git",
    }
)


def _check_rendered_path(root: Path, config: RepoConfig, problems: list[Problem]) -> None:
    """rendered/ stays inside the repo: never a spec path or inside one, never through a
    link (render would move the lock aside, or write outside the repo)."""
    rendered = config.rendered_path
    problem = None
    first = rendered.split("/", 1)[0]
    if first in RESERVED_PATHS:
        problem = f"{rendered!r} would put the output on or inside {first}, a spec path"
    else:
        walked = root
        for part in rendered.split("/"):
            walked = walked / part
            if walked.is_symlink():
                problem = f"{walked.relative_to(root).as_posix()} is a link; refused"
                break
    if problem is not None:
        where = config.where("argocd", "renderedPath")
        problems.append(Problem(where.file, where.line, "argocd.renderedPath", problem))


def _device_plugin(doc: SourceDoc, plugin: Mapping[str, Any], *, vendor: str) -> DevicePlugin:
    """`devicePlugin` (NVIDIA) or `amdDevicePlugin`; the AMD chart has no GFD/NFD parts."""
    nvidia = vendor == "nvidia"
    return DevicePlugin(
        doc=doc,
        prefix=("devicePlugin" if nvidia else "amdDevicePlugin",),
        vendor=vendor,
        chart_repo=plugin["chart"]["repoURL"],
        chart_name=plugin["chart"]["name"],
        chart_version=plugin["chart"]["version"],
        namespace=plugin.get(
            "namespace", f"{vendor}-device-plugin" if nvidia else "amd-gpu-device-plugin"
        ),
        image=plugin["image"],
        gfd=nvidia and plugin.get("gfd", True),
        nfd=nvidia and plugin.get("nfd", True),
        mig_strategy=plugin.get("migStrategy", "none"),
        fail_on_init_error=plugin.get("failOnInitError", True),
        device_list_strategy=plugin.get("deviceListStrategy", "envvar"),
        device_id_strategy=plugin.get("deviceIDStrategy", "uuid"),
        node_selector=dict(sorted(plugin.get("nodeSelector", {}).items())),
        tolerations=_tolerations(plugin.get("tolerations", [])),
        nfd_image=plugin.get("nfdImage") if nvidia else None,
    )


def _config(doc: SourceDoc) -> RepoConfig:
    d = doc.data
    conventions = d.get("conventions", {})
    argo = d.get("argocd")
    plugin = d.get("devicePlugin")
    amd_plugin = d.get("amdDevicePlugin")
    prefetch = d["prefetch"]
    gateway = d.get("gateway")
    isolation = d.get("networkPolicies")
    monitoring = d.get("monitoring")
    features = d.get("nodeFeatureRules")
    return RepoConfig(
        node_feature_rules=NodeFeatureRules(features.get("taints", False))
        if features is not None and features["enabled"]
        else None,
        monitoring=_monitoring(doc, monitoring)
        if monitoring is not None and monitoring["enabled"]
        else None,
        doc=doc,
        clusters=tuple(
            Cluster(
                c["name"],
                c.get("kubernetesVersion", ""),
                # Argo CD stores a cluster's server without a trailing slash, and looks
                # a destination up exactly as written.
                c.get("server", IN_CLUSTER).rstrip("/"),
                target=c.get("target", KUBERNETES),
                publish_address=c.get("publishAddress", "127.0.0.1"),
                compose_file=c.get("composeFile"),
            )
            for c in d["clusters"]
        ),
        namespace=d.get("namespace", ""),
        rendered_path=(argo or {}).get("renderedPath", "rendered"),
        gpu_lane_label=conventions.get("gpuLaneLabel", "gitops-gen.dev/gpu-lane"),
        annotation_prefix=conventions.get("annotationPrefix", "gitops-gen.dev"),
        node_selector_labels=tuple(conventions.get("nodeSelectorLabels", [])),
        argocd=None
        if argo is None
        else ArgoCD(
            repo_url=argo["repoURL"],
            target_revision=argo.get("targetRevision", "HEAD"),
            namespace=argo.get("namespace", "argocd"),
            project=argo.get("project", "default"),
            automated=argo.get("automated", True),
            hub=argo.get("hub"),
        ),
        runtime_classes=tuple(
            RuntimeClass(r["vendor"], r["name"], r["handler"]) for r in d.get("runtimeClasses", [])
        ),
        device_plugin=None if plugin is None else _device_plugin(doc, plugin, vendor="nvidia"),
        amd_device_plugin=(
            None if amd_plugin is None else _device_plugin(doc, amd_plugin, vendor="amd")
        ),
        prefetch=Prefetch(
            doc=doc,
            prefix=("prefetch",),
            image=prefetch["image"],
            endpoint=prefetch.get("endpoint", "https://huggingface.co").rstrip("/"),
            token_secret=prefetch.get("tokenSecret"),
        ),
        gateway=None
        if gateway is None
        else Gateway(
            doc=doc,
            prefix=("gateway",),
            name=gateway.get("name", "litellm"),
            image=gateway["image"],
            port=gateway.get("port", 4000),
            resources=_resources(gateway["resources"]) if "resources" in gateway else None,
            extra_routes=tuple(
                GatewayRoute(r["alias"], r["model"], r["apiBase"])
                for r in gateway.get("extraRoutes", [])
            ),
            master_key_secret=_secret_ref(gateway.get("masterKeySecret")),
        ),
        network_policies=None
        if isolation is None
        else NetworkPolicies(
            isolation["enabled"],
            isolation.get("metricsFrom"),
            tuple(isolation.get("nodeCIDRs", [])),
        ),
    )


def _monitoring(doc: SourceDoc, found: Mapping[str, Any]) -> Monitoring:
    dcgm = found.get("dcgmExporter")
    return Monitoring(
        doc=doc,
        prefix=("monitoring",),
        enabled=True,
        labels=dict(sorted(found.get("labels", {}).items())),
        dcgm_exporter=None
        if dcgm is None
        else DcgmExporter(
            doc=doc,
            prefix=("monitoring", "dcgmExporter"),
            chart_repo=dcgm["chart"]["repoURL"],
            chart_name=dcgm["chart"]["name"],
            chart_version=dcgm["chart"]["version"],
            image=dcgm["image"],
            namespace=dcgm.get("namespace", "gpu-monitoring"),
        ),
    )


def _secret_ref(found: Mapping[str, str] | None) -> tuple[str, str] | None:
    return None if found is None else (found["name"], found.get("key", "master-key"))


def _node(doc: SourceDoc) -> Node:
    d = doc.data
    reserved = d.get("systemReserved")
    return Node(
        doc=doc,
        name=d["name"],
        cluster=d.get("cluster", ""),
        labels=dict(sorted(d.get("labels", {}).items())),
        taints=tuple(Taint(t["key"], t.get("value"), t["effect"]) for t in d.get("taints", [])),
        allocatable=CpuMemory(d["allocatable"]["cpu"], d["allocatable"]["memory"]),
        system_reserved=None
        if reserved is None
        else CpuMemory(reserved["cpu"], reserved["memory"]),
        gpus=tuple(
            Gpu(
                vendor=g["vendor"],
                model=g["model"],
                count=g["count"],
                vram_mib=g["vramMiB"],
                compute_capability=g.get("computeCapability"),
                gfx_version=g.get("gfxVersion"),
                mig=g.get("mig", False),
                device_groups=tuple(g.get("deviceGroups", [])),
                driver_version=g.get("driverVersion"),
                cuda_version=g.get("cudaVersion"),
                time_slicing=g["timeSlicing"]["replicas"] if "timeSlicing" in g else None,
                power_limit_w=g.get("powerLimitW"),
            )
            for g in d["gpus"]
        ),
        model_cache=ModelCache(
            d["modelCache"].get("hostPath"),
            d["modelCache"]["mountPath"],
            d["modelCache"].get("size"),
            (d["modelCache"].get("persistentVolumeClaim") or {}).get("claimName"),
        ),
    )


def _lane(doc: SourceDoc) -> Lane:
    d = doc.data
    evidence = d.get("evidence")
    return Lane(
        doc=doc,
        name=d["name"],
        description=d.get("description"),
        active=d.get("active", False),
        node=d["node"],
        gpus=d.get("gpus", 1),
        gpu_vendor=d.get("gpuVendor"),
        vram_mib=d.get("vramMiB"),
        engine=d["engine"],
        image=d["image"],
        engine_version=d.get("engineVersion"),
        model=d.get("model"),
        served_name=d.get("servedName", d["name"]),
        serve=dict(d.get("serve", {})),
        env=dict(sorted(d.get("env", {}).items())),
        resources=_resources(d["resources"]),
        shm_size=d.get("shmSize", "8Gi"),
        aliases=tuple(d.get("aliases", [])),
        workflows=None
        if "workflows" not in d
        else LaneWorkflows(d["workflows"]["registry"], d["workflows"]["mountPath"]),
        evidence=None
        if evidence is None
        else Evidence(
            gpu_model=evidence["gpuModel"],
            live_peak_mib=evidence.get("livePeakMiB"),
            date=evidence["date"],
            note=evidence.get("note"),
            ctx_size=evidence.get("ctxSize"),
        ),
    )


def _models(doc: SourceDoc) -> dict[str, ModelLock]:
    result: dict[str, ModelLock] = {}
    for name, m in sorted(doc.data["models"].items()):
        arch = m.get("architecture")
        result[name] = ModelLock(
            doc=doc,
            prefix=("models", name),
            name=name,
            format=m["format"],
            file=m.get("file"),
            files=tuple(
                ModelFile(f["path"], f["sha256"], f["sizeBytes"]) for f in m.get("files", [])
            ),
            hf_repo=m["source"]["hf"],
            revision=m["source"].get("revision"),
            sha256=m.get("sha256"),
            size_bytes=m.get("sizeBytes"),
            quant=m.get("quant"),
            dtype=m.get("dtype"),
            prefetch=m.get("prefetch", True),
            architecture=None
            if arch is None
            else Architecture(
                layers=arch["layers"],
                attention_layers=arch.get("attentionLayers", arch["layers"]),
                kv_heads=arch["kvHeads"],
                head_dim=arch["headDim"],
                sliding_window=arch.get("slidingWindow"),
                sliding_window_layers=arch.get("slidingWindowLayers", 0),
                context_length=arch.get("contextLength"),
                params=arch.get("params"),
                active_params=arch.get("activeParams"),
                attention_heads=arch.get("attentionHeads"),
                hidden_size=arch.get("hiddenSize"),
                vocab_size=arch.get("vocabSize"),
                intermediate_size=arch.get("intermediateSize"),
            ),
        )
    return result
