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
from typing import Any

import yaml

# libyaml's C loader for reading; the pure-Python one gives the same data, slower.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
        if _plain(value):
            return value
        return json.dumps(value, ensure_ascii=True)
    raise TypeError(f"cannot emit {type(value).__name__} as YAML")


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
        head = f"{indent}{_scalar(key)}:"
        _emit_value(head, value, indent, out)


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
        if isinstance(item, dict) and item:
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


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=YAML_LOADER)
