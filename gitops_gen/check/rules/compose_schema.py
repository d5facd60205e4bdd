"""Every compose file, rendered or hand-written, is valid by the Compose Specification.

`docker compose` refuses a file its schema rejects (a misspelt `deploy` key, a GPU
request without `capabilities`), so the host would run nothing at all. The schema is the Compose
Specification's own JSON schema, shipped with gitops-gen (schemas/compose/NOTICE).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import COMPOSE_ONLY, Hit, Severity
from gitops_gen.check.validation import compose_violations
from gitops_gen.specs.model import Location

ID = "compose-schema"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Fix the field the message names; 'docker compose config' shows how compose reads "
    "the file, and the Compose Specification lists the valid keys."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = COMPOSE_ONLY


def _parts(path: str) -> list[str | int]:
    return [
        int(p) if p.isdigit() else p
        for p in path.replace("[", ".").replace("]", "").split(".")
        if p
    ]


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    known = ctx.rendered_violations
    for rendered in ctx.tree.compose:
        if known is not None:
            violations = list(known.get(rendered.path, ()))
        else:
            violations = compose_violations(rendered.data)
        for violation in violations:
            at = f" at {violation.path}" if violation.path else ""
            yield Hit(
                f"{rendered.path} is not a valid compose file{at}: {violation.message}",
                rendered.origin,
                rendered.path,
            )
    for host, doc in sorted(ctx.repo.compose_files.items()):
        for violation in compose_violations(doc.data):
            at = f" at {violation.path}" if violation.path else ""
            yield Hit(
                f"not a valid compose file{at}: {violation.message}",
                Location(doc.file, doc.line_of(tuple(_parts(violation.path)))),
                f"compose/{host}",
            )
