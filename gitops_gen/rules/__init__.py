"""The rule catalog. One module per rule; adding a rule = a module, a line here, a test.

Order here is the order of `gitops-gen rules` and of reports.
"""

from __future__ import annotations

from types import ModuleType

from gitops_gen.rules import (
    context_ceiling,
    cpu_memory_budget,
    gateway_aliases,
    gpu_limit_equals_request,
    image_digest_pinned,
    known_broken,
    kubernetes_schema,
    maintenance_split,
    model_locked,
    model_prefetched,
    placement,
    pod_hardening,
    policy_weakened,
    recreate_strategy,
    runtime_capability,
    single_active_gpu_lane,
    validation_evidence,
    vram_fit,
    waiver_expired,
)

REGISTRY: tuple[ModuleType, ...] = (
    single_active_gpu_lane,
    gpu_limit_equals_request,
    recreate_strategy,
    placement,
    cpu_memory_budget,
    image_digest_pinned,
    model_locked,
    model_prefetched,
    runtime_capability,
    known_broken,
    vram_fit,
    context_ceiling,
    validation_evidence,
    pod_hardening,
    gateway_aliases,
    kubernetes_schema,
    maintenance_split,
    waiver_expired,
    policy_weakened,  # reports print its findings first, whatever the order here
)
