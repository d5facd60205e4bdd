from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, LOCK, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "model-prefetched"
NVFP4_NOTE = expect("note", LOCK, "prefetch: false", after="qwen36-35b-a3b-nvfp4:")
CASES = [
    Case("parked-experiment-outside-prefetch-is-a-note", expect=(NVFP4_NOTE,)),
    Case(
        "active-lane-model-not-prefetched",
        edits=(replace(LOCK, "    quant: Q4_K_M\n", "    quant: Q4_K_M\n    prefetch: false\n"),),
        expect=(
            expect("block", LOCK, "prefetch: false"),
            expect("note", LOCK, "prefetch: false"),
            NVFP4_NOTE,
        ),
    ),
    Case(
        "download-flag-in-extra-args",
        edits=(
            replace(
                FAST,
                "  port: 8080\n",
                "  port: 8080\n  extraArgs: [-hf, unsloth/Qwen3.6-35B-A3B-GGUF]\n",
            ),
        ),
        expect=(expect("block", FAST, "extraArgs"), NVFP4_NOTE),
    ),
    Case(
        "vllm-allowed-to-download",
        edits=(
            replace("lanes/vllm-rollback.yaml", "aliases:", 'env: {HF_HUB_OFFLINE: "0"}\naliases:'),
        ),
        expect=(expect("note", "lanes/vllm-rollback.yaml", "HF_HUB_OFFLINE"), NVFP4_NOTE),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
