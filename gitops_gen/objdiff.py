"""Compare two sets of Kubernetes objects as Argo CD would apply them.

Objects match by identity (apiVersion, kind, namespace, name); a change is a list of
field paths with old and new values. Key order and formatting never show, since the
data is compared, not the text. Secret data is masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Identity = tuple[str, str, str, str]
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(absent)"})()
SECRET_KINDS = {"Secret"}


def identity(obj: Mapping[str, Any]) -> Identity:
    meta = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name", "")),
    )


def ident_text(key: Identity) -> str:
    _api, kind, namespace, name = key
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ObjectChange:
    key: Identity
    status: str  # added | removed | changed
    fields: tuple[FieldChange, ...] = ()
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None

    @property
    def ident(self) -> str:
        return ident_text(self.key)


@dataclass(frozen=True)
class ObjectDiff:
    changes: tuple[ObjectChange, ...] = field(default=())

    def of(self, status: str) -> list[ObjectChange]:
        return [c for c in self.changes if c.status == status]

    @property
    def empty(self) -> bool:
        return not self.changes


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """Lists of named things (containers, env, volumes) compare by name, not position."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    names = [i["name"] for i in items]
    return dict(zip(names, items, strict=True)) if len(set(names)) == len(names) else None


def field_changes(old: Any, new: Any, path: str = "") -> Iterator[FieldChange]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            sub = f"{path}.{key}" if path else key
            yield from field_changes(old.get(key, MISSING), new.get(key, MISSING), sub)
        return
    if isinstance(old, list) and isinstance(new, list):
        old_keyed, new_keyed = _keyed(old), _keyed(new)
        if old_keyed is not None and new_keyed is not None:
            for name in [*old_keyed, *[n for n in new_keyed if n not in old_keyed]]:
                yield from field_changes(
                    old_keyed.get(name, MISSING), new_keyed.get(name, MISSING), f"{path}[{name}]"
                )
            return
        if len(old) == len(new):
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                yield from field_changes(a, b, f"{path}[{index}]")
            return
    if old != new or type(old) is not type(new):
        yield FieldChange(path, old, new)


def _masked(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    if obj.get("kind") not in SECRET_KINDS:
        return obj
    masked = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(masked.get(key), dict):
            masked[key] = {k: "(secret, not shown)" for k in masked[key]}
    return masked


def diff_objects(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> ObjectDiff:
    before = {identity(o): o for o in old}
    after = {identity(o): o for o in new}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            changes.append(ObjectChange(key, "removed", old=_masked(before[key])))
        elif key not in before:
            changes.append(ObjectChange(key, "added", new=_masked(after[key])))
        else:
            secret = key[1] in SECRET_KINDS
            fields = tuple(field_changes(before[key], after[key]))
            if secret:
                fields = tuple(
                    FieldChange(f.path, "(secret)", "(secret)")
                    if f.path.startswith(("data", "stringData"))
                    else f
                    for f in fields
                )
            if fields:
                changes.append(
                    ObjectChange(key, "changed", fields, _masked(before[key]), _masked(after[key]))
                )
    return ObjectDiff(tuple(changes))
