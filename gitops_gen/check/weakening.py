"""How policies/ makes the gate weaker: as it stands, and compared with the base revision.

Read by the policy-weakened rule (check) and by the PR diff's "Policy weakened" section.
As it stands: a core rule (CORE_RULES) or waiver-expired below block or off, a waiver of
a core rule. Compared with the base: any rule's severity lowered, a waiver added or
extended, the maximum waiver lifetime raised. Every item names the line that did it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from gitops_gen.check.policy import (
    CORE_RULES,
    MAX_WAIVER_DAYS,
    POLICY_DIR,
    POLICY_FILES,
    SEVERITIES,
    Policy,
    Waiver,
)
from gitops_gen.specs.model import Location

LIFETIME_RULE = "waiver-expired"
LIFETIME_OPTION = "maxLifetimeDays"
# Rules whose lowering is reported even when it is old news.
_WATCHED = (*CORE_RULES, LIFETIME_RULE)


@dataclass(frozen=True)
class Weakening:
    rule: str  # the rule made weaker
    message: str
    where: Location
    object: str
    changed: bool  # weaker than at the base (only known with a base)
    # A new or extended waiver of a rule outside the core: the ordinary way to accept a
    # finding, shown for the record rather than counted.
    routine: bool = False


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def _policy_line(policy: Policy, rule: str, *path: str) -> Location:
    setting = policy.setting(rule)
    if setting is not None:
        return setting.where(*path)
    if policy.source is not None:
        return Location(policy.source.file, policy.source.line_of(("rules",)))
    return Location(f"{POLICY_DIR}/{POLICY_FILES['policy']}", 0)


def _key(waiver: Waiver) -> tuple[str, str | None, str | None]:
    return (waiver.rule, waiver.lane, waiver.object)


def default_severities() -> dict[str, str]:
    """Rule id -> its default severity (note, warn or block)."""
    from gitops_gen.check.engine import as_rule
    from gitops_gen.check.rules import REGISTRY  # a rule imports this module

    return {as_rule(m).ID: as_rule(m).SEVERITY.label.lower() for m in REGISTRY}


def weakenings(
    head: Policy, base: Policy | None, *, defaults: Mapping[str, str] | None = None
) -> Iterator[Weakening]:
    """What weakens the gate in `head`, and (with `base`) what got weaker since `base`."""
    defaults = default_severities() if defaults is None else defaults
    for rule, default in defaults.items():
        now = head.severity_of(rule, default)
        before = base.severity_of(rule, default) if base is not None else None
        lowered = before is not None and _rank(now) < _rank(before)
        if rule in _WATCHED and _rank(now) < _rank("block"):
            what = "core rule" if rule in CORE_RULES else "gate rule"
            message = f"{what} {rule} is set to {now}: the gate no longer blocks on it"
            if lowered:
                message += f" (lowered from {before} in this change)"
        elif lowered:
            message = f"{rule} lowered from {before} to {now} in this change"
        else:
            continue
        yield Weakening(
            rule, message, _policy_line(head, rule, "severity"), f"Policy/{rule}", lowered
        )

    old = {_key(w): w for w in base.waivers} if base is not None else {}
    for waiver in head.waivers:
        previous = old.get(_key(waiver))
        if base is None:
            change = ""
        elif previous is None:
            change = "added in this change"
        elif waiver.expires > previous.expires:
            change = f"extended from {previous.expires} in this change"
        else:
            change = ""
        core = waiver.rule in CORE_RULES
        if not core and not change:
            continue
        what = "core rule " if core else ""
        message = (
            f"{what}{waiver.rule} is waived for {waiver.covered} until {waiver.expires}"
            + (f", {change}" if change else "")
            + f": {waiver.reason}"
        )
        yield Weakening(
            waiver.rule,
            message,
            waiver.where("rule"),
            f"Waiver/{waiver.rule}",
            bool(change),
            routine=not core,
        )

    if base is not None:
        yield from _data_removed(head, base)
        was = base.option(LIFETIME_RULE, LIFETIME_OPTION, MAX_WAIVER_DAYS)
        now_days = head.option(LIFETIME_RULE, LIFETIME_OPTION, MAX_WAIVER_DAYS)
        if now_days > was:
            yield Weakening(
                LIFETIME_RULE,
                f"maximum waiver lifetime raised from {was} to {now_days} days in this change",
                _policy_line(head, LIFETIME_RULE, "options", LIFETIME_OPTION),
                f"Policy/{LIFETIME_RULE}",
                True,
            )


def _data_removed(head: Policy, base: Policy) -> Iterator[Weakening]:
    """Capability gates and known-broken profiles are rules as data: one deleted or
    rewritten in this change loosens the gate as surely as a lowered severity."""
    for label, rule, file, before, after in (
        ("capability gate", "runtime-capability", "capabilities", base.gates, head.gates),
        (
            "known-broken profile",
            "known-broken",
            "known-broken",
            base.known_broken,
            head.known_broken,
        ),
    ):
        now = {item.id: item for item in after}
        fallback = Location(f"{POLICY_DIR}/{POLICY_FILES[file]}", 1)
        for item in before:
            current = now.get(item.id)
            if current is None:
                message = f"{label} {item.id} removed in this change"
                where = after[0].where() if after else fallback
            elif current != item:
                message = (
                    f"{label} {item.id} rewritten in this change: check that it still "
                    "stops what it stopped"
                )
                where = current.where()
            else:
                continue
            yield Weakening(rule, message, where, f"Policy/{item.id}", True)
