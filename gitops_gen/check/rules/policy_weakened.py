"""policies/ weakens the gate: a core rule lowered, switched off or waived, or a change loosens it.

A repo can switch its own gate off in a line that looks like housekeeping: `severity:
off` for single-active-gpu-lane, or a waiver of image-digest-pinned. As it stands (with
or without --base), a core rule (single-active-gpu-lane, image-digest-pinned: see
CORE_RULES in gitops_gen/policy.py) or waiver-expired below block or off, and any waiver
of a core rule, is a warning. With --base, so is whatever this change loosens: any rule's
severity lowered, the maximum waiver lifetime raised; a new or extended waiver of
another rule is a note. These findings head the report, and `gitops-gen diff` opens its
summary with a "Policy weakened" section.

Why a warning and not a block: a block here could only be cleared by waiving this rule
or switching it off, the very weakening it reports, so it would teach people to do that.
Deciding belongs to the reviewers (CODEOWNERS on policies/); the gate's part is that the
weakening is never silent: it is always printed first, it turns a pass into exit 10, and
it cannot be waived or set below warn (policies/ refuses both as invalid input). A team
that wants a hard stop can set this rule to block.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.weakening import weakenings

ID = "policy-weakened"
SEVERITY = Severity.WARN
REMEDIATION = (
    "Restore the rule's severity or drop the waiver; if the weakening is deliberate, have "
    "the platform owners review and approve the policies/ change."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for item in weakenings(ctx.policy, ctx.base_policy):
        yield Hit(item.message, item.where, item.object, note=item.routine)
