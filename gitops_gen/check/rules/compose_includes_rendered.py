"""A compose host's hand-written file includes the compose file gitops-gen renders.

The hand-written file (`composeFile`: the app, its database) is the one people run
`docker compose up` on; if it does not include rendered/<host>/compose.yaml, the
lanes, their model prefetch and the gateway are checked here but never started there.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import COMPOSE_ONLY, Hit, Severity
from gitops_gen.check.inventory import as_list
from gitops_gen.render.compose import COMPOSE_FILE
from gitops_gen.specs.model import Location

ID = "compose-includes-rendered"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Add the rendered file to the hand-written one's top-level include: "
    "`include: [rendered/<host>/compose.yaml]` (relative to the hand-written file)."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = COMPOSE_ONLY


def included_paths(data: Mapping[str, Any], file: str) -> set[str]:
    """The repo paths a compose file's top-level `include` names (short or long form)."""
    base = posixpath.dirname(file)
    found: set[str] = set()
    for entry in as_list(data.get("include")):
        paths = entry.get("path") if isinstance(entry, dict) else entry
        for path in paths if isinstance(paths, list) else [paths]:
            if isinstance(path, str):
                found.add(posixpath.normpath(posixpath.join(base, path)))
    return found


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for host, doc in sorted(ctx.repo.compose_files.items()):
        wanted = f"{ctx.repo.config.rendered_path}/{host}/{COMPOSE_FILE}"
        if wanted in included_paths(doc.data, doc.file):
            continue
        relative = posixpath.relpath(wanted, posixpath.dirname(doc.file) or ".")
        yield Hit(
            f"{doc.file} does not include {relative}: compose would start the app without "
            f"the lanes and the gateway of {host}",
            Location(doc.file, doc.line_of(("include",))),
            f"compose/{host}",
        )
