"""A lane matches a known-broken profile in policies/known-broken.yaml.

Some combinations fail in ways that look like something else: vLLM rejects an NVFP4
checkpoint with an lm_head.input_scale model-class mismatch that is not an OOM. The
lab records them once; a lane that matches one must not become active. Parked lanes
are reported as notes: keeping a broken experiment in Git is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext, engine_version
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.policy import BrokenProfile
from gitops_gen.specs.model import Gpu, Lane
from gitops_gen.specs.versions import in_range

ID = "known-broken"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Keep the lane parked, or change what the profile matches (engine version, model, GPU) "
    "and record new evidence."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def matches(ctx: CheckContext, profile: BrokenProfile, lane: Lane) -> bool:
    """The profile matches the lane on a card it may be given (any, for a profile that
    names no card)."""
    return any(_matches(ctx, profile, lane, gpu) for gpu in ctx.cards_of(lane) or (None,))


def _matches(ctx: CheckContext, profile: BrokenProfile, lane: Lane, gpu: Gpu | None) -> bool:
    match = profile.match
    model = ctx.repo.models.get(lane.model) if lane.model else None
    version = engine_version(lane)
    checks: dict[str, Callable[[str], bool]] = {
        "engine": lambda v: lane.engine == v,
        "engineVersion": lambda v: version is not None and in_range(version, v),
        "model": lambda v: lane.model == v,
        "hf": lambda v: model is not None and model.hf_repo == v,
        "dtype": lambda v: model is not None and model.dtype == v,
        "quant": lambda v: model is not None and (model.quant or "").lower() == v.lower(),
        "gpuModel": lambda v: gpu is not None and gpu.model == v,
        "lane": lambda v: lane.name == v,
    }
    return all(checks[key](value) for key, value in match.items())


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        for profile in ctx.policy.known_broken:
            if not matches(ctx, profile, lane):
                continue
            reference = f" ({profile.reference})" if profile.reference else ""
            state = "active" if ctx.is_active(lane) else "parked"
            yield Hit(
                f"{state} lane matches known-broken profile {profile.id}: "
                f"{profile.reason}{reference}",
                lane.where("model") if lane.model else lane.where("engine"),
                ctx.lane_object(lane),
                lane.name,
                note=not ctx.is_active(lane),
            )
