"""GitHub Actions workflow commands: inline annotations on the pull request's files."""

from __future__ import annotations

from gitops_gen.check.findings import Severity
from gitops_gen.check.reports import Report

COMMANDS = {Severity.BLOCK: "error", Severity.WARN: "warning", Severity.NOTE: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    lines = []
    for f in report.ordered:
        command = "notice" if f.waived is not None else COMMANDS[f.severity]
        title = f"gitops-gen {f.rule}" + (" (waived)" if f.waived is not None else "")
        body = f"{f.message}\nfix: {f.remediation}"
        if f.waived is not None:
            body = f"{f.message}\nwaived: {f.waived}"
        lines.append(
            f"::{command} file={_property(f.file)},line={max(f.line, 1)},"
            f"title={_property(title)}::{_data(body)}"
        )
    lines.append(f"gitops-gen check: {report.summary()}")
    return "\n".join(lines) + "\n"
