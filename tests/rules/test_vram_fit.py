from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, MEASURED_AT, expect, replace
from tests.rules.harness import Case, assert_case, run

RULE = "vram-fit"
LAB_70B = "lanes/llama70b-16k.yaml"
LAB_32B = "lanes/qwen25-32b.yaml"
SWITCH_TO_70B = (
    replace(LAB_70B, "active: false", "active: true"),
    replace(LAB_32B, "active: true", "active: false"),
)
# The root's parked NVFP4 experiment fits at 16k (vLLM's KV space holds 10 sequences);
# past the card's KV space it would not: a note naming it.
NVFP4 = "lanes/qwen36-nvfp4-experiment.yaml"
PARKED_NOTE = expect("note", NVFP4, "serve:")
CASES = [
    Case("active-lane-fits-by-its-evidence"),
    Case(
        "a-parked-lane-that-would-not-fit-is-a-note",
        edits=(replace(NVFP4, "maxModelLen: 16384", "maxModelLen: 262144"),),
        expect=(PARKED_NOTE,),
    ),
    Case(
        "a-parked-lane-that-would-spill-to-the-cpu-is-a-note",
        edits=(replace("lanes/qwen36-27b-deep.yaml", "gpuLayers: 999", "gpuLayers: 20"),),
        expect=(expect("note", "lanes/qwen36-27b-deep.yaml", "serve:"),),
    ),
    Case("a-parked-lane-that-fits-says-nothing", repo="lab-48gb-comfyui"),  # the parked 70B
    Case(
        "context-past-the-card",
        edits=(replace(FAST, "ctxSize: 49152", "ctxSize: 262144"),),
        expect=(expect("block", FAST, "serve:"),),
    ),
    Case(
        "evidence-for-another-context-falls-back-to-the-estimate",
        edits=(replace(FAST, MEASURED_AT, "\n  ctxSize: 32768"),),
    ),
    # Evidence that does not say which context it was measured at may be of another
    # configuration: it cannot vouch for less than the estimate of the lane as it is.
    Case(
        "evidence-without-its-context-cannot-outvote-the-estimate",
        edits=(
            replace(FAST, MEASURED_AT, ""),
            replace(FAST, "ctxSize: 49152", "ctxSize: 262144"),
            replace(FAST, "cacheTypeK: q8_0", "cacheTypeK: f16"),
            replace(FAST, "cacheTypeV: q8_0", "cacheTypeV: f16"),
        ),
        expect=(expect("block", FAST, "serve:"),),
    ),
    Case(
        "evidence-without-its-context-above-the-estimate-still-counts",
        edits=(
            replace(FAST, MEASURED_AT, ""),
            replace(FAST, "livePeakMiB: 21648", "livePeakMiB: 24400"),
        ),
        expect=(expect("warn", FAST, "serve:"),),
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


# A generic lane (ComfyUI on the 48 GB lab card) is held to the VRAM it declares.
COMFY = "lanes/comfyui.yaml"
QWEN = "lanes/qwen25-32b.yaml"
COMFY_ACTIVE = (
    replace(COMFY, "active: false", "active: true"),
    replace(QWEN, "active: true", "active: false"),
)
CASES += [
    Case("a-generic-lane-within-its-card", repo="lab-48gb-comfyui", edits=COMFY_ACTIVE),
    Case(
        "a-generic-lane-declaring-more-than-the-card",
        repo="lab-48gb-comfyui",
        edits=(*COMFY_ACTIVE, replace(COMFY, "vramMiB: 45056", "vramMiB: 50000")),
        expect=(expect("block", COMFY, "vramMiB: 50000"),),
    ),
    Case(
        "a-generic-lane-near-the-top-of-its-card",
        repo="lab-48gb-comfyui",
        edits=(*COMFY_ACTIVE, replace(COMFY, "vramMiB: 45056", "vramMiB: 47000")),
        expect=(expect("warn", COMFY, "vramMiB: 47000"),),
    ),
    Case(
        "a-parked-generic-lane-too-big-is-a-note",
        repo="lab-48gb-comfyui",
        edits=(replace(COMFY, "vramMiB: 45056", "vramMiB: 50000"),),
        expect=(expect("note", COMFY, "vramMiB: 50000"),),
    ),
]


# A card shared on purpose (seed 004's 96 GB): the active lanes' totals sum within it.
MIXED = "mixed-nvidia-amd"
GPT_OSS = "lanes/gpt-oss-120b.yaml"
CODER = "lanes/qwen3-coder-30b.yaml"
EMBED = "lanes/qwen3-embedding-8b.yaml"
CASES += [
    Case(
        # 97026 of 97887 MiB: it fits, with less than 5% left.
        "three-lanes-just-fit-a-shared-card",
        repo=MIXED,
        notes=False,
        expect=(
            expect("warn", GPT_OSS, "active: true"),
            expect("warn", CODER, "active: true"),
            expect("warn", EMBED, "active: true"),
        ),
    ),
    Case(
        "a-longer-context-and-they-no-longer-fit-together",
        repo=MIXED,
        notes=False,
        edits=(replace(GPT_OSS, "ctxSize: 32768", "ctxSize: 131072"),),
        expect=(
            expect("block", GPT_OSS, "active: true"),
            expect("block", CODER, "active: true"),
            expect("block", EMBED, "active: true"),
        ),
    ),
    Case(
        "two-lanes-share-it-comfortably",
        repo=MIXED,
        notes=False,
        edits=(replace(CODER, "active: true", "active: false"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_message_gives_the_breakdown(tmp_path: Path) -> None:
    _repo, findings = run(next(c for c in CASES if c.id == "context-past-the-card"), tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE and f.lane == "qwen36-35b-gguf-fast"]
    assert finding.message == (
        "(estimate) does not fit rtx-pro-4000-blackwell-sff: weights 20993 + KV 2720 + compute "
        "512 + overhead 350 = 24575 MiB of 24467 MiB (100%)"
    )


def test_near_full_card_warns(tmp_path: Path) -> None:
    case = Case(
        "warn",
        edits=(replace(FAST, "ctxSize: 49152", "ctxSize: 163840"),),
    )
    _repo, findings = run(case, tmp_path)
    assert [
        (f.severity.label, f.message.split(":")[0])
        for f in findings
        if f.rule == RULE and f.severity.label != "NOTE"
    ] == [("WARN", "(estimate) leaves 1008 MiB free on rtx-pro-4000-blackwell-sff")]


def test_parked_note_names_the_lane_and_blocks_once_active(tmp_path: Path) -> None:
    too_long = replace(NVFP4, "maxModelLen: 16384", "maxModelLen: 262144")
    _repo, findings = run(Case("parked", edits=(too_long,)), tmp_path)
    (note,) = [f for f in findings if f.rule == RULE]
    assert note.lane == "qwen36-nvfp4-experiment"
    assert note.message.startswith("parked lane would not fit: (estimate) does not fit ")
    active = Case("active", edits=(too_long, replace(NVFP4, "active: false", "active: true")))
    _repo, findings = run(active, tmp_path / "active")
    assert [f.severity.label for f in findings if f.rule == RULE] == ["BLOCK"]


# A second, smaller NVIDIA card on the node: nvidia.com/gpu is one pool, and the device
# plugin may hand a one-GPU lane either card.
SMALLER_CARD = (
    "\n  - {vendor: nvidia, model: rtx-4060-ti-16gb, count: 1, vramMiB: 16380}\nmodelCache:"
)
ON_NODE = "hardware/gpu-worker-1.yaml"


@pytest.mark.parametrize("first", [False, True], ids=["listed-second", "listed-first"])
def test_a_lane_is_sized_on_every_card_it_may_be_given(tmp_path: Path, first: bool) -> None:
    node = (ON_NODE, "\nmodelCache:", SMALLER_CARD)
    edits = [replace(*node)]
    if first:  # the same two cards, the smaller one listed first
        edits = [
            replace(ON_NODE, "gpus:\n", "gpus:" + SMALLER_CARD.split("\nmodelCache:")[0] + "\n")
        ]
    _repo, findings = run(Case("two-cards", edits=tuple(edits)), tmp_path)
    fast = [f for f in findings if f.rule == RULE and f.lane == "qwen36-35b-gguf-fast"]
    assert [f.severity.label for f in fast] == ["BLOCK"], fast
    assert "does not fit rtx-4060-ti-16gb" in fast[0].message
    evidence = [f for f in findings if f.rule == "validation-evidence" and f.lane == fast[0].lane]
    assert [f.message for f in evidence] == [
        "active lane's evidence is from rtx-pro-4000-blackwell-sff, not rtx-4060-ti-16gb "
        "(the device plugin may give it either card)"
    ]
