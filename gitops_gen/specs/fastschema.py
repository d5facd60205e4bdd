"""Compile a JSON Schema into one Python predicate: is this instance valid?

jsonschema re-walks the schema for every instance (and creates a validator object per
subschema visited); on 2,500 rendered objects that is seconds. The Kubernetes and spec
schemas use a small set of keywords, so they compile to nested closures that answer
valid/invalid in a fraction of the time. Only the answer comes from here: when it is
"invalid", jsonschema runs to explain why. A schema using a keyword this compiler does
not know raises Unsupported, and callers fall back to jsonschema entirely.

`format` only annotates, as in jsonschema by default, except the formats a caller asserts
(`formats`: name -> predicate); `format_checker` gives jsonschema the same predicates, so
both answer alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]

# Keywords that only annotate: they never change whether an instance is valid
# (jsonschema does not assert `format` by default either).
_ANNOTATIONS = {
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$defs",
    "definitions",
}


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise Unsupported(f"type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, [1] equals [1.0]."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


class SchemaCompiler:
    """Compiles schemas that share one set of `$ref` targets (resolved by `resolve`)."""

    def __init__(
        self,
        resolve: Callable[[str, str], tuple[str, Any]],
        formats: Mapping[str, Predicate] | None = None,
    ) -> None:
        # resolve(base_uri, ref) -> (absolute ref, target schema)
        self._resolve = resolve
        self._formats = dict(formats or {})
        self._refs: dict[str, Predicate] = {}

    def compile(self, schema: Any, base: str = "") -> Predicate:
        if schema is True or schema == {}:
            return lambda _v: True
        if schema is False:
            return lambda _v: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema {schema!r}")
        checks: list[Predicate] = []
        for key in schema:
            if key in _ANNOTATIONS or key.startswith("x-"):
                continue
            checks.extend(self._keyword(key, schema, base))
        if not checks:
            return lambda _v: True
        if len(checks) == 1:
            return checks[0]
        return _all_of(tuple(checks))

    def _ref(self, ref: str, base: str) -> Predicate:
        absolute, target = self._resolve(base, ref)
        cell = self._refs.get(absolute)
        if cell is None:
            # Recursive schemas: register a forwarder before compiling the target.
            compiled: list[Predicate] = []
            self._refs[absolute] = lambda v: compiled[0](v)
            compiled.append(self.compile(target, absolute.split("#", 1)[0]))
            self._refs[absolute] = compiled[0]
            return compiled[0]
        return cell

    def _keyword(self, key: str, s: Mapping[str, Any], base: str) -> list[Predicate]:
        value = s[key]
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            for n in names:
                _is_type(None, n)  # raises Unsupported for an unknown type name
            if all(n in _PLAIN_TYPES for n in names):  # ["string", "null"], say
                plain = tuple(_PLAIN_TYPES[n] for n in names)
                return [lambda v: isinstance(v, plain)]
            if names == ["integer"]:
                return [_is_integer]
            return [_any(_is_type, tuple(names))]
        if key == "enum":
            options = list(value)
            if all(isinstance(o, str) for o in options):
                # JSON equality with a string is string equality.
                strings = frozenset(options)
                return [lambda v: isinstance(v, str) and v in strings]
            return [_any(_equal, tuple(options))]
        if key == "const":
            return [lambda v: _equal(v, value)]
        if key == "$ref":
            return [self._ref(value, base)]
        if key == "properties":
            props = {name: self.compile(sub, base) for name, sub in value.items()}
            extra: Predicate | None = None
            if "additionalProperties" in s:
                if s.get("patternProperties"):
                    raise Unsupported("additionalProperties with patternProperties")
                extra = self.compile(s["additionalProperties"], base)
            return [_object(props, extra)]
        if key == "additionalProperties":
            if "properties" in s:
                return []  # compiled with "properties", in the same pass over the keys
            if s.get("patternProperties"):
                raise Unsupported("additionalProperties with patternProperties")
            return [_object({}, self.compile(value, base))]
        if key == "required":
            names = list(value)
            return [lambda v: not isinstance(v, dict) or all(n in v for n in names)]
        if key == "items":
            if not isinstance(value, (dict, bool)):
                raise Unsupported("array form of items")
            return [_items(self.compile(value, base))]
        if key == "propertyNames":
            name_ok = self.compile(value, base)
            return [lambda v: not isinstance(v, dict) or all(name_ok(k) for k in v)]
        if key in ("allOf", "anyOf", "oneOf"):
            subs = [self.compile(sub, base) for sub in value]
            if key == "allOf":
                return [_all_of(tuple(subs))]
            if key == "anyOf":
                return [lambda v: any(sub(v) for sub in subs)]
            return [lambda v: sum(1 for sub in subs if sub(v)) == 1]
        if key == "if":
            cond = self.compile(value, base)
            then = self.compile(s.get("then", True), base)
            other = self.compile(s.get("else", True), base)
            return [lambda v: then(v) if cond(v) else other(v)]
        if key in ("then", "else"):
            return []  # compiled with "if"; alone they do nothing
        if key == "format":
            if not isinstance(value, str):
                raise Unsupported(f"format {value!r}")
            asserted = self._formats.get(value)
            return [] if asserted is None else [asserted]
        if key == "pattern":
            regex = re.compile(value)
            return [lambda v: not isinstance(v, str) or regex.search(v) is not None]
        if key in ("minLength", "maxLength"):
            bound = int(value)
            if key == "minLength":
                return [lambda v: not isinstance(v, str) or len(v) >= bound]
            return [lambda v: not isinstance(v, str) or len(v) <= bound]
        if key in ("minItems", "maxItems"):
            bound = int(value)
            if key == "minItems":
                return [lambda v: not isinstance(v, list) or len(v) >= bound]
            return [lambda v: not isinstance(v, list) or len(v) <= bound]
        if key in ("minProperties", "maxProperties"):
            bound = int(value)
            if key == "minProperties":
                return [lambda v: not isinstance(v, dict) or len(v) >= bound]
            return [lambda v: not isinstance(v, dict) or len(v) <= bound]
        if key == "uniqueItems":
            if not value:
                return []
            return [
                lambda v: (
                    not isinstance(v, list)
                    or all(
                        not _equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v))
                    )
                )
            ]
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return [_bound(key, value)]
        raise Unsupported(f"keyword {key!r}")


# Types whose test is one isinstance (bool is an int, so integer and number are not).
_PLAIN_TYPES: dict[str, type] = {
    "string": str,
    "object": dict,
    "array": list,
    "boolean": bool,
    "null": type(None),
}


def _is_integer(v: Any) -> bool:
    return not isinstance(v, bool) and (
        isinstance(v, int) or (isinstance(v, float) and v.is_integer())
    )


def _any(test: Callable[[Any, Any], bool], items: tuple[Any, ...]) -> Predicate:
    """True when `test(value, item)` holds for some item (a type name, an enum option)."""

    def check(v: Any) -> bool:
        for item in items:  # noqa: SIM110 (a loop, not any(): see _all_of)
            if test(v, item):
                return True
        return False

    return check


# The combinators the schemas use most, as plain loops: a generator per call to all()
# costs more than the checks themselves.
def _all_of(checks: tuple[Predicate, ...]) -> Predicate:
    def check(v: Any) -> bool:
        for one in checks:  # noqa: SIM110 (a loop, not all(): see above)
            if not one(v):
                return False
        return True

    return check


def _object(props: Mapping[str, Predicate], extra: Predicate | None) -> Predicate:
    """`properties` (and `additionalProperties`, for keys no property names) in one pass."""

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            sub = props.get(key)
            if sub is None:
                sub = extra
                if sub is None:
                    continue
            if not sub(item):
                return False
        return True

    return check


def _items(item: Predicate) -> Predicate:
    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        for x in v:  # noqa: SIM110 (a loop, not all(): see above)
            if not item(x):
                return False
        return True

    return check


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bound(key: str, limit: float) -> Predicate:
    if key == "minimum":
        return lambda v: not _numeric(v) or v >= limit
    if key == "maximum":
        return lambda v: not _numeric(v) or v <= limit
    if key == "exclusiveMinimum":
        return lambda v: not _numeric(v) or v > limit
    return lambda v: not _numeric(v) or v < limit


def local_resolver(root: Mapping[str, Any]) -> Callable[[str, str], tuple[str, Any]]:
    """Resolve `#/$defs/...` pointers inside one self-contained schema."""

    def resolve(base: str, ref: str) -> tuple[str, Any]:
        if not ref.startswith("#/"):
            raise Unsupported(f"$ref {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return ref, target

    return resolve


def compile_local(
    schema: Mapping[str, Any], formats: Mapping[str, Predicate] | None = None
) -> Predicate:
    return SchemaCompiler(local_resolver(schema), formats).compile(schema)


def format_checker(formats: Mapping[str, Predicate]) -> Any:
    """A jsonschema FormatChecker asserting exactly `formats` (and no other format)."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    for name, predicate in formats.items():
        checker.checks(name)(predicate)
    return checker
