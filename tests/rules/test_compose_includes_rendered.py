from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import COMPOSE_FILE, COMPOSE_REPO, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "compose-includes-rendered"
INCLUDE = "include:\n  - rendered/ws5090/compose.yaml\n"
CASES = [
    Case("the-example-includes-it", repo=COMPOSE_REPO),
    Case(
        "another-file-is-included",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_FILE, INCLUDE, "include:\n  - rendered/ws5090/other.yaml\n"),),
        expect=(expect("block", COMPOSE_FILE, "include:"),),
    ),
    Case(
        "nothing-is-included",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_FILE, INCLUDE, ""),),
        expect=(expect("block", COMPOSE_FILE, "name: local-llm"),),
    ),
    Case(
        "the-long-form-with-a-list-of-paths",
        repo=COMPOSE_REPO,
        edits=(
            replace(
                COMPOSE_FILE,
                INCLUDE,
                "include:\n  - path: [./rendered/x/../ws5090/compose.yaml]\n",
            ),
        ),
    ),
    Case(
        # Paths are relative to the hand-written file, wherever it sits.
        "a-file-in-a-subdirectory",
        repo=COMPOSE_REPO,
        edits=(
            replace("gitops-gen.yaml", "composeFile: compose.yaml", "composeFile: deploy/app.yaml"),
            {
                "file": "deploy/app.yaml",
                "write": "include:\n  - ../rendered/ws5090/compose.yaml\nservices: {}\n",
            },
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
