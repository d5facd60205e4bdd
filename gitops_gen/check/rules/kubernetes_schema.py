"""Every object, rendered or hand-written, is valid for the cluster's Kubernetes version.

Strict: an unknown field is an error, not something the API server drops in silence
(a misspelt `tolerations` key is a pod that lands nowhere). Schemas are the bundled
OpenAPI schemas of kubernetes-validate; Argo CD Applications use gitops-gen's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.validation import KubeSchemas, SchemaViolation

ID = "kubernetes-schema"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Fix the field the message names; for hand-written manifests, 'kubectl explain' shows "
    "the valid ones."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    versions = {c.name: c.kubernetes_version for c in ctx.repo.config.clusters}
    schemas = dict(ctx.kube)
    for obj in ctx.inventory.objects:
        known = ctx.rendered_violations
        if known is not None and obj.rendered_path is not None:
            violations: Iterable[SchemaViolation] = known.get(obj.rendered_path, ())
        else:
            found = schemas.get(obj.cluster)
            if found is None:
                found = schemas[obj.cluster] = KubeSchemas(versions[obj.cluster])
            violations = found.violations(obj.data)
        for violation in violations:
            parts = [
                int(p) if p.isdigit() else p
                for p in violation.path.replace("[", ".").replace("]", "").split(".")
                if p
            ]
            where = obj.where(*parts)
            at = f" at {violation.path}" if violation.path else ""
            yield Hit(
                f"invalid for Kubernetes {versions[obj.cluster]}{at}: {violation.message}",
                where,
                obj.ident,
                obj.lane,
            )
