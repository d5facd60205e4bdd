"""JSON: the decision, the counts and every finding, for scripts."""

from __future__ import annotations

import json

from gitops_gen.check.findings import exit_code
from gitops_gen.check.reports import Report


def render(report: Report) -> str:
    data = {
        "tool": "gitops-gen",
        "version": report.version,
        "decision": report.decision_label.lower(),
        "exitCode": exit_code(report.findings),
        "counts": report.counts(),
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.label.lower(),
                "file": f.file,
                "line": f.line,
                "object": f.object,
                "lane": f.lane,
                "message": f.message,
                "remediation": f.remediation,
                "waived": f.waived,
            }
            for f in report.ordered
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
