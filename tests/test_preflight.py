"""preflight through the real entry point: the seed 002 reports, exit codes, JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, Result, edit


def _files(repo: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}


def test_fast_lane_passes_on_its_evidence(cli: Callable[..., Result]) -> None:
    result = cli("preflight", "qwen36-35b-gguf-fast", cwd=ROOT)
    assert result.code == 0, result.out
    lines = result.out.splitlines()
    assert lines[0] == "GPU fit preflight: PASS qwen36-35b-gguf-fast"
    assert (
        lines[1]
        == "gpu: rtx-pro-4000-blackwell-sff, total=24467MiB (gpu-worker-1, nvidia.com/gpu x1)"
    )
    assert lines[2] == "lane: qwen36-35b-gguf-fast, runtime=llamacpp b8210, gpus=1"
    assert lines[3].startswith("fit: ctx=49152, quant=Q4_K_M, live_peak_mib=21648 (evidence)")
    assert "checks:" in lines and lines[-1] == "decision: PASS"
    assert all(line.startswith("  [PASS]") for line in lines[lines.index("checks:") + 1 : -1])


def test_fast_lane_estimate_is_within_10_percent_of_the_live_peak(
    cli: Callable[..., Result],
) -> None:
    data = json.loads(cli("preflight", "qwen36-35b-gguf-fast", "--format", "json", cwd=ROOT).out)
    assert data["source"] == "evidence" and data["total_mib"] == 21648
    assert abs(data["estimate_total_mib"] / 21648 - 1) <= 0.10
    for key in (
        "weights_mib",
        "kv_cache_mib",
        "compute_mib",
        "overhead_mib",
        "vram_mib",
        "checks",
        "decision",
    ):
        assert key in data
    assert data["decision"] == "pass" and data["exitCode"] == 0


def test_preflight_by_alias(cli: Callable[..., Result]) -> None:
    result = cli("preflight", "fast", cwd=ROOT)
    assert result.out.startswith("GPU fit preflight: PASS qwen36-35b-gguf-fast")


def test_known_broken_experiment_blocks_and_touches_nothing(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    before = _files(example_rendered)
    result = cli("preflight", "qwen36-nvfp4-experiment", cwd=example_rendered)
    assert result.code == 20
    lines = result.out.splitlines()
    assert lines[0] == "GPU fit preflight: BLOCK qwen36-nvfp4-experiment"
    blocked = {line.split(":")[0].strip() for line in lines if line.startswith("  [BLOCK]")}
    assert blocked == {"[BLOCK] model-prefetched", "[BLOCK] known-broken"}
    # Not an OOM (the lane says so): 20 GiB of NVFP4 weights leave vLLM about 1.6 GiB of KV
    # space at 0.92 of 24 GB, and one 16k sequence needs 160 MiB. The former activation
    # term (3 GiB + 0.2 GiB per billion parameters) blocked it on memory as well.
    assert any(line.startswith("  [PASS] vram-fit") for line in lines)
    assert "KV space 1683 MiB for one 16384-token sequence needing 160 MiB" in result.out
    assert any(line.startswith("  [WARN] validation-evidence") for line in lines)
    assert lines[-1] == "decision: BLOCK; do not scale the GPU lane"
    assert _files(example_rendered) == before


def test_warnings_exit_10(cli: Callable[..., Result]) -> None:
    result = cli("preflight", "qwen36-35b-gguf-longctx", cwd=ROOT)
    assert result.code == 10
    assert "switch: would park qwen36-35b-gguf-fast" in result.out.splitlines()


def test_70b_on_48gb_allowed_at_16k_blocked_at_32k(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    from tests.conftest import copy_repo

    lab = copy_repo(ROOT / "examples" / "lab-48gb-comfyui", tmp_path / "lab")
    assert cli("preflight", "llama70b-16k", cwd=lab).code in (0, 10)
    edit(lab / "lanes/llama70b-16k.yaml", "ctxSize: 16384", "ctxSize: 32768")
    result = cli("preflight", "llama70b-16k", cwd=lab)
    assert result.code == 20
    assert any(
        line.startswith("  [BLOCK] vram-fit: (estimate) does not fit rtx-pro-5000-blackwell")
        for line in result.out.splitlines()
    )


def test_unknown_lane_is_invalid_input(cli: Callable[..., Result]) -> None:
    result = cli("preflight", "nope", cwd=ROOT)
    assert result.code == 2
    assert result.err.startswith("gitops-gen: unknown lane 'nope' (lanes: gpt-oss-agent,")
