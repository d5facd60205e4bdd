"""VRAM estimates per engine: pure functions, no I/O.

What each engine puts on the card, from the lock's architecture block and the lane's
serve settings:

- llama.cpp: the GGUF file (all layers offloaded), the KV cache (`-c` cells shared by
  all slots, padded to 256; sliding-window layers keep min(ctx, window x slots +
  ubatch) cells), a compute buffer (small with flash attention; without it the
  attention scores grow with the context), and the CUDA context.
- Ollama: llama.cpp underneath, but it reserves its own graph estimate,
  4 x batch x context x (heads + 1) bytes, and passes num_ctx x OLLAMA_NUM_PARALLEL as
  the context: this is why a 70B at 32k spills to the CPU on 48 GB where 16k fits.
- vLLM: takes gpu_memory_utilization x VRAM, keeps the weights (per tensor-parallel
  rank), the activation peak of its profiling run and the non-torch memory (NCCL buffers
  when TP > 1), and gives the rest to the KV cache; it refuses to start when one
  max_model_len sequence does not fit in it. The profiling run is one forward pass of
  max_num_batched_tokens tokens and (V1) a sampler pass over max_num_seqs rows of
  float32 logits: whichever is larger is the activation peak. CUDA graphs are captured
  after the KV cache is sized (out of the 1 - utilization headroom) until vLLM 0.21,
  which profiles them and takes them from the KV space. The constants and their
  sources are in tests/data/vllm-runs.yaml.

Numbers are MiB (2^20 bytes). Tensor parallel and multi-GPU lanes are sized per GPU.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.specs.engines import flash_attn, tensor_parallel_size
from gitops_gen.specs.model import Architecture, Gpu, Lane, ModelLock

MIB = 2**20
GIB = 2**30

# Bytes per cached element, quantized types with their block overhead (q8_0 = 34/32).
CACHE_BYTES = {
    "f32": 4.0,
    "f16": 2.0,
    "bf16": 2.0,
    "q8_0": 1.0625,
    "q4_0": 0.5625,
    "q4_1": 0.625,
    "q5_0": 0.6875,
    "q5_1": 0.75,
    "iq4_nl": 0.5625,
    "fp8": 1.0,
    "fp8_e4m3": 1.0,
    "fp8_e5m2": 1.0,
}
VLLM_DTYPE_BYTES = {"auto": 2.0, "bfloat16": 2.0, "fp8": 1.0, "fp8_e4m3": 1.0, "fp8_e5m2": 1.0}

# Defaults of the engines, where a lane does not say.
LLAMACPP_UBATCH = 512
OLLAMA_BATCH = 512
VLLM_GPU_MEMORY_UTILIZATION = 0.9
# CUDA context and runtime allocations outside the model's own buffers.
CUDA_CONTEXT_MIB = 350.0
# llama.cpp compute buffer with flash attention: a floor plus the KQ mask.
FA_COMPUTE_BASE_MIB = 256.0
# vLLM's scheduler defaults where the lane sets neither max_num_batched_tokens nor
# max_num_seqs (vllm/engine/arg_utils.py, online serving): V1 uses 8192 tokens and 1024
# sequences on GPUs of 70 GiB and more except the A100, else 2048 and 256. V0 (before
# 0.8) profiled max(max_model_len, 2048) tokens, or 512 with chunked prefill, which it
# turned on by itself above 32k, and 256 sequences.
VLLM_V1_FROM = (0, 8, 0)
VLLM_BIG_GPU_MIB = 70 * 1024
VLLM_BIG_GPU_BATCHED_TOKENS, VLLM_BIG_GPU_SEQS = 8192, 1024
VLLM_BATCHED_TOKENS, VLLM_SEQS = 2048, 256
VLLM_V0_CHUNKED_ABOVE, VLLM_V0_CHUNK = 32768, 512
# Activation bytes per batched token in the profiling forward pass: 3 x intermediate
# width (per rank) + 16 x hidden size. Fitted on two runs whose peak is the forward pass
# (Llama-3.1-8B at 20000 tokens on vLLM V0, CodeLlama-7B at 8192 on 0.19.0).
VLLM_FORWARD_BYTES_PER_INTERMEDIATE = 3
VLLM_FORWARD_BYTES_PER_HIDDEN = 16
# The V1 sampler pass: float32 logits, their sorted copy and int64 sort indices per row
# (16 bytes per vocabulary entry); V0 kept the float32 logits only.
VLLM_SAMPLER_BYTES, VLLM_V0_SAMPLER_BYTES = 16, 4
# Memory vLLM counts outside torch's allocator during profiling: 0.25 GiB on one GPU,
# about 2.1 GiB per GPU with tensor parallelism (NCCL and all-reduce buffers).
VLLM_NON_TORCH_GIB, VLLM_NON_TORCH_TP_GIB = 0.25, 2.1
# CUDA graphs: 0.5-1.9 GiB captured per GPU on H100 (vLLM 0.19.0 logs, 1.0 typical);
# counted in the KV budget from 0.21.0 (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1).
VLLM_CUDA_GRAPHS_GIB = 1.0
VLLM_GRAPHS_PROFILED_FROM = (0, 21, 0)
# Fallbacks when a lock does not give the widths the activation needs.
DEFAULT_VOCAB = 152064
DEFAULT_FFN_RATIO = 4
# Query heads per KV head when a lock does not say (grouped-query attention).
DEFAULT_GQA_RATIO = 8


@dataclass(frozen=True)
class FitEstimate:
    """One lane's budget on one GPU, in MiB."""

    engine: str
    weights_mib: float
    kv_cache_mib: float
    compute_mib: float
    overhead_mib: float
    vram_mib: float
    gpus: int = 1
    context: int | None = None  # KV cells (tokens) the estimate assumes
    # vLLM: the KV space left, and what one max_model_len sequence needs.
    kv_space_mib: float | None = None
    sequence_mib: float | None = None
    offload_layers: int | None = None  # layers left on the CPU by configuration
    notes: tuple[str, ...] = field(default=())

    @property
    def total_mib(self) -> float:
        return self.weights_mib + self.kv_cache_mib + self.compute_mib + self.overhead_mib

    @property
    def share(self) -> float:
        return self.total_mib / self.vram_mib if self.vram_mib else math.inf

    @property
    def fits(self) -> bool:
        """100% on the GPU: within VRAM, nothing offloaded, vLLM can hold one sequence."""
        if self.offload_layers:
            return False
        if self.kv_space_mib is not None and self.sequence_mib is not None:
            return self.kv_space_mib >= self.sequence_mib
        return self.total_mib <= self.vram_mib

    @property
    def free_mib(self) -> float:
        return self.vram_mib - self.total_mib


def kv_bytes_per_token(
    arch: Architecture, cache_k: str, cache_v: str, *, layers: int | None = None
) -> float:
    """K and V for one token across `layers` attention layers (default: all of them)."""
    count = arch.attention_layers if layers is None else layers
    per_element = CACHE_BYTES[cache_k] + CACHE_BYTES[cache_v]
    return count * arch.kv_heads * arch.head_dim * per_element


def _pad(cells: int, to: int = 256) -> int:
    return int(math.ceil(cells / to) * to)


def _heads(arch: Architecture) -> int:
    return arch.attention_heads or arch.kv_heads * DEFAULT_GQA_RATIO


def llamacpp(
    arch: Architecture, size_bytes: int, serve: Mapping[str, Any], vram_mib: float, *, gpus: int = 1
) -> FitEstimate:
    notes: list[str] = []
    parallel = int(serve.get("parallel", 1))
    ubatch = int(serve.get("ubatchSize", LLAMACPP_UBATCH))
    ctx = int(serve.get("ctxSize") or 0)
    if ctx == 0:
        ctx = arch.context_length or 4096
        notes.append(f"ctxSize unset: assumed the model's {ctx}")
    cells = _pad(ctx)
    cache_k = str(serve.get("cacheTypeK", "f16"))
    cache_v = str(serve.get("cacheTypeV", "f16"))
    swa_layers = arch.sliding_window_layers if arch.sliding_window else 0
    full_layers = arch.attention_layers - swa_layers
    kv = kv_bytes_per_token(arch, cache_k, cache_v, layers=full_layers) * cells
    if swa_layers and arch.sliding_window:
        swa_cells = _pad(min(ctx, arch.sliding_window * parallel + ubatch))
        kv += kv_bytes_per_token(arch, cache_k, cache_v, layers=swa_layers) * swa_cells
    weights = float(size_bytes)
    offload = None
    layers_on_gpu = serve.get("gpuLayers")
    if layers_on_gpu is not None and 0 <= int(layers_on_gpu) < arch.layers:
        offload = arch.layers - int(layers_on_gpu)
        weights *= int(layers_on_gpu) / arch.layers
        kv *= int(layers_on_gpu) / arch.layers
        notes.append(f"{offload} of {arch.layers} layers stay on the CPU (gpuLayers)")
    flash = flash_attn(serve.get("flashAttn")) or "auto"
    compute: float
    if flash == "off":
        # Without flash attention the KQ scores of a ubatch against the whole cache.
        compute = _heads(arch) * cells * ubatch * 4 + 512 * MIB
        notes.append("flash attention off: the compute buffer grows with the context")
    else:
        compute = FA_COMPUTE_BASE_MIB * MIB + cells * ubatch * 2
    return FitEstimate(
        engine="llamacpp",
        weights_mib=weights / gpus / MIB,
        kv_cache_mib=kv / gpus / MIB,
        compute_mib=compute / MIB,
        overhead_mib=CUDA_CONTEXT_MIB,
        vram_mib=vram_mib,
        gpus=gpus,
        context=cells,
        offload_layers=offload,
        notes=tuple(notes),
    )


def ollama(
    arch: Architecture, size_bytes: int, serve: Mapping[str, Any], vram_mib: float, *, gpus: int = 1
) -> FitEstimate:
    parallel = int(serve.get("parallel", 1))
    num_ctx = int(serve.get("ctxSize", 4096))
    ctx = num_ctx * parallel
    flash = flash_attn(serve.get("flashAttn")) == "on"
    # Ollama ignores a quantized KV cache type without flash attention.
    cache = str(serve.get("kvCacheType", "f16")) if flash else "f16"
    kv = kv_bytes_per_token(arch, cache, cache) * ctx
    graph = 4 * OLLAMA_BATCH * ctx * (_heads(arch) + 1)
    notes = [f"context {num_ctx} x {parallel} parallel = {ctx} cells"] if parallel > 1 else []
    return FitEstimate(
        engine="ollama",
        weights_mib=size_bytes / gpus / MIB,
        kv_cache_mib=kv / gpus / MIB,
        compute_mib=graph / MIB,
        overhead_mib=CUDA_CONTEXT_MIB,
        vram_mib=vram_mib,
        gpus=gpus,
        context=ctx,
        notes=tuple(notes),
    )


def vllm_version(text: str | None) -> tuple[int, ...] | None:
    """(0, 12, 0) from "0.12.0" or "v0.12.0rc1"; None when unknown (taken as current)."""
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return tuple(int(part or 0) for part in match.groups()) if match else None


def vllm_activation(
    arch: Architecture,
    serve: Mapping[str, Any],
    vram_mib: float,
    *,
    tp: int = 1,
    version: tuple[int, ...] | None = None,
    gpu_name: str = "",
) -> tuple[float, int, int, list[str]]:
    """(activation peak in MiB, batched tokens, sequences, notes) of vLLM's profiling run."""
    notes: list[str] = []
    v1 = version is None or version >= VLLM_V1_FROM
    max_len = int(serve.get("maxModelLen") or arch.context_length or 4096)
    tokens = serve.get("maxNumBatchedTokens")
    seqs = serve.get("maxNumSeqs")
    if v1:
        big = vram_mib >= VLLM_BIG_GPU_MIB and "a100" not in gpu_name.lower()
        default_tokens = VLLM_BIG_GPU_BATCHED_TOKENS if big else VLLM_BATCHED_TOKENS
        default_seqs = VLLM_BIG_GPU_SEQS if big else VLLM_SEQS
    else:
        chunked = max_len > VLLM_V0_CHUNKED_ABOVE
        default_tokens = VLLM_V0_CHUNK if chunked else max(max_len, VLLM_BATCHED_TOKENS)
        default_seqs = VLLM_SEQS
    if tokens is None:
        notes.append(f"maxNumBatchedTokens unset: vLLM's default {default_tokens}")
    if seqs is None:
        notes.append(f"maxNumSeqs unset: vLLM's default {default_seqs}")
    batched = int(tokens or default_tokens)
    rows = min(int(seqs or default_seqs), batched)
    hidden = arch.hidden_size or _heads(arch) * arch.head_dim
    width = arch.intermediate_size or DEFAULT_FFN_RATIO * hidden
    vocab = arch.vocab_size or DEFAULT_VOCAB
    if arch.vocab_size is None:
        notes.append(f"vocabSize unset: assumed {vocab}")
    forward = batched * (
        VLLM_FORWARD_BYTES_PER_INTERMEDIATE * width / tp + VLLM_FORWARD_BYTES_PER_HIDDEN * hidden
    )
    sampler = rows * vocab * (VLLM_SAMPLER_BYTES if v1 else VLLM_V0_SAMPLER_BYTES)
    return max(forward, sampler) / MIB, batched, rows, notes


def vllm(
    arch: Architecture,
    size_bytes: int,
    serve: Mapping[str, Any],
    vram_mib: float,
    *,
    gpus: int = 1,
    engine_version: str | None = None,
    gpu_name: str = "",
) -> FitEstimate:
    """vLLM's KV space per GPU: `vram_mib` is the card's total as vLLM sees it."""
    tp = tensor_parallel_size(serve, gpus)
    version = vllm_version(engine_version)
    utilization = float(serve.get("gpuMemoryUtilization", VLLM_GPU_MEMORY_UTILIZATION))
    budget = vram_mib * utilization
    weights = size_bytes / tp / MIB
    activation, batched, rows, notes = vllm_activation(
        arch, serve, vram_mib, tp=tp, version=version, gpu_name=gpu_name
    )
    non_torch = (VLLM_NON_TORCH_TP_GIB if tp > 1 else VLLM_NON_TORCH_GIB) * GIB / MIB
    graphs = VLLM_CUDA_GRAPHS_GIB * GIB / MIB
    graphs_counted = version is None or version >= VLLM_GRAPHS_PROFILED_FROM
    kv_space = budget - weights - activation - non_torch - (graphs if graphs_counted else 0.0)
    dtype = str(serve.get("kvCacheDtype", "auto"))
    per_element = VLLM_DTYPE_BYTES.get(dtype, 2.0)
    # KV heads are split over tensor-parallel ranks (replicated when fewer than ranks).
    heads_per_gpu = max(1, math.ceil(arch.kv_heads / tp))
    per_token = arch.attention_layers * heads_per_gpu * arch.head_dim * 2 * per_element
    max_len = int(serve.get("maxModelLen") or arch.context_length or 4096)
    sequence = per_token * max_len / MIB
    notes.insert(
        0,
        f"budget {utilization:.2f} x {vram_mib:.0f} MiB; activation of {batched} batched "
        f"tokens / {rows} sequences; the KV cache takes what is left",
    )
    if not graphs_counted and vram_mib - budget < CUDA_CONTEXT_MIB + graphs:
        notes.append(
            f"CUDA graphs are captured after the KV cache: the {vram_mib - budget:.0f} MiB "
            f"left above gpuMemoryUtilization may not hold them and the CUDA context "
            f"(~{CUDA_CONTEXT_MIB + graphs:.0f} MiB)"
        )
    return FitEstimate(
        engine="vllm",
        weights_mib=weights,
        kv_cache_mib=max(kv_space, 0.0),
        compute_mib=activation,
        overhead_mib=non_torch + graphs,
        vram_mib=vram_mib,
        gpus=tp,
        context=max_len,
        kv_space_mib=kv_space,
        sequence_mib=sequence,
        notes=tuple(notes),
    )


def estimate(
    engine: str,
    arch: Architecture,
    size_bytes: int,
    serve: Mapping[str, Any],
    vram_mib: float,
    *,
    gpus: int = 1,
    engine_version: str | None = None,
    gpu_name: str = "",
) -> FitEstimate | None:
    """The estimate for an engine, or None for engines gitops-gen cannot size (generic)."""
    if engine == "llamacpp":
        return llamacpp(arch, size_bytes, serve, vram_mib, gpus=gpus)
    if engine == "ollama":
        return ollama(arch, size_bytes, serve, vram_mib, gpus=gpus)
    if engine == "vllm":
        return vllm(
            arch,
            size_bytes,
            serve,
            vram_mib,
            gpus=gpus,
            engine_version=engine_version,
            gpu_name=gpu_name,
        )
    return None


@dataclass(frozen=True)
class LaneFit:
    """A lane's fit on its GPU: the estimate, and recorded evidence when it applies."""

    lane: str
    gpu_model: str
    estimate: FitEstimate
    evidence_mib: float | None = None

    @property
    def source(self) -> str:
        if self.evidence_mib is not None:
            return "evidence"
        return "declared" if self.estimate.engine == "generic" else "estimate"

    @property
    def total_mib(self) -> float:
        return self.evidence_mib if self.evidence_mib is not None else self.estimate.total_mib

    @property
    def share(self) -> float:
        vram = self.estimate.vram_mib
        return self.total_mib / vram if vram else math.inf

    @property
    def fits(self) -> bool:
        if self.evidence_mib is not None and not self.estimate.offload_layers:
            return self.evidence_mib <= self.estimate.vram_mib
        return self.estimate.fits

    def breakdown(self) -> str:
        e = self.estimate
        if e.engine == "generic":
            text = f"declared vramMiB {e.total_mib:.0f} of {e.vram_mib:.0f} MiB ({e.share:.0%})"
            if self.evidence_mib is not None:
                text += (
                    f"; recorded live peak {self.evidence_mib:.0f} MiB "
                    f"({self.evidence_mib / e.vram_mib:.0%}) on {self.gpu_model}"
                )
            return text
        parts = (
            f"weights {e.weights_mib:.0f} + KV {e.kv_cache_mib:.0f} + compute "
            f"{e.compute_mib:.0f} + overhead {e.overhead_mib:.0f} = {e.total_mib:.0f} MiB"
        )
        if e.kv_space_mib is not None and e.sequence_mib is not None:
            return (
                f"{parts} of {e.vram_mib:.0f} MiB x gpuMemoryUtilization; KV space "
                f"{e.kv_space_mib:.0f} MiB for one {e.context}-token sequence needing "
                f"{e.sequence_mib:.0f} MiB"
            )
        text = f"{parts} of {e.vram_mib:.0f} MiB ({e.total_mib / e.vram_mib:.0%})"
        if self.evidence_mib is not None:
            text += (
                f"; recorded live peak {self.evidence_mib:.0f} MiB "
                f"({self.evidence_mib / e.vram_mib:.0%}) on {self.gpu_model}"
            )
        return text


def sequence_context(lane: Lane) -> tuple[int | None, str]:
    """(tokens one sequence may hold, the serve key that sets it): llama.cpp splits
    --ctx-size over its slots; Ollama's context is per request; vLLM's is max_model_len."""
    serve = lane.serve
    if lane.engine == "llamacpp" and serve.get("ctxSize"):
        return int(serve["ctxSize"]) // max(1, int(serve.get("parallel", 1))), "ctxSize"
    if lane.engine == "ollama" and serve.get("ctxSize"):
        return int(serve["ctxSize"]), "ctxSize"
    if lane.engine == "vllm" and serve.get("maxModelLen"):
        return int(serve["maxModelLen"]), "maxModelLen"
    return None, ""


def configured_context(lane: Lane) -> int | None:
    """The context as the lane's serve settings state it (ctxSize, or maxModelLen)."""
    value = lane.serve.get("maxModelLen" if lane.engine == "vllm" else "ctxSize")
    return int(value) if value else None


def declared_fit(lane: Lane, gpu: Gpu | None) -> LaneFit | None:
    """A generic lane's fit: what it declares (vramMiB), or what was measured."""
    if lane.vram_mib is None or gpu is None:
        return None
    declared = FitEstimate(
        "generic", 0.0, 0.0, 0.0, float(lane.vram_mib), float(gpu.vram_mib), gpus=lane.gpus
    )
    return LaneFit(lane.name, gpu.model, declared, _evidence_peak(lane, gpu))


def _evidence_peak(lane: Lane, gpu: Gpu) -> float | None:
    evidence = lane.evidence
    if (
        evidence is not None
        and evidence.live_peak_mib is not None
        and evidence.gpu_model == gpu.model
        # Evidence says what it was measured at: a changed context makes it stale.
        and (evidence.ctx_size is None or evidence.ctx_size == configured_context(lane))
    ):
        return float(evidence.live_peak_mib)
    return None


def worst_fit(lane: Lane, model: ModelLock | None, cards: Sequence[Gpu]) -> LaneFit | None:
    """The lane's fit on the card it fits worst, of those it may be given (the device
    plugin picks among a node's cards of one vendor); None if it cannot be sized on one."""
    fits = [fit for gpu in cards if (fit := fit_lane(lane, model, gpu)) is not None]
    if not fits or len(fits) < len(cards):
        return None
    return max(fits, key=lambda fit: (fit.estimate.offload_layers, not fit.fits, fit.share))


def fit_lane(lane: Lane, model: ModelLock | None, gpu: Gpu | None) -> LaneFit | None:
    """The fit of a Lane with its ModelLock on its Gpu; None when it cannot be sized
    (a generic engine, or a lock without architecture or size)."""
    if lane.engine == "generic":
        return declared_fit(lane, gpu)
    if model is None or model.architecture is None or gpu is None:
        return None
    size = model.size_bytes or sum(f.size_bytes or 0 for f in model.artifact_files())
    if not size:
        return None
    result = estimate(
        lane.engine,
        model.architecture,
        size,
        lane.serve,
        float(gpu.vram_mib),
        gpus=max(1, lane.gpus),
        engine_version=lane.engine_version,
        gpu_name=gpu.model,
    )
    if result is None:
        return None
    peak = _evidence_peak(lane, gpu)
    if peak is not None and lane.evidence is not None and lane.evidence.ctx_size is None:
        # Evidence that does not say which context it was measured at may describe another
        # configuration of the lane: it can raise the estimate, never vouch for less.
        peak = peak if peak >= result.total_mib else None
    return LaneFit(lane=lane.name, gpu_model=gpu.model, estimate=result, evidence_mib=peak)
