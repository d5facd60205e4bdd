"""A lane's declared engineVersion agrees with the version its image tag carries.

Seed 000: the declared version is what the capability gates read, but the image is what
the node runs. An `ollama/ollama:0.23.0` image declared `engineVersion: 0.24.0` passed
the Blackwell gate and then silently ignored flash attention and the q8_0 KV cache. The
tag wins wherever it carries a version (llama.cpp `bNNNN`, also `server-cuda-b6123`;
vLLM `vX.Y.Z`; Ollama `X.Y.Z`); a declaration that disagrees with it is a mistake to fix,
not a second opinion (generic lanes' tags often name a base image, so they are left
alone). Where the tag carries none (`server-cuda@sha256:...`), the
declared version is used and this rule has nothing to compare.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.specs.versions import same_version, tags_name_engine, version_from_image

ID = "engine-version-tag"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Make engineVersion say what the image tag says (or drop it; the tag is what runs), "
    "or pin the image of the version you meant."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        declared = lane.engine_version
        if not tags_name_engine(lane.engine):
            continue
        tagged = version_from_image(lane.image, lane.engine)
        if declared is None or tagged is None or same_version(declared, tagged):
            continue
        yield Hit(
            f"engineVersion {declared} disagrees with the image tag's version {tagged} "
            f"({lane.image.split('@', 1)[0]}); the image is what runs, so the gates use {tagged}",
            lane.where("engineVersion"),
            ctx.lane_object(lane),
            lane.name,
        )
