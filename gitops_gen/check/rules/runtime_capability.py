"""Settings the runtime or the GPU cannot honour, from the gates in policies/capabilities.yaml.

The worst failures have no error: Ollama before 0.24.0 on a Blackwell card loads a 70B
model with OLLAMA_FLASH_ATTENTION and OLLAMA_KV_CACHE_TYPE set, silently ignores both,
and serves at half speed with 40% on the CPU. Gates are data (engine, version range,
GPU compute capability, the node's driver, model format, the setting involved, what
happens, and the source of the fact); the defaults ship with gitops-gen and a repo may
replace them. Image floors come the same way: a vLLM image without sm_120 kernels fails
at start on a Blackwell workstation card, and an image built on a newer CUDA than the
node's driver supports is refused by the container runtime. The engine version is the
image tag's wherever the tag carries one. Driver floors need the node GPU's optional
`driverVersion`/`cudaVersion`; where neither is recorded they are not checked. A parked
lane that a gate catches is a note naming the gate: it must not be activated as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext, engine_version
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.policy import Gate
from gitops_gen.specs.engines import flash_attn
from gitops_gen.specs.model import Gpu, Lane, Location, ModelLock, Node
from gitops_gen.specs.versions import in_range, version_from_image

ID = "runtime-capability"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Follow the gate's fix: upgrade the runtime, change the setting, or move the lane to a "
    "GPU that has the feature."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET

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


def _driver_matches(gate: Gate, gpu: Gpu) -> bool:
    """driverVersion and cudaVersion describe one fact, the installed driver: a gate naming
    either matches when a recorded one is in its range; with neither recorded, it cannot."""
    recorded = {"driverVersion": gpu.driver_version, "cudaVersion": gpu.cuda_version}
    specs = {key: gate.gpu[key] for key in recorded if key in gate.gpu}
    if not specs:
        return True
    return any(
        recorded[key] is not None and in_range(str(recorded[key]), spec)
        for key, spec in specs.items()
    )


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
    if spec is not None and (
        gpu.compute_capability is None or not in_range(gpu.compute_capability, spec)
    ):
        return False
    return _driver_matches(gate, gpu)


def _driver_where(node: Node, gpu: Gpu, gate: Gate) -> Location | None:
    """The node GPU line a driver-floor finding points at (what to upgrade)."""
    index = node.gpus.index(gpu)
    for key, value in (("driverVersion", gpu.driver_version), ("cudaVersion", gpu.cuda_version)):
        if key in gate.gpu and value is not None:
            return node.where("gpus", index, key)
    return None


def gate_source(gate: Gate) -> str | None:
    """The gate's `source:` (a URL or release note), read from its spec entry."""
    entry: Any = gate.doc.data
    for part in gate.prefix:
        entry = entry[part]
    source = entry.get("source") if isinstance(entry, Mapping) else None
    return str(source) if source else None


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
    """The message if `gate` fires for `lane` on a card it may be given, else None."""
    if gate.engine is not None and gate.engine != lane.engine:
        return None
    for gpu in ctx.cards_of(lane) or (None,):
        message = _lane_gate_on(ctx, gate, lane, gpu)
        if message is not None:
            return message
    return None


def _lane_gate_on(ctx: CheckContext, gate: Gate, lane: Lane, gpu: Gpu | None) -> str | None:
    if not _gpu_matches(gate, gpu):
        return None
    model = ctx.repo.models.get(lane.model) if lane.model else None
    if not _model_matches(gate, model):
        return None
    values = _settings(lane)
    if not all(_condition(values.get(k), c) for k, c in gate.settings.items()):
        return None
    if not all(_condition(lane.env.get(k), c) for k, c in gate.env.items()):
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
    driver = _driver_note(gate, gpu)
    setting = f"{gate.setting}: " if gate.setting else ""
    fix = f" Fix: {gate.fix}" if gate.fix else ""
    return f"[{gate.id}] {setting}{gate.effect} ({on}{where_gpu}{driver}){note}.{fix}{_cite(gate)}"


def _cite(gate: Gate) -> str:
    source = gate_source(gate)
    return f" Source: {source}" if source else ""


def _driver_note(gate: Gate, gpu: Gpu | None) -> str:
    if gpu is None or not ({"driverVersion", "cudaVersion"} & set(gate.gpu)):
        return ""
    parts = [
        f"{label} {value}"
        for label, value in (("driver", gpu.driver_version), ("CUDA", gpu.cuda_version))
        if value is not None
    ]
    return f", {' / '.join(parts)}" if parts else ""


def _lane_where(gate: Gate, lane: Lane) -> Location:
    """The line to change: the setting, the model, or what pins the engine version."""
    key = next(iter(gate.settings), None)
    if key and key in lane.serve:
        return lane.where("serve", key)
    variable = next(iter(gate.env), None)
    if variable and variable in lane.env:
        return lane.where("env", variable)
    if gate.model:
        return lane.where("model")
    if gate.engine_version is not None or {"driverVersion", "cudaVersion"} & set(gate.gpu):
        # The tag decides the version; a declaration only where the tag says nothing.
        if lane.engine_version is not None and version_from_image(lane.image, lane.engine) is None:
            return lane.where("engineVersion")
        return lane.where("image")
    return lane.where("engine")


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
            parked = not ctx.is_active(lane)
            yield Hit(
                f"parked lane would fail {message}" if parked else message,
                _lane_where(gate, lane),
                ctx.lane_object(lane),
                lane.name,
                note=parked,
                severity=severity,
            )


def _node_gate(ctx: CheckContext, gate: Gate, severity: Severity | None) -> Iterator[Hit]:
    plugin = ctx.repo.config.device_plugin
    if not gate.device_plugin:
        yield from _node_driver_gate(ctx, gate, severity)
        return
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
        if ctx.repo.on_compose(node):
            continue  # Docker hands the GPUs over; no device plugin runs there
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


def _node_driver_gate(ctx: CheckContext, gate: Gate, severity: Severity | None) -> Iterator[Hit]:
    """A node gate on the GPU alone (a driver floor): one finding per node GPU it catches."""
    for node in ctx.repo.nodes.values():
        for gpu in node.gpus:
            if not _gpu_matches(gate, gpu):
                continue
            setting = f"{gate.setting}: " if gate.setting else ""
            fix = f" Fix: {gate.fix}" if gate.fix else ""
            yield Hit(
                f"[{gate.id}] {setting}{gate.effect} (node {node.name}, {gpu.model}"
                f"{_driver_note(gate, gpu)}).{fix}{_cite(gate)}",
                _driver_where(node, gpu, gate) or node.where("gpus", node.gpus.index(gpu)),
                f"Node/{node.name}",
                severity=severity,
            )
