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
from gitops_gen.specs.model import Spec
from gitops_gen.specs.schema import SpecSchemas
from gitops_gen.specs.source import SourceDoc, parse_yaml, read_yaml

POLICY_DIR = "policies"

# The GPU contract's core: one running workload per card (two lanes on one GPU OOM
# each other), images pinned by digest (what was reviewed is what runs), and nothing
# synced from rendered/ that the other rules cannot see (switched off, a GPU pod dropped
# there would take a lane's card unseen). Setting one below block, off, or waiving it is
# always reported first (policy-weakened).
CORE_RULES: tuple[str, ...] = (
    "single-active-gpu-lane",
    "image-digest-pinned",
    "foreign-rendered-file",
)
# The rules that keep the gate itself honest. A waiver of either would hide its own
# reporting, so none is accepted; policy-weakened cannot be set below warn, and
# waiver-expired below block is reported like a core rule.
GATE_RULES: tuple[str, ...] = ("policy-weakened", "waiver-expired")
SEVERITIES: tuple[str, ...] = ("off", "note", "warn", "block")  # weakest first
# How far ahead a waiver may expire (rules.waiver-expired.options.maxLifetimeDays): a
# waiver expiring in 9999 switches its rule off for good, in silence.
MAX_WAIVER_DAYS = 90
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
    created: dt.date | None = None

    @property
    def covered(self) -> str:
        return f"lane {self.lane}" if self.lane else f"object {self.object}"

    def lifetime(self, today: dt.date) -> int:
        """Days from its creation (today if unstated, or if stated in the future) to expiry."""
        start = min(self.created, today) if self.created is not None else today
        return (self.expires - start).days

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
    env: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
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
    source: SourceDoc | None = None  # policies/policy.yaml, if the repo has one

    def setting(self, rule: str) -> RuleSetting | None:
        return self.rules.get(rule)

    def severity_of(self, rule: str, default: str) -> str:
        """The severity the rule runs at: configured, or its default."""
        setting = self.rules.get(rule)
        return setting.severity if setting is not None and setting.severity else default

    def option(self, rule: str, name: str, default: Any) -> Any:
        setting = self.rules.get(rule)
        return setting.options.get(name, default) if setting is not None else default


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
        source=docs["policy"],
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
        for name, value in options.items():
            default = rule_options[rule].get(name)
            if name in rule_options[rule] and not _same_type(value, default):
                problems.append(
                    doc.problem(
                        ("rules", rule, "options", name),
                        f"expected {_type_name(default)} like {default!r}, got {value!r}",
                    )
                )
        severity = entry.get("severity")
        if severity is False:  # `severity: off` unquoted is YAML 1.1's false
            severity = "off"
        if rule == "policy-weakened" and severity in ("off", "note"):
            problems.append(
                doc.problem(
                    ("rules", rule, "severity"),
                    f"{rule} cannot be set to {severity}: it is how a weakened gate shows "
                    "(warn or block)",
                )
            )
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
        if entry["rule"] in GATE_RULES:
            problems.append(
                doc.problem(
                    ("waivers", index, "rule"),
                    f"{entry['rule']} cannot be waived: it keeps the gate itself honest",
                )
            )
            continue
        dates: dict[str, dt.date] = {}
        for key in ("expires", "created"):
            try:
                if key in entry:
                    dates[key] = dt.date.fromisoformat(entry[key])
            except ValueError:
                problems.append(
                    doc.problem(("waivers", index, key), f"{entry[key]!r} is not a calendar date")
                )
        if len(dates) != len({"expires", "created"} & entry.keys()):
            continue
        if "created" in dates and dates["created"] > dates["expires"]:
            problems.append(
                doc.problem(
                    ("waivers", index, "created"),
                    f"created {dates['created']} is after expires {dates['expires']}",
                )
            )
            continue
        expires = dates["expires"]
        result.append(
            Waiver(
                doc=doc,
                prefix=("waivers", index),
                rule=entry["rule"],
                lane=entry.get("lane"),
                object=entry.get("object"),
                reason=entry["reason"],
                expires=expires,
                created=dates.get("created"),
            )
        )
    return tuple(result)


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (str, list)):
        return isinstance(value, type(default))
    return True


def _type_name(default: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(type(default), "a list" if isinstance(default, list) else "a value")


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
            env=dict(g.get("env", {})),
            device_plugin=dict(g.get("devicePlugin", {})),
            setting=g.get("setting"),
            effect=g["effect"],
            fix=g.get("fix"),
            severity=g.get("severity"),
        )
        for i, g in enumerate(doc.data["gates"])
    )
