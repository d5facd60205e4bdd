"""One device plugin per GPU vendor: gitops-gen's own, not a second one beside it.

gitops-gen renders the NVIDIA device plugin with the settings the lanes rely on (MIG
strategy, device list strategy, fail on init error). A second one in manifests/ (the
upstream static DaemonSet, an Application of the chart or of the GPU Operator)
registers the same resource with the kubelet: whichever registers last decides how the
GPUs are advertised, and the two fight over every restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.render.scheduling import device_plugin_of

ID = "single-device-plugin"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Delete the hand-written device plugin from manifests/ and set what it changed under "
    "devicePlugin in gitops-gen.yaml, or drop devicePlugin from gitops-gen.yaml to run "
    "your own."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    ours: dict[tuple[str, str], str] = {}
    theirs = []
    for obj in ctx.inventory.objects:
        vendor = device_plugin_of(obj.data, ctx.repo.config)
        if vendor is None:
            continue
        if obj.doc is None:
            ours.setdefault((obj.cluster, vendor), obj.ident)
        else:
            theirs.append((obj, vendor))
    for obj, vendor in theirs:
        rendered = ours.get((obj.cluster, vendor))
        if rendered is None:
            continue
        yield Hit(
            f"a second {vendor} device plugin: gitops-gen already deploys {rendered} "
            "(devicePlugin in gitops-gen.yaml)",
            obj.where("kind"),
            obj.ident,
        )
