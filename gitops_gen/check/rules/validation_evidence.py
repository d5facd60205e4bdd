"""An active lane has acceptance evidence on the GPU model it runs on.

"It loaded, so it's fine" hid a half-speed 70B once already. Evidence is a measured
run of this lane on this card (live VRAM peak, date); without it a switch is an
experiment, which is allowed but should be said. Parked lanes are notes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity

ID = "validation-evidence"
SEVERITY = Severity.WARN
REMEDIATION = (
    "Run the lane, measure it (live VRAM peak, throughput), and record evidence: {gpuModel,"
    " livePeakMiB, date} in the lane file."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        # Every kind of card it may be given needs its own evidence.
        models = sorted({gpu.model for gpu in ctx.cards_of(lane)})
        if not models or lane.gpus == 0:
            continue
        ident = ctx.lane_object(lane)
        parked = not ctx.is_active(lane)
        state = "parked" if parked else "active"
        if lane.evidence is None:
            yield Hit(
                f"{state} lane has no validation evidence on {' or '.join(models)}",
                lane.where("active"),
                ident,
                lane.name,
                note=parked,
            )
            continue
        for model in models:
            if lane.evidence.gpu_model != model:
                yield Hit(
                    f"{state} lane's evidence is from {lane.evidence.gpu_model}, not {model}"
                    + (" (the device plugin may give it either card)" if len(models) > 1 else ""),
                    lane.where("evidence", "gpuModel"),
                    ident,
                    lane.name,
                    note=parked,
                )
