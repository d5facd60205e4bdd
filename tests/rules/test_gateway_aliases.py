from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, FAST, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "gateway-aliases"
PLANNER = "lanes/gpt-oss-120b.yaml"
CASES = [
    Case("every-alias-served-by-the-active-lane"),
    Case(
        "alias-served-only-by-parked-lanes",
        edits=(replace(FAST, "aliases: [fast, chat, agent]", "aliases: [fast, chat]"),),
        expect=(expect("warn", "lanes/gpt-oss-agent.yaml", "aliases:"),),
    ),
    Case(
        "alias-defined-twice",
        edits=(
            replace(
                CONFIG,
                "- {alias: embed,",
                "- {alias: fast, model: openai/x, apiBase: "
                "http://x.example:1/v1}\n    - {alias: embed,",
            ),
        ),
        expect=(expect("block", CONFIG, "alias: fast"),),
    ),
    # Two active lanes on the time-sliced card, two models: LiteLLM would send half of
    # the coder's requests to the planner.
    Case("one-model-per-alias", repo="mixed-nvidia-amd"),
    Case(
        "one-alias-two-active-models",
        repo="mixed-nvidia-amd",
        edits=(replace(PLANNER, "aliases: [planner, chat]", "aliases: [planner, chat, coder]"),),
        expect=(expect("warn", "lanes/qwen3-coder-30b.yaml", "aliases:"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_aliases_without_a_gateway_warn(tmp_path: Path) -> None:
    from tests.rules.harness import prepare

    case = Case(
        "no-gateway",
        edits=(
            {
                "file": CONFIG,
                "write": (Path(__file__).parents[2] / CONFIG).read_text().split("gateway:\n")[0],
            },
        ),
    )
    repo = prepare(case, tmp_path)
    from gitops_gen.check import check_repo
    from tests.rules.harness import TODAY

    findings = [f for f in check_repo(repo, today=TODAY).findings if f.rule == RULE]
    assert {(f.severity.label, f.message) for f in findings} == {
        ("WARN", f"alias {alias!r} is declared but gitops-gen.yaml configures no gateway")
        for alias in ("agent", "chat", "fast")
    }
