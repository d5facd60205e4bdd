"""Every workflow a generic lane is given is pinned by sha256 in its registry.

Seed 000 runs ComfyUI like a database, not a public API: requests are checked against a
fixed registry of known-good workflows referenced by hash, because its extension
ecosystem runs arbitrary code. Only pinned workflows are rendered into the lane; one
whose file no longer matches its pin (edited, replaced) or is missing blocks, and a
workflow file beside the registry that it does not pin is reported, since it would
silently never reach the server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.specs.model import Location

ID = "workflow-pinned"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Review the workflow, then pin it: put `sha256sum FILE`'s digest in the registry "
    "(a changed file gets its new digest only after review); remove what should not run."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        if lane.workflows is None:
            continue
        registry = ctx.repo.workflow_registries.get(lane.workflows.registry)
        if registry is None:
            continue
        ident = ctx.lane_object(lane)
        for workflow in registry.workflows:
            if workflow.actual is None:
                message = f"{workflow.path} is pinned but missing or unreadable"
            elif workflow.actual != workflow.sha256:
                message = (
                    f"{workflow.path} has sha256 {workflow.actual}, not the pinned "
                    f"{workflow.sha256}: it changed since it was reviewed"
                )
            else:
                continue
            yield Hit(message, workflow.where, ident, lane.name)
        for name in registry.unlisted:
            yield Hit(
                f"{name} lies beside {registry.path} but is not pinned there: it never "
                "reaches the server",
                Location(registry.path, registry.doc.line_of(("workflows",))),
                ident,
                lane.name,
                severity=Severity.WARN,
            )
