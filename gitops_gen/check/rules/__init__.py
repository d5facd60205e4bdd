"""The rule catalog. One module per rule; adding a rule = a module, a line here, a test.

Order here is the order of `gitops-gen rules` and of reports.
"""

from __future__ import annotations

from types import ModuleType

from gitops_gen.check.rules import (
    amd_device_groups,
    compose_includes_rendered,
    compose_schema,
    context_ceiling,
    cpu_memory_budget,
    device_plugin_settings,
    engine_version_tag,
    foreign_rendered_file,
    gateway_aliases,
    gpu_limit_equals_request,
    image_digest_pinned,
    known_broken,
    kubernetes_schema,
    lanes_present,
    maintenance_split,
    model_disk_fit,
    model_locked,
    model_prefetched,
    placement,
    platform_placement,
    pod_hardening,
    policy_weakened,
    recreate_strategy,
    runtime_capability,
    single_active_gpu_lane,
    single_device_plugin,
    tensor_parallel_shm,
    unchecked_application,
    unrequested_gpu_access,
    validation_evidence,
    vram_fit,
    waiver_expired,
)

REGISTRY: tuple[ModuleType, ...] = (
    single_active_gpu_lane,
    unrequested_gpu_access,
    gpu_limit_equals_request,
    recreate_strategy,
    placement,
    platform_placement,
    cpu_memory_budget,
    device_plugin_settings,
    image_digest_pinned,
    model_locked,
    model_prefetched,
    model_disk_fit,
    engine_version_tag,
    runtime_capability,
    known_broken,
    vram_fit,
    context_ceiling,
    validation_evidence,
    pod_hardening,
    amd_device_groups,
    tensor_parallel_shm,
    gateway_aliases,
    kubernetes_schema,
    compose_schema,
    compose_includes_rendered,
    foreign_rendered_file,
    single_device_plugin,
    unchecked_application,
    lanes_present,
    maintenance_split,
    waiver_expired,
    policy_weakened,  # reports print its findings first, whatever the order here
)
