"""The seeded-defect corpus: each mutated copy of the example repo produces exactly its rule.

tests/corpus/<rule>.yaml holds the edits and the findings they must cause. Compared to
the unmutated repo, every new finding belongs to that rule and sits where expected, so a
defect is caught by the rule meant for it and by no other (no crying wolf).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.check.findings import Finding
from tests.rules.harness import BASELINE, corpus_cases, of_rule, resolve, run

CORPUS = corpus_cases(Path(__file__).parent / "corpus")


def _key(f: Finding) -> tuple[str, str, str, str]:
    """A finding's identity across two runs; lines shift when a file is edited."""
    return (f.rule, f.object, f.message, f.severity.label)


def test_the_unmutated_example_checks_clean() -> None:
    assert all(f.severity.label == "NOTE" for f in BASELINE.of("."))


@pytest.mark.parametrize("rule", sorted(CORPUS))
def test_seeded_defect_produces_exactly_its_rule(rule: str, tmp_path: Path) -> None:
    case = CORPUS[rule]
    repo, findings = run(case, tmp_path)
    baseline = {_key(f) for f in BASELINE.of(case.repo)}
    new = [f for f in findings if _key(f) not in baseline]
    assert new, "the defect went unnoticed"
    assert {f.rule for f in new} == {rule}, [(f.rule, f.message) for f in new]
    assert of_rule(new, rule) == resolve(repo, case.expect)
