"""policies/: rule severities and options, waivers, known-broken profiles, capability gates.

All of it is data, validated by a schema like every spec; a repo without policies/
gets the defaults packaged with gitops-gen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gitops_gen.errors import InputError, Problem
from gitops_gen.model import Spec
from gitops_gen.schema import SpecSchemas
from gitops_gen.source import SourceDoc, parse_yaml, read_yaml

POLICY_DIR = "policies"
POLICY_FILES = {
    "policy": "policy.yaml",
    "waivers": "waivers.yaml",
    "known-broken": "known-broken.yaml",
    "capabilities": "capabilities.yaml",
}


@dataclass(frozen=True)
class RuleSetting(Spec):
    severity: str | None = None  # note | warn | block | off; None = the rule's default
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiver(Spec):
    rule: str = ""
    lane: str | None = None
    object: str | None = None
    reason: str = ""
    expires: dt.date = dt.date.max

    def covers(self, rule: str, lane: str | None, obj: str) -> bool:
        if rule != self.rule:
            return False
        return (self.lane is not None and self.lane == lane) or (
            self.object is not None and self.object == obj
        )


@dataclass(frozen=True)
class BrokenProfile(Spec):
    id: str = ""
    match: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    reference: str | None = None


@dataclass(frozen=True)
class Gate(Spec):
    id: str = ""
    subject: str = "lane"
    engine: str | None = None
    engine_version: str | None = None
    gpu: Mapping[str, Any] = field(default_factory=dict)
    model: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    device_plugin: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    setting: str | None = None
    effect: str = ""
    fix: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class Policy:
    rules: Mapping[str, RuleSetting]
    waivers: tuple[Waiver, ...]
    known_broken: tuple[BrokenProfile, ...]
    gates: tuple[Gate, ...]

    def setting(self, rule: str) -> RuleSetting | None:
        return self.rules.get(rule)


def _packaged(name: str) -> SourceDoc:
    text = resources.files("gitops_gen").joinpath("defaults", name).read_text("utf-8")
    return parse_yaml(text, file=f"(gitops-gen default) {POLICY_DIR}/{name}")


def load_policy(
    root: Path, *, schemas: SpecSchemas, rule_options: Mapping[str, Mapping[str, Any]]
) -> Policy:
    """Load policies/ (or the packaged defaults); rule ids and options are checked against
    `rule_options` (rule id -> its options with defaults)."""
    problems: list[Problem] = []
    docs: dict[str, SourceDoc | None] = {}
    for kind, name in POLICY_FILES.items():
        rel = f"{POLICY_DIR}/{name}"
        try:
            if (root / rel).is_file():
                doc = read_yaml(root, rel)
            elif kind in ("known-broken", "capabilities"):
                doc = _packaged(name)
            else:
                docs[kind] = None
                continue
        except InputError as exc:
            problems.extend(exc.problems)
            docs[kind] = None
            continue
        found = schemas.problems(kind, doc)
        problems.extend(found)
        docs[kind] = None if found else doc
    if problems:
        raise InputError(problems)

    rules = _rules(docs["policy"], rule_options, problems)
    waivers = _waivers(docs["waivers"], rule_options, problems)
    if problems:
        raise InputError(problems)
    return Policy(
        rules=rules,
        waivers=waivers,
        known_broken=_profiles(docs["known-broken"]),
        gates=_gates(docs["capabilities"]),
    )


def _rules(
    doc: SourceDoc | None, rule_options: Mapping[str, Mapping[str, Any]], problems: list[Problem]
) -> dict[str, RuleSetting]:
    if doc is None:
        return {}
    result: dict[str, RuleSetting] = {}
    for rule, entry in doc.data.get("rules", {}).items():
        if rule not in rule_options:
            problems.append(
                doc.problem(("rules", rule), f"unknown rule {rule!r} (gitops-gen rules lists them)")
            )
            continue
        options = entry.get("options", {})
        for name in options:
            if name not in rule_options[rule]:
                allowed = ", ".join(sorted(rule_options[rule])) or "none"
                problems.append(
                    doc.problem(
                        ("rules", rule, "options", name),
                        f"unknown option {name!r} of {rule} (options: {allowed})",
                    )
                )
        severity = entry.get("severity")
        if severity is False:  # `severity: off` unquoted is YAML 1.1's false
            severity = "off"
        result[rule] = RuleSetting(
            doc=doc, prefix=("rules", rule), severity=severity, options=dict(options)
        )
    return result


def _waivers(
    doc: SourceDoc | None, rule_options: Mapping[str, Mapping[str, Any]], problems: list[Problem]
) -> tuple[Waiver, ...]:
    if doc is None:
        return ()
    result = []
    for index, entry in enumerate(doc.data["waivers"]):
        if entry["rule"] not in rule_options:
            problems.append(
                doc.problem(
                    ("waivers", index, "rule"),
                    f"unknown rule {entry['rule']!r} (gitops-gen rules lists them)",
                )
            )
            continue
        try:
            expires = dt.date.fromisoformat(entry["expires"])
        except ValueError:
            problems.append(
                doc.problem(
                    ("waivers", index, "expires"), f"{entry['expires']!r} is not a calendar date"
                )
            )
            continue
        result.append(
            Waiver(
                doc=doc,
                prefix=("waivers", index),
                rule=entry["rule"],
                lane=entry.get("lane"),
                object=entry.get("object"),
                reason=entry["reason"],
                expires=expires,
            )
        )
    return tuple(result)


def _profiles(doc: SourceDoc | None) -> tuple[BrokenProfile, ...]:
    if doc is None:
        return ()
    return tuple(
        BrokenProfile(
            doc=doc,
            prefix=("profiles", i),
            id=p["id"],
            match=dict(p["match"]),
            reason=p["reason"],
            reference=p.get("reference"),
        )
        for i, p in enumerate(doc.data["profiles"])
    )


def _gates(doc: SourceDoc | None) -> tuple[Gate, ...]:
    if doc is None:
        return ()
    return tuple(
        Gate(
            doc=doc,
            prefix=("gates", i),
            id=g["id"],
            subject=g.get("subject", "lane"),
            engine=g.get("engine"),
            engine_version=g.get("engineVersion"),
            gpu=dict(g.get("gpu", {})),
            model=dict(g.get("model", {})),
            settings=dict(g.get("settings", {})),
            device_plugin=dict(g.get("devicePlugin", {})),
            setting=g.get("setting"),
            effect=g["effect"],
            fix=g.get("fix"),
            severity=g.get("severity"),
        )
        for i, g in enumerate(doc.data["gates"])
    )
