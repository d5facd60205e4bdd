"""The NVIDIA device plugin fails loudly and names GPUs by UUID.

`failOnInitError: false` blocks: when the plugin cannot initialise NVML (driver not
loaded yet, a runtime mismatch after an upgrade) it keeps running and advertises zero
GPUs. Nothing errors; the node simply has no `nvidia.com/gpu`, and every GPU lane stays
Pending with an "Insufficient nvidia.com/gpu" event that points away from the cause.
Seed 002: quiet partial success is worse than a hard failure when the one GPU is the
resource under test, so the plugin must crash where it can be seen.

`deviceIDStrategy: index` warns: indices are the order the driver enumerates the cards,
which changes after a reboot, a card swap or a PCIe re-seat, so an allocation recorded
against "GPU 0" can land on another card. UUIDs stay with the card. It is a warning, not
a block: on a one-card node the index cannot point at another card, but the setting
outlives the hardware.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity

ID = "device-plugin-settings"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Set devicePlugin.failOnInitError: true and devicePlugin.deviceIDStrategy: uuid in "
    "gitops-gen.yaml."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = KUBERNETES_ONLY

_OBJECT = "Application/nvidia-device-plugin"


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    plugin = ctx.repo.config.device_plugin
    if plugin is None:
        return
    if not plugin.fail_on_init_error:
        yield Hit(
            "failOnInitError is false: a plugin that cannot initialise the GPU keeps running "
            "and advertises 0 nvidia.com/gpu, so GPU lanes stay Pending with no error",
            plugin.where("failOnInitError"),
            _OBJECT,
        )
    if plugin.device_id_strategy == "index":
        yield Hit(
            "deviceIDStrategy is index: GPU indices reorder after a reboot or a card swap; "
            "uuid names the card itself",
            plugin.where("deviceIDStrategy"),
            _OBJECT,
            severity=Severity.WARN,
        )
