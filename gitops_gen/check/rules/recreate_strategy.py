"""GPU Deployments use the Recreate strategy.

With one card, a RollingUpdate starts the new pod before the old one lets go of the
GPU: the new pod stays Pending and the rollout never finishes. Recreate releases the
card first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.inventory import as_map

ID = "recreate-strategy"
SEVERITY = Severity.BLOCK
REMEDIATION = "Set spec.strategy.type: Recreate on every Deployment that requests a GPU."
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for workload in ctx.inventory.workloads:
        if workload.obj.kind != "Deployment" or not any(workload.gpu_claims().values()):
            continue
        strategy = as_map(as_map(workload.obj.data.get("spec")).get("strategy"))
        kind = strategy.get("type", "RollingUpdate")
        if kind != "Recreate":
            lane = ctx.lane_of(workload)
            where = lane.where("gpus") if lane else workload.obj.where("spec", "strategy")
            yield Hit(
                f"GPU Deployment uses strategy {kind}",
                where,
                workload.obj.ident,
                lane.name if lane else None,
            )
