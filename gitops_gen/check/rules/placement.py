"""A GPU workload can be scheduled where it is meant to run.

Its node exists and is pinned unambiguously; the node carries every nodeSelector label;
its tolerations cover the node's NoSchedule and NoExecute taints; its RuntimeClass is
deployed; the node has the GPU resource it asks for, in that number. Any miss leaves
the pod Pending after the old lane has already been scaled down. A vLLM lane's
tensor-parallel size fits its GPUs and divides its model's attention heads, or vLLM
refuses to start on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.check.inventory import GPU_RESOURCE_NAMES, Workload, as_map
from gitops_gen.render.scheduling import tolerates
from gitops_gen.specs.engines import tensor_parallel_size
from gitops_gen.specs.model import Lane, Node
from gitops_gen.specs.source import format_path

ID = "placement"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Pin the workload to its node (kubernetes.io/hostname), tolerate the node's taints, "
    "deploy its RuntimeClass, and request only GPUs the node has."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET

RUNTIME_CLASS_VENDORS = {"nvidia.com/gpu": "nvidia"}


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    runtime_classes = {
        (o.cluster, o.name) for o in ctx.inventory.objects if o.kind == "RuntimeClass"
    }
    for lane in ctx.repo.lanes.values():
        if lane.engine == "vllm":
            yield from _tensor_parallel(ctx, lane)
    for workload in ctx.inventory.workloads:
        yield from _unadvertised(ctx, workload)
        claims = {r: n for r, n in workload.gpu_claims().items() if n}
        if not claims:
            continue
        yield from _check_workload(ctx, workload, claims, runtime_classes)


def _tensor_parallel(ctx: CheckContext, lane: Lane) -> Iterator[Hit]:
    """vLLM starts one worker per tensor-parallel rank, each on its own GPU, and splits
    the attention heads among them (ModelConfig.verify_with_parallel_config refuses a
    size that does not divide them, and the server does not start)."""
    ranks = lane.serve.get("tensorParallelSize")
    where = lane.where("serve", "tensorParallelSize") if ranks is not None else lane.where("gpus")
    if ranks is not None and int(ranks) > lane.gpus:
        yield Hit(
            f"tensorParallelSize {ranks} needs {ranks} GPUs but the lane requests {lane.gpus}",
            where,
            ctx.lane_object(lane),
            lane.name,
        )
    size = tensor_parallel_size(lane.serve, lane.gpus)
    model = ctx.repo.models.get(lane.model) if lane.model else None
    heads = model.architecture.attention_heads if model and model.architecture else None
    if heads and size > 1 and heads % size:
        yield Hit(
            f"tensor parallelism over {size} GPUs: vLLM splits the model's {heads} attention "
            f"heads among the ranks and refuses to start when {size} does not divide them "
            f"(use {_divisors_up_to(heads, max(size, lane.gpus))} GPUs)",
            where,
            ctx.lane_object(lane),
            lane.name,
        )


def _divisors_up_to(heads: int, most: int) -> str:
    return ", ".join(str(n) for n in range(1, most + 1) if heads % n == 0)


# Resource names a device plugin of that vendor advertises, as gitops-gen renders it:
# one nvidia.com/gpu per card (MIG devices only with migStrategy mixed; no time-slicing
# config, so no nvidia.com/gpu.shared), one amd.com/gpu per card.
_VENDOR_DOMAINS = ("nvidia.com/", "amd.com/")


def _advertised(ctx: CheckContext, resource: str) -> bool:
    if resource in GPU_RESOURCE_NAMES:
        return True
    plugin = ctx.repo.config.device_plugin
    mixed = plugin is not None and plugin.mig_strategy == "mixed"
    return mixed and resource.startswith("nvidia.com/mig-")


def _unadvertised(ctx: CheckContext, workload: Workload) -> Iterator[Hit]:
    for container in workload.containers():
        resources = as_map(container.data.get("resources"))
        names = set(as_map(resources.get("limits"))) | set(as_map(resources.get("requests")))
        for name in sorted(str(n) for n in names):
            if name.startswith(_VENDOR_DOMAINS) and not _advertised(ctx, name):
                yield Hit(
                    f"requests {name}, which no device plugin here advertises (the rendered "
                    "plugin offers nvidia.com/gpu, MIG devices only with migStrategy mixed, "
                    "and amd.com/gpu): the pod stays Pending",
                    workload.obj.where(*container.path, "resources"),
                    workload.obj.ident,
                    workload.obj.lane,
                )


def _check_workload(
    ctx: CheckContext,
    workload: Workload,
    claims: dict[str, int],
    runtime_classes: set[tuple[str, str]],
) -> Iterator[Hit]:
    lane = ctx.lane_of(workload)
    lane_name = lane.name if lane else None
    obj = workload.obj
    pod = workload.pod

    def at(lane_key: str, *path: str | int) -> Any:
        return lane.where(lane_key) if lane else obj.where(*workload.pod_path, *path)

    if workload.node is None:
        if not workload.pinned:
            yield Hit(
                "GPU workload is not pinned to a node (no nodeSelector, nodeName or required "
                "node affinity): it may land on any GPU node",
                at("node", "nodeSelector"),
                obj.ident,
                lane_name,
            )
        elif workload.candidates:
            yield Hit(
                f"GPU workload may land on any of {', '.join(workload.candidates)}: its "
                "placement is ambiguous",
                at("node", "nodeSelector"),
                obj.ident,
                lane_name,
            )
        else:
            selector = pod.get("nodeName") or pod.get("nodeSelector") or "(node affinity)"
            yield Hit(
                f"no node in hardware/ matches this GPU workload's placement {selector}",
                at("node", "nodeSelector"),
                obj.ident,
                lane_name,
            )
        return
    node: Node = workload.node
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not tolerates(
            pod.get("tolerations") or [], taint
        ):
            yield Hit(
                f"does not tolerate taint {taint} of node {node.name}",
                at("node", "tolerations"),
                obj.ident,
                lane_name,
            )
    runtime_class = pod.get("runtimeClassName")
    if runtime_class and (obj.cluster, runtime_class) not in runtime_classes:
        yield Hit(
            f"RuntimeClass {runtime_class!r} is not deployed (add it to runtimeClasses in "
            "gitops-gen.yaml or to manifests/)",
            at("node", "runtimeClassName"),
            obj.ident,
            lane_name,
        )
    for resource, count in claims.items():
        vendor = RUNTIME_CLASS_VENDORS.get(resource)
        if vendor and not runtime_class:
            known = ctx.repo.config.runtime_class_for(vendor)
            fix = (
                "add runtimeClasses to gitops-gen.yaml"
                if lane
                else f"set {format_path((*workload.pod_path, 'runtimeClassName'))}"
                + (f": {known.name}" if known else "")
            )
            yield Hit(
                f"requests {resource} but sets no runtimeClassName: the container gets no "
                f"{vendor} runtime ({fix})",
                at("gpus", "runtimeClassName"),
                obj.ident,
                lane_name,
            )
        present = sum(g.count for g in node.gpus if g.resource == resource)
        if present == 0:
            yield Hit(
                f"requests {resource} but node {node.name} has none",
                at("gpus", "containers"),
                obj.ident,
                lane_name,
            )
        elif count > present:
            yield Hit(
                f"requests {count} {resource} per pod but node {node.name} has {present}",
                at("gpus", "containers"),
                obj.ident,
                lane_name,
            )
