from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "gateway-key"
KEY = "  masterKeySecret: {name: litellm-master-key, key: master-key}\n"
CASES = [
    Case("the-gateway-asks-for-a-key"),
    Case(
        "a-gateway-without-a-key",
        edits=(replace(CONFIG, KEY, ""),),
        expect=(expect("warn", CONFIG, "gateway:"),),
    ),
    Case("a-compose-gateway-with-a-key", repo="rtx5090-compose"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
