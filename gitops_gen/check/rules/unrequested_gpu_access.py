"""A container that can see a GPU requests it from the device plugin.

The device plugin hands out only the GPUs pods request; a container that reaches a GPU
another way (NVIDIA_VISIBLE_DEVICES=all under the NVIDIA runtime, AMD's /dev/kfd and
/dev/dri mounted from the host, a privileged container) shares the card with the lane
that owns it, unaccounted: the lane runs out of VRAM with nothing Pending to show why.
GPU platform agents (device plugins, feature discovery, DCGM exporters) are exempt. A pod
that claims devices through Dynamic Resource Allocation (`resourceClaims`) is reported too:
gitops-gen deploys device plugins, not a DRA driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity

ID = "unrequested-gpu-access"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Request the GPU (nvidia.com/gpu or amd.com/gpu in resources.limits) instead, or remove "
    "the route: NVIDIA_VISIBLE_DEVICES (or set it to void), the /dev/kfd and /dev/dri "
    "hostPath volumes, privileged: true."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for workload in ctx.inventory.workloads:
        nodes = [ctx.repo.nodes[n] for n in workload.landing or workload.candidates]
        lane = ctx.lane_of(workload)
        if workload.pod.get("resourceClaims"):
            # Dynamic Resource Allocation hands out devices through a DRA driver, which
            # gitops-gen does not deploy: the claim stays unallocated (Pending), or, with a
            # driver, takes the card the device plugin gave a lane.
            yield Hit(
                "claims devices through Dynamic Resource Allocation (resourceClaims): no DRA "
                "driver is deployed, and the device plugin does not account for what it takes",
                workload.obj.where(*workload.pod_path, "resourceClaims"),
                workload.obj.ident,
                lane.name if lane else None,
            )
        for access in workload.unrequested_gpus():
            if all(access.on(node) <= access.requested for node in nodes):
                continue  # nothing beyond its request where it can run
            seen = "every" if access.count is None else str(access.count)
            requested, unaccounted = (
                (f"but requests {access.requested}", "the others")
                if access.requested
                else ("without requesting it", "it")
            )
            where = (
                lane.where("env")
                if lane is not None and workload.obj.doc is None
                else workload.obj.where(*access.path)
            )
            yield Hit(
                f"sees {seen} {access.vendor} GPU {requested} ({access.route}): the "
                f"device plugin does not account for {unaccounted}",
                where,
                workload.obj.ident,
                lane.name if lane else None,
            )
