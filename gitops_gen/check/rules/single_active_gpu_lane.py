"""Per node and GPU resource, the GPUs running workloads claim fit the GPUs present.

A single card is not a pool: a second GPU pod stays Pending, and a rolling update
deadlocks waiting for the card the old pod still holds. Parked lanes (replicas 0) keep
their `nvidia.com/gpu` claim in the manifest but do not count. Hand-written workloads
in manifests/ (a ComfyUI Deployment, say) count against the same GPUs; so do GPUs a pod
sees without requesting them (NVIDIA_VISIBLE_DEVICES=all claims every NVIDIA GPU of the
node), an autoscaler's maximum replicas, and an unpinned workload on every GPU node it
may land on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import Hit, Severity
from gitops_gen.check.inventory import Workload

ID = "single-active-gpu-lane"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Park the other lanes on this GPU (active: false, or replicas: 0 in a hand-written "
    "manifest); 'gitops-gen switch LANE' makes LANE the only active lane."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    claims: dict[tuple[str, str], list[tuple[Workload, int]]] = {}
    for workload in ctx.inventory.workloads:
        replicas = workload.max_replicas(ctx.replicas(workload))
        if replicas == 0:
            continue
        # An unpinned workload counts on every node it may land on: any of them may be
        # the one whose card it takes.
        for node_name in workload.landing:
            for resource, per_pod in workload.claims_on(ctx.repo.nodes[node_name]).items():
                claims.setdefault((node_name, resource), []).append((workload, replicas * per_pod))
    for (node_name, resource), items in sorted(claims.items()):
        node = ctx.repo.nodes[node_name]
        present = sum(g.count for g in node.gpus if g.resource == resource)
        total = sum(count for _w, count in items)
        if total <= present:
            continue
        listed = ", ".join(f"{w.obj.lane or w.obj.ident} ({count})" for w, count in items)
        message = (
            f"{node_name} has {present} {resource} but {len(items)} running workloads "
            f"claim {total}: {listed}"
        )
        for workload, _count in items:
            yield _hit(ctx, workload, message)


def _hit(ctx: CheckContext, workload: Workload, message: str) -> Hit:
    """At the field to change: the lane's `active`, the autoscaler's maximum when it raised
    the count, else the manifest's replicas."""
    lane = ctx.lane_of(workload)
    scaler = workload.autoscaler
    declared = ctx.replicas(workload)
    if scaler is not None and scaler.replicas(declared) > declared:
        where = scaler.obj.where(*scaler.max_path)
        message += (
            f"; {scaler.obj.ident} runs up to {scaler.max_replicas} replicas "
            f"(cap {scaler.max_path[-1]} at what the GPUs hold)"
        )
    elif lane is not None:
        where = lane.where("active")
    else:
        where = workload.obj.where("spec", "replicas")
    return Hit(message, where, workload.obj.ident, lane.name if lane else None)
