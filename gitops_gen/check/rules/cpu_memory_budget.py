"""Requests of the running workloads on a node, plus what already runs there, fit it.

Limits may overcommit (bursting is fine); requests may not: a request the node cannot
grant leaves the pod Pending. `systemReserved` in the node spec accounts for what else
runs there (databases, daemons) so that a growing lane cannot quietly eat it. A
DaemonSet from manifests/ counts on every node it lands on. On a compose host the
services' reservations count the same way, hand-written ones included (a prefetch that
other services wait for finishes and gives its share back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from functools import partial
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.inventory import ComposeService, Container, Workload, pod_request
from gitops_gen.specs.model import Node
from gitops_gen.specs.quantity import (
    format_cpu,
    format_memory,
    parse_docker_size,
    parse_quantity,
)

ID = "cpu-memory-budget"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Lower the requests of the active lanes (limits may stay above them), or raise the "
    "node's allocatable in hardware/ if the machine really grew."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = EVERY_TARGET

# Jobs finish and give their requests back; long-running workloads keep them.
TRANSIENT = {"Job", "CronJob"}


def pod_requests(workload: Workload, resource: str) -> Fraction:
    """What the scheduler counts of one pod's requests of `resource`: native sidecars run
    beside the app containers, so theirs add up (pod_request)."""
    return pod_request(workload.containers(), partial(_requested, resource), Fraction(0))


def _requested(resource: str, container: Container) -> Fraction:
    """The container's request of `resource`; a limit without a request is the request
    (the API server defaults one to the other)."""
    resources = container.data.get("resources") or {}
    value = (resources.get("requests") or {}).get(resource)
    if value is None:
        value = (resources.get("limits") or {}).get(resource)
    if value is None:
        return Fraction(0)
    try:
        return parse_quantity(value)
    except ValueError:
        return Fraction(0)


def service_reservation(service: ComposeService, resource: str) -> Fraction:
    """What a compose service reserves of `cpu` (cores) or `memory` (bytes); 0 if unsaid
    or unreadable (compose-schema reports a value compose refuses)."""
    value = service.reservation("cpus" if resource == "cpu" else "memory")
    if value is None or isinstance(value, bool):
        return Fraction(0)
    try:
        if resource == "cpu":
            return Fraction(str(value))
        return parse_docker_size(value)
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def _running(ctx: CheckContext, node: Node) -> list[tuple[str, Callable[[str], Fraction]]]:
    """(name, its requests of a resource) of what keeps running on the node."""
    if ctx.repo.on_compose(node):
        return [
            (s.lane or s.name, partial(_scaled_service, s, ctx.service_replicas(s)))
            for s in ctx.inventory.services_on(node.cluster)
            if ctx.service_replicas(s) > 0 and not s.one_shot
        ]
    return [
        (w.obj.lane or w.obj.ident, partial(_scaled_pod, w, ctx.replicas(w)))
        for w in ctx.inventory.workloads_on(node.name)
        if ctx.replicas(w) > 0 and w.obj.kind not in TRANSIENT
    ]


def _scaled_service(service: ComposeService, replicas: int, resource: str) -> Fraction:
    return service_reservation(service, resource) * replicas


def _scaled_pod(workload: Workload, replicas: int, resource: str) -> Fraction:
    return pod_requests(workload, resource) * replicas


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for node in ctx.repo.nodes.values():
        running = _running(ctx, node)
        for resource, fmt in (("cpu", format_cpu), ("memory", format_memory)):
            allocatable = parse_quantity(getattr(node.allocatable, resource))
            reserved = (
                parse_quantity(getattr(node.system_reserved, resource))
                if node.system_reserved
                else Fraction(0)
            )
            parts = [(name, requests(resource)) for name, requests in running]
            total = reserved + sum((amount for _n, amount in parts), Fraction(0))
            if total <= allocatable:
                continue
            listed = ", ".join(f"{name} {fmt(amount)}" for name, amount in parts)
            share = float(total / allocatable) * 100 if allocatable else float("inf")
            yield Hit(
                f"{resource} requests on {node.name} are {fmt(total)} of {fmt(allocatable)} "
                f"allocatable ({share:.0f}%): systemReserved {fmt(reserved)}, {listed}",
                node.where("allocatable", resource),
                f"Node/{node.name}",
            )
