"""Engine and compute-capability versions, and ranges like "<0.24.0" or ">=12.0,<13"."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

Version = tuple[int, ...]

_OPS: dict[str, Callable[[Version, Version], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CLAUSE = re.compile(r"\s*(<=|>=|<|>|==|!=)\s*([A-Za-z]?[0-9][0-9.]*)\s*\Z")
# llama.cpp builds are b6200; Ollama and vLLM are 0.24.0; image tags may prefix a v.
_IN_TAG = re.compile(r"(?:^|[-_:])(?:v?(\d+\.\d+(?:\.\d+)?)|b(\d{3,}))(?=$|[-_.+])")


def parse_version(text: str) -> Version:
    numbers = re.findall(r"\d+", text)
    if not numbers:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(n) for n in numbers)


def _pad(a: Version, b: Version) -> tuple[Version, Version]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def in_range(version: str, spec: str) -> bool:
    """True when `version` satisfies every comma-separated clause of `spec`."""
    have = parse_version(version)
    for clause in spec.split(","):
        match = _CLAUSE.match(clause)
        if not match:
            raise ValueError(f"not a version range: {spec!r}")
        left, right = _pad(have, parse_version(match.group(2)))
        if not _OPS[match.group(1)](left, right):
            return False
    return True


def version_from_image(image: str) -> str | None:
    """`ollama/ollama:0.24.0@sha256:...` -> 0.24.0; `llama.cpp:server-cuda-b8210` -> b8210."""
    name = image.split("@", 1)[0]
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    match = _IN_TAG.search(tag)
    if not match:
        return None
    return match.group(1) or f"b{match.group(2)}"
