"""Settings the runtime or the GPU cannot honour, from the gates in policies/capabilities.yaml.

The worst failures have no error: Ollama before 0.24.0 on a Blackwell card loads a 70B
model with OLLAMA_FLASH_ATTENTION and OLLAMA_KV_CACHE_TYPE set, silently ignores both,
and serves at half speed with 40% on the CPU. Gates are data (engine, version range,
GPU compute capability, model format, the setting involved, what happens); the
defaults ship with gitops-gen and a repo may replace them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.checker import CheckContext, engine_version
from gitops_gen.engines import flash_attn
from gitops_gen.findings import Hit, Severity
from gitops_gen.model import Gpu, Lane, ModelLock
from gitops_gen.policy import Gate
from gitops_gen.versions import in_range

ID = "runtime-capability"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Follow the gate's fix: upgrade the runtime, change the setting, or move the lane to a "
    "GPU that has the feature."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True

_MISSING = object()


def _condition(value: Any, condition: Mapping[str, Any]) -> bool:
    present = value is not None and value is not _MISSING
    if "set" in condition and condition["set"] != present:
        return False
    if "in" in condition and value not in condition["in"]:
        return False
    return not ("notIn" in condition and present and value in condition["notIn"])


def _settings(lane: Lane) -> dict[str, Any]:
    values = dict(lane.serve)
    if "flashAttn" in values:
        values["flashAttn"] = flash_attn(values["flashAttn"])
    return values


def _gpu_matches(gate: Gate, gpu: Gpu | None) -> bool:
    if not gate.gpu:
        return True
    if gpu is None:
        return False
    if "vendor" in gate.gpu and gpu.vendor != gate.gpu["vendor"]:
        return False
    if "mig" in gate.gpu and gpu.mig != gate.gpu["mig"]:
        return False
    spec = gate.gpu.get("computeCapability")
    if spec is not None:
        return gpu.compute_capability is not None and in_range(gpu.compute_capability, spec)
    return True


def _model_matches(gate: Gate, model: ModelLock | None) -> bool:
    if not gate.model:
        return True
    if model is None:
        return False
    if "format" in gate.model and model.format != gate.model["format"]:
        return False
    if "dtype" in gate.model and (model.dtype or "") not in gate.model["dtype"]:
        return False
    return not ("quant" in gate.model and (model.quant or "") not in gate.model["quant"])


def _lane_gate(ctx: CheckContext, gate: Gate, lane: Lane) -> str | None:
    """The message if `gate` fires for `lane`, else None."""
    if gate.engine is not None and gate.engine != lane.engine:
        return None
    gpu = ctx.gpu_of(lane)
    if not _gpu_matches(gate, gpu):
        return None
    model = ctx.repo.models.get(lane.model) if lane.model else None
    if not _model_matches(gate, model):
        return None
    values = _settings(lane)
    if not all(_condition(values.get(k), c) for k, c in gate.settings.items()):
        return None
    version = engine_version(lane)
    note = ""
    if gate.engine_version is not None:
        if version is None:
            note = " (engineVersion is not set, so it cannot be ruled out)"
        elif not in_range(version, gate.engine_version):
            return None
    on = f"{lane.engine} {version}" if version else lane.engine
    where_gpu = (
        f" on {gpu.model} (compute capability {gpu.compute_capability})"
        if gpu and gpu.compute_capability
        else ""
    )
    setting = f"{gate.setting}: " if gate.setting else ""
    fix = f" Fix: {gate.fix}" if gate.fix else ""
    return f"[{gate.id}] {setting}{gate.effect} ({on}{where_gpu}){note}.{fix}"


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for gate in ctx.policy.gates:
        severity = Severity.parse(gate.severity) if gate.severity else None
        if gate.subject == "node":
            yield from _node_gate(ctx, gate, severity)
            continue
        for lane in ctx.repo.lanes.values():
            message = _lane_gate(ctx, gate, lane)
            if message is None:
                continue
            key = next(iter(gate.settings), None)
            where = (
                lane.where("serve", key)
                if key and key in lane.serve
                else (lane.where("model") if gate.model else lane.where("engine"))
            )
            yield Hit(
                message,
                where,
                ctx.lane_object(lane),
                lane.name,
                severity=severity,
            )


def _node_gate(ctx: CheckContext, gate: Gate, severity: Severity | None) -> Iterator[Hit]:
    plugin = ctx.repo.config.device_plugin
    if plugin is None:
        return
    values = {
        "migStrategy": plugin.mig_strategy,
        "deviceListStrategy": plugin.device_list_strategy,
        "deviceIDStrategy": plugin.device_id_strategy,
        "failOnInitError": plugin.fail_on_init_error,
    }
    if not all(_condition(values.get(k, _MISSING), c) for k, c in gate.device_plugin.items()):
        return
    for node in ctx.repo.nodes.values():
        for gpu in node.gpus:
            if _gpu_matches(gate, gpu):
                key = next(iter(gate.device_plugin), None)
                setting = f"{gate.setting}: " if gate.setting else ""
                fix = f" Fix: {gate.fix}" if gate.fix else ""
                yield Hit(
                    f"[{gate.id}] {setting}{gate.effect} (node {node.name}, {gpu.model}).{fix}",
                    plugin.where(key) if key else plugin.where(),
                    f"Node/{node.name}",
                    severity=severity,
                )
