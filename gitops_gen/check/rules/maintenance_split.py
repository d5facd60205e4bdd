"""One change must not move the GPU platform and restart a GPU pod together (needs --base).

Seed 002's maintenance trap: the device plugin can unregister and re-register the GPU
while the model pod is being recreated, and Kubernetes then fails to admit the pod
(UnexpectedAdmissionError) with nothing healthy to allocate. The same holds for the
other layers under the pod: the node's GPU driver (`driverVersion` in hardware/) and
the container runtime (the RuntimeClasses in gitops-gen.yaml). Upgrade the platform
alone, wait until the node reports its GPU allocatable again, then touch the workloads.

What restarts a GPU pod: anything in the pod template of a running GPU workload (image,
args, env, resources, the verify-model init container and its image, volumes, labels,
annotations, placement), and a lane switching between active and parked. The lanes are
compared by their planned values (what the Deployment is rendered from), so the check
stays cheap; hand-written GPU manifests by their pod template.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.inventory import get
from gitops_gen.render.plan import plan_device_plugin_values, plan_lane
from gitops_gen.specs.manifests import POD_PATHS
from gitops_gen.specs.model import DevicePlugin, Lane, Location, Node, Repo

ID = "maintenance-split"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Split the change: first the platform (device plugin, driver or runtime class) alone; "
    "once the node reports its GPU allocatable again and stays stable, the GPU workloads "
    "(images, switches, settings) in a second change."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = KUBERNETES_ONLY

# Planned values that are not in the pod template: the gateway's aliases and the
# separate prefetch Job (its name reaches the pod through the verify init container).
# runtimeClassName only changes with runtimeClasses, which is reported as the platform.
_NOT_IN_POD = frozenset({"aliases", "prefetch", "active", "replicaCount", "runtimeClassName"})


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    base = ctx.base
    if base is None:
        return
    platform = list(_platform_moves(base, ctx.repo))
    if not platform:
        return
    restarts = _gpu_restarts(ctx, base)
    for where, what, obj, node in platform:
        hit = [name for name, on in restarts if node is None or on in (None, node)]
        if hit:
            yield Hit(
                f"this change moves {what} and restarts the GPU pods of {', '.join(hit)} together",
                where,
                obj,
            )


# --- the platform under the pods ---------------------------------------------------

Move = tuple[Location, str, str, str | None]  # where, what moved, object, node (None: all)


def _platform_moves(base: Repo, head: Repo) -> Iterator[Move]:
    for vendor in ("nvidia", "amd"):
        yield from _plugin_moves(base, head, vendor)
    if base.config.runtime_classes != head.config.runtime_classes:
        yield (
            head.config.where("runtimeClasses"),
            "the container runtime (runtimeClasses)",
            "RuntimeClass",
            None,
        )
    for node in head.nodes.values():
        before = base.nodes.get(node.name)
        if before is not None:
            yield from _driver_moves(before, node)


def _plugin_moves(base: Repo, head: Repo, vendor: str) -> Iterator[Move]:
    old, new = base.config.device_plugin_for(vendor), head.config.device_plugin_for(vendor)
    if new is not None and old is not None:
        moved = []
        if old.chart_version != new.chart_version:
            moved.append(f"chart {old.chart_version} -> {new.chart_version}")
        if old.image != new.image:
            moved.append("image")
        if (old.chart_repo, old.chart_name, old.namespace) != (
            new.chart_repo,
            new.chart_name,
            new.namespace,
        ):
            moved.append("chart source")
        if not moved and _values(old, base) != _values(new, head):
            moved.append("values")
        if moved:
            where = (
                new.where("chart", "version")
                if old.chart_version != new.chart_version
                else new.where("image")
                if old.image != new.image
                else new.where()
            )
            yield where, f"the {vendor} device plugin ({', '.join(moved)})", _app(new), None
    elif new is not None or old is not None:
        plugin = new or old
        assert plugin is not None
        where = new.where() if new is not None else head.config.where()
        yield where, f"the {vendor} device plugin (added or removed)", _app(plugin), None


def _values(plugin: DevicePlugin, repo: Repo) -> Mapping[str, Any]:
    return plan_device_plugin_values(plugin, repo, list(repo.nodes.values()))


def _app(plugin: DevicePlugin) -> str:
    return f"Application/{plugin.chart_name}"


def _driver_moves(before: Node, node: Node) -> Iterator[Move]:
    for index, gpu in enumerate(node.gpus):
        if index >= len(before.gpus):
            break
        old = before.gpus[index]
        for key, was, now in (
            ("driverVersion", old.driver_version, gpu.driver_version),
            ("cudaVersion", old.cuda_version, gpu.cuda_version),
        ):
            if was != now:
                yield (
                    node.where("gpus", index, key),
                    f"the {gpu.vendor} driver on {node.name} ({key} {was} -> {now})",
                    f"Node/{node.name}",
                    node.name,
                )
                break


# --- the GPU pods that start or restart ---------------------------------------------


def _gpu_restarts(ctx: CheckContext, base: Repo) -> list[tuple[str, str | None]]:
    """(name with the reason, node or None) of every GPU pod this change starts anew."""
    found: list[tuple[str, str | None]] = []
    for lane in sorted(ctx.repo.lanes.values(), key=lambda lane: lane.name):
        reason = _lane_reason(ctx, base, lane)
        if reason is not None:
            found.append((f"{lane.name} ({reason})", lane.node))
    for workload in ctx.inventory.workloads:
        obj = workload.obj
        if obj.doc is None or obj.lane is not None or not any(workload.gpu_claims().values()):
            continue
        reason = _manifest_reason(base, obj.data, workload.replicas)
        if reason is not None:
            node = workload.node.name if workload.node is not None else None
            found.append((f"{obj.ident} ({reason})", node))
    return found


def _lane_reason(ctx: CheckContext, base: Repo, lane: Lane) -> str | None:
    before = base.lanes.get(lane.name)
    active = ctx.is_active(lane)
    if before is None:
        return "new active lane" if active and lane.gpus > 0 else None
    if max(lane.gpus, before.gpus) <= 0:
        return None
    if before.active != active:
        return "switch to active" if active else "switch to parked"
    if not active:
        return None
    old, new = _pod_values(before, base), _pod_values(lane, ctx.repo)
    changed = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    return ", ".join(changed) if changed else None


def _pod_values(lane: Lane, repo: Repo) -> dict[str, Any]:
    """What the lane's pod template is rendered from (plan.py's values, per key)."""
    values = {k: v for k, v in plan_lane(lane, repo).items() if k not in _NOT_IN_POD}
    # The pod's supplementalGroups come from the node GPU's deviceGroups.
    values["supplementalGroups"] = sorted(
        {g for gpu in repo.gpus_of(lane) for g in gpu.device_groups}
    )
    return values


def _manifest_reason(base: Repo, data: Mapping[str, Any], replicas: int) -> str | None:
    kind = str(data.get("kind", ""))
    meta = data.get("metadata") or {}
    before = next(
        (
            m.data
            for m in base.manifests
            if m.data.get("kind") == kind
            and (m.data.get("metadata") or {}).get("name") == meta.get("name")
            and (m.data.get("metadata") or {}).get("namespace") == meta.get("namespace")
        ),
        None,
    )
    if before is None:
        return "new GPU workload" if replicas > 0 else None
    was = int(get(before, ("spec", "replicas"), 1) or 0) if kind != "Pod" else 1
    if (was > 0) != (replicas > 0):
        return "scaled to running" if replicas > 0 else "scaled to zero"
    if replicas <= 0:
        return None
    template = POD_PATHS.get(kind, ("spec",))[:-1] or ("spec",)
    return "pod template" if get(before, template) != get(data, template) else None
