"""A waiver in policies/waivers.yaml is past its expiry date, or runs longer than allowed.

Waivers are debts with a due date. Once expired the waiver no longer hides its
finding, and the expired entry itself blocks until someone decides again. A waiver
expiring further ahead than `maxLifetimeDays` (default 90, counted from its `created`
date, or from today when it has none) blocks too: `expires: "9999-12-31"` would switch
its rule off for good, and nobody would ever be asked again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.policy import MAX_WAIVER_DAYS

ID = "waiver-expired"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Fix what the waiver covered and delete it, or renew it with a reason that still holds "
    "and an expiry date within the maximum lifetime."
)
OPTIONS: Mapping[str, Any] = {"maxLifetimeDays": MAX_WAIVER_DAYS}
LANE_SCOPED = False
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    limit = int(options["maxLifetimeDays"])
    for waiver in ctx.policy.waivers:
        if waiver.expires < ctx.today:
            message = f"expired on {waiver.expires.isoformat()}"
        elif waiver.lifetime(ctx.today) > limit:
            start = min(waiver.created or ctx.today, ctx.today)
            since = "created" if start == waiver.created else "today"
            message = (
                f"expires {waiver.expires.isoformat()}, {waiver.lifetime(ctx.today)} days "
                f"after {since} ({start.isoformat()}), more than the maximum of {limit} days"
            )
        else:
            continue
        yield Hit(
            f"waiver of {waiver.rule} for {waiver.covered} {message}: {waiver.reason}",
            waiver.where("expires"),
            f"Waiver/{waiver.rule}",
            waiver.lane,
        )
