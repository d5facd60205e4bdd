"""Validate rendered objects against the Kubernetes OpenAPI schemas, strictly.

Uses the schemas kubernetes-validate bundles, but compiles one validator per
(Kubernetes version, apiVersion, kind) and reuses it: loading the 1.5 MB definitions
file per object would dominate the run on a large repo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

from gitops_gen.fastschema import Predicate, SchemaCompiler, Unsupported, compile_local
from gitops_gen.source import format_path

# Kinds Kubernetes itself does not define; gitops-gen ships their schemas.
_OWN_SCHEMAS = {("argoproj.io/v1alpha1", "Application"): "application-argoproj-v1alpha1.json"}


@dataclass(frozen=True)
class SchemaViolation:
    path: str
    message: str


def supported_versions() -> list[str]:
    root = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
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
class KubeSchemas:
    """Compiled validators for one Kubernetes version, built on first use."""

    kubernetes_version: str
    _dir: Any = field(init=False, default=None)
    _registry: Any = field(init=False, default=None)
    _validators: dict[tuple[str, str], Any] = field(init=False, default_factory=dict)
    _fast: dict[tuple[str, str], Predicate | None] = field(init=False, default_factory=dict)
    _compiler: SchemaCompiler | None = field(init=False, default=None)

    def _setup(self) -> None:
        version = _schema_version(self.kubernetes_version)
        self._dir = resources.files("kubernetes_validate").joinpath(
            "kubernetes-json-schema", f"v{version}.0-local-strict"
        )
        definitions = json.loads(self._dir.joinpath("_definitions.json").read_text("utf-8"))
        resource = referencing.Resource.from_contents(
            definitions, default_specification=referencing.jsonschema.DRAFT202012
        )
        self._registry = referencing.Registry().with_resource(definitions["$id"], resource)

        def resolve(base: str, ref: str) -> tuple[str, Any]:
            # Kind files point at "/api/_definitions.json#/$defs/X"; the definitions
            # point at each other with "#/$defs/X". Both land in the one definitions file.
            _doc, _, pointer = ref.partition("#")
            parts = pointer.strip("/").split("/")
            if len(parts) != 2 or parts[0] != "$defs":
                raise Unsupported(f"$ref {ref!r}")
            return f"definitions#{pointer}", definitions["$defs"][parts[1]]

        self._compiler = SchemaCompiler(resolve)

    def validator(self, api_version: str, kind: str) -> Any:
        key = (api_version, kind)
        if key in self._validators:
            return self._validators[key]
        fast: Predicate | None = None
        own = _OWN_SCHEMAS.get(key)
        if own is not None:
            schema = json.loads(
                resources.files("gitops_gen").joinpath("schemas", "k8s", own).read_text("utf-8")
            )
            found = jsonschema.Draft202012Validator(schema)
            fast = _try_compile(lambda: compile_local(schema))
        else:
            if self._registry is None:
                self._setup()
            group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            filename = f"{kind.lower()}-{group}.json"
            try:
                schema = json.loads(self._dir.joinpath(filename).read_text("utf-8"))
            except FileNotFoundError:
                found = None
            else:
                found = jsonschema.Draft202012Validator(schema, registry=self._registry)
                compiler = self._compiler
                assert compiler is not None
                fast = _try_compile(lambda: compiler.compile(schema))
        self._validators[key] = found
        self._fast[key] = fast
        return found

    def violations(self, obj: Mapping[str, Any]) -> Iterator[SchemaViolation]:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        validator = self.validator(api_version, kind)
        if validator is None:
            yield SchemaViolation(
                "", f"no schema for {api_version} {kind} in Kubernetes {self.kubernetes_version}"
            )
            return
        fast = self._fast.get((api_version, kind))
        if fast is not None and fast(obj):
            return
        for error in sorted(
            validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))
        ):
            yield SchemaViolation(format_path(tuple(error.absolute_path)), _message(error))


def _try_compile(build: Any) -> Predicate | None:
    try:
        predicate: Predicate = build()
    except Unsupported:
        return None
    return predicate


def _message(error: jsonschema.ValidationError) -> str:
    message = str(error.message)
    if error.validator == "additionalProperties":
        return message.replace("Additional properties are not allowed", "unknown field")
    return message
