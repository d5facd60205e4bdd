"""Read YAML spec files into plain data plus the line of every key.

PyYAML's C composer gives nodes with marks; we build the values ourselves so that
every key path keeps its line, duplicate keys are caught (YAML silently keeps the
last one, which hides typos), and no tag can construct anything but plain data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_gen.errors import InputError, Problem

# libyaml's C loader for reading; the pure-Python one gives the same data, slower.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Plain data from trusted YAML text (our own output, packaged defaults)."""
    return yaml.load(text, Loader=YAML_LOADER)


KeyPath = tuple[str | int, ...]

# An alias-heavy document ("billion laughs") must not explode in memory.
_MAX_NODES = 200_000
# Bounds checked on the raw text, before any parsing: composing YAML costs ~4 us a node,
# so a 40 MB list would hold the pre-commit hook for minutes. Each node needs a comma or
# a line of its own, so those bound the nodes a text can hold (aliases aside, counted
# while building).
MAX_FILE_BYTES = 16 * 1024 * 1024
_MAX_SEPARATORS = 250_000
_MAX_DEPTH = 64

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


def format_path(path: KeyPath) -> str:
    """`('serve', 'ctxSize')` -> `serve.ctxSize`; list items as `[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class SourceDoc:
    """One parsed spec file: its data and the line of every key path."""

    file: str
    data: Any
    lines: Mapping[KeyPath, int] = field(repr=False)

    def line_of(self, path: KeyPath) -> int:
        """Line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), format_path(path), message)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise _TooLarge
        if len(path) > _MAX_DEPTH:
            raise _TooDeep(node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(
                        self.file,
                        key_node.start_mark.line + 1,
                        format_path(path),
                        "mapping keys must be plain strings",
                    )
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    Problem(
                        self.file,
                        key_node.start_mark.line + 1,
                        format_path(path),
                        "merge keys ('<<') are not supported; write the keys out",
                    )
                )
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in result:
                self.problems.append(
                    Problem(
                        self.file,
                        line,
                        format_path((*path, key)),
                        f"duplicate key (first defined on line {self.lines[(*path, key)]})",
                    )
                )
                continue
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            self.problems.append(
                Problem(
                    self.file,
                    node.start_mark.line + 1,
                    format_path(path),
                    f"unsupported YAML tag {tag!r}",
                )
            )
            return None
        if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
            # Dates stay strings: the schemas check their format, not Python.
            return str(node.value)
        c = self.constructor
        if tag == "tag:yaml.org,2002:int":
            return c.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:float":
            return c.construct_yaml_float(node)
        if tag == "tag:yaml.org,2002:bool":
            return c.construct_yaml_bool(node)
        return None


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def parse_yaml(text: str, *, file: str) -> SourceDoc:
    """Parse one YAML document; every problem becomes an InputError with file:line."""
    docs = parse_yaml_documents(text, file=file)
    if not docs:
        raise InputError([Problem(file, 1, "", "file is empty")])
    if len(docs) > 1:
        line = min(docs[1].lines.values(), default=1)
        raise InputError([Problem(file, line, "", "expected one YAML document, found several")])
    return docs[0]


def parse_yaml_documents(text: str, *, file: str) -> list[SourceDoc]:
    """Parse every document of a YAML stream (hand-written manifests keep several)."""
    separators = text.count(",") + text.count("\n")
    if separators > _MAX_SEPARATORS:
        raise InputError(
            [
                Problem(
                    file,
                    1,
                    "",
                    f"too large to be a spec: {separators} lines and commas (at most "
                    f"{_MAX_SEPARATORS})",
                )
            ]
        )
    try:
        nodes = list(yaml.compose_all(text, Loader=YAML_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        reason = exc.problem or exc.context or "invalid YAML"
        raise InputError([Problem(file, line, "", f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, 0, "", f"invalid YAML: {exc}")]) from None
    docs: list[SourceDoc] = []
    problems: list[Problem] = []
    for node in nodes:
        if node is None:
            continue
        builder = _Builder(file)
        try:
            data = builder.build(node, ())
        except _TooLarge:
            raise InputError(
                [Problem(file, 1, "", "document too large (too many nodes or aliases)")]
            ) from None
        except _TooDeep as exc:
            raise InputError(
                [Problem(file, exc.line, "", f"nested deeper than {_MAX_DEPTH} levels")]
            ) from None
        problems.extend(builder.problems)
        builder.lines[()] = node.start_mark.line + 1
        docs.append(SourceDoc(file=file, data=data, lines=builder.lines))
    if problems:
        raise InputError(problems)
    return docs


def read_yaml(root: Path, relpath: str) -> SourceDoc:
    """Read one document from `root/relpath`; unreadable files are input errors."""
    return parse_yaml(read_text(root, relpath), file=relpath)


def read_text(root: Path, relpath: str, real_root: Path | None = None) -> str:
    """The UTF-8 text of `root/relpath`; unreadable files are input errors, not tracebacks.

    A file that is a link leading outside the repo is refused before it is read, so its
    content can never reach an error message; so is a file too large to be a spec.
    `real_root` is `root.resolve()`, for a caller reading many files."""
    path = root / relpath
    try:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(real_root or root.resolve()):
            raise InputError(
                [Problem(relpath, 0, "", "is a link to a file outside the repo; not read")]
            )
        size = real.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                [
                    Problem(
                        relpath,
                        0,
                        "",
                        f"is {size // (1024 * 1024)} MiB; spec files are at most "
                        f"{MAX_FILE_BYTES // (1024 * 1024)} MiB",
                    )
                ]
            )
        if not real.is_file():
            raise InputError([Problem(relpath, 0, "", "is not a regular file")])
        raw = real.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(relpath, 0, "", "file not found")]) from None
    except OSError as exc:
        raise InputError([Problem(relpath, 0, "", f"cannot read file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(relpath, line, "", "file is not valid UTF-8")]) from None
    return text
