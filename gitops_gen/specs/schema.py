"""JSON Schemas of the spec files, compiled once, with errors written for people."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from gitops_gen.errors import Problem
from gitops_gen.specs.fastschema import Predicate, Unsupported, compile_local, format_checker
from gitops_gen.specs.quantity import quantity_format
from gitops_gen.specs.source import KeyPath, SourceDoc

# kind -> packaged schema file. The kind names are what `gitops-gen schema KIND` takes.
SCHEMA_FILES = {
    "config": "config.schema.json",
    "node": "node.schema.json",
    "lane": "lane.schema.json",
    "models-lock": "models-lock.schema.json",
    "policy": "policy.schema.json",
    "waivers": "waivers.schema.json",
    "known-broken": "known-broken.schema.json",
    "capabilities": "capabilities.schema.json",
    "workflows": "workflows.schema.json",
}

# Formats asserted, not only annotated: a spec quantity must be one the API server takes
# (the pattern alone lets a trailing newline through: Python's `$` matches before it).
FORMATS: dict[str, Predicate] = {"quantity": quantity_format}

_TYPE_NAMES = {
    "integer": "integer",
    "number": "number",
    "string": "string",
    "boolean": "true or false",
    "object": "mapping",
    "array": "list",
    "null": "null",
}


def schema_text(kind: str) -> str:
    return resources.files("gitops_gen").joinpath("schemas", SCHEMA_FILES[kind]).read_text("utf-8")


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def ecma_anchors(schema: Any) -> Any:
    r"""The schema with every pattern's closing `$` read as JSON Schema (ECMA-262) reads
    it: the very end of the string. Python's `$` also matches before a final newline, so
    `name: "fast\n"` would pass `^[a-z0-9-]+$` and reach the API server, which refuses it.
    The published schemas keep `$`; only the validators see `\Z`."""
    if isinstance(schema, dict):
        found = {k: ecma_anchors(v) for k, v in schema.items()}
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and pattern.endswith("$") and not pattern.endswith("\\$"):
            found["pattern"] = pattern[:-1] + "\\Z"
        return found
    if isinstance(schema, list):
        return [ecma_anchors(v) for v in schema]
    return schema


@dataclass
class SpecSchemas:
    """One compiled predicate per spec kind, built on first use and reused; jsonschema
    is built only to explain a document that fails."""

    _schemas: dict[str, tuple[dict[str, Any], Predicate | None]] = field(default_factory=dict)
    _explainers: dict[str, Any] = field(default_factory=dict)

    def _compiled(self, kind: str) -> tuple[dict[str, Any], Predicate | None]:
        found = self._schemas.get(kind)
        if found is None:
            schema = ecma_anchors(json.loads(schema_text(kind)))
            try:
                fast: Predicate | None = compile_local(schema, FORMATS)
            except Unsupported:
                fast = None
            found = self._schemas[kind] = (schema, fast)
        return found

    def validator(self, kind: str) -> Any:
        if kind not in self._explainers:
            import jsonschema

            schema, _fast = self._compiled(kind)
            self._explainers[kind] = jsonschema.validators.validator_for(schema)(
                schema, format_checker=format_checker(FORMATS)
            )
        return self._explainers[kind]

    def problems(self, kind: str, doc: SourceDoc) -> list[Problem]:
        _schema, fast = self._compiled(kind)
        if fast is not None and fast(doc.data):
            return []  # the common case; jsonschema only runs to explain a failure
        return [
            p for error in self.validator(kind).iter_errors(doc.data) for p in _explain(error, doc)
        ]


def _explain(error: Any, doc: SourceDoc) -> Iterator[Problem]:
    path: KeyPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    instance = error.instance
    expected: Any = error.validator_value

    if "propertyNames" in error.absolute_schema_path:
        key = str(instance)
        hint = schema.get("x-error", "is not an allowed key")
        yield doc.problem((*path, key), f"key {key!r} {hint}")
        return
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in instance:
            if key in schema.get("properties", {}):
                continue
            yield doc.problem((*path, key), _unknown_key(key, allowed))
        return
    if kind == "required" and isinstance(instance, dict):
        known = schema.get("properties", {})
        strangers = [k for k in instance if k not in known]
        for key in expected:
            # A misspelt required key is reported once, as the unknown key with a hint.
            if key not in instance and not _closest(key, strangers):
                yield doc.problem(path, f"missing required key {key!r}")
        return
    if kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        message = f"expected {wanted}, got {_describe(instance)}"
    elif kind == "enum":
        options = ", ".join(_describe(v) for v in expected)
        message = f"expected one of {options}; got {_describe(instance)}"
    elif kind == "const":
        message = f"expected {_describe(expected)}, got {_describe(instance)}"
    elif "x-error" in schema and kind in ("pattern", "maxLength", "anyOf", "minLength", "format"):
        message = f"{_describe(instance)} {schema['x-error']}"
    elif kind in ("minimum", "exclusiveMinimum"):
        op = ">=" if kind == "minimum" else ">"
        message = f"must be {op} {expected}, got {_describe(instance)}"
    elif kind in ("maximum", "exclusiveMaximum"):
        op = "<=" if kind == "maximum" else "<"
        message = f"must be {op} {expected}, got {_describe(instance)}"
    elif kind == "uniqueItems":
        message = "items must be unique"
    elif kind == "minItems":
        message = f"must have at least {expected} item(s)"
    else:
        message = error.message
    yield doc.problem(path, message)


def _closest(key: str, candidates: list[str]) -> str | None:
    lowered = {c.lower(): c for c in candidates}
    exact = lowered.get(key.lower())
    if exact is not None:
        return exact
    return next(iter(difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)), None)


def _unknown_key(key: str, allowed: list[str]) -> str:
    guess = _closest(key, allowed)
    if guess:
        return f"unknown key {key!r} (did you mean {guess!r}?)"
    return f"unknown key {key!r} (allowed: {', '.join(allowed)})"
