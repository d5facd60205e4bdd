"""Per node and GPU resource, the GPUs running workloads claim fit the GPUs present.

A single card is not a pool: a second GPU pod stays Pending, and a rolling update
deadlocks waiting for the card the old pod still holds. Parked lanes (replicas 0) keep
their `nvidia.com/gpu` claim in the manifest but do not count. Hand-written workloads
in manifests/ (a ComfyUI Deployment, say) count against the same GPUs; so do GPUs a pod
sees without requesting them (NVIDIA_VISIBLE_DEVICES=all claims every NVIDIA GPU of the
node), an autoscaler's maximum replicas, and an unpinned workload on every GPU node it
may land on. A card shared on purpose (`timeSlicing` in hardware/) holds as many as
its replicas; vram-fit then checks that their VRAM sums within it.

On a compose host the same holds per card: Docker does not keep count, so two running
services that reserve the same device id (or `count: 1`, which is card 0) share it,
and a device id the host lacks stops the service at start. Lanes get their cards by
id from gitops-gen; hand-written services count with every route they reach a GPU by.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.inventory import ComposeService, Workload
from gitops_gen.render.compose import card_slots, device_ids

ID = "single-active-gpu-lane"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Park the other lanes on this GPU (active: false; replicas: 0 in a hand-written "
    "manifest; a profile for a hand-written compose service); 'gitops-gen switch LANE' "
    "makes LANE the only active lane."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


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
    yield from _compose_hosts(ctx)
    for (node_name, resource), items in sorted(claims.items()):
        node = ctx.repo.nodes[node_name]
        # A time-sliced card is advertised once per replica (vram-fit checks their sum).
        present = sum(g.count * g.slots for g in node.gpus if g.resource == resource)
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


def _compose_hosts(ctx: CheckContext) -> Iterator[Hit]:
    for node in ctx.repo.nodes.values():
        if not ctx.repo.on_compose(node):
            continue
        slots = card_slots(node)
        present = [str(i) for i in range(len(slots))]
        lanes = [
            replace(lane, active=ctx.is_active(lane))
            for lane in ctx.repo.lanes.values()
            if lane.node == node.name
        ]
        lane_ids = device_ids(lanes, slots)
        holders: dict[str, list[tuple[ComposeService, str]]] = {}
        for service in ctx.inventory.services_on(node.cluster):
            if ctx.service_replicas(service) == 0:
                continue
            claims: list[tuple[tuple[str, ...] | None, str]]
            if service.lane is not None:
                claims = [(tuple(lane_ids.get(service.lane, ())), "its lane's GPUs")]
            else:
                claims = [(c.ids, c.route) for c in service.gpu_claims()]
            for ids, route in claims:
                for device in present if ids is None else ids:
                    if not device.isdigit():
                        # A UUID names a card gitops-gen cannot map to an index: it may
                        # be any of them.
                        for card in present:
                            holders.setdefault(card, []).append((service, f"{route} {device}"))
                        continue
                    holders.setdefault(device, []).append((service, route))
        for device, items in sorted(holders.items()):
            if device not in present:
                message = (
                    f"{node.name} has no GPU {device!r} (device ids {', '.join(present)}); "
                    f"compose cannot start {', '.join(s.name for s, _ in items)}"
                )
            elif len(items) > slots[int(device)]:
                listed = ", ".join(f"{s.name} ({route})" for s, route in items)
                shared = (
                    f" (time-sliced for {slots[int(device)]})" if slots[int(device)] > 1 else ""
                )
                message = (
                    f"GPU {device}{shared} of {node.name} is held by {len(items)} running "
                    f"services: {listed}"
                )
            else:
                continue
            for service, _route in items:
                yield _service_hit(ctx, service, message)


def _service_hit(ctx: CheckContext, service: ComposeService, message: str) -> Hit:
    lane = ctx.repo.lanes.get(service.lane) if service.lane else None
    where = lane.where("active") if lane is not None else service.where()
    return Hit(message, where, service.ident, lane.name if lane else None)
