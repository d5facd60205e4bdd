"""Edits shared by the rule tests."""

from __future__ import annotations

from typing import Any

FAST = "lanes/qwen36-35b-gguf-fast.yaml"
DEEP = "lanes/qwen36-27b-deep.yaml"
NODE = "hardware/gpu-worker-1.yaml"
CONFIG = "gitops-gen.yaml"
LOCK = "models.lock.yaml"
SIDECAR = "manifests/sidecar.yaml"
# The fast lane's evidence.ctxSize line: the context its live peak was measured at.
MEASURED_AT = "\n  ctxSize: 49152  # the context it was measured at"


def sidecar(*pairs: tuple[str, str]) -> dict[str, Any]:
    """A hardened, parked, hand-written GPU Deployment on the root example's node, edited
    by (old, new) pairs (every occurrence)."""
    text = SIDECAR_TEXT
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return {"file": SIDECAR, "write": text}


def replace(file: str, old: str, new: str) -> dict[str, Any]:
    return {"file": file, "replace": old, "with": new}


def expect(severity: str, file: str, at: str, after: str | None = None) -> dict[str, str]:
    found = {"severity": severity, "file": file, "at": at}
    if after is not None:
        found["after"] = after
    return found


SIDECAR_TEXT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sidecar-gpu
  namespace: vllm
spec:
  replicas: 0
  revisionHistoryLimit: 2
  strategy: {type: Recreate}
  selector:
    matchLabels: {app: sidecar-gpu}
  template:
    metadata:
      labels: {app: sidecar-gpu}
    spec:
      runtimeClassName: nvidia
      automountServiceAccountToken: false
      enableServiceLinks: false
      nodeSelector: {kubernetes.io/hostname: gpu-worker-1}
      tolerations:
        - {key: workload.ai/dedicated, operator: Equal, value: gpu, effect: NoSchedule}
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: main
          image: ghcr.io/example/tool:1.0@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
          resources:
            requests: {cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}
            limits: {cpu: "1", memory: 1Gi, nvidia.com/gpu: 1}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
"""

# Edits of the sidecar used by the GPU-visibility and autoscaler tests.
RUNNING = ("  replicas: 0\n", "  replicas: 1\n")
NO_GPU_REQUEST = (
    ("requests: {cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}", "requests: {cpu: 100m}"),
    ('limits: {cpu: "1", memory: 1Gi, nvidia.com/gpu: 1}', 'limits: {cpu: "1"}'),
)
UNPINNED = ("      nodeSelector: {kubernetes.io/hostname: gpu-worker-1}\n", "")


def sees_nvidia(value: str) -> tuple[str, str]:
    """Give the sidecar's container NVIDIA_VISIBLE_DEVICES=value."""
    return (
        "          resources:\n",
        f'          env:\n            - {{name: NVIDIA_VISIBLE_DEVICES, value: "{value}"}}\n'
        "          resources:\n",
    )


def autoscaler(text: str) -> dict[str, Any]:
    return {"file": "manifests/autoscaler.yaml", "write": text}


def second_node() -> dict[str, Any]:
    """A second one-GPU node like gpu-worker-1 (same labels and taint, other hostname)."""
    return {"file": "hardware/gpu-worker-2.yaml", "write": SECOND_NODE}


SECOND_NODE = """\
kind: Node
name: gpu-worker-2
labels: {kubernetes.io/hostname: gpu-worker-2, workload.ai/gpu: "true"}
taints:
  - {key: workload.ai/dedicated, value: gpu, effect: NoSchedule}
allocatable: {cpu: "15", memory: 57457452Ki}
gpus:
  - {vendor: nvidia, model: rtx-pro-4000-blackwell-sff, count: 1, vramMiB: 24467,
     computeCapability: "12.0", mig: false}
modelCache: {hostPath: /models/vllm, mountPath: /models}
"""


# examples/rtx5090-compose: a compose host, its lanes, and the hand-written compose file.
COMPOSE_REPO = "rtx5090-compose"
COMPOSE_FILE = "compose.yaml"
COMPOSE_ACTIVE = "lanes/qwen25-32b-awq.yaml"
COMPOSE_PARKED = "lanes/llama31-70b-awq.yaml"
COMPOSE_NODE = "hardware/ws5090.yaml"
API = "    build: ./api\n"


def api(extra: str) -> dict[str, Any]:
    """The hand-written `api` service of the compose example, with `extra` lines added."""
    return replace(COMPOSE_FILE, API, API + extra)


def compose_service(name: str, body: str) -> dict[str, Any]:
    """A hand-written service `name` added to the compose example (body: its lines)."""
    return replace(COMPOSE_FILE, "\nvolumes:\n", f"\n  {name}:\n{body}volumes:\n")
