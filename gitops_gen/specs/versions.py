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
# llama.cpp builds are b6200; Ollama and vLLM are 0.24.0 (vLLM also 0.10.1.1); image tags
# may prefix a v. A part must start the tag or follow a separator: `cuda12` is no version.
_DOTTED = re.compile(r"(?:^|[-_])v?(\d+(?:\.\d+)+)(?=$|[-_+])")
_BUILD = re.compile(r"(?:^|[-_])b(\d{3,})(?=$|[-_.+])")
# Which form each engine's tags use. Other engines (generic: ComfyUI and the like) accept
# either, but their tags often name a base image or CUDA build, so a declaration wins.
_TAG_FORMS: dict[str, tuple[re.Pattern[str], ...]] = {
    "llamacpp": (_BUILD,),
    "vllm": (_DOTTED,),
    "ollama": (_DOTTED,),
}


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


def tags_name_engine(engine: str) -> bool:
    """Does this engine's image tag name the engine's own version?"""
    return engine in _TAG_FORMS


def image_tag(image: str) -> str:
    """The tag of an image reference (`repo:tag@sha256:...` -> tag), or "" without one."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def version_from_image(image: str, engine: str | None = None) -> str | None:
    """`ollama/ollama:0.24.0@sha256:...` -> 0.24.0; `llama.cpp:server-cuda-b8210` -> b8210.

    None when the tag carries no version (`server-cuda@sha256:...`, `latest`). With an
    engine, only that engine's form counts (a llama.cpp build, a vLLM/Ollama release).
    """
    tag = image_tag(image)
    for form in _TAG_FORMS.get(engine or "", (_BUILD, _DOTTED)):
        match = form.search(tag)
        if match:
            return f"b{match.group(1)}" if form is _BUILD else match.group(1)
    return None


def same_version(a: str, b: str) -> bool:
    """0.24 == 0.24.0 == v0.24.0; b8210 == 8210. Unparsable text compares as written."""
    try:
        left, right = _pad(parse_version(a), parse_version(b))
    except ValueError:
        return a.strip() == b.strip()
    return left == right
