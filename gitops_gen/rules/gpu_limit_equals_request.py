"""GPUs are extended resources: a limit is set, and a request is absent or equal to it.

Kubernetes rejects a GPU request without a limit or with a different one; there is no
burstable GPU. The seed lanes declare `nvidia.com/gpu: 1` in both places.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.checker import CheckContext
from gitops_gen.findings import Hit, Severity
from gitops_gen.inventory import is_gpu_resource

ID = "gpu-limit-equals-request"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Set the GPU in resources.limits, and make resources.requests equal to it or leave it out."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for workload in ctx.inventory.workloads:
        lane = ctx.lane_of(workload)
        for container in workload.containers():
            resources = container.data.get("resources") or {}
            limits = resources.get("limits") or {}
            requests = resources.get("requests") or {}
            for name in sorted(set(limits) | set(requests)):
                if not is_gpu_resource(str(name)):
                    continue
                path = (*container.path, "resources")
                where = lane.where("gpus") if lane else workload.obj.where(*path)
                label = f"container {container.data.get('name', '?')!r}"
                if name not in limits:
                    yield Hit(
                        f"{label} requests {requests[name]} {name} but sets no limit",
                        where,
                        workload.obj.ident,
                        lane.name if lane else None,
                    )
                elif name in requests and str(requests[name]) != str(limits[name]):
                    yield Hit(
                        f"{label} requests {requests[name]} {name} but limits it to {limits[name]}",
                        where,
                        workload.obj.ident,
                        lane.name if lane else None,
                    )
