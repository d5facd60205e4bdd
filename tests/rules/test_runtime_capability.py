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
    replace(LAB_32B, "ollama:0.24.0@", "ollama:0.23.1@"),
    replace(LAB_70B, "engineVersion: 0.24.0", "engineVersion: 0.23.1"),
    replace(LAB_70B, "ollama:0.24.0@", "ollama:0.23.1@"),
)
ROLLBACK = "lanes/vllm-rollback.yaml"
NVFP4 = "lanes/qwen36-nvfp4-experiment.yaml"
V012 = "vllm-openai:v0.12.0@"


def vllm_at(lane: str, version: str) -> tuple[dict[str, str], dict[str, str]]:
    """Pin a root vLLM lane's image (and its declared version) at `version`."""
    return (
        replace(lane, V012, f"vllm-openai:v{version}@"),
        replace(lane, "engineVersion: 0.12.0", f"engineVersion: {version}"),
    )


OLD_DRIVER = (
    replace(NODE, 'driverVersion: "610.43.02"', 'driverVersion: "550.54.14"'),
    replace(NODE, 'cudaVersion: "13.3"', 'cudaVersion: "12.4"'),
)
H100 = "hardware/h100-node-a.yaml"
TP2 = "lanes/mistral-small-24b-tp2.yaml"
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
        # The parked 70B lane would fail too: a note naming it.
        "ollama-before-0.24-on-blackwell-silently-ignores-both",
        repo="lab-48gb-comfyui",
        edits=OLD_OLLAMA,
        expect=(expect("block", LAB_32B, "serve:"), expect("note", LAB_70B, "serve:")),
    ),
    Case(
        # Seed 000's exact lesson: a 0.23.0 image declared as 0.24.0 is Ollama 0.23.0.
        "seed-000-ollama-0.23-image-declared-0.24",
        repo="lab-48gb-comfyui",
        edits=(replace(LAB_32B, "ollama:0.24.0@", "ollama:0.23.0@"),),
        expect=(expect("block", LAB_32B, "serve:"),),
    ),
    Case(
        # A tag without a version (server-cuda@sha256:...) leaves the declared one in charge.
        "untagged-image-uses-the-declared-version",
        repo="lab-48gb-comfyui",
        edits=(
            replace(LAB_32B, "ollama:0.24.0@", "ollama@"),
            replace(LAB_32B, "engineVersion: 0.24.0", "engineVersion: 0.23.0"),
        ),
        expect=(expect("block", LAB_32B, "serve:"),),
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
        expect=(expect("note", LAB_70B, "serve:"),),
    ),
    Case(
        "ollama-kv-cache-type-without-flash-attention-on-the-active-lane",
        repo="lab-48gb-comfyui",
        edits=(replace(LAB_32B, "flashAttn: true", "flashAttn: false"),),
        expect=(expect("block", LAB_32B, "serve:"),),
    ),
    Case(
        "nvfp4-before-blackwell",
        edits=(replace(NODE, 'computeCapability: "12.0"', 'computeCapability: "8.9"'),),
        expect=(expect("note", NVFP4, "model:"),),
    ),
    Case(
        "nvfp4-before-blackwell-on-an-active-lane",
        edits=(
            replace(NODE, 'computeCapability: "12.0"', 'computeCapability: "8.9"'),
            replace(NVFP4, "active: false", "active: true"),
        ),
        expect=(expect("block", NVFP4, "model:"),),
    ),
    Case(
        # vLLM 0.6 has no sm_120 kernels: it cannot start on the RTX PRO 4000 Blackwell.
        "vllm-without-sm120-kernels-on-blackwell",
        edits=(*vllm_at(ROLLBACK, "0.6.3"), replace(ROLLBACK, "active: false", "active: true")),
        expect=(expect("block", ROLLBACK, "image:"),),
    ),
    Case(
        "parked-vllm-without-sm120-kernels-is-a-note",
        edits=vllm_at(ROLLBACK, "0.9.1"),
        expect=(expect("note", ROLLBACK, "image:"),),
    ),
    Case(
        # The device plugin may give the lane either card: a gate on one of them counts.
        "vllm-without-sm120-kernels-on-a-node-also-holding-an-older-card",
        edits=(
            *vllm_at(ROLLBACK, "0.6.3"),
            replace(ROLLBACK, "active: false", "active: true"),
            replace(
                NODE,
                "gpus:\n",
                "gpus:\n  - {vendor: nvidia, model: rtx-4060-ti-16gb, count: 1, vramMiB: 16380, "
                'computeCapability: "8.9"}\n',
            ),
        ),
        expect=(expect("block", ROLLBACK, "image:"), expect("note", NVFP4, "model:")),
    ),
    Case(
        "vllm-0.9.2-has-sm120-kernels",
        edits=(*vllm_at(ROLLBACK, "0.9.2"), replace(ROLLBACK, "active: false", "active: true")),
    ),
    Case(
        "vllm-0.6-is-fine-on-hopper",
        repo="h100x2-tp2",
        edits=(
            replace(TP2, V012, "vllm-openai:v0.6.3@"),
            replace(TP2, "engineVersion: 0.12.0", "engineVersion: 0.6.3"),
            replace(TP2, "  asyncScheduling: true\n", ""),  # its own gates, below
        ),
    ),
    Case(
        # An R550 driver on a Blackwell card: the node blocks, and both vLLM images
        # (CUDA 12.8 and later) would be refused by the container runtime: notes, parked.
        "blackwell-on-an-old-driver",
        edits=OLD_DRIVER,
        expect=(
            expect("block", NODE, "driverVersion:"),
            expect("note", ROLLBACK, "image:"),
            expect("note", NVFP4, "image:"),
        ),
    ),
    Case(
        "driver-known-only-by-its-cuda-version",
        edits=(replace(NODE, '    driverVersion: "610.43.02"\n', ""), OLD_DRIVER[1]),
        expect=(
            expect("block", NODE, "cudaVersion:"),
            expect("note", ROLLBACK, "image:"),
            expect("note", NVFP4, "image:"),
        ),
    ),
    Case(
        "driver-not-recorded-is-not-checked",
        edits=(
            replace(NODE, '    driverVersion: "610.43.02"\n', ""),
            replace(NODE, '    cudaVersion: "13.3"\n', ""),
        ),
    ),
    Case(
        # vLLM images from 0.9.0 are CUDA 12.8 builds: an R535 driver cannot start them.
        "vllm-cuda-12.8-image-on-an-r535-driver",
        repo="h100x2-tp2",
        edits=(replace(H100, "mig: true}", 'mig: true, driverVersion: "535.104.05"}'),),
        expect=(expect("block", TP2, "image:"), expect("note", "lanes/llama31-8b.yaml", "image:")),
    ),
    Case(
        "vllm-before-0.9-on-an-r535-driver",
        repo="h100x2-tp2",
        edits=(
            replace(H100, "mig: true}", 'mig: true, driverVersion: "535.104.05"}'),
            replace(TP2, V012, "vllm-openai:v0.8.5@"),
            replace(TP2, "engineVersion: 0.12.0", "engineVersion: 0.8.5"),
            replace(TP2, "  asyncScheduling: true\n", ""),  # its own gates, below
        ),
        expect=(expect("note", "lanes/llama31-8b.yaml", "image:"),),
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


# Seed 003's async scheduling on the H100 lane (vLLM v0.12.0 there).
TP2 = "lanes/mistral-small-24b-tp2.yaml"
V0_12 = "vllm-openai:v0.12.0@"


def _vllm(version: str) -> tuple[dict[str, str], ...]:
    return (
        replace(TP2, V0_12, f"vllm-openai:v{version}@"),
        replace(TP2, "engineVersion: 0.12.0", f"engineVersion: {version}"),
    )


CASES += [
    Case("async-scheduling-on-0.12-is-fine", repo="h100x2-tp2"),
    Case(
        "async-scheduling-on-0.11.0-meets-structured-output",
        repo="h100x2-tp2",
        edits=_vllm("0.11.0"),
        expect=(expect("warn", TP2, "asyncScheduling: true"),),
    ),
    Case(
        "async-scheduling-on-0.10-is-unconfirmed",
        repo="h100x2-tp2",
        edits=_vllm("0.10.1"),
        expect=(expect("warn", TP2, "asyncScheduling: true"),),
    ),
]


# A hand-set VLLM_ATTENTION_BACKEND instead of serve.attentionBackend: read until 0.14.x.
HAND_SET_BACKEND = (
    replace(TP2, "  attentionBackend: flash_attn\n", ""),
    replace(TP2, "shmSize: 16Gi\n", "shmSize: 16Gi\nenv:\n  VLLM_ATTENTION_BACKEND: FLASH_ATTN\n"),
)
CASES += [
    Case(
        "attention-backend-variable-on-0.15-is-ignored",
        repo="h100x2-tp2",
        edits=(*HAND_SET_BACKEND, *_vllm("0.15.0")),
        expect=(expect("warn", TP2, "VLLM_ATTENTION_BACKEND: FLASH_ATTN"),),
    ),
    Case(
        "attention-backend-variable-on-0.14.1-is-still-read",
        repo="h100x2-tp2",
        edits=(*HAND_SET_BACKEND, *_vllm("0.14.1")),
    ),
    Case(
        "attention-backend-setting-on-0.15-is-the-flag",
        repo="h100x2-tp2",
        edits=_vllm("0.15.0"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_every_packaged_gate_cites_its_source() -> None:
    from gitops_gen.check.policy import load_policy
    from gitops_gen.check.rules import REGISTRY
    from gitops_gen.check.rules.runtime_capability import gate_source
    from gitops_gen.specs.schema import SpecSchemas
    from tests.conftest import ROOT

    for root in (ROOT, ROOT / "examples" / "h100x2-tp2"):  # policies/ and the defaults
        options = {rule.ID: dict(rule.OPTIONS) for rule in REGISTRY}
        policy = load_policy(root, schemas=SpecSchemas(), rule_options=options)
        assert policy.gates
        assert all(gate_source(gate) for gate in policy.gates), [g.id for g in policy.gates]


def test_the_root_policy_is_the_packaged_default() -> None:
    from tests.conftest import ROOT

    packaged = ROOT / "gitops_gen" / "defaults" / "capabilities.yaml"
    assert (ROOT / "policies" / "capabilities.yaml").read_text() == packaged.read_text()


def test_driver_message_names_the_driver(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "blackwell-on-an-old-driver")
    _repo, findings = run(case, tmp_path)
    (node,) = [f for f in findings if f.rule == RULE and f.object == "Node/gpu-worker-1"]
    assert node.message.startswith("[blackwell-driver-floor] driverVersion: Blackwell support")
    assert "(node gpu-worker-1, rtx-pro-4000-blackwell-sff, driver 550.54.14 / CUDA 12.4)" in (
        node.message
    )
    assert "Source: " in node.message


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


def test_async_scheduling_gates_say_which_release_they_doubt(tmp_path: Path) -> None:
    _, findings = run(Case("v", repo="h100x2-tp2", edits=_vllm("0.10.1")), tmp_path)
    gates = sorted(f.message.split("]")[0][1:] for f in findings if f.rule == RULE)
    assert gates == ["vllm-async-scheduling-structured-output", "vllm-async-scheduling-unconfirmed"]
