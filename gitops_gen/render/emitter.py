"""The one YAML emitter of every output: deterministic, ASCII-only, byte-identical anywhere.

Output is plain JSON-like data (dicts with string keys, lists, str, int, float, bool,
None), so a small emitter suffices and is ten times faster than PyYAML's representer.
A scalar is written plain only when every YAML 1.1 and 1.2 reader (PyYAML, ruamel, Go
yaml.v2/v3 behind kubectl and Argo CD) reads it back as the same string; multi-line
strings become literal blocks for review; anything doubtful is JSON-quoted, which is
valid YAML. Tests round-trip random hostile data through two YAML parsers.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

import yaml

from gitops_gen.specs.source import YAML_LOADER

# Plain-safe: starts with a letter, '/' or '_' (never a digit, sign, dot or indicator, so
# never a number in any YAML version), no ': ' or ' #', no leading/trailing space.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+=%,~()-]*(?:[: ][A-Za-z0-9_./@+=%,~()-]+)*\Z")
# Words some YAML reader takes as booleans or null (YAML 1.1 incl. y/n, 1.2 core).
_RESERVED = re.compile(
    r"(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL)\Z"
)
# Lines of a literal block: printable ASCII, never whitespace-only (ambiguous indentation).
_BLOCK_LINE = re.compile(r"(?:[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*)?\Z")


# A string starting with a digit may be a number, date or time in some YAML version
# (1e3, 0x1F, 1_000, 1:20, 2026-06-12t10:00:00z); it is plain only if it holds a
# character none of those can (`16Mi`, `500m`), else it is quoted.
_NUMBERISH = re.compile(r"[0-9a-fA-FxXoObB_:.eE+\-tTzZ ]*\Z")
_PLAIN_DIGIT = re.compile(r"[0-9][A-Za-z0-9_./@+=%,~()-]*\Z")
# Command-line flags (`-m`, `--ctx-size`): a dash then a letter is never a number.
_PLAIN_FLAG = re.compile(r"--?[A-Za-z][A-Za-z0-9_./@+=%,~()-]*\Z")


def _plain(value: str) -> bool:
    if _PLAIN.match(value):
        return not _RESERVED.match(value)
    if _PLAIN_FLAG.match(value):
        return True
    return bool(_PLAIN_DIGIT.match(value)) and not _NUMBERISH.match(value)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot emit {type(value).__name__} as YAML")


@lru_cache(maxsize=1 << 16)  # keys and most values repeat from object to object
def _string(value: str) -> str:
    return value if _plain(value) else json.dumps(value, ensure_ascii=True)


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.1 needs a dot in the mantissa for the exponent form to be a float.
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _block(value: str, indent: str) -> str | None:
    """A literal block for multi-line text, or None when quoting is safer."""
    body = value[:-1] if value.endswith("\n") else value
    if body.endswith("\n") or not body:
        return None
    lines = body.split("\n")
    # A leading space on the first line would need an indentation indicator: quote instead.
    if body[0] == " " or not all(_BLOCK_LINE.match(line) for line in lines):
        return None
    chomp = "" if value.endswith("\n") else "-"
    inner = indent + "  "
    return f"|{chomp}\n" + "\n".join(inner + line if line else "" for line in lines)


def _emit_mapping(data: dict[str, Any], indent: str, out: list[str]) -> None:
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"mapping keys must be strings, got {key!r}")
        if type(value) is str and "\n" not in value:  # most values: one line, no block
            out.append(f"{indent}{_string(key)}: {_string(value)}")
        else:
            _emit_value(f"{indent}{_string(key)}:", value, indent, out)


def _emit_value(head: str, value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        if value:
            out.append(head)
            _emit_mapping(value, indent + "  ", out)
        else:
            out.append(head + " {}")
    elif isinstance(value, list):
        if value:
            out.append(head)
            _emit_sequence(value, indent, out)
        else:
            out.append(head + " []")
    elif isinstance(value, str) and "\n" in value:
        block = _block(value, indent)
        out.append(f"{head} {block if block is not None else _scalar(value)}")
    else:
        out.append(f"{head} {_scalar(value)}")


def _emit_sequence(data: list[Any], indent: str, out: list[str]) -> None:
    for item in data:
        if type(item) is str and "\n" not in item:  # args, command words: the common item
            out.append(f"{indent}- {_string(item)}")
        elif isinstance(item, dict) and item:
            start = len(out)
            _emit_mapping(item, indent + "  ", out)
            out[start] = f"{indent}- {out[start][len(indent) + 2 :]}"
        elif isinstance(item, list) and item:
            out.append(f"{indent}-")
            _emit_sequence(item, indent + "  ", out)
        else:
            _emit_value(f"{indent}-", item, indent, out)


def dump_yaml(data: Any) -> str:
    """Emit one document; the key order is the caller's (the plan's), never sorted."""
    out: list[str] = []
    if isinstance(data, dict) and data:
        _emit_mapping(data, "", out)
    elif isinstance(data, list) and data:
        _emit_sequence(data, "", out)
    else:
        _emit_value("", data, "", out)
        out[0] = out[0].lstrip()
    return "\n".join(out) + "\n"


_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_BUILD = {
    "tag:yaml.org,2002:null": lambda node: None,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
}


# First characters of every implicit non-string YAML 1.1 plain scalar (bool, null,
# int, float, merge, value, timestamp): anything else is a string without asking.
_TYPED_START = frozenset("tTfFyYnNoO~.+-0123456789<=!&*")


def _plain_value(value: str) -> Any:
    if value and value[0] not in _TYPED_START:
        return value
    if _INT.match(value):
        return int(value)
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    build = _BUILD.get(tag)
    if build is None:
        return value  # strings, and timestamps kept as the text they are
    return build(yaml.ScalarNode(tag, value))


class RenderedYAMLError(ValueError):
    """Rendered text that is not plain data: a duplicate key, an alias, a tag."""


def load_rendered(text: str) -> Any:
    """Parse one rendered document from libyaml's events, without PyYAML's constructor.

    Three times faster than yaml.load on our output, and stricter: duplicate keys,
    anchors, aliases and explicit tags are errors, since no template should emit them.
    """
    stack: list[Any] = []
    keys: list[Any] = []
    result: Any = None
    done = False

    def add(value: Any) -> None:
        nonlocal result, done
        if not stack:
            result, done = value, True
            return
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
        elif keys[-1] is _NO_KEY:
            if not isinstance(value, str):
                raise RenderedYAMLError(f"mapping key {value!r} is not a string")
            if value in top:
                raise RenderedYAMLError(f"duplicate key {value!r}")
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = _NO_KEY

    event: Any
    for event in yaml.parse(text, Loader=YAML_LOADER):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor or (event.tag and event.tag != "!"):
                raise RenderedYAMLError("anchors and tags are not allowed in rendered output")
            plain = not event.style and event.implicit[0]
            add(_plain_value(event.value) if plain else event.value)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor or event.tag:
                raise RenderedYAMLError("anchors and tags are not allowed in rendered output")
            container: Any = {} if kind is yaml.MappingStartEvent else []
            stack.append(container)
            keys.append(_NO_KEY)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            keys.pop()
            add(stack.pop())
        elif kind is yaml.AliasEvent:
            raise RenderedYAMLError("aliases are not allowed in rendered output")
        elif kind is yaml.DocumentStartEvent and done:
            raise RenderedYAMLError("expected one YAML document, found several")
    return result


_NO_KEY = object()
