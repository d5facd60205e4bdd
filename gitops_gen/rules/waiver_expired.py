"""A waiver in policies/waivers.yaml is past its expiry date.

Waivers are debts with a due date. Once expired the waiver no longer hides its
finding, and the expired entry itself blocks until someone decides again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.checker import CheckContext
from gitops_gen.findings import Hit, Severity

ID = "waiver-expired"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Fix what the waiver covered and delete it, or renew it with a new expiry date and a "
    "reason that still holds."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for waiver in ctx.policy.waivers:
        if waiver.expires < ctx.today:
            covers = f"lane {waiver.lane}" if waiver.lane else f"object {waiver.object}"
            yield Hit(
                f"waiver of {waiver.rule} for {covers} expired on "
                f"{waiver.expires.isoformat()}: {waiver.reason}",
                waiver.where("expires"),
                f"Waiver/{waiver.rule}",
                waiver.lane,
            )
