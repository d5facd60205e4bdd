"""Every cluster has at least one lane.

A repo whose lanes/ is empty (a half-finished `init`, a bad merge, a glob that moved the
files away) still renders and passes every other rule: the GPUs simply serve nothing,
and `render` removes every lane's Deployment without complaint. That is rarely what
was meant, so it is said, as a warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity

ID = "lanes-present"
SEVERITY = Severity.WARN
REMEDIATION = (
    "Add a lane file to lanes/ for the cluster's GPU nodes ('gitops-gen init' scaffolds "
    "one), or remove the cluster from gitops-gen.yaml."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    served = {ctx.repo.cluster_of(lane) for lane in ctx.repo.lanes.values()}
    for index, cluster in enumerate(ctx.repo.config.clusters):
        if cluster.name not in served:
            yield Hit(
                f"cluster {cluster.name} has no lane in lanes/: its GPUs serve nothing",
                ctx.repo.config.where("clusters", index),
                f"Cluster/{cluster.name}",
            )
