"""The catalog keeps itself honest: every rule registered, documented, remediated, tested."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest

import gitops_gen.check.rules as rules_package
from gitops_gen.check.engine import as_rule
from gitops_gen.check.findings import Severity
from gitops_gen.check.rules import REGISTRY
from tests.conftest import ROOT

MODULES = sorted(m.name for m in pkgutil.iter_modules(rules_package.__path__))
TESTS = Path(__file__).parent


def test_every_rule_module_is_registered_once() -> None:
    registered = [m.__name__.rsplit(".", 1)[1] for m in REGISTRY]
    assert sorted(registered) == MODULES
    assert len(set(registered)) == len(registered)


@pytest.mark.parametrize("module", REGISTRY, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_rule_is_documented_and_tested(module: object) -> None:
    rule = as_rule(module)  # type: ignore[arg-type]
    name = module.__name__.rsplit(".", 1)[1]  # type: ignore[attr-defined]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.ID)
    assert rule.ID.replace("-", "_") == name
    assert isinstance(rule.SEVERITY, Severity)
    doc = (rule.__doc__ or "").strip()
    assert len(doc.splitlines()) >= 3, "the docstring is the documentation: say why"
    assert rule.REMEDIATION.strip().endswith(".")
    assert isinstance(rule.OPTIONS, dict) and isinstance(rule.LANE_SCOPED, bool)
    assert (TESTS / "rules" / f"test_{name}.py").is_file()
    assert (TESTS / "corpus" / f"{rule.ID}.yaml").is_file()


def test_readme_rule_table_matches_the_registry(cli) -> None:
    table = cli("rules", "--format", "markdown", cwd=ROOT).out
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- rules:start -->") + len("<!-- rules:start -->\n")
    end = readme.index("<!-- rules:end -->")
    assert readme[start:end] == table
