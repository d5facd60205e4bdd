"""Text: grouped per lane, [PASS]/[WARN]/[BLOCK] lines and a decision, as seed 002's preflight."""

from __future__ import annotations

from gitops_gen.check.findings import Finding
from gitops_gen.check.reports import HEADLINE_RULES, Report


def _finding_lines(finding: Finding) -> list[str]:
    tag = "WAIVED" if finding.waived is not None else finding.severity.label
    lines = [f"  [{tag}] {finding.rule}: {finding.message}"]
    where = f"{finding.file}:{finding.line}" if finding.line else finding.file
    lines.append(f"      at {where}" + (f" ({finding.object})" if finding.object else ""))
    if finding.waived is not None:
        lines.append(f"      waived: {finding.waived}")
    elif finding.counts:  # notes are for the record; their fix matters once they count
        lines.append(f"      fix: {finding.remediation}")
    return lines


def render(report: Report, *, verbose: bool = False) -> str:
    out = [f"{report.title}: {len(report.lanes)} lanes, {len(report.rules)} rules"]
    if report.headline:
        out.append("")
        out.append("policy (the gate itself)")
        for finding in report.headline:
            out.extend(_finding_lines(finding))
    lane_rules = [r.ID for r in report.rules if r.LANE_SCOPED]
    by_lane: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.lane is not None:
            by_lane.setdefault(finding.lane, []).append(finding)
    for lane in report.lanes:
        state = "active" if lane.active else "parked"
        found = by_lane.get(lane.name, [])
        out.append("")
        out.append(f"lane {lane.name} ({state} on {lane.node})")
        for finding in found:
            out.extend(_finding_lines(finding))
        failing = {f.rule for f in found if f.waived is None}
        passing = [r for r in lane_rules if r not in failing]
        if verbose:
            out.extend(f"  [PASS] {rule}" for rule in passing)
        elif passing:
            out.append(f"  [PASS] {len(passing)} checks")
    others = [f for f in report.findings if f.lane is None and f.rule not in HEADLINE_RULES]
    out.append("")
    out.append("repo")
    for finding in others:
        out.extend(_finding_lines(finding))
    if not others:
        out.append("  [PASS] no findings outside the lanes")
    out.append("")
    out.append(f"decision: {report.summary()}")
    return "\n".join(out) + "\n"
