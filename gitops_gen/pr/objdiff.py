"""Compare two sets of Kubernetes objects as Argo CD would apply them.

Objects match by identity (cluster, apiVersion, kind, namespace, name: the cluster is
named only when the objects span several); a change is a list of
field paths with old and new values. Key order and formatting never show, since the
data is compared, not the text. Secret data is masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Identity = tuple[str, str, str, str, str]
# An object with the cluster (or compose host) it is deployed to; a bare object has none.
Placed = tuple[str, Mapping[str, Any]]
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(absent)"})()
SECRET_KINDS = {"Secret"}
SECRET_SHOWN = "(secret, not shown)"
# Where a Secret's values hide besides data/stringData: kubectl's copy of the whole object.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Keys that name the items of a list, so that lists compare item by item, by name.
ITEM_KEYS = ("name", "model_name", "alias")


def identity(obj: Mapping[str, Any], cluster: str = "") -> Identity:
    meta = obj.get("metadata") or {}
    return (
        cluster,
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name", "")),
    )


def ident_text(key: Identity) -> str:
    cluster, _api, kind, namespace, name = key
    text = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
    return f"{cluster}: {text}" if cluster else text


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
    """Lists of named things (containers, env, volumes, gateway routes) compare by name,
    not position; routes that share an alias are told apart by the lane serving them."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in ITEM_KEYS:
        if all(isinstance(i.get(key), str) for i in items):
            for qualified in (False, True):
                names = [_item_name(i, key, qualified) for i in items]
                if len(set(names)) == len(names):
                    return dict(zip(names, items, strict=True))
    return None


def _item_name(item: Mapping[str, Any], key: str, qualified: bool) -> str:
    name = str(item[key])
    info = item.get("model_info")
    lane = info.get("lane") if isinstance(info, dict) else None
    return f"{name} via {lane}" if qualified and isinstance(lane, str) else name


def _flags(args: list[str]) -> dict[str, Any]:
    """A command line as flags: `--ctx-size 49152` and `--ctx-size=49152` become
    {"--ctx-size": "49152"}; a repeated flag keeps every value; other words keep their
    place among the positional words (`[0]`, `[1]`)."""
    found: dict[str, Any] = {}
    positional = 0
    index = 0
    while index < len(args):
        word = args[index]
        if word.startswith("-") and len(word) > 1 and not _is_number(word):
            flag, eq, value = word.partition("=")
            if not eq:
                following = args[index + 1] if index + 1 < len(args) else None
                if following is not None and not (
                    following.startswith("-") and not _is_number(following)
                ):
                    value, index = following, index + 1
                else:
                    value = "(set)"
            if flag in found:
                previous = found[flag]
                found[flag] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            else:
                found[flag] = value
        else:
            found[f"[{positional}]"] = word
            positional += 1
        index += 1
    return found


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _as_data(text: Any) -> Any:
    """A YAML or JSON document held in a string (a ConfigMap's config.yaml), as data."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if "\n" not in stripped and not stripped.startswith("{"):
        return None
    import yaml

    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def field_changes(old: Any, new: Any, path: str = "") -> Iterator[FieldChange]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            sub = f"{path}.{key}" if path else key
            yield from field_changes(old.get(key, MISSING), new.get(key, MISSING), sub)
        return
    if isinstance(old, list) and isinstance(new, list):
        if path.endswith((".args", ".command")) and all(isinstance(w, str) for w in [*old, *new]):
            # Engine arguments read as flags: `args[--ctx-size]: 49152 -> 65536`.
            before, after = _flags(old), _flags(new)
            for flag in [*before, *[f for f in after if f not in before]]:
                a, b = before.get(flag, MISSING), after.get(flag, MISSING)
                if a != b:
                    yield FieldChange(
                        f"{path}[{flag}]" if not flag.startswith("[") else f"{path}{flag}", a, b
                    )
            return
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
    if isinstance(old, str) and isinstance(new, str) and old != new:
        # A config file inside a ConfigMap (the gateway's routes) compares as data.
        old_data, new_data = _as_data(old), _as_data(new)
        if old_data is not None and new_data is not None:
            yield from field_changes(old_data, new_data, path)
            return
    if old != new or type(old) is not type(new):
        yield FieldChange(path, old, new)


def _masked(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    if obj.get("kind") not in SECRET_KINDS:
        return obj
    masked = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(masked.get(key), dict):
            masked[key] = {k: SECRET_SHOWN for k in masked[key]}
    metadata = masked.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        annotations = dict(metadata["annotations"])
        if LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = SECRET_SHOWN
        masked["metadata"] = {**metadata, "annotations": annotations}
    return masked


def _is_secret_path(path: str) -> bool:
    return path.startswith(("data", "stringData")) or path.startswith(
        f"metadata.annotations.{LAST_APPLIED}"
    )


def flatten(objects: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Objects as Argo CD applies them: a `kind: List` (or `*List`) is its items."""
    for obj in objects:
        kind = str(obj.get("kind", ""))
        items = obj.get("items")
        if kind.endswith("List") and isinstance(items, list):
            yield from flatten(i for i in items if isinstance(i, dict))
        else:
            yield obj


def _placed(objects: Iterable[Mapping[str, Any] | Placed]) -> list[Placed]:
    placed: list[Placed] = []
    for item in objects:
        cluster, obj = item if isinstance(item, tuple) else ("", item)
        placed += [(cluster, o) for o in flatten([obj])]
    return placed


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=True).encode


def _identical(old: Any, new: Any) -> bool:
    """The same data, types and key order included (1, 1.0 and true differ): most objects of
    a pull request are unchanged, and C-encoding both is far cheaper than walking them."""
    if old is new:
        return True
    try:
        return bool(_JSON(old) == _JSON(new))
    except (TypeError, ValueError):  # not JSON data (a YAML timestamp, say): walk it
        return False


def diff_objects(
    old: Iterable[Mapping[str, Any] | Placed], new: Iterable[Mapping[str, Any] | Placed]
) -> ObjectDiff:
    """The changes from `old` to `new`. Objects of different clusters never match each
    other; with more than one cluster, each change names its cluster."""
    old_placed, new_placed = _placed(old), _placed(new)
    many = len({c for c, _ in old_placed + new_placed}) > 1
    before = {identity(o, c if many else ""): o for c, o in old_placed}
    after = {identity(o, c if many else ""): o for c, o in new_placed}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            changes.append(ObjectChange(key, "removed", old=_masked(before[key])))
        elif key not in before:
            changes.append(ObjectChange(key, "added", new=_masked(after[key])))
        elif not _identical(before[key], after[key]):
            secret = key[2] in SECRET_KINDS
            fields = tuple(field_changes(before[key], after[key]))
            if secret:
                fields = tuple(
                    FieldChange(f.path, "(secret)", "(secret)") if _is_secret_path(f.path) else f
                    for f in fields
                )
            if fields:
                changes.append(
                    ObjectChange(key, "changed", fields, _masked(before[key]), _masked(after[key]))
                )
    return ObjectDiff(tuple(changes))
