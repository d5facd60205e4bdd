"""Hand-written manifests: read exactly what Argo CD's directory source will sync.

Argo CD reads `*.yaml`, `*.yml` and `*.json` (one object per JSON file) in the
Application's path, evaluates `*.jsonnet`, skips empty YAML documents, and (with
`recurse: false`, as gitops-gen renders the manifests Application) ignores
subdirectories. Whatever it would sync, gitops-gen must read, or a GPU pod reaches the
card unseen. Names are checked as the API server checks them: Argo CD cannot sync an
object the server refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gitops_gen.errors import InputError, Problem
from gitops_gen.specs.model import Manifest, RepoConfig
from gitops_gen.specs.source import KeyPath, SourceDoc, parse_yaml_documents, read_text

# Where the pod spec sits in each workload kind.
POD_PATHS: Mapping[str, KeyPath] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Pod": ("spec",),
}
MANIFESTS_DIR = "manifests"
# The file names Argo CD's directory source reads (its manifest-file pattern).
ARGOCD_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet")

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
# Kinds whose metadata.name the API server checks as a DNS-1123 label, not a subdomain.
_LABEL_NAMED_KINDS = {"Namespace"}
# RBAC names are path segments ("system:controller:x" is valid): anything but '/' and '%'.
_PATH_SEGMENT_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def manifest_files(root: Path, directory: str) -> list[str]:
    """The files of `directory` (not its subdirectories) Argo CD would read, sorted."""
    folder = root / directory
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.endswith(ARGOCD_MANIFEST_SUFFIXES)]
    return sorted(f"{directory}/{p.name}" for p in found if p.is_file())


def load_manifests(root: Path, config: RepoConfig, problems: list[Problem]) -> tuple[Manifest, ...]:
    """manifests/* for a single cluster, manifests/<cluster>/* for several."""
    clusters = [c.name for c in config.clusters]
    found: list[Manifest] = []
    places = [(MANIFESTS_DIR, clusters[0] if len(clusters) == 1 else None)]
    places += [(f"{MANIFESTS_DIR}/{c}", c) for c in clusters if (root / MANIFESTS_DIR / c).is_dir()]
    for directory, cluster in places:
        for rel in manifest_files(root, directory):
            target = config.cluster(cluster) if cluster is not None else None
            if target is not None and target.is_compose:
                problems.append(
                    Problem(
                        rel,
                        0,
                        "",
                        f"{cluster} is a compose host: hand-written services go in the "
                        "compose file named by its composeFile, not in manifests/",
                    )
                )
                continue
            if cluster is None:
                problems.append(
                    Problem(
                        rel,
                        0,
                        "",
                        "several clusters are configured: put "
                        f"hand-written manifests in {MANIFESTS_DIR}/<cluster>/",
                    )
                )
                continue
            try:
                docs = _read(root, rel)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            for doc in docs:
                found_problems = list(manifest_problems(doc))
                problems.extend(doc.problem(path, message) for path, message in found_problems)
                if not found_problems:
                    found.append(Manifest(doc=doc, cluster=cluster, directory=directory))
    return tuple(found)


def _read(root: Path, rel: str) -> list[SourceDoc]:
    text = read_text(root, rel)
    if rel.endswith(".jsonnet"):
        # Argo CD would evaluate it and sync the result; gitops-gen cannot see that result.
        raise InputError(
            [
                Problem(
                    rel,
                    1,
                    "",
                    "Argo CD evaluates Jsonnet here but gitops-gen cannot check it: "
                    "commit its output as YAML or JSON instead",
                )
            ]
        )
    if rel.endswith(".json"):
        return [_read_json(text, rel)]
    # kubectl and Argo CD skip empty documents (a file ending in '---', say).
    return [d for d in parse_yaml_documents(text, file=rel) if d.data is not None]


def _read_json(text: str, rel: str) -> SourceDoc:
    """One JSON object per file, as Argo CD reads it; lines from the YAML reader when it
    can read the text (JSON is nearly always valid YAML), else every key at line 1."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(rel, exc.lineno, "", f"invalid JSON: {exc.msg}")]) from None
    try:
        docs = parse_yaml_documents(text, file=rel)
    except InputError:
        docs = []
    if len(docs) == 1 and docs[0].data == data:
        return docs[0]
    return SourceDoc(file=rel, data=data, lines={(): 1})


def manifest_problems(doc: SourceDoc) -> Iterator[tuple[KeyPath, str]]:
    """What the API server (and so Argo CD) would refuse in a hand-written object."""
    data = doc.data
    if not isinstance(data, dict):
        yield (), "expected a Kubernetes object (a mapping)"
        return
    for key in ("apiVersion", "kind"):
        if not isinstance(data.get(key), str):
            yield (key,), f"missing required key {key!r}"
            return
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        yield ("metadata",), "missing required key 'metadata.name'"
        return
    name = meta.get("name")
    if not isinstance(name, str):
        if "generateName" in meta:
            yield (
                ("metadata", "generateName"),
                "generateName without metadata.name: Argo CD cannot sync an object without "
                "metadata.name (it could never find it again); set a fixed name",
            )
        else:
            yield ("metadata",), "missing required key 'metadata.name'"
        return
    kind = str(data["kind"])
    if kind in _PATH_SEGMENT_KINDS:
        if name in (".", "..") or "/" in name or "%" in name:
            yield ("metadata", "name"), f"{name!r} must not be '.' or '..' nor contain '/' or '%'"
    elif kind == "Service":
        problem = service_name_problem(name)
        if problem is not None:
            yield ("metadata", "name"), problem
    elif kind in _LABEL_NAMED_KINDS:
        yield from _label(name, ("metadata", "name"), f"a {kind} name")
    else:
        yield from _subdomain(name, ("metadata", "name"), "an object name")
    namespace = meta.get("namespace")
    if namespace is not None:
        yield from _label(str(namespace), ("metadata", "namespace"), "a namespace")
    pod_path = POD_PATHS.get(kind)
    pod = _get(data, pod_path) if pod_path else None
    if pod_path is None or not isinstance(pod, dict):
        return
    for key in ("serviceAccountName", "serviceAccount"):
        if key in pod:
            yield from _subdomain(str(pod[key]), (*pod_path, key), "a service account name")
    for group in ("initContainers", "containers", "ephemeralContainers"):
        containers = pod.get(group)
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            if isinstance(container, dict) and "name" in container:
                yield from _label(
                    str(container["name"]), (*pod_path, group, index, "name"), "a container name"
                )


def _get(data: Any, path: KeyPath) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")


def service_name_problem(name: str) -> str | None:
    """Why the API server refuses `name` for a Service (a DNS-1035 label: a DNS-1123
    label that starts with a letter, since it becomes a DNS name); None if it does not."""
    if len(name) <= 63 and _DNS_1035_LABEL.match(name):
        return None
    return (
        f"{name!r} is not valid as a Service name: the API server wants a DNS-1035 label "
        "(lowercase letters, digits and '-', starting with a letter and ending with a letter "
        "or digit, at most 63 characters)"
    )


def _label(value: str, path: KeyPath, what: str) -> Iterator[tuple[KeyPath, str]]:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        yield (
            path,
            f"{value!r} is not valid as {what}: the API server wants a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "at most 63 characters)",
        )


def _subdomain(value: str, path: KeyPath, what: str) -> Iterator[tuple[KeyPath, str]]:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        yield (
            path,
            f"{value!r} is not valid as {what}: the API server wants a DNS-1123 subdomain "
            "(lowercase letters, digits, '-' and '.', starting and ending with a letter or "
            "digit, at most 253 characters)",
        )
