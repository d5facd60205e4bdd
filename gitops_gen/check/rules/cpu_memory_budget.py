"""Requests of the running workloads on a node, plus what already runs there, fit it.

Limits may overcommit (bursting is fine); requests may not: a request the node cannot
grant leaves the pod Pending. `systemReserved` in the node spec accounts for what else
runs there (databases, daemons) so that a growing lane cannot quietly eat it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import Hit, Severity
from gitops_gen.check.inventory import Workload
from gitops_gen.specs.quantity import format_cpu, format_memory, parse_quantity

ID = "cpu-memory-budget"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Lower the requests of the active lanes (limits may stay above them), or raise the "
    "node's allocatable in hardware/ if the machine really grew."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False

# Jobs finish and give their requests back; long-running workloads keep them.
TRANSIENT = {"Job", "CronJob"}


def pod_requests(workload: Workload, resource: str) -> Fraction:
    app = Fraction(0)
    init = Fraction(0)
    for container in workload.containers():
        value = ((container.data.get("resources") or {}).get("requests") or {}).get(resource)
        if value is None:
            continue
        try:
            amount = parse_quantity(value)
        except ValueError:
            continue
        if container.init:
            init = max(init, amount)
        else:
            app += amount
    return max(app, init)


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for node in ctx.repo.nodes.values():
        running = [
            w
            for w in ctx.inventory.workloads_on(node.name)
            if ctx.replicas(w) > 0 and w.obj.kind not in TRANSIENT
        ]
        for resource, fmt in (("cpu", format_cpu), ("memory", format_memory)):
            allocatable = parse_quantity(getattr(node.allocatable, resource))
            reserved = (
                parse_quantity(getattr(node.system_reserved, resource))
                if node.system_reserved
                else Fraction(0)
            )
            parts = [(w, pod_requests(w, resource) * ctx.replicas(w)) for w in running]
            total = reserved + sum((amount for _w, amount in parts), Fraction(0))
            if total <= allocatable:
                continue
            listed = ", ".join(f"{w.obj.lane or w.obj.ident} {fmt(amount)}" for w, amount in parts)
            share = float(total / allocatable) * 100 if allocatable else float("inf")
            yield Hit(
                f"{resource} requests on {node.name} are {fmt(total)} of {fmt(allocatable)} "
                f"allocatable ({share:.0f}%): systemReserved {fmt(reserved)}, {listed}",
                node.where("allocatable", resource),
                f"Node/{node.name}",
            )
