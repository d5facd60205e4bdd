"""One change must not move both the GPU device plugin and a model runtime image (needs --base).

Seed 002's maintenance trap: the device plugin can unregister and re-register the GPU
while the model pod is being recreated, and Kubernetes then fails to admit the pod
(UnexpectedAdmissionError) with nothing healthy to allocate. Upgrade the device plugin
alone, wait until the node reports its GPU allocatable again, then roll the runtime.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.checker import CheckContext
from gitops_gen.findings import Hit, Severity

ID = "maintenance-split"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Split the change: first the device plugin alone; once the node reports its GPU "
    "allocatable again and stays stable, the runtime image in a second change."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    if ctx.base is None:
        return
    old, new = ctx.base.config.device_plugin, ctx.repo.config.device_plugin
    if old is None or new is None:
        return
    moved = []
    if old.chart_version != new.chart_version:
        moved.append(f"chart {old.chart_version} -> {new.chart_version}")
    if old.image != new.image:
        moved.append("image")
    if not moved:
        return
    runtimes = sorted(
        lane.name
        for lane in ctx.repo.lanes.values()
        if (lane.name in ctx.base.lanes and ctx.base.lanes[lane.name].image != lane.image)
        or (lane.name not in ctx.base.lanes and ctx.is_active(lane))
    )
    if not runtimes:
        return
    where = (
        new.where("chart", "version")
        if old.chart_version != new.chart_version
        else new.where("image")
    )
    yield Hit(
        f"this change moves the device plugin ({', '.join(moved)}) and the runtime image "
        f"of {', '.join(runtimes)} together",
        where,
        "Application/nvidia-device-plugin",
    )
