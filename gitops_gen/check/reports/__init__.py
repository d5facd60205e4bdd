"""One output format per module behind one small interface: `render(report) -> str`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitops_gen import __version__
from gitops_gen.check.engine import Rule
from gitops_gen.check.findings import Finding, Severity, decision

# Findings that head every report: a gate weakened must be the first thing a reviewer reads.
HEADLINE_RULES = ("policy-weakened",)


@dataclass(frozen=True)
class LaneState:
    name: str
    active: bool
    node: str


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    rules: tuple[Rule, ...]
    lanes: tuple[LaneState, ...]
    title: str = "gitops-gen check"
    version: str = __version__

    @property
    def headline(self) -> list[Finding]:
        return [f for f in self.findings if f.rule in HEADLINE_RULES]

    @property
    def ordered(self) -> list[Finding]:
        """The findings, the headline ones first."""
        return self.headline + [f for f in self.findings if f.rule not in HEADLINE_RULES]

    @property
    def decision(self) -> Severity | None:
        return decision(self.findings)

    @property
    def decision_label(self) -> str:
        worst = self.decision
        return "PASS" if worst is None or worst is Severity.NOTE else worst.label

    def counts(self) -> dict[str, int]:
        result = {"block": 0, "warn": 0, "note": 0, "waived": 0}
        for finding in self.findings:
            if finding.waived is not None:
                result["waived"] += 1
            else:
                result[finding.severity.label.lower()] += 1
        return result

    def summary(self) -> str:
        parts = []
        for key, word in (
            ("block", "block"),
            ("warn", "warning"),
            ("note", "note"),
            ("waived", "waived"),
        ):
            n = self.counts()[key]
            if n:
                plural = "s" if n != 1 and key != "waived" else ""
                parts.append(f"{n} {word}{plural}")
        return f"{self.decision_label}" + (f" ({', '.join(parts)})" if parts else "")


def _formats() -> dict[str, Callable[[Report], str]]:
    from gitops_gen.check.reports import github, json_report, markdown, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "sarif": sarif.render,
        "github": github.render,
        "markdown": markdown.render,
    }


FORMAT_NAMES = ("text", "json", "sarif", "github", "markdown")


def render_report(report: Report, fmt: str) -> str:
    return _formats()[fmt](report)
