"""An active lane's model, KV cache and buffers fit its GPU, 100% on the card.

A model that does not fit does not fail: it offloads layers to the CPU and serves at a
fraction of the speed, with nothing in the logs but a layer count (a 70B at 32k on 48 GB
ran 5% on the CPU). vLLM fails outright when one max_model_len sequence does not fit
the KV space left. The estimate (weights, KV cache, compute buffers, runtime overhead)
gives way to recorded evidence (a measured live peak on this GPU model). A parked lane
that would not fit is a note naming it: kept in Git as a rollback, it must not be
activated as it is. A generic lane (ComfyUI, say) is held to the VRAM it declares
(`vramMiB`), or to its recorded peak. On a card shared on purpose (`timeSlicing`),
the active lanes' totals must also sum within it: time-slicing shares the compute, not
the memory, and the lane that loads last is the one that fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.fit import LaneFit, worst_fit

ID = "vram-fit"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Shrink what the lane keeps on the card (context, KV cache type, a smaller quant) or "
    "move it to a bigger GPU; 'gitops-gen fit' shows every lane's budget."
)
OPTIONS: Mapping[str, Any] = {"warnAt": 0.95, "blockAt": 1.0, "offloadBlocks": True}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    warn_at = float(options["warnAt"])
    block_at = float(options["blockAt"])
    # Each lane's fit on the card it fits worst, worked out once for both checks below.
    fits = {
        lane.name: worst_fit(
            lane, ctx.repo.models[lane.model] if lane.model else None, ctx.cards_of(lane)
        )
        for lane in ctx.repo.lanes.values()
    }
    for lane in ctx.repo.lanes.values():
        fit = fits[lane.name]
        if fit is None:
            continue
        if lane.vram_mib is not None:
            where = lane.where("vramMiB")
        else:
            where = lane.where("serve") if lane.serve else lane.where("model")
        ident = ctx.lane_object(lane)
        parked = not ctx.is_active(lane)
        source = f"{'parked lane would not fit: ' if parked else ''}({fit.source}) "
        if fit.estimate.offload_layers and options["offloadBlocks"]:
            yield Hit(
                f"{source}{fit.estimate.offload_layers} layers stay on the CPU: {fit.breakdown()}",
                where,
                ident,
                lane.name,
                note=parked,
            )
        elif not fit.fits or (fit.estimate.kv_space_mib is None and fit.share >= block_at):
            yield Hit(
                f"{source}does not fit {fit.gpu_model}: {fit.breakdown()}",
                where,
                ident,
                lane.name,
                note=parked,
            )
        elif parked:
            continue  # a tight fit is worth a warning only where the lane runs
        elif fit.estimate.kv_space_mib is None and fit.share >= warn_at:
            yield Hit(
                f"{source}leaves {fit.estimate.vram_mib - fit.total_mib:.0f} MiB free on "
                f"{fit.gpu_model}: {fit.breakdown()}",
                where,
                ident,
                lane.name,
                severity=Severity.WARN,
            )
    yield from _shared_cards(ctx, fits, warn_at, block_at)


def _shared_cards(
    ctx: CheckContext, all_fits: Mapping[str, LaneFit | None], warn_at: float, block_at: float
) -> Iterator[Hit]:
    for node in ctx.repo.nodes.values():
        for gpu in node.gpus:
            if gpu.time_slicing is None:
                continue
            lanes = [
                lane
                for lane in ctx.repo.lanes.values()
                if lane.node == node.name
                and ctx.is_active(lane)
                and lane.gpus > 0
                and ctx.repo.vendor_of(lane) == gpu.vendor
            ]
            if len(lanes) < 2:
                continue
            # The card is the node's only one of its vendor: each lane's fit is on it.
            fits = {lane.name: all_fits[lane.name] for lane in lanes}
            unknown = sorted(name for name, fit in fits.items() if fit is None)
            total = sum(fit.total_mib for fit in fits.values() if fit is not None)
            share = total / gpu.vram_mib
            listed = ", ".join(
                f"{name} {fit.total_mib:.0f}" for name, fit in sorted(fits.items()) if fit
            )
            summary = (
                f"{len(lanes)} active lanes share {node.name}'s {gpu.model} (time-sliced): "
                f"{listed} = {total:.0f} of {gpu.vram_mib} MiB ({share:.0%})"
            )
            if unknown:
                message = (
                    f"{summary}; {', '.join(unknown)} cannot be sized, so the sum is not known"
                )
                severity = Severity.WARN
            elif share > block_at:
                message, severity = f"{summary}: they do not fit together", Severity.BLOCK
            elif share >= warn_at:
                message, severity = f"{summary}: little is left", Severity.WARN
            else:
                continue
            for lane in lanes:
                yield Hit(
                    message,
                    lane.where("active"),
                    ctx.lane_object(lane),
                    lane.name,
                    severity=severity,
                )
