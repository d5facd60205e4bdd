from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "device-plugin-settings"
CASES = [
    Case("fails-loudly-and-names-cards-by-uuid"),
    Case(
        "fail-on-init-error-false-blocks",
        edits=(replace(CONFIG, "failOnInitError: true", "failOnInitError: false"),),
        expect=(expect("block", CONFIG, "failOnInitError: false"),),
    ),
    Case(
        "index-device-ids-warn",
        edits=(replace(CONFIG, "deviceIDStrategy: uuid", "deviceIDStrategy: index"),),
        expect=(expect("warn", CONFIG, "deviceIDStrategy: index"),),
    ),
    Case(
        "both",
        edits=(
            replace(CONFIG, "failOnInitError: true", "failOnInitError: false"),
            replace(CONFIG, "deviceIDStrategy: uuid", "deviceIDStrategy: index"),
        ),
        expect=(
            expect("block", CONFIG, "failOnInitError: false"),
            expect("warn", CONFIG, "deviceIDStrategy: index"),
        ),
    ),
    Case(
        "the-defaults-when-unset-are-safe",
        edits=(
            replace(CONFIG, "  failOnInitError: true\n", ""),
            replace(CONFIG, "  deviceIDStrategy: uuid\n", ""),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
