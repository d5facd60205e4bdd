from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "vram-fit"
LAB_70B = "lanes/llama70b-16k.yaml"
LAB_32B = "lanes/qwen25-32b.yaml"
SWITCH_TO_70B = (
    replace(LAB_70B, "active: false", "active: true"),
    replace(LAB_32B, "active: true", "active: false"),
)
CASES = [
    Case("active-lane-fits-by-its-evidence"),
    Case(
        "parked-lanes-are-not-sized",
        edits=(
            replace(
                "lanes/qwen36-nvfp4-experiment.yaml", "maxModelLen: 16384", "maxModelLen: 262144"
            ),
        ),
    ),
    Case(
        "context-past-the-card",
        edits=(
            replace(FAST, "ctxSize: 49152", "ctxSize: 262144"),
            replace(FAST, '  date: "2026-06-12"', '  date: "2026-06-12"\n  ctxSize: 49152'),
        ),
        expect=(expect("block", FAST, "serve:"),),
    ),
    Case(
        "evidence-for-another-context-falls-back-to-the-estimate",
        edits=(replace(FAST, '  date: "2026-06-12"', '  date: "2026-06-12"\n  ctxSize: 32768'),),
    ),
    Case(
        "partial-offload-by-configuration",
        edits=(replace(FAST, "gpuLayers: 999", "gpuLayers: 30"),),
        expect=(expect("block", FAST, "serve:"),),
    ),
    Case("70b-at-16k-fits-48gb", repo="lab-48gb-comfyui", edits=SWITCH_TO_70B),
    Case(
        "70b-at-32k-spills-to-the-cpu",
        repo="lab-48gb-comfyui",
        edits=(*SWITCH_TO_70B, replace(LAB_70B, "ctxSize: 16384", "ctxSize: 32768")),
        expect=(expect("block", LAB_70B, "serve:"),),
    ),
    Case(
        "vllm-sequence-does-not-fit-the-kv-space",
        repo="h100x2-tp2",
        edits=(
            replace(
                "lanes/mistral-small-24b-tp2.yaml",
                "gpuMemoryUtilization: 0.95",
                "gpuMemoryUtilization: 0.3",
            ),
        ),
        expect=(expect("block", "lanes/mistral-small-24b-tp2.yaml", "serve:"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_message_gives_the_breakdown(tmp_path: Path) -> None:
    _repo, findings = run(CASES[2], tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "(estimate) does not fit rtx-pro-4000-blackwell-sff: weights 20993 + KV 2720 + compute "
        "512 + overhead 350 = 24575 MiB of 24467 MiB (100%)"
    )


def test_near_full_card_warns(tmp_path: Path) -> None:
    case = Case(
        "warn",
        edits=(
            replace(FAST, "ctxSize: 49152", "ctxSize: 163840"),
            replace(FAST, '  date: "2026-06-12"', '  date: "2026-06-12"\n  ctxSize: 49152'),
        ),
    )
    _repo, findings = run(case, tmp_path)
    assert [(f.severity.label, f.message.split(":")[0]) for f in findings if f.rule == RULE] == [
        ("WARN", "(estimate) leaves 1008 MiB free on rtx-pro-4000-blackwell-sff")
    ]
