"""SARIF 2.1.0, for GitHub code scanning: rules with help, results with file and line."""

from __future__ import annotations

import json
from typing import Any

from gitops_gen.check.findings import Severity
from gitops_gen.check.reports import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.BLOCK: "error", Severity.WARN: "warning", Severity.NOTE: "note"}


def _rule(rule: Any) -> dict[str, Any]:
    doc = (rule.__doc__ or "").strip()
    first, _, rest = doc.partition("\n")
    return {
        "id": rule.ID,
        "name": "".join(part.capitalize() for part in rule.ID.split("-")),
        "shortDescription": {"text": first.strip()},
        "fullDescription": {"text": " ".join(rest.split()) or first.strip()},
        "help": {
            "text": f"{doc}\n\nFix: {rule.REMEDIATION}",
            "markdown": f"{doc}\n\n**Fix:** {rule.REMEDIATION}",
        },
        "defaultConfiguration": {"level": LEVELS[rule.SEVERITY]},
        "properties": {"tags": ["gitops-gen", "gpu"]},
    }


def render(report: Report) -> str:
    index = {rule.ID: i for i, rule in enumerate(report.rules)}
    results = []
    for f in report.ordered:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": LEVELS[f.severity],
            "message": {"text": f"{f.message} Fix: {f.remediation}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(f.line, 1)},
                    },
                    **(
                        {"logicalLocations": [{"fullyQualifiedName": f.object, "kind": "resource"}]}
                        if f.object
                        else {}
                    ),
                }
            ],
            "partialFingerprints": {"gitopsGen/v1": f"{f.rule}:{f.object}:{f.message}"},
        }
        if f.waived is not None:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": f.waived}
            ]
        results.append(result)
    sarif = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gitops-gen",
                        "version": report.version,
                        "informationUri": "https://github.com/gitops-gen/gitops-gen",
                        "rules": [_rule(rule) for rule in report.rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
