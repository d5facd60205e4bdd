"""The rule engine: run every registered rule, stamp id and severity, apply waivers, sort."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, cast

from gitops_gen.check.findings import Finding, Hit, Severity
from gitops_gen.check.inventory import ComposeService, Inventory, Workload
from gitops_gen.check.policy import Policy
from gitops_gen.check.validation import KubeSchemas, SchemaViolation
from gitops_gen.render.templating import RenderedTree
from gitops_gen.render.writer import TreeMemo
from gitops_gen.specs.model import Gpu, Lane, Node, Repo
from gitops_gen.specs.versions import tags_name_engine, version_from_image


class Rule(Protocol):
    """What a rule module provides (see gitops_gen/rules/)."""

    ID: str
    SEVERITY: Severity
    REMEDIATION: str
    OPTIONS: Mapping[str, Any]
    LANE_SCOPED: bool
    TARGETS: frozenset[str]
    __doc__: str | None

    def check(self, ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]: ...


def as_rule(module: ModuleType) -> Rule:
    return cast(Rule, module)


@dataclass(frozen=True)
class CheckContext:
    """Everything a rule may look at. Immutable: rules only read it."""

    repo: Repo
    tree: RenderedTree
    inventory: Inventory
    policy: Policy
    today: dt.date
    kube: Mapping[str, KubeSchemas] = field(default_factory=dict)
    # The repo as it is at --base, for diff-aware rules; None without --base.
    base: Repo | None = None
    base_policy: Policy | None = None  # policies/ at --base
    # Lane -> active, whatever the files say: preflight and switch ask "what if".
    overrides: Mapping[str, bool] = field(default_factory=dict)
    # Rendered path -> its schema violations, when validated before the rules ran (a
    # path not in it has none); None: the kubernetes-schema rule validates them itself.
    rendered_violations: Mapping[str, Sequence[SchemaViolation]] | None = None
    # What the cache knows of the files under rendered/ (None: no cache).
    tree_memo: TreeMemo | None = None

    def is_active(self, lane: Lane) -> bool:
        return self.overrides.get(lane.name, lane.active)

    def node_of(self, lane: Lane) -> Node:
        return self.repo.nodes[lane.node]

    def cards_of(self, lane: Lane) -> tuple[Gpu, ...]:
        """Each kind of card the lane may be given: the device plugin hands out any card
        of its vendor on its node, so a rule judging the card judges every one of them
        (one entry per hardware/ entry; none for a node without the vendor's cards)."""
        return self.repo.gpus_of(lane)

    def workload_of(self, lane: Lane) -> Workload | None:
        return self.inventory.lane_deployments.get(lane.name)

    def lane_object(self, lane: Lane) -> str:
        """The object a lane finding is about: its Deployment, or its compose service."""
        workload = self.workload_of(lane)
        if workload is not None:
            return workload.obj.ident
        service = self.lane_service_of(lane)
        return service.ident if service is not None else f"Lane/{lane.name}"

    def lane_of(self, workload: Workload) -> Lane | None:
        return self.repo.lanes.get(workload.obj.lane) if workload.obj.lane else None

    def service_replicas(self, service: ComposeService) -> int:
        """Containers a compose service runs, with the lanes' "what if" applied."""
        if service.lane is not None and service.lane in self.overrides:
            return 1 if self.overrides[service.lane] else 0
        return service.replicas

    def lane_service_of(self, lane: Lane) -> ComposeService | None:
        return self.inventory.lane_services.get(lane.name)

    def replicas(self, workload: Workload) -> int:
        lane = self.lane_of(workload)
        if lane is not None and lane.name in self.overrides:
            return 1 if self.overrides[lane.name] else 0
        return workload.replicas


def engine_version(lane: Lane) -> str | None:
    """The engine version that will run: the image tag's, wherever the tag carries one.

    The image is what the node pulls; a declared engineVersion only fills in when the tag
    says nothing (`server-cuda@sha256:...`). Seed 000: an Ollama 0.23.0 image declared as
    0.24.0 passed every gate and silently ignored flash attention on Blackwell. A declared
    version that disagrees with the tag is its own finding (engine-version-tag).
    """
    if not tags_name_engine(lane.engine):
        return lane.engine_version or version_from_image(lane.image)
    return version_from_image(lane.image, lane.engine) or lane.engine_version


def run_rules(ctx: CheckContext, rules: tuple[ModuleType, ...]) -> list[Finding]:
    findings: list[Finding] = []
    today = ctx.today
    live_waivers = [w for w in ctx.policy.waivers if w.expires >= today]
    for module in rules:
        rule = as_rule(module)
        setting = ctx.policy.setting(rule.ID)
        configured = setting.severity if setting is not None else None
        if configured == "off":
            continue
        options = {**rule.OPTIONS, **(setting.options if setting is not None else {})}
        for hit in rule.check(ctx, options):
            if hit.note:
                severity = Severity.NOTE
            elif configured is not None:
                severity = Severity.parse(configured)
            else:
                severity = hit.severity or rule.SEVERITY
            waiver = next(
                (w for w in live_waivers if w.covers(rule.ID, hit.lane, hit.object)), None
            )
            findings.append(
                Finding(
                    file=hit.where.file,
                    line=hit.where.line,
                    rule=rule.ID,
                    object=hit.object,
                    message=hit.message,
                    severity=severity,
                    remediation=rule.REMEDIATION,
                    lane=hit.lane,
                    waived=waiver.reason if waiver else None,
                )
            )
    return sorted(set(findings))
