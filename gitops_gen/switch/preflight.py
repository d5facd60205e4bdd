"""`gitops-gen preflight LANE`: would LANE fit and start on its node if it were active now?

Every check that concerns the lane runs as if the switch were made (LANE active, the
lanes sharing its GPUs parked), before anything is touched: on a one-GPU node the lane
being replaced is also the rollback, and tearing it down first is a self-made outage.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_gen.check import check_build
from gitops_gen.check.engine import as_rule, engine_version
from gitops_gen.check.findings import Finding, exit_code
from gitops_gen.check.rules import REGISTRY
from gitops_gen.errors import GitopsGenError
from gitops_gen.fit import LaneFit, worst_fit
from gitops_gen.pipeline import build_repo
from gitops_gen.render import Build
from gitops_gen.specs.model import KUBERNETES, Lane, Repo


class UnknownLaneError(GitopsGenError):
    """The lane named on the command line does not exist."""


def find_lane(repo: Repo, name: str) -> Lane:
    lane = repo.lanes.get(name)
    if lane is not None:
        return lane
    # Seed habit: preflight by alias ("fast") as well as by lane name.
    by_alias = [lane for lane in repo.lanes.values() if name in lane.aliases]
    active = [lane for lane in by_alias if lane.active]
    if len(by_alias) == 1 or len(active) == 1:
        return (active or by_alias)[0]
    known = ", ".join(repo.lanes) or "none"
    raise UnknownLaneError(f"unknown lane {name!r} (lanes: {known})")


def switch_plan(repo: Repo, target: Lane) -> dict[str, bool]:
    """Lane -> active after making `target` the active lane on its GPUs: the target on,
    every other active lane on the same node and GPU vendor off; on a card shared on
    purpose (time-sliced) the others stay, and vram-fit says whether all of them fit."""
    vendor = repo.vendor_of(target)
    plan = {target.name: True}
    if any(g.time_slicing for g in repo.gpus_of(target)):
        return plan
    for lane in repo.lanes.values():
        if lane.name == target.name or not lane.active or lane.gpus == 0:
            continue
        if lane.node == target.node and repo.vendor_of(lane) == vendor:
            plan[lane.name] = False
    return plan


@dataclass(frozen=True)
class Preflight:
    lane: Lane
    build: Build  # the repo as it is, rendered: switch plans from it
    plan: dict[str, bool]
    findings: list[Finding]
    fit: LaneFit | None

    @property
    def repo(self) -> Repo:
        return self.build.repo

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings)

    @property
    def decision(self) -> str:
        worst = max((f.severity for f in self.findings if f.counts), default=None)
        return "PASS" if worst is None else worst.label


def preflight(root: Path, name: str, *, today: dt.date | None = None) -> Preflight:
    build = build_repo(root, validate=False)
    lane = find_lane(build.repo, name)
    plan = switch_plan(build.repo, lane)
    result = check_build(build, root=root, today=today, overrides=plan)
    node_object = f"Node/{lane.node}"
    findings = [f for f in result.findings if f.lane == lane.name or f.object == node_object]
    model = build.repo.models.get(lane.model) if lane.model else None
    cards = result.context.cards_of(lane)
    return Preflight(
        lane=lane, build=build, plan=plan, findings=findings, fit=worst_fit(lane, model, cards)
    )


def _rule_lines(pre: Preflight) -> list[tuple[str, str, str]]:
    """(status, rule, text) for every check that concerns a lane, in registry order."""
    lines = []
    cluster = pre.repo.config.cluster(pre.repo.cluster_of(pre.lane))
    target = cluster.target if cluster is not None else KUBERNETES
    for module in REGISTRY:
        rule = as_rule(module)
        if not rule.LANE_SCOPED and rule.ID != "cpu-memory-budget":
            continue
        if target not in rule.TARGETS:
            continue
        found = [f for f in pre.findings if f.rule == rule.ID]
        if not found:
            summary = (rule.__doc__ or "").strip().splitlines()[0]
            lines.append(("PASS", rule.ID, summary))
        for f in found:
            status = "WAIVED" if f.waived else f.severity.label
            lines.append((status, rule.ID, f"{f.message} ({f.file}:{f.line})"))
    return lines


def render_text(pre: Preflight) -> str:
    lane = pre.lane
    node = pre.repo.nodes[lane.node]
    gpus = pre.repo.gpus_of(lane)
    out = [f"GPU fit preflight: {pre.decision} {lane.name}"]
    if gpus:
        # The card the fit was judged on: the one it fits worst, when it may get several.
        gpu = next((g for g in gpus if pre.fit and g.model == pre.fit.gpu_model), gpus[0])
        out.append(
            f"gpu: {gpu.model}, total={gpu.vram_mib}MiB ({node.name}, "
            f"{gpu.resource} x{sum(g.count for g in gpus)})"
        )
    version = f" {engine_version(lane)}" if engine_version(lane) else ""
    out.append(f"lane: {lane.name}, runtime={lane.engine}{version}, gpus={lane.gpus}")
    model = pre.repo.models.get(lane.model) if lane.model else None
    if pre.fit is not None:
        e = pre.fit.estimate
        quant = model.quant if model and model.quant else (model.dtype if model else "?")
        fit = f"fit: ctx={e.context}, quant={quant}"
        if pre.fit.evidence_mib is not None:
            fit += f", live_peak_mib={pre.fit.evidence_mib:.0f} (evidence)"
        fit += f", estimate_mib={e.total_mib:.0f}"
        out.append(fit)
        out.append(f"  {pre.fit.breakdown()}")
        out.extend(f"  note: {note}" for note in e.notes)
    else:
        out.append(
            "fit: not estimated (no locked architecture, or an engine gitops-gen cannot size)"
        )
    parked = sorted(name for name, active in pre.plan.items() if not active)
    if parked:
        out.append(f"switch: would park {', '.join(parked)}")
    out.append("checks:")
    for status, rule, text in _rule_lines(pre):
        out.append(f"  [{status}] {rule}: {text}")
    decision = pre.decision
    if decision == "BLOCK":
        decision += "; do not scale the GPU lane"
    elif decision == "WARN":
        decision += "; switch only with --force, as a deliberate experiment"
    out.append(f"decision: {decision}")
    return "\n".join(out) + "\n"


def render_json(pre: Preflight) -> str:
    e = pre.fit.estimate if pre.fit else None
    data: dict[str, Any] = {
        "lane": pre.lane.name,
        "node": pre.lane.node,
        "engine": pre.lane.engine,
        "weights_mib": round(e.weights_mib, 1) if e else None,
        "kv_cache_mib": round(e.kv_cache_mib, 1) if e else None,
        "compute_mib": round(e.compute_mib, 1) if e else None,
        "overhead_mib": round(e.overhead_mib, 1) if e else None,
        "total_mib": round(pre.fit.total_mib, 1) if pre.fit else None,
        "estimate_total_mib": round(e.total_mib, 1) if e else None,
        "vram_mib": e.vram_mib if e else None,
        "source": pre.fit.source if pre.fit else None,
        "fits": pre.fit.fits if pre.fit else None,
        "park": sorted(name for name, active in pre.plan.items() if not active),
        "checks": [
            {"status": status.lower(), "rule": rule, "message": text}
            for status, rule, text in _rule_lines(pre)
        ],
        "decision": pre.decision.lower(),
        "exitCode": pre.exit_code,
    }
    return json.dumps(data, indent=2) + "\n"
