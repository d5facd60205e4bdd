"""A lane's context stays within the model's trained maximum and its validated point.

Past the trained context llama.cpp and Ollama still run (RoPE carries on) but the model
degrades: a warning. vLLM refuses to start when --max-model-len exceeds the model's
max_position_embeddings (it asks for VLLM_ALLOW_LONG_MAX_MODEL_LEN), so for vLLM it
blocks: the lane would crash-loop (a parked vLLM lane gets a note: it would, once
activated). Past the context the lane was validated
at on this card, it may no longer be 100% on the GPU (a 70B at 32k offloaded 5% to the
CPU on 48 GB where 16k fitted). Per-sequence context: llama.cpp splits --ctx-size over
--parallel slots; Ollama's context is per request; vLLM's is --max-model-len.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.fit import configured_context, sequence_context

ID = "context-ceiling"
SEVERITY = Severity.WARN
REMEDIATION = (
    "Lower the context to the model's trained length or to the validated point, or validate"
    " the new context and record it in evidence.ctxSize."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        tokens, key = sequence_context(lane)
        if tokens is None:
            continue
        ident = ctx.lane_object(lane)
        model = ctx.repo.models.get(lane.model) if lane.model else None
        trained = model.architecture.context_length if model and model.architecture else None
        if trained is not None and tokens > trained:
            refuses = lane.engine == "vllm"
            parked = refuses and not ctx.is_active(lane)
            effect = (
                ": vLLM refuses to start beyond the model's max_position_embeddings"
                if refuses
                else ""
            )
            yield Hit(
                f"{'parked lane: ' if parked else ''}context {tokens} per sequence exceeds "
                f"{model.name if model else ''}'s trained context {trained}{effect}",
                lane.where("serve", key),
                ident,
                lane.name,
                note=parked,
                severity=Severity.BLOCK if refuses else None,
            )
        validated = lane.evidence.ctx_size if lane.evidence else None
        configured = configured_context(lane)
        if validated is not None and configured is not None and configured > validated:
            yield Hit(
                f"{key} {configured} is beyond the validated point {validated} "
                f"(evidence of {lane.evidence.date if lane.evidence else ''})",
                lane.where("serve", key),
                ident,
                lane.name,
            )
