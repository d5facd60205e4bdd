from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, FAST, NODE, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "runtime-capability"
LAB_32B = "lanes/qwen25-32b.yaml"
LAB_70B = "lanes/llama70b-16k.yaml"
OLD_OLLAMA = (
    replace(LAB_32B, "engineVersion: 0.24.0", "engineVersion: 0.23.1"),
    replace(LAB_70B, "engineVersion: 0.24.0", "engineVersion: 0.23.1"),
)
CASES = [
    Case("example-passes-every-gate"),
    Case(
        "llamacpp-quantized-v-cache-without-flash-attention",
        edits=(replace(FAST, 'flashAttn: "on"', 'flashAttn: "off"'),),
        expect=(expect("block", FAST, "cacheTypeV"),),
    ),
    Case(
        "llamacpp-auto-flash-attention-is-fine",
        edits=(replace(FAST, 'flashAttn: "on"', 'flashAttn: "auto"'),),
    ),
    Case("ollama-0.24-on-blackwell-is-fine", repo="lab-48gb-comfyui"),
    Case(
        "ollama-before-0.24-on-blackwell-silently-ignores-both",
        repo="lab-48gb-comfyui",
        edits=OLD_OLLAMA,
        expect=(expect("block", LAB_32B, "serve:"), expect("block", LAB_70B, "serve:")),
    ),
    Case(
        "ollama-version-unknown-cannot-be-ruled-out",
        repo="lab-48gb-comfyui",
        edits=(
            replace(LAB_32B, "engineVersion: 0.24.0\n", ""),
            replace(LAB_32B, "ollama:0.24.0@", "ollama:latest@"),
        ),
        expect=(expect("block", LAB_32B, "serve:"),),
    ),
    Case(
        "ollama-kv-cache-type-without-flash-attention",
        repo="lab-48gb-comfyui",
        edits=(replace(LAB_70B, "flashAttn: true", "flashAttn: false"),),
        expect=(expect("block", LAB_70B, "serve:"),),
    ),
    Case(
        "nvfp4-before-blackwell",
        edits=(replace(NODE, 'computeCapability: "12.0"', 'computeCapability: "8.9"'),),
        expect=(expect("block", "lanes/qwen36-nvfp4-experiment.yaml", "model:"),),
    ),
    Case(
        "mig-strategy-on-a-card-without-mig",
        edits=(replace(CONFIG, "migStrategy: none", "migStrategy: single"),),
        expect=(expect("block", CONFIG, "migStrategy: single"),),
    ),
    Case(
        "mig-strategy-on-mig-capable-h100s",
        repo="h100x2-tp2",
        edits=(
            replace("gitops-gen.yaml", "  nodeSelector:", "  migStrategy: single\n  nodeSelector:"),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_message_names_the_setting_the_version_and_the_gpu(tmp_path: Path) -> None:
    _repo, findings = run(CASES[4], tmp_path)
    messages = sorted(f.message for f in findings if f.rule == RULE and f.lane == "qwen25-32b")
    assert len(messages) == 2
    assert messages[0].startswith(
        "[ollama-sm120-flash-attention] OLLAMA_FLASH_ATTENTION: Ollama "
        "before 0.24.0 on compute capability 12.x silently ignores it"
    )
    assert "(ollama 0.23.1 on rtx-pro-5000-blackwell (compute capability 12.0))" in messages[0]
    assert messages[1].startswith("[ollama-sm120-kv-cache-type] OLLAMA_KV_CACHE_TYPE:")
