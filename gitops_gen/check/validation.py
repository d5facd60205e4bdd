"""Validate rendered objects against the Kubernetes OpenAPI schemas, strictly.

Uses the schemas kubernetes-validate bundles, but compiles one validator per
(Kubernetes version, apiVersion, kind) and reuses it: loading the 1.5 MB definitions
file per object would dominate the run on a large repo.

The OpenAPI schemas say less than the API server enforces: a Quantity is "string or
number" and `imagePullPolicy` any string, so `memory: 64 GiB` or `imagePullPolicy:
Sometimes` validated and then failed at sync. The definitions are tightened in memory
before anything is compiled (API_ENUMS, the `quantity` format, the pod restart policies
of Jobs and of long-running workloads), so the compiled predicates and jsonschema's
explanations see the same schema and give the same verdicts.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gitops_gen.cache import Cache, digest
from gitops_gen.render.templating import RenderedTree
from gitops_gen.specs.fastschema import (
    Predicate,
    SchemaCompiler,
    Unsupported,
    compile_local,
    format_checker,
)
from gitops_gen.specs.model import Repo
from gitops_gen.specs.quantity import QUANTITY_HINT, quantity_format
from gitops_gen.specs.source import format_path

# Kinds whose real CustomResourceDefinition gitops-gen ships (schemas/crds/NOTICE): the
# prometheus-operator version its monitors and rules are checked against.
PROMETHEUS_OPERATOR = "0.93.0"
_CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "PodMonitor"): "monitoring.coreos.com_podmonitors.yaml",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_prometheusrules.yaml",
    # Node Feature Discovery 0.17.3, the version the NVIDIA device plugin chart bundles.
    ("nfd.k8s-sigs.io/v1alpha1", "NodeFeatureRule"): "nfd-api-crds.yaml",
    # Argo CD 3.5.1: its Applications and AppProjects (rendered and hand-written), and
    # the ApplicationSet a hub renders (argocd.hub).
    ("argoproj.io/v1alpha1", "Application"): "argoproj.io_applications.yaml",
    ("argoproj.io/v1alpha1", "AppProject"): "argoproj.io_appprojects.yaml",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "argoproj.io_applicationsets.yaml",
    # KEDA 2.20.2: an autoscaler the inventory counts at its maximum (_AUTOSCALERS there).
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_scaledobjects.yaml",
}

FORMATS: Mapping[str, Predicate] = {"quantity": quantity_format}
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

_CORE = "io.k8s.api.core.v1."
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# (definition, property) -> the values the API server accepts, from its validation code
# (the descriptions in the schemas name them). "" and null are accepted where the API
# server fills in a default before validating (imagePullPolicy, protocol, Service type...).
API_ENUMS: Mapping[tuple[str, str], tuple[str, ...]] = {
    (_CORE + "Container", "imagePullPolicy"): ("Always", "IfNotPresent", "Never", ""),
    (_CORE + "EphemeralContainer", "imagePullPolicy"): ("Always", "IfNotPresent", "Never", ""),
    (_CORE + "ContainerPort", "protocol"): ("TCP", "UDP", "SCTP", ""),
    (_CORE + "ServicePort", "protocol"): ("TCP", "UDP", "SCTP", ""),
    (_CORE + "ServiceSpec", "type"): ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName", ""),
    (_CORE + "PodSpec", "restartPolicy"): ("Always", "OnFailure", "Never", ""),
    (_CORE + "Taint", "effect"): _TAINT_EFFECTS,
    (_CORE + "Toleration", "effect"): (*_TAINT_EFFECTS, ""),  # "" = every effect
    # Lt and Gt sit behind an alpha feature gate (off by default) where they exist at all.
    (_CORE + "Toleration", "operator"): ("Exists", "Equal", ""),
    (_CORE + "SeccompProfile", "type"): ("RuntimeDefault", "Localhost", "Unconfined"),
    (_CORE + "HostPathVolumeSource", "type"): (
        "",
        "DirectoryOrCreate",
        "Directory",
        "FileOrCreate",
        "File",
        "Socket",
        "CharDevice",
        "BlockDevice",
    ),
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"): ("Recreate", "RollingUpdate", ""),
}
# Pod templates whose restartPolicy the owning controller restricts: a Job's pods must
# stop (the API server refuses a Job whose template leaves it to default to Always),
# long-running workloads' pods must restart.
_JOB_POD = {
    "required": ["restartPolicy"],
    "properties": {"restartPolicy": {"enum": ["OnFailure", "Never"]}},
}
_SERVING_POD = {"properties": {"restartPolicy": {"enum": ["Always", "", None]}}}
POD_TEMPLATES: Mapping[str, Mapping[str, Any]] = {
    "io.k8s.api.batch.v1.JobSpec": _JOB_POD,
    "io.k8s.api.apps.v1.DeploymentSpec": _SERVING_POD,
    "io.k8s.api.apps.v1.StatefulSetSpec": _SERVING_POD,
    "io.k8s.api.apps.v1.DaemonSetSpec": _SERVING_POD,
    "io.k8s.api.apps.v1.ReplicaSetSpec": _SERVING_POD,
}


def tighten(definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions with what the API server enforces beyond them (a new dict; the
    definitions a Kubernetes version lacks are left out)."""
    defs = dict(definitions)

    def edit(name: str) -> dict[str, Any] | None:
        if name not in defs:
            return None
        defs[name] = copied = copy.deepcopy(defs[name])
        return copied if isinstance(copied, dict) else None

    quantity = edit(QUANTITY)
    if quantity is not None:
        quantity["format"] = "quantity"
    for (name, prop), values in API_ENUMS.items():
        found = edit(name)
        if found is not None and prop in found.get("properties", {}):
            types = found["properties"][prop].get("type") or []
            nullable = "null" in ([types] if isinstance(types, str) else types)
            found["properties"][prop]["enum"] = [*values, *([None] if nullable else [])]
    for name, pod in POD_TEMPLATES.items():
        found = edit(name)
        if found is not None and "template" in found.get("properties", {}):
            template = found["properties"]["template"]
            found["properties"]["template"] = {
                "allOf": [template, {"properties": {"spec": dict(pod)}}]
            }
    return defs


@dataclass(frozen=True)
class SchemaViolation:
    path: str
    message: str


def _bundled_schemas() -> Path:
    """kubernetes-validate's schema directory, found without importing the package
    (its __init__ pulls in jsonschema, PyYAML and more: a tenth of a second per run)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("kubernetes-validate is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def supported_versions() -> list[str]:
    root = _bundled_schemas()
    found = {
        m.group(1)
        for p in root.iterdir()
        if (m := re.match(r"^v(\d+\.\d+)\.\d+-local-strict$", p.name))
    }
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def _schema_version(desired: str) -> str:
    """The newest bundled version not newer than `desired` (as kubernetes-validate does)."""
    key = tuple(int(x) for x in desired.split("."))
    candidates = [v for v in supported_versions() if tuple(int(x) for x in v.split(".")) <= key]
    if not candidates:
        raise ValueError(
            f"no Kubernetes schemas for {desired}; bundled: {', '.join(supported_versions())}"
        )
    return candidates[-1]


@dataclass
class _Kind:
    schema: Mapping[str, Any]
    own: bool  # a shipped CRD's schema (self-contained) or Kubernetes' (refs to definitions)
    fast: Predicate | None
    explain: Any = None  # the jsonschema validator, built only to explain a failure


@dataclass
class KubeSchemas:
    """Validators for one Kubernetes version, compiled on first use of each kind.

    Valid objects (nearly all) only ever meet the compiled predicates; jsonschema is
    imported and built only to explain an object that fails.
    """

    kubernetes_version: str
    _dir: Path = field(init=False, default=Path())
    _definitions: dict[str, Any] = field(init=False, default_factory=dict)
    _kinds: dict[tuple[str, str], _Kind | None] = field(init=False, default_factory=dict)
    _compiler: SchemaCompiler | None = field(init=False, default=None)
    _registry: Any = field(init=False, default=None)

    def _setup(self) -> SchemaCompiler:
        if self._compiler is not None:
            return self._compiler
        version = _schema_version(self.kubernetes_version)
        self._dir = _bundled_schemas() / f"v{version}.0-local-strict"
        definitions = json.loads((self._dir / "_definitions.json").read_text("utf-8"))
        definitions["$defs"] = tighten(definitions["$defs"])
        self._definitions = definitions

        def resolve(base: str, ref: str) -> tuple[str, Any]:
            # Kind files point at "/api/_definitions.json#/$defs/X"; the definitions
            # point at each other with "#/$defs/X". Both land in the one definitions file.
            _doc, _, pointer = ref.partition("#")
            parts = pointer.strip("/").split("/")
            if len(parts) != 2 or parts[0] != "$defs":
                raise Unsupported(f"$ref {ref!r}")
            return f"definitions#{pointer}", definitions["$defs"][parts[1]]

        self._compiler = SchemaCompiler(resolve, FORMATS)
        return self._compiler

    def _kind(self, api_version: str, kind: str) -> _Kind | None:
        key = (api_version, kind)
        if key in self._kinds:
            return self._kinds[key]
        found: _Kind | None
        crd = _CRD_SCHEMAS.get(key)
        if crd is not None:
            schema = crd_schema(crd, api_version.rpartition("/")[2], kind)
            found = _Kind(schema, True, _try_compile(lambda: compile_local(schema, FORMATS)))
        else:
            compiler = self._setup()
            group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            try:
                text = (self._dir / f"{kind.lower()}-{group}.json").read_text("utf-8")
            except FileNotFoundError:
                found = None
            else:
                schema = json.loads(text)
                found = _Kind(schema, False, _try_compile(lambda: compiler.compile(schema)))
        self._kinds[key] = found
        return found

    def validator(self, api_version: str, kind: str) -> Any:
        """The jsonschema validator of a kind (None if Kubernetes has no such kind)."""
        entry = self._kind(api_version, kind)
        if entry is None:
            return None
        if entry.explain is None:
            import jsonschema

            checker = format_checker(FORMATS)
            if entry.own:
                entry.explain = jsonschema.Draft202012Validator(
                    entry.schema, format_checker=checker
                )
            else:
                entry.explain = jsonschema.Draft202012Validator(
                    entry.schema, registry=self._registry_(), format_checker=checker
                )
        return entry.explain

    def fast(self, api_version: str, kind: str) -> Predicate | None:
        entry = self._kind(api_version, kind)
        return entry.fast if entry is not None else None

    def _registry_(self) -> Any:
        if self._registry is None:
            import referencing
            import referencing.jsonschema

            resource = referencing.Resource.from_contents(
                self._definitions, default_specification=referencing.jsonschema.DRAFT202012
            )
            self._registry = referencing.Registry().with_resource(
                self._definitions["$id"], resource
            )
        return self._registry

    def violations(self, obj: Mapping[str, Any]) -> Iterator[SchemaViolation]:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        entry = self._kind(api_version, kind)
        if entry is None:
            yield SchemaViolation(
                "", f"no schema for {api_version} {kind} in Kubernetes {self.kubernetes_version}"
            )
            return
        if entry.fast is not None and entry.fast(obj):
            return
        validator = self.validator(api_version, kind)
        for error in sorted(
            validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))
        ):
            yield SchemaViolation(format_path(tuple(error.absolute_path)), _message(error))


def crd_schema(file: str, version: str, kind: str) -> dict[str, Any]:
    """A shipped CRD's openAPIV3Schema for `version`, as a strict JSON Schema: the API
    server refuses unknown fields (strict field validation), so every object schema
    that lists its properties and does not preserve unknown fields gets
    additionalProperties false; an object needs metadata.name."""
    import yaml

    text = resources.files("gitops_gen").joinpath("schemas", "crds", file).read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # Argo CD's is 1.4 MB
    docs = yaml.load_all(text, Loader=loader)
    (crd,) = [d for d in docs if d and d["spec"]["names"]["kind"] == kind]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _strict(copy.deepcopy(served["schema"]["openAPIV3Schema"]))
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1}},
    }
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# Go's RE2 takes inline flags anywhere (`^(?i)(abort|warn)?$`); Python only at the start.
_LATE_FLAGS = re.compile(r"\^\(\?([a-z]+)\)")


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        found = {k: _strict(v) for k, v in schema.items()}
        pattern = found.get("pattern")
        if isinstance(pattern, str) and _LATE_FLAGS.match(pattern):
            found["pattern"] = _LATE_FLAGS.sub(r"(?\1)^", pattern, count=1)
        if (
            "properties" in found
            and "additionalProperties" not in found
            and not found.get("x-kubernetes-preserve-unknown-fields")
        ):
            found["additionalProperties"] = False
        return found
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _try_compile(build: Any) -> Predicate | None:
    try:
        predicate: Predicate = build()
    except Unsupported:
        return None
    return predicate


def _message(error: Any) -> str:
    message = str(error.message)
    if error.validator == "additionalProperties":
        return message.replace("Additional properties are not allowed", "unknown field")
    if error.validator == "format" and error.validator_value == "quantity":
        return f"{error.instance!r} is not a Kubernetes quantity ({QUANTITY_HINT})"
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value if v)
        return f"{error.instance!r} is not one of {allowed}"
    return message


@functools.lru_cache(maxsize=1)
def _compose_validator() -> Any:
    """The Compose Specification's own schema (schemas/compose/NOTICE), compiled once."""
    import jsonschema

    text = resources.files("gitops_gen").joinpath("schemas", "compose", "compose-spec.json")
    return jsonschema.Draft7Validator(json.loads(text.read_text("utf-8")))


def compose_violations(data: Any) -> list[SchemaViolation]:
    """What `docker compose` would refuse in a compose file, by the Compose Specification."""
    validator = _compose_validator()
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [
        SchemaViolation(format_path(tuple(e.absolute_path)), _compose_message(e)) for e in errors
    ]


def _compose_message(error: Any) -> str:
    """The compose schema allows `x-` extensions beside its keys; name the unknown ones."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = sorted(
            str(k)
            for k in error.instance
            if k not in known and not any(p.search(str(k)) for p in patterns)
        )
        if extra:
            return f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
    return _message(error)


def rendered_violations(
    repo: Repo, tree: RenderedTree, cache: Cache | None = None
) -> dict[str, list[SchemaViolation]]:
    """The schema violations of every rendered object that has any, by rendered path.

    An object the cache knows passed the schemas of its cluster's version (the same JSON,
    the same version, the same gitops-gen) is not validated again."""
    versions = {c.name: c.kubernetes_version for c in repo.config.clusters}
    schemas: dict[str, KubeSchemas] = {}
    found: dict[str, list[SchemaViolation]] = {}
    for obj in tree.objects:
        cluster = obj.path.split("/", 1)[0]
        content = tree.digests.get(obj.path)
        key = digest(versions[cluster], content) if cache is not None and content else None
        if key is not None and cache is not None and cache.get("valid", key):
            continue
        if cluster not in schemas:
            schemas[cluster] = KubeSchemas(versions[cluster])
        violations = list(schemas[cluster].violations(obj.data))
        if violations:
            found[obj.path] = violations
        elif key is not None and cache is not None:
            cache.put("valid", key, 1)
    for compose in tree.compose:
        content = tree.digests.get(compose.path)
        key = digest("compose", content) if cache is not None and content else None
        if key is not None and cache is not None and cache.get("valid", key):
            continue
        violations = compose_violations(compose.data)
        if violations:
            found[compose.path] = violations
        elif key is not None and cache is not None:
            cache.put("valid", key, 1)
    return found
