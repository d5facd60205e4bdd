from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.check.validation import compose_violations
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.conftest import ROOT
from tests.rules.cases import COMPOSE_FILE, COMPOSE_REPO, api, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "compose-schema"
CASES = [
    Case("the-example-is-valid", repo=COMPOSE_REPO),
    Case(
        "an-unknown-service-key",
        repo=COMPOSE_REPO,
        edits=(api("    deplyo: {replicas: 2}\n"),),
        expect=(expect("block", COMPOSE_FILE, "  api:"),),
    ),
    Case(
        "a-value-of-the-wrong-type",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_FILE, 'ports: ["127.0.0.1:8080:8080"]', "ports: 8080"),),
        expect=(expect("block", COMPOSE_FILE, "ports: 8080"),),
    ),
    Case(
        # x- extensions are the Compose Specification's own escape hatch.
        "an-extension-key-is-valid",
        repo=COMPOSE_REPO,
        edits=(api("    x-team: search\n"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_the_message_names_the_unknown_key(tmp_path: Path) -> None:
    from tests.rules.harness import run

    _, findings = run(Case("m", repo=COMPOSE_REPO, edits=(api("    deplyo: {}\n"),)), tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == "not a valid compose file at services.api: unknown field 'deplyo'"


def test_the_schema_refuses_what_compose_refuses() -> None:
    """The shipped schema is the real one: it knows compose's keys and types."""
    tree = render_repo(load_repo(ROOT / "examples" / COMPOSE_REPO))
    (rendered,) = tree.compose
    data = dict(rendered.data)
    assert compose_violations(data) == []
    lane = dict(data["services"]["qwen25-32b-awq"])
    lane["deploy"] = {"resources": {"reservations": {"devices": [{"count": 1}]}}}
    broken = {**data, "services": {**data["services"], "qwen25-32b-awq": lane}}
    # A device request must name its capabilities.
    (violation,) = compose_violations(broken)
    assert violation.path == "services.qwen25-32b-awq.deploy.resources.reservations.devices[0]"
    assert "capabilities" in violation.message
