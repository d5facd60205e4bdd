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
- vLLM: takes gpu_memory_utilization x VRAM, keeps weights, the profiled activation
  peak, non-torch memory and CUDA graphs, and gives the rest to the KV cache; it
  refuses to start when one max_model_len sequence does not fit in it.

Numbers are MiB (2^20 bytes). Tensor parallel and multi-GPU lanes are sized per GPU.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.engines import flash_attn
from gitops_gen.model import Architecture, Gpu, Lane, ModelLock

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
# vLLM's profiled activation peak: an empirical fit over published H100 runs
# (llm-d benchmark: 4.76 GiB for an 8B, 7.38 GiB for a 20.9B MoE), rounded.
VLLM_ACTIVATION_BASE_GIB = 3.0
VLLM_ACTIVATION_PER_BPARAM_GIB = 0.2
VLLM_NON_TORCH_GIB = 0.13
VLLM_CUDA_GRAPHS_GIB = 0.4
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


def vllm(
    arch: Architecture,
    size_bytes: int,
    serve: Mapping[str, Any],
    vram_mib: float,
    *,
    gpus: int = 1,
    params_b: float | None = None,
) -> FitEstimate:
    tp = int(serve.get("tensorParallelSize", gpus))
    utilization = float(serve.get("gpuMemoryUtilization", VLLM_GPU_MEMORY_UTILIZATION))
    budget = vram_mib * utilization
    weights = size_bytes / tp / MIB
    params = params_b if params_b is not None else size_bytes / 2 / 1e9
    activation = (VLLM_ACTIVATION_BASE_GIB + VLLM_ACTIVATION_PER_BPARAM_GIB * params) * GIB / MIB
    overhead = (VLLM_NON_TORCH_GIB + VLLM_CUDA_GRAPHS_GIB) * GIB / MIB
    kv_space = budget - weights - activation - overhead
    dtype = str(serve.get("kvCacheDtype", "auto"))
    per_element = VLLM_DTYPE_BYTES.get(dtype, 2.0)
    # KV heads are split over tensor-parallel ranks (replicated when fewer than ranks).
    heads_per_gpu = max(1, math.ceil(arch.kv_heads / tp))
    per_token = arch.attention_layers * heads_per_gpu * arch.head_dim * 2 * per_element
    max_len = int(serve.get("maxModelLen") or arch.context_length or 4096)
    sequence = per_token * max_len / MIB
    notes = [f"budget {utilization:.2f} x {vram_mib:.0f} MiB; the KV cache takes what is left"]
    return FitEstimate(
        engine="vllm",
        weights_mib=weights,
        kv_cache_mib=max(kv_space, 0.0),
        compute_mib=activation,
        overhead_mib=overhead,
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
    params_b: float | None = None,
) -> FitEstimate | None:
    """The estimate for an engine, or None for engines gitops-gen cannot size (generic)."""
    if engine == "llamacpp":
        return llamacpp(arch, size_bytes, serve, vram_mib, gpus=gpus)
    if engine == "ollama":
        return ollama(arch, size_bytes, serve, vram_mib, gpus=gpus)
    if engine == "vllm":
        return vllm(arch, size_bytes, serve, vram_mib, gpus=gpus, params_b=params_b)
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
        return "evidence" if self.evidence_mib is not None else "estimate"

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


def fit_lane(lane: Lane, model: ModelLock | None, gpu: Gpu | None) -> LaneFit | None:
    """The fit of a Lane with its ModelLock on its Gpu; None when it cannot be sized
    (a generic engine, or a lock without architecture or size)."""
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
        params_b=model.architecture.params,
    )
    if result is None:
        return None
    evidence = lane.evidence
    peak = None
    if (
        evidence is not None
        and evidence.live_peak_mib is not None
        and evidence.gpu_model == gpu.model
        # Evidence says what it was measured at: a changed context makes it stale.
        and (evidence.ctx_size is None or evidence.ctx_size == configured_context(lane))
    ):
        peak = float(evidence.live_peak_mib)
    return LaneFit(lane=lane.name, gpu_model=gpu.model, estimate=result, evidence_mib=peak)
