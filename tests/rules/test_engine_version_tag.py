from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "engine-version-tag"
LAB_32B = "lanes/qwen25-32b.yaml"
ROLLBACK = "lanes/vllm-rollback.yaml"
B8210 = "server-cuda-b8210@"
CASES = [
    Case("declared-versions-match-their-tags"),
    Case("ollama-declared-as-its-tag", repo="lab-48gb-comfyui"),
    Case(
        # Seed 000: the image is Ollama 0.23.0, whatever engineVersion says.
        "seed-000-ollama-0.23-image-declared-0.24",
        repo="lab-48gb-comfyui",
        edits=(replace(LAB_32B, "ollama:0.24.0@", "ollama:0.23.0@"),),
        expect=(expect("block", LAB_32B, "engineVersion: 0.24.0"),),
    ),
    Case(
        "llamacpp-build-in-a-server-cuda-tag",
        edits=(replace(FAST, B8210, "server-cuda-b6123@"),),
        expect=(expect("block", FAST, "engineVersion: b8210"),),
    ),
    Case(
        "vllm-v-prefixed-tag",
        edits=(replace(ROLLBACK, "engineVersion: 0.12.0", "engineVersion: 0.11.0"),),
        expect=(expect("block", ROLLBACK, "engineVersion: 0.11.0"),),
    ),
    Case(
        "the-same-version-written-differently",
        edits=(replace(ROLLBACK, "engineVersion: 0.12.0", "engineVersion: v0.12"),),
    ),
    Case(
        "a-tag-without-a-version-leaves-the-declaration",
        edits=(replace(FAST, B8210, "server-cuda@"),),
    ),
    Case("no-declaration-nothing-to-compare", edits=(replace(FAST, "engineVersion: b8210\n", ""),)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_message_names_both_versions(tmp_path: Path) -> None:
    _repo, findings = run(CASES[2], tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message.startswith(
        "engineVersion 0.24.0 disagrees with the image tag's version 0.23.0 "
        "(docker.io/ollama/ollama:0.23.0)"
    )
