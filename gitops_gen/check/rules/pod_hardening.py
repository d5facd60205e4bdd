"""Every pod runs unprivileged, isolated from the host, and without cluster credentials.

Model servers parse untrusted input (prompts, images) and ComfyUI runs third-party
custom nodes: no privileged containers, no host network/PID/IPC, no service-account
token, no service-link environment, every capability dropped, no privilege escalation,
the RuntimeDefault seccomp profile, and hostPath only for the node's model cache (and,
for a recognised device plugin DaemonSet, the kubelet's device-plugin socket directory,
without which it cannot register).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.inventory import Workload, as_list, as_map, normalised_host_path
from gitops_gen.render.scheduling import DEVICE_PLUGIN_SOCKETS, device_plugin_of

ID = "pod-hardening"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Set automountServiceAccountToken: false, enableServiceLinks: false, "
    "seccompProfile RuntimeDefault, allowPrivilegeEscalation: false, capabilities.drop [ALL]; "
    "drop privileged/hostNetwork/hostPID/hostIPC; mount only the model cache from the host."
)
OPTIONS: Mapping[str, Any] = {"allowedHostPaths": []}
LANE_SCOPED = True
TARGETS = KUBERNETES_ONLY


def _problems(
    ctx: CheckContext, workload: Workload, allowed: list[str]
) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    pod = workload.pod
    base = workload.pod_path
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key) is True:
            yield f"{key} is true", (*base, key)
    if pod.get("automountServiceAccountToken") is not False:
        yield "automountServiceAccountToken is not false", base
    if pod.get("enableServiceLinks") is not False:
        yield "enableServiceLinks is not false", base
    pod_seccomp = as_map(as_map(pod.get("securityContext")).get("seccompProfile")).get("type")
    for container in workload.containers():
        context = as_map(container.data.get("securityContext"))
        name = container.data.get("name", "?")
        where = (*container.path, "securityContext")
        if context.get("privileged") is True:
            yield f"container {name!r} is privileged", where
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"container {name!r} does not set allowPrivilegeEscalation: false", where
        capabilities = as_map(context.get("capabilities"))
        if "ALL" not in as_list(capabilities.get("drop")):
            yield f"container {name!r} does not drop ALL capabilities", where
        if capabilities.get("add"):
            yield f"container {name!r} adds capabilities {capabilities['add']}", where
        seccomp = as_map(context.get("seccompProfile")).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield f"container {name!r} has no RuntimeDefault seccomp profile", where
    for index, volume in enumerate(as_list(pod.get("volumes"))):
        host_path = as_map(volume.get("hostPath")).get("path") if isinstance(volume, dict) else None
        if host_path is None:
            continue
        path = normalised_host_path(str(host_path))
        if not any(path == a or path.startswith(a + "/") for a in allowed):
            yield (
                (
                    f"volume {volume.get('name', '?')!r} mounts host path {host_path}, which is "
                    "not the model cache"
                ),
                (*base, "volumes", index),
            )


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    extra = [str(p).rstrip("/") for p in options.get("allowedHostPaths", [])]
    for workload in ctx.inventory.workloads:
        nodes = (
            [workload.node]
            if workload.node
            else [n for n in ctx.repo.nodes.values() if n.cluster == workload.obj.cluster]
        )
        allowed = [
            n.model_cache.host_path.rstrip("/") for n in nodes if n and n.model_cache.host_path
        ] + extra
        if device_plugin_of(workload.obj.data, ctx.repo.config) is not None:
            allowed.append(DEVICE_PLUGIN_SOCKETS)
        lane = ctx.lane_of(workload)
        for message, path in _problems(ctx, workload, allowed):
            where = (
                lane.where("name")
                if lane and workload.obj.doc is None
                else workload.obj.where(*path)
            )
            yield Hit(message, where, workload.obj.ident, lane.name if lane else None)
