from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import (
    COMPOSE_ACTIVE,
    COMPOSE_FILE,
    COMPOSE_NODE,
    COMPOSE_REPO,
    DEEP,
    FAST,
    NO_GPU_REQUEST,
    NODE,
    RUNNING,
    expect,
    replace,
    sidecar,
)
from tests.rules.harness import Case, assert_case, run

RULE = "cpu-memory-budget"
CASES = [
    Case("example-fits-with-system-reserved"),
    Case(
        "cpu-request-too-big",
        edits=(
            replace(FAST, 'cpu: {request: "8", limit: "14"}', 'cpu: {request: "13", limit: "14"}'),
        ),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "memory-request-too-big",
        edits=(
            replace(
                FAST, "memory: {request: 32Gi, limit: 64Gi}", "memory: {request: 48Gi, limit: 64Gi}"
            ),
        ),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "limits-may-overcommit",
        edits=(
            replace(FAST, 'cpu: {request: "8", limit: "14"}', 'cpu: {request: "8", limit: "64"}'),
        ),
    ),
    Case(
        "parked-lanes-do-not-count",
        edits=(
            replace(DEEP, 'cpu: {request: "8", limit: "14"}', 'cpu: {request: "64", limit: "64"}'),
        ),
    ),
]


def _with_init(*containers: tuple[str, str, bool]) -> dict[str, object]:
    """The running hand-written Deployment (2 CPUs, no GPU) beside the active lane, with
    init containers (name, CPUs, native sidecar). 4.245 CPUs are free beside the lane."""
    init = "      initContainers:\n" + "".join(
        f"        - name: {name}\n"
        + ("          restartPolicy: Always\n" if always else "")
        + f"          image: {IMAGE}\n"
        + f'          resources: {{requests: {{cpu: "{cpu}"}}, limits: {{cpu: "{cpu}"}}}}\n'
        for name, cpu, always in containers
    )
    return sidecar(
        RUNNING,
        *NO_GPU_REQUEST,
        ("requests: {cpu: 100m}", 'requests: {cpu: "2"}'),
        ("      containers:\n", init + "      containers:\n"),
    )


IMAGE = "ghcr.io/example/tool:1.0@sha256:" + "a" * 64

# Kubernetes counts a native sidecar (restartPolicy: Always) beside the app containers,
# and an init container beside the sidecars started before it.
CASES += [
    Case("an-init-container-runs-before-the-app", edits=(_with_init(("setup", "3", False)),)),
    Case(
        "a-native-sidecar-runs-beside-the-app",
        edits=(_with_init(("shipper", "3", True)),),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "an-init-container-runs-beside-earlier-sidecars",
        edits=(_with_init(("shipper", "1", True), ("setup", "3.5", False)),),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
]


DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-agent, namespace: vllm}
spec:
  selector: {matchLabels: {app: log-agent}}
  template:
    metadata: {labels: {app: log-agent}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
        - name: agent
          image: ghcr.io/example/agent:1.0@sha256:%s
          resources: {requests: {cpu: "%s", memory: 1Gi}}
"""


def _daemonset(cpu: str, pinned: bool = False, limits_only: bool = False) -> dict[str, str]:
    text = DAEMONSET % ("b" * 64, cpu)
    if limits_only:  # the API server makes the limit the request
        text = text.replace("{requests: {cpu:", "{limits: {cpu:")
    if pinned:
        text = text.replace(
            "      tolerations:",
            "      nodeSelector: {kubernetes.io/hostname: gpu-worker-1}\n      tolerations:",
        )
    return {"file": "manifests/agent.yaml", "write": text}


# A DaemonSet runs a pod on every node it admits and tolerates, pinned or not.
CASES += [
    Case("a-small-daemonset-fits", edits=(_daemonset("1"),)),
    Case(
        "a-daemonset-on-every-node-counts-on-this-one",
        edits=(_daemonset("6"),),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "a-limit-without-a-request-is-the-request",
        edits=(_daemonset("6", limits_only=True),),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
    Case(
        "a-pinned-daemonset-counts-once",
        edits=(_daemonset("6", pinned=True),),
        expect=(expect("block", NODE, "allocatable:"),),
    ),
]


# A compose host: the services' reservations, hand-written ones included; a prefetch
# the lanes wait for finishes and gives its share back.
CASES += [
    Case("compose-host-fits", repo=COMPOSE_REPO),
    Case(
        "compose-a-hand-written-reservation-too-big",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_FILE, '{cpus: "1", memory: 2g}', '{cpus: "1", memory: 40g}'),),
        expect=(expect("block", COMPOSE_NODE, "memory: 64Gi"),),
    ),
    Case(
        "compose-a-lane-request-too-big",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_ACTIVE, 'cpu: {request: "4"', 'cpu: {request: "13"'),),
        expect=(expect("block", COMPOSE_NODE, 'cpu: "16"'),),
    ),
    Case(
        "compose-a-service-in-a-profile-does-not-count",
        repo=COMPOSE_REPO,
        edits=(
            replace(COMPOSE_FILE, '{cpus: "1", memory: 2g}', '{cpus: "1", memory: 40g}'),
            replace(COMPOSE_FILE, "  postgres:\n", "  postgres:\n    profiles: [db]\n"),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_message_gives_the_numbers(tmp_path: Path) -> None:
    _repo, findings = run(CASES[1], tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "cpu requests on gpu-worker-1 are 15755m of 15 allocatable (105%): "
        "systemReserved 2755m, qwen36-35b-gguf-fast 13"
    )
