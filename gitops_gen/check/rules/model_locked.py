"""A lane's model is locked: every file with its sha256 and size, at a commit revision.

A branch name like `main` is not a lock: the files behind it change and the lane serves
a different model with nobody committing anything. A 40-hex commit cannot move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity

ID = "model-locked"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Lock the model with 'gitops-gen lock add PATH' (or write sha256, sizeBytes and the "
    "40-hex source.revision of the Hugging Face commit into models.lock.yaml)."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET

COMMIT = re.compile(r"[0-9a-f]{40}\Z")


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        if lane.model is None:
            continue
        model = ctx.repo.models[lane.model]
        ident = ctx.lane_object(lane)
        files = model.artifact_files()
        if not files:
            yield Hit(f"model {model.name} lists no files", model.where(), ident, lane.name)
        unhashed = [f.path for f in files if f.sha256 is None]
        if unhashed:
            key = "sha256" if model.format == "gguf" and not model.files else "files"
            yield Hit(
                f"model {model.name} has no sha256 for {', '.join(unhashed)}",
                model.where(key),
                ident,
                lane.name,
            )
        if model.size_bytes is None and any(f.size_bytes is None for f in files):
            yield Hit(
                f"model {model.name} has no sizeBytes", model.where("sizeBytes"), ident, lane.name
            )
        revision = model.revision
        if revision is None:
            yield Hit(
                f"model {model.name} has no source.revision",
                model.where("source"),
                ident,
                lane.name,
            )
        elif not COMMIT.match(revision):
            yield Hit(
                f"model {model.name} is pinned to {revision!r}, which is not a commit",
                model.where("source", "revision"),
                ident,
                lane.name,
            )
