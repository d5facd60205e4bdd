from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, expect
from tests.rules.harness import Case, assert_case

RULE = "lanes-present"
ROOT_LANES = (
    "gpt-oss-agent",
    "qwen36-27b-deep",
    "qwen36-35b-gguf-fast",
    "qwen36-35b-gguf-longctx",
    "qwen36-nvfp4-experiment",
    "vllm-rollback",
)
NO_LANES = tuple({"file": f"lanes/{name}.yaml", "delete": True} for name in ROOT_LANES)
CASES = [
    Case("a-repo-with-lanes"),
    Case("parked-lanes-still-count", edits=NO_LANES[:-1]),
    Case("no-lanes-at-all", edits=NO_LANES, expect=(expect("warn", CONFIG, "  - name: homelab"),)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_lanes_present(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
