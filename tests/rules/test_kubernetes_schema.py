from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import SIDECAR, expect, sidecar
from tests.rules.harness import Case, assert_case

RULE = "kubernetes-schema"
CASES = [
    Case("every-object-valid", edits=(sidecar(),)),
    Case(
        "misspelt-field",
        edits=(
            sidecar(
                ("          image: ghcr", "          imagePolicy: Always\n          image: ghcr")
            ),
        ),
        expect=(expect("block", SIDECAR, "        - name: main"),),
    ),
    Case(
        "wrong-type",
        edits=(sidecar(("  replicas: 0", "  replicas: none")),),
        expect=(expect("block", SIDECAR, "replicas: none"),),
    ),
    Case("handwritten-example-comfyui-valid", repo="lab-48gb-comfyui"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
