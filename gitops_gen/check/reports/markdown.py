"""Markdown: a pull-request comment or job summary."""

from __future__ import annotations

from gitops_gen.check.findings import Severity
from gitops_gen.check.reports import Report

ICONS = {"PASS": ":white_check_mark:", "WARN": ":warning:", "BLOCK": ":x:"}
TAGS = {Severity.BLOCK: "BLOCK", Severity.WARN: "WARN", Severity.NOTE: "NOTE"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    out = [f"### {ICONS[report.decision_label]} {report.title}: {report.summary()}", ""]
    active = [lane for lane in report.lanes if lane.active]
    out.append(
        f"{len(report.lanes)} lanes ({len(active)} active: "
        f"{', '.join(f'`{lane.name}`' for lane in active) or 'none'}), "
        f"{len(report.rules)} rules."
    )
    out.append("")
    if report.findings:
        out.append("| | rule | where | lane / object | finding |")
        out.append("| --- | --- | --- | --- | --- |")
        for f in report.ordered:
            tag = "WAIVED" if f.waived is not None else TAGS[f.severity]
            text = f"{f.message}<br>**fix:** {f.remediation}"
            if f.waived is not None:
                text = f"{f.message}<br>**waived:** {f.waived}"
            out.append(
                f"| {tag} | `{f.rule}` | `{f.file}:{f.line}` | "
                f"{_cell(f.lane or f.object)} | {_cell(text)} |"
            )
    else:
        out.append("No findings.")
    return "\n".join(out) + "\n"
