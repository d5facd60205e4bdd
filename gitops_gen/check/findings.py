"""What a rule reports, and what the engine makes of it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gitops_gen.errors import EXIT_BLOCK, EXIT_PASS, EXIT_WARN
from gitops_gen.specs.model import COMPOSE, KUBERNETES, Location

# Where a rule applies (a rule module's TARGETS): some concern Kubernetes objects only
# (probes, device plugins, Argo CD), some compose files only; most concern the lanes.
EVERY_TARGET = frozenset({KUBERNETES, COMPOSE})
KUBERNETES_ONLY = frozenset({KUBERNETES})
COMPOSE_ONLY = frozenset({COMPOSE})


class Severity(enum.IntEnum):
    """Ordered: a NOTE never changes the exit code, a WARN gives 10, a BLOCK 20."""

    NOTE = 1
    WARN = 2
    BLOCK = 3

    @property
    def label(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


@dataclass(frozen=True)
class Hit:
    """What a rule yields: the engine adds the rule id, severity and remediation."""

    message: str
    where: Location
    object: str = ""
    lane: str | None = None
    # Informational only (e.g. a parked lane that would block if it were active).
    note: bool = False
    # For rules whose thresholds decide between warn and block (vram-fit).
    severity: Severity | None = None


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    rule: str
    object: str
    message: str
    severity: Severity
    remediation: str
    lane: str | None = None
    waived: str | None = None  # the waiver's reason, when a waiver covers it

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    @property
    def counts(self) -> bool:
        """Does this finding decide the exit code?"""
        return self.waived is None and self.severity >= Severity.WARN


def decision(findings: list[Finding]) -> Severity | None:
    """The worst severity that counts, or None for a pass."""
    counted = [f.severity for f in findings if f.counts]
    return max(counted) if counted else None


def exit_code(findings: list[Finding]) -> int:
    worst = decision(findings)
    if worst is Severity.BLOCK:
        return EXIT_BLOCK
    if worst is Severity.WARN:
        return EXIT_WARN
    return EXIT_PASS
