"""Table-driven rule tests: edit a copy of an example repo, check it, compare findings.

Expected findings name their line by a needle (text on that line of the edited file),
so a case says *which* line in words and the test still compares exact line numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_gen.check import check_repo
from gitops_gen.check.findings import Finding
from tests.conftest import ROOT, copy_repo

TODAY = dt.date(2026, 11, 24)
Expected = tuple[str, str, int]  # (severity, file, line)


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[Mapping[str, Any], ...] = ()
    expect: tuple[Mapping[str, str], ...] = ()
    repo: str = "."  # "." = the root example, else a directory under examples/
    notes: bool = True  # compare notes too
    base: bool = False  # commit the repo before the edits and check with --base HEAD


def corpus_cases(directory: Path) -> dict[str, Case]:
    from gitops_gen.specs.source import load_yaml

    cases = {}
    for path in sorted(directory.glob("*.yaml")):
        data = load_yaml(path.read_text())
        cases[data["rule"]] = Case(
            id=path.stem,
            edits=tuple(data.get("edits", [])),
            expect=tuple(data["expect"]),
            repo=data.get("repo", "."),
            base=bool(data.get("base", False)),
        )
    return cases


def prepare(case: Case, tmp_path: Path) -> Path:
    source = ROOT if case.repo == "." else ROOT / "examples" / case.repo
    repo = copy_repo(source, tmp_path / "repo")
    if case.base:
        git_commit(repo, "base")
    for edit in case.edits:
        target = repo / edit["file"]
        if "write" in edit:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(edit["write"])
        elif "append" in edit:
            target.write_text(target.read_text() + edit["append"])
        elif edit.get("delete"):
            assert target.is_file(), f"{edit['file']} does not exist"
            target.unlink()
        else:
            text = target.read_text()
            assert edit["replace"] in text, f"{edit['replace']!r} not in {edit['file']}"
            target.write_text(text.replace(edit["replace"], edit["with"], 1))
    return repo


def resolve(repo: Path, expect: Iterable[Mapping[str, str]]) -> set[Expected]:
    found = set()
    for item in expect:
        lines = (repo / item["file"]).read_text().splitlines()
        start = 0
        if "after" in item:  # the first match below the line holding `after`
            start = next(i for i, line in enumerate(lines) if item["after"] in line)
        matches = [i + 1 for i, line in enumerate(lines) if i >= start and item["at"] in line]
        assert matches, f"{item['at']!r} not found in {item['file']}"
        found.add((item["severity"].upper(), item["file"], matches[0]))
    return found


def git_commit(repo: Path, message: str) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    if not (repo / ".git").exists():
        git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


def run(case: Case, tmp_path: Path) -> tuple[Path, list[Finding]]:
    from gitops_gen.pr.base import load_at, policy_at

    repo = prepare(case, tmp_path)
    base = load_at(repo, "HEAD") if case.base else None
    base_policy = policy_at(repo, "HEAD") if case.base else None
    return repo, check_repo(repo, today=TODAY, base=base, base_policy=base_policy).findings


def of_rule(findings: list[Finding], rule: str, *, notes: bool = True) -> set[Expected]:
    return {
        ("WAIVED" if f.waived else f.severity.label, f.file, f.line)
        for f in findings
        if f.rule == rule and (notes or f.severity.label != "NOTE")
    }


@dataclass
class Baseline:
    findings: dict[str, list[Finding]] = field(default_factory=dict)

    def of(self, repo_name: str) -> list[Finding]:
        if repo_name not in self.findings:
            source = ROOT if repo_name == "." else ROOT / "examples" / repo_name
            self.findings[repo_name] = check_repo(source, today=TODAY).findings
        return self.findings[repo_name]


BASELINE = Baseline()


def assert_case(rule: str, case: Case, tmp_path: Path) -> list[Finding]:
    """The rule's findings on the edited repo are exactly the expected ones."""
    repo, findings = run(case, tmp_path)
    assert of_rule(findings, rule, notes=case.notes) == resolve(repo, case.expect), [
        (f.severity.label, f.file, f.line, f.message) for f in findings if f.rule == rule
    ]
    return findings
