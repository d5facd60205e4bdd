"""Every gateway alias routes to one serving lane (parked-only: warn; defined twice: block).

Clients call LiteLLM aliases (fast, chat, agent), never a lane directly, so that the
backend can move. An alias that only parked lanes serve answers every request with an
error; an alias defined twice routes unpredictably; an alias that active lanes with
different models serve answers from either model, request by request (LiteLLM
load-balances the entries of one name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.specs.model import Lane

ID = "gateway-aliases"
SEVERITY = Severity.WARN
REMEDIATION = (
    "Add the alias to the active lane's aliases (every lane may serve the stable aliases; "
    "the active one gets the traffic), or drop it; an alias of two lanes running at once "
    "belongs to the one that should answer it."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    config = ctx.repo.config
    gateway = config.gateway
    serving: dict[tuple[str, str], list[Lane]] = {}
    for lane in ctx.repo.lanes.values():
        for alias in lane.aliases:
            serving.setdefault((ctx.repo.cluster_of(lane), alias), []).append(lane)
    if gateway is None:
        for (_cluster, alias), lanes in sorted(serving.items()):
            yield Hit(
                f"alias {alias!r} is declared but gitops-gen.yaml configures no gateway",
                lanes[0].where("aliases"),
                f"Lane/{lanes[0].name}",
                lanes[0].name,
            )
        return
    extra = {r.alias: index for index, r in enumerate(gateway.extra_routes)}
    for (cluster, alias), lanes in sorted(serving.items()):
        ident = f"ConfigMap/{config.namespace}/{gateway.name}-config"
        if alias in extra:
            yield Hit(
                f"alias {alias!r} is served by lane {lanes[0].name} and also by an "
                "extra route: one alias, two backends",
                gateway.where("extraRoutes", extra[alias]),
                ident,
                severity=Severity.BLOCK,
            )
        active = [lane for lane in lanes if ctx.is_active(lane)]
        models = sorted({lane.model or lane.name for lane in active})
        if len(models) > 1 and _run_together(ctx, active):
            listed = ", ".join(f"{lane.name} ({lane.model or 'its own'})" for lane in active)
            yield Hit(
                f"alias {alias!r} is served by active lanes running different models "
                f"({listed}) in {cluster}: LiteLLM spreads its requests over all of them",
                active[-1].where("aliases"),
                ident,
            )
        if not active:
            names = ", ".join(lane.name for lane in lanes)
            yield Hit(
                f"alias {alias!r} is served only by parked lanes ({names}) in {cluster}: "
                "requests to it fail",
                lanes[0].where("aliases"),
                ident,
            )


def _run_together(ctx: CheckContext, lanes: list[Lane]) -> bool:
    """Whether the lanes can all be running at once: on several nodes, or on one node
    with GPU slots for all of them (two lanes wanting one card is single-active-gpu-lane's
    finding, and only one of them would answer)."""
    nodes = {lane.node for lane in lanes}
    if len(nodes) > 1:
        return True
    slots = sum(gpu.count * gpu.slots for gpu in ctx.cards_of(lanes[0]))
    return sum(lane.gpus for lane in lanes) <= slots
