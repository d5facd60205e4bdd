"""The VRAM estimator against measured runs (tests/data/fit-calibration.yaml) and its parts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gitops_gen.fit import (
    MIB,
    VLLM_CUDA_GRAPHS_GIB,
    FitEstimate,
    estimate,
    kv_bytes_per_token,
    vllm_activation,
    vllm_version,
)
from gitops_gen.specs.model import Architecture
from gitops_gen.specs.source import load_yaml
from tests.conftest import ROOT

CALIBRATION = load_yaml((ROOT / "tests" / "data" / "fit-calibration.yaml").read_text())
CASES = {case["id"]: case for case in CALIBRATION["cases"]}
GIB = 2**30


def arch(**fields: Any) -> Architecture:
    layers = fields.pop("layers")
    return Architecture(
        layers=layers,
        attention_layers=fields.pop("attentionLayers", layers),
        kv_heads=fields.pop("kvHeads"),
        head_dim=fields.pop("headDim"),
        sliding_window=fields.pop("slidingWindow", None),
        sliding_window_layers=fields.pop("slidingWindowLayers", 0),
        context_length=fields.pop("contextLength", None),
        params=fields.pop("params", None),
        active_params=None,
        attention_heads=fields.pop("attentionHeads", None),
        hidden_size=fields.pop("hiddenSize", None),
        vocab_size=fields.pop("vocabSize", None),
        intermediate_size=fields.pop("intermediateSize", None),
    )


# What the calibration cases do not list but the estimate needs, from the models' own
# configs and lock files (the same numbers `gitops-gen lock add` reads from the headers).
SEED_002 = arch(layers=40, attentionLayers=10, kvHeads=2, headDim=256)
SEED_002_FILE = 22012345678  # models.lock.yaml: the 21G Qwen3.6-35B-A3B-UD-Q4_K_M.gguf
LLAMA_70B = arch(layers=80, kvHeads=8, headDim=128, attentionHeads=64)  # Llama 3 70B: 64 heads
LLAMA_70B_Q4_K_M = 42520395584  # Llama-3.3-70B-Instruct-Q4_K_M.gguf
GPT_OSS_20B_GGUF = 11536 * MIB  # the case's own model buffer
GPT_OSS_20B_SAFETENSORS = 13761264768  # openai/gpt-oss-20b weights (MXFP4 experts)
LLAMA_8B_BF16 = 16060522496  # model.safetensors of meta-llama/Llama-3.1-8B-Instruct
# config.json of openai/gpt-oss-20b and meta-llama/Llama-3.1-8B-Instruct: the widths
# vLLM's activation estimate needs (gpt-oss: 4 experts of 2880 per token).
GPT_OSS_20B = arch(
    layers=24, kvHeads=8, headDim=64, hiddenSize=2880, intermediateSize=11520, vocabSize=201088
)
LLAMA_8B = arch(
    layers=32, kvHeads=8, headDim=128, hiddenSize=4096, intermediateSize=14336, vocabSize=128256
)


def within(estimate_value: float, measured: float, tolerance: float = 0.10) -> bool:
    return abs(estimate_value / measured - 1) <= tolerance


def test_seed_002_fast_lane_within_10_percent_of_its_live_peak() -> None:
    case = CASES["seed-002-fast"]
    result = estimate("llamacpp", SEED_002, SEED_002_FILE, case["serve"], case["gpu"]["vramMiB"])
    assert result is not None
    assert within(result.total_mib, case["measured"]["totalMiB"]), result.total_mib
    assert result.fits


@pytest.mark.parametrize(
    ("case_id", "fits"), [("seed-000-70b-16k", True), ("seed-000-70b-32k", False)]
)
def test_seed_000_70b_on_48gb(case_id: str, fits: bool) -> None:
    case = CASES[case_id]
    vram_mib = case["gpu"]["vramGB"] * 1024  # a "48 GB" card reports ~48 GiB in nvidia-smi
    result = estimate("ollama", LLAMA_70B, LLAMA_70B_Q4_K_M, case["serve"], vram_mib)
    assert result is not None
    assert result.fits is fits
    if "totalGB" in case["measured"]:
        assert within(result.total_mib, case["measured"]["totalGB"] * 1024), result.total_mib


def test_gpt_oss_20b_llamacpp_131k_with_sliding_window() -> None:
    case = CASES["gpt-oss-20b-llamacpp-131k"]
    a = arch(**case["model"]["architecture"])
    result = estimate("llamacpp", a, GPT_OSS_20B_GGUF, case["serve"], 64 * 1024)
    assert result is not None
    measured = case["measured"]
    assert within(result.total_mib, measured["totalMiB"]), result.total_mib
    # the parts too: full-attention KV and the sliding-window KV, separately
    full = kv_bytes_per_token(a, "f16", "f16", layers=12) * 131072 / MIB
    swa = kv_bytes_per_token(a, "f16", "f16", layers=12) * 768 / MIB  # min(ctx, 128+512) -> 768
    assert full == measured["kvMiB"]
    assert within(swa, measured["swaKvMiB"])
    assert result.kv_cache_mib == full + swa


@pytest.mark.parametrize(
    ("case_id", "size", "a"),
    [
        ("gpt-oss-20b-vllm-h100", GPT_OSS_20B_SAFETENSORS, GPT_OSS_20B),
        ("llama-3.1-8b-bf16-vllm-h100", LLAMA_8B_BF16, LLAMA_8B),
    ],
)
def test_vllm_kv_space_within_10_percent(case_id: str, size: int, a: Architecture) -> None:
    """The llm-d-benchmark runs of an older vLLM (its version is not recorded): it logged
    larger activation peaks (7.38 and 4.76 GiB) than the 3.07 and 1.96 GiB the estimate
    takes from vLLM 0.19.0, so the estimate is 3% and 8% above their KV space. No constant
    was fitted on them; tests/data/vllm-runs.yaml has the cited runs the estimate is
    held to (test_vllm_runs_* below)."""
    case = CASES[case_id]
    vram_mib = case["gpu"]["totalGiB"] * 1024
    result = estimate("vllm", a, size, case["serve"], vram_mib, gpu_name=case["gpu"]["model"])
    assert result is not None and result.kv_space_mib is not None
    assert within(result.kv_space_mib / 1024, case["measured"]["kvGiB"]), result.kv_space_mib
    assert result.fits


def test_every_calibration_case_is_covered() -> None:
    covered = {
        "seed-002-fast",
        "seed-000-70b-16k",
        "seed-000-70b-32k",
        "gpt-oss-20b-llamacpp-131k",
        "gpt-oss-20b-vllm-h100",
        "llama-3.1-8b-bf16-vllm-h100",
    }
    assert set(CASES) == covered


def test_quantized_cache_uses_block_overhead() -> None:
    a = arch(layers=1, kvHeads=1, headDim=32)
    assert kv_bytes_per_token(a, "q8_0", "q8_0") == 32 * 2 * 1.0625
    assert kv_bytes_per_token(a, "q4_0", "f16") == 32 * (0.5625 + 2)


def test_llamacpp_ctx_is_shared_by_slots_but_ollama_multiplies() -> None:
    a = arch(layers=10, kvHeads=4, headDim=128, attentionHeads=32)
    one = estimate("llamacpp", a, GIB, {"ctxSize": 32768, "parallel": 1}, 24000)
    four = estimate("llamacpp", a, GIB, {"ctxSize": 32768, "parallel": 4}, 24000)
    assert one is not None and four is not None and one.kv_cache_mib == four.kv_cache_mib
    o1 = estimate("ollama", a, GIB, {"ctxSize": 8192, "parallel": 1, "flashAttn": True}, 24000)
    o4 = estimate("ollama", a, GIB, {"ctxSize": 8192, "parallel": 4, "flashAttn": True}, 24000)
    assert o1 is not None and o4 is not None and o4.kv_cache_mib == 4 * o1.kv_cache_mib


def test_ollama_ignores_quantized_cache_without_flash_attention() -> None:
    a = arch(layers=10, kvHeads=4, headDim=128)
    with_fa = estimate(
        "ollama", a, GIB, {"ctxSize": 8192, "kvCacheType": "q8_0", "flashAttn": True}, 24000
    )
    without = estimate(
        "ollama", a, GIB, {"ctxSize": 8192, "kvCacheType": "q8_0", "flashAttn": False}, 24000
    )
    assert with_fa is not None and without is not None
    assert without.kv_cache_mib == pytest.approx(with_fa.kv_cache_mib * 2 / 1.0625)


def test_hybrid_models_count_only_attention_layers() -> None:
    dense = arch(layers=40, kvHeads=2, headDim=256)
    hybrid = arch(layers=40, attentionLayers=10, kvHeads=2, headDim=256)
    a = estimate("llamacpp", dense, GIB, {"ctxSize": 65536}, 24000)
    b = estimate("llamacpp", hybrid, GIB, {"ctxSize": 65536}, 24000)
    assert a is not None and b is not None and a.kv_cache_mib == 4 * b.kv_cache_mib


def test_no_flash_attention_compute_grows_with_context() -> None:
    a = arch(layers=32, kvHeads=8, headDim=128, attentionHeads=32)  # an 8B
    on = estimate("llamacpp", a, GIB, {"ctxSize": 131072, "flashAttn": "on"}, 80000)
    off = estimate("llamacpp", a, GIB, {"ctxSize": 131072, "flashAttn": "off"}, 80000)
    assert on is not None and off is not None
    # the calibration notes: 8480 MiB of compute buffer at 131072 for an 8B without FA
    assert within(off.compute_mib, 8480)
    assert on.compute_mib < 1024


def test_tensor_parallel_splits_weights_and_kv_heads() -> None:
    a = arch(layers=40, kvHeads=8, headDim=128)
    one = estimate("vllm", a, 48 * GIB, {"maxModelLen": 32768, "tensorParallelSize": 1}, 81559)
    two = estimate("vllm", a, 48 * GIB, {"maxModelLen": 32768, "tensorParallelSize": 2}, 81559)
    assert one is not None and two is not None
    assert two.weights_mib == one.weights_mib / 2
    assert two.sequence_mib == one.sequence_mib / 2


def test_evidence_applies_at_the_context_it_was_measured_at() -> None:
    from dataclasses import replace

    from gitops_gen.fit import fit_lane
    from gitops_gen.specs.loader import load_repo

    repo = load_repo(ROOT)
    lane = repo.lanes["qwen36-35b-gguf-fast"]
    model = repo.models[lane.model or ""]
    gpu = repo.nodes[lane.node].gpus[0]
    assert lane.evidence is not None
    measured_at = replace(lane.evidence, ctx_size=49152)
    same = replace(lane, evidence=measured_at)
    fit = fit_lane(same, model, gpu)
    assert fit is not None and fit.source == "evidence"
    # two slots of 49152 hold twice the cells: the recorded peak no longer says anything
    two_slots = replace(
        lane, evidence=measured_at, serve={**lane.serve, "ctxSize": 98304, "parallel": 2}
    )
    fit = fit_lane(two_slots, model, gpu)
    assert fit is not None and fit.source == "estimate"


# Published vLLM startups (tests/data/vllm-runs.yaml). The weights term is taken from
# each run's log ("Model loading took X GiB" x TP): what is tested here is the rest of
# the budget (scheduler defaults, activation peak, non-torch memory, CUDA graphs, the
# sequence check). Constants were fitted or checked on the runs marked `role: fit`
# (llama-3.1-8b-h100-tp1 and -tp2, codellama-7b-h100, llama-3.1-8b-rtx3090-v0-20k);
# every other run is held out.
VLLM_RUNS = load_yaml((ROOT / "tests" / "data" / "vllm-runs.yaml").read_text())["runs"]
STARTED = [run for run in VLLM_RUNS if run["started"]]
REFUSED = [run for run in VLLM_RUNS if not run["started"]]
# The estimated KV space of a run vLLM started is within 5% of the logged one; the
# worst held-out errors are +3.7% (a V0 run with 1.79 GiB non-torch) and +2.4% (an MoE
# whose fused-expert buffers the estimate leaves out); the v0.19.0 runs are within 2.5%.
VLLM_KV_TOLERANCE = 0.05
# The activation peak is within 0.5 GiB of the logged torch peak increase.
VLLM_ACTIVATION_TOLERANCE_GIB = 0.5


def run_version(run: dict[str, Any]) -> str:
    """The runs' versions: 0.19.0, or a V0 engine (before 0.8), taken as 0.6.4."""
    return str(run["version"]) if str(run["version"])[0].isdigit() else "0.6.4"


def run_arch(run: dict[str, Any]) -> Architecture:
    return arch(**run["architecture"])


def run_estimate(run: dict[str, Any], **overrides: Any) -> FitEstimate:
    tp = run["serve"]["tensorParallelSize"]
    result = estimate(
        "vllm",
        run_arch(run),
        int(run["logged"]["weightsGiB"] * tp * GIB),
        {**run["serve"], **overrides},
        run["gpu"]["totalGiB"] * 1024,
        gpus=tp,
        engine_version=run_version(run),
        gpu_name=run["gpu"]["model"],
    )
    assert result is not None and result.kv_space_mib is not None
    return result


def test_vllm_runs_cover_models_gpus_tp_and_versions() -> None:
    assert len(STARTED) >= 12 and REFUSED
    assert len({run["model"]["checkpoint"] for run in VLLM_RUNS}) >= 12
    assert {run["gpu"]["model"] for run in VLLM_RUNS} >= {"h100-80gb", "rtx-3090", "rtx-4090"}
    assert {run["serve"]["tensorParallelSize"] for run in VLLM_RUNS} == {1, 2, 4}
    assert {run_version(run) for run in VLLM_RUNS} == {"0.19.0", "0.6.4"}
    assert all(run["source"].startswith("https://") for run in VLLM_RUNS)
    assert all(run["config"].startswith("https://huggingface.co/") for run in VLLM_RUNS)
    fitted = {run["id"] for run in VLLM_RUNS if run["role"] == "fit"}
    assert fitted == {
        "llama-3.1-8b-h100-tp1",
        "llama-3.1-8b-h100-tp2",
        "codellama-7b-h100",
        "llama-3.1-8b-rtx3090-v0-20k",
    }


@pytest.mark.parametrize("run", STARTED, ids=lambda run: run["id"])
def test_vllm_runs_that_started_are_not_blocked(run: dict[str, Any]) -> None:
    result = run_estimate(run)
    assert result.fits, (result.kv_space_mib, result.sequence_mib)


@pytest.mark.parametrize("run", STARTED, ids=lambda run: run["id"])
def test_vllm_runs_kv_space_within_tolerance(run: dict[str, Any]) -> None:
    result = run_estimate(run)
    assert result.kv_space_mib is not None
    logged = run["logged"]["kvGiB"]
    error = result.kv_space_mib / 1024 / logged - 1
    assert abs(error) <= VLLM_KV_TOLERANCE, f"{run['id']}: {error:+.1%}"


@pytest.mark.parametrize("run", REFUSED, ids=lambda run: run["id"])
def test_vllm_runs_that_vllm_refused_are_blocked(run: dict[str, Any]) -> None:
    result = run_estimate(run)
    assert not result.fits, (result.kv_space_mib, result.sequence_mib)


@pytest.mark.parametrize("run", VLLM_RUNS, ids=lambda run: run["id"])
def test_vllm_runs_activation_and_defaults(run: dict[str, Any]) -> None:
    tp = run["serve"]["tensorParallelSize"]
    peak, batched, rows, _notes = vllm_activation(
        run_arch(run),
        run["serve"],
        run["gpu"]["totalGiB"] * 1024,
        tp=tp,
        version=vllm_version(run_version(run)),
        gpu_name=run["gpu"]["model"],
    )
    defaults = run["defaults"]
    assert batched == defaults["maxNumBatchedTokens"]
    assert rows == min(defaults["maxNumSeqs"], batched)
    logged = run["logged"]["activationGiB"]
    assert abs(peak / 1024 - logged) <= VLLM_ACTIVATION_TOLERANCE_GIB, (peak / 1024, logged)


@pytest.mark.parametrize(
    "run", [run for run in VLLM_RUNS if "kvTokens" in run["logged"]], ids=lambda run: run["id"]
)
def test_vllm_runs_architecture_matches_the_logged_token_count(run: dict[str, Any]) -> None:
    """The config.json figures recorded for a run give the KV bytes per token that turn
    its logged KV GiB into its logged token count (gpt-oss's sliding-window layers
    excepted: vLLM sizes those separately)."""
    a = run_arch(run)
    if a.sliding_window_layers:
        return
    tp = run["serve"]["tensorParallelSize"]
    dtype = run["serve"].get("kvCacheDtype", "auto")
    per_token = a.attention_layers * max(1, a.kv_heads // tp) * a.head_dim * 2
    per_token *= 1 if dtype == "fp8" else 2
    tokens = run["logged"]["kvGiB"] * GIB / per_token
    assert abs(tokens / run["logged"]["kvTokens"] - 1) <= 0.01, (tokens, run["logged"])


def test_vllm_lock_size_stands_in_for_the_loaded_weights() -> None:
    """The lock's checkpoint size (what fit_lane uses) against the run's own log."""
    (run,) = [run for run in VLLM_RUNS if run["id"] == "llama-3.1-8b-h100-tp1"]
    assert within(LLAMA_8B_BF16 / GIB, run["logged"]["weightsGiB"], 0.01)
    result = estimate(
        "vllm", run_arch(run), LLAMA_8B_BF16, run["serve"], run["gpu"]["totalGiB"] * 1024
    )
    assert result is not None and result.kv_space_mib is not None
    assert within(result.kv_space_mib / 1024, run["logged"]["kvGiB"], VLLM_KV_TOLERANCE)


def test_vllm_cuda_graphs_come_out_of_the_kv_space_from_0_21() -> None:
    (run,) = [run for run in VLLM_RUNS if run["id"] == "llama-3.1-8b-h100-tp1"]
    tp = run["serve"]["tensorParallelSize"]
    size = int(run["logged"]["weightsGiB"] * tp * GIB)
    vram = run["gpu"]["totalGiB"] * 1024

    def kv(version: str | None) -> float:
        result = estimate("vllm", run_arch(run), size, run["serve"], vram, engine_version=version)
        assert result is not None and result.kv_space_mib is not None
        return result.kv_space_mib

    assert kv("0.20.1") - kv("0.21.0") == VLLM_CUDA_GRAPHS_GIB * 1024
    assert kv(None) == kv("0.21.0")  # an unknown version is taken as current


def test_vllm_forward_activation_is_split_over_tensor_parallel_ranks() -> None:
    """The MLP width is sharded across ranks; the hidden states and the sampler's
    full-vocabulary logits are not."""
    a = arch(layers=32, kvHeads=8, headDim=128, hiddenSize=4096, intermediateSize=14336)
    a = replace(a, vocab_size=1000)  # a tiny vocabulary: the forward pass is the peak
    serve = {"maxNumBatchedTokens": 8192, "maxNumSeqs": 256}
    one, *_ = vllm_activation(a, serve, 81559, tp=1)
    two, *_ = vllm_activation(a, serve, 81559, tp=2)
    assert (one - two) * MIB == 8192 * 3 * 14336 / 2
    big_vocab = replace(a, vocab_size=128256)  # 1024 rows of it outweigh the forward pass
    serve["maxNumSeqs"] = 1024
    one, *_ = vllm_activation(big_vocab, serve, 81559, tp=1)
    two, *_ = vllm_activation(big_vocab, serve, 81559, tp=2)
    assert one == two == 1024 * 128256 * 16 / MIB


@pytest.mark.parametrize(
    ("vram_mib", "gpu", "version", "max_len", "expected"),
    [
        (81559, "h100-sxm-80gb", "0.12.0", 32768, (8192, 1024)),
        (81920, "a100-sxm4-80gb", "0.12.0", 32768, (2048, 256)),  # A100s keep the small ones
        (24467, "rtx-pro-4000-blackwell-sff", "0.12.0", 32768, (2048, 256)),
        (24576, "rtx-3090", "0.6.4", 20000, (20000, 256)),  # V0: the whole prompt at once
        (24576, "rtx-3090", "0.6.4", 40000, (512, 256)),  # V0 chunked prefill above 32k
    ],
)
def test_vllm_scheduler_defaults(
    vram_mib: int, gpu: str, version: str, max_len: int, expected: tuple[int, int]
) -> None:
    _peak, batched, rows, notes = vllm_activation(
        LLAMA_8B, {"maxModelLen": max_len}, vram_mib, version=vllm_version(version), gpu_name=gpu
    )
    assert (batched, rows) == expected
    assert any("maxNumBatchedTokens unset" in note for note in notes)


def test_vllm_version_parsing() -> None:
    assert vllm_version("0.12.0") == (0, 12, 0)
    assert vllm_version("v0.11.2rc1") == (0, 11, 2)
    assert vllm_version("0.9") == (0, 9, 0)
    assert vllm_version("nightly") is None
    assert vllm_version(None) is None


def test_vllm_notes_a_headroom_too_small_for_cuda_graphs() -> None:
    """Before 0.21 the graphs are captured after the KV cache, above the utilization."""

    def notes(utilization: float) -> tuple[str, ...]:
        serve = {"maxModelLen": 8192, "gpuMemoryUtilization": utilization}
        result = estimate("vllm", LLAMA_8B, LLAMA_8B_BF16, serve, 24576, engine_version="0.12.0")
        assert result is not None
        return result.notes

    assert not any("CUDA graphs" in note for note in notes(0.9))
    assert any("may not hold them" in note for note in notes(0.98))
