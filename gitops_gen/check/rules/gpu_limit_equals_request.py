"""GPUs are extended resources: a limit is set, and a request is absent or equal to it.

Kubernetes rejects a GPU request without a limit or with a different one; there is no
burstable GPU. The seed lanes declare `nvidia.com/gpu: 1` in both places. The count is a
whole number: a template placeholder left in a copied manifest
(`nvidia.com/gpu: ${ACCELERATOR_QUANTITY}`) passes the schema but no GPU rule can count it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.inventory import as_map, gpu_count, is_gpu_resource

ID = "gpu-limit-equals-request"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Set the GPU in resources.limits as a whole number, and make resources.requests equal "
    "to it or leave it out."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for workload in ctx.inventory.workloads:
        lane = ctx.lane_of(workload)
        for container in workload.containers():
            resources = as_map(container.data.get("resources"))
            limits = as_map(resources.get("limits"))
            requests = as_map(resources.get("requests"))
            for name in sorted(set(limits) | set(requests)):
                if not is_gpu_resource(str(name)):
                    continue
                path = (*container.path, "resources")
                where = lane.where("gpus") if lane else workload.obj.where(*path)
                label = f"container {container.data.get('name', '?')!r}"
                for side, values in (("limits", limits), ("requests", requests)):
                    if name in values and gpu_count(values[name]) is None:
                        yield Hit(
                            f"{label} sets resources.{side}.{name} to {values[name]!r}, which is "
                            "not a whole number of GPUs: the API server refuses it, and no GPU "
                            "rule can count it",
                            workload.obj.where(*path, side, name),
                            workload.obj.ident,
                            lane.name if lane else None,
                        )
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
