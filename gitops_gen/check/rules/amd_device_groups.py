"""An AMD lane's pods get the groups that own the GPU device nodes.

Lanes run as a non-root user. ROCm opens /dev/kfd and /dev/dri/renderD*, which belong
to the host's video and render groups (their GIDs differ per distribution); without
them in the pod's supplementalGroups the server cannot open the card and falls back to
the CPU or exits ("Unable to open /dev/kfd read-write: Permission denied"). The groups
come from `deviceGroups` on the node's AMD GPU in hardware/, rendered into every lane
on it. A parked lane is a note: it would fail once activated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity

ID = "amd-device-groups"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "List the GIDs owning /dev/kfd and /dev/dri/renderD* on the node (stat -c %g) as "
    "deviceGroups on its AMD GPU in hardware/, e.g. deviceGroups: [44, 992]."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        if lane.gpus <= 0 or ctx.repo.vendor_of(lane) != "amd":
            continue
        gpus = ctx.repo.gpus_of(lane)
        if not gpus or any(gpu.device_groups for gpu in gpus):
            continue
        node = ctx.node_of(lane)
        parked = not ctx.is_active(lane)
        yield Hit(
            f"{'parked lane: ' if parked else ''}AMD GPU {gpus[0].model} on {node.name} lists "
            "no deviceGroups: the non-root lane cannot open /dev/kfd and /dev/dri",
            node.where("gpus", node.gpus.index(gpus[0])),
            ctx.lane_object(lane),
            lane.name,
            note=parked,
        )
