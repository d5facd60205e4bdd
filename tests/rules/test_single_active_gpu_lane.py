from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.rules.cases import (
    COMPOSE_ACTIVE,
    COMPOSE_FILE,
    COMPOSE_NODE,
    COMPOSE_PARKED,
    COMPOSE_REPO,
    DEEP,
    FAST,
    NO_GPU_REQUEST,
    RUNNING,
    SIDECAR,
    UNPINNED,
    api,
    autoscaler,
    compose_service,
    expect,
    replace,
    second_node,
    sees_nvidia,
    sidecar,
)
from tests.rules.harness import Case, assert_case

RULE = "single-active-gpu-lane"
HPA = """\
apiVersion: {api}
kind: HorizontalPodAutoscaler
metadata: {{name: sidecar-gpu, namespace: vllm}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: sidecar-gpu}}
  minReplicas: {min}
  maxReplicas: {max}
"""
KEDA = """\
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: sidecar-gpu, namespace: vllm}
spec:
  scaleTargetRef: {name: sidecar-gpu}
  triggers:
    - {type: cron, metadata: {timezone: UTC, start: 0 8 * * *, end: 0 18 * * *, desiredReplicas: "1"}}
"""

CASES = [
    Case("example-one-active-five-parked"),
    Case(
        "second-lane-active",
        edits=(replace(DEEP, "active: false", "active: true"),),
        expect=(expect("block", DEEP, "active: true"), expect("block", FAST, "active: true")),
    ),
    Case(
        "switch-keeps-one-active",
        edits=(
            replace(DEEP, "active: false", "active: true"),
            replace(FAST, "active: true", "active: false"),
        ),
    ),
    Case(
        "handwritten-comfyui-counts-against-the-card",
        repo="lab-48gb-comfyui",
        edits=(
            {
                "file": "manifests/comfyui.yaml",
                "write": (ROOT / "tests/data/comfyui-deployment.yaml")
                .read_text()
                .replace("replicas: 0", "replicas: 1"),
            },
        ),
        expect=(
            expect("block", "manifests/comfyui.yaml", "replicas: 1"),
            expect("block", "lanes/qwen25-32b.yaml", "active: true"),
        ),
    ),
    Case(
        # ComfyUI as a lane: running it beside the LLM lane is the same block.
        "the-comfyui-lane-beside-an-llm-lane",
        repo="lab-48gb-comfyui",
        edits=(replace("lanes/comfyui.yaml", "active: false", "active: true"),),
        expect=(
            expect("block", "lanes/comfyui.yaml", "active: true"),
            expect("block", "lanes/qwen25-32b.yaml", "active: true"),
        ),
    ),
    Case("tensor-parallel-lane-owns-both-gpus", repo="h100x2-tp2"),
    Case(
        "third-gpu-claim-on-two-gpus",
        repo="h100x2-tp2",
        edits=(replace("lanes/llama31-8b.yaml", "active: false", "active: true"),),
        expect=(
            expect("block", "lanes/llama31-8b.yaml", "active: true"),
            expect("block", "lanes/mistral-small-24b-tp2.yaml", "active: true"),
        ),
    ),
    Case("amd-and-nvidia-are-separate-budgets", repo="mixed-nvidia-amd"),
    # A container that sees the GPU without requesting it holds it all the same.
    Case(
        "visible-devices-all-claims-the-card",
        edits=(sidecar(RUNNING, *NO_GPU_REQUEST, sees_nvidia("all")),),
        expect=(expect("block", SIDECAR, "replicas: 1"), expect("block", FAST, "active: true")),
    ),
    Case(
        "visible-devices-void-claims-nothing",
        edits=(sidecar(RUNNING, *NO_GPU_REQUEST, sees_nvidia("void")),),
    ),
    Case(
        "lane-without-gpus-but-visible-devices",
        edits=(
            replace(DEEP, "gpus: 1", "gpus: 0"),
            replace(DEEP, "aliases:", "env: {NVIDIA_VISIBLE_DEVICES: all}\naliases:"),
            replace(DEEP, "active: false", "active: true"),
        ),
        expect=(expect("block", DEEP, "active: true"), expect("block", FAST, "active: true")),
    ),
    # An autoscaler runs its target up to its maximum.
    Case(
        "hpa-max-replicas-on-one-gpu",
        edits=(
            replace(FAST, "active: true", "active: false"),
            sidecar(RUNNING),
            autoscaler(HPA.format(api="autoscaling/v2", min=1, max=5)),
        ),
        expect=(expect("block", "manifests/autoscaler.yaml", "maxReplicas"),),
    ),
    Case(
        "hpa-v1-min-replicas-two",
        edits=(
            replace(FAST, "active: true", "active: false"),
            sidecar(RUNNING),
            autoscaler(HPA.format(api="autoscaling/v1", min=2, max=2)),
        ),
        expect=(expect("block", "manifests/autoscaler.yaml", "maxReplicas"),),
    ),
    Case(
        "hpa-leaves-a-parked-deployment-parked",
        edits=(
            sidecar(),
            autoscaler(HPA.format(api="autoscaling/v2", min=1, max=5)),
        ),
    ),
    Case(
        "hpa-on-an-active-lane",
        edits=(
            autoscaler(
                HPA.format(api="autoscaling/v2", min=1, max=2).replace(
                    "sidecar-gpu", "qwen36-35b-gguf-fast"
                )
            ),
        ),
        expect=(expect("block", "manifests/autoscaler.yaml", "maxReplicas"),),
    ),
    Case(
        "keda-scales-a-parked-deployment-to-its-default-maximum",
        edits=(replace(FAST, "active: true", "active: false"), sidecar(), autoscaler(KEDA)),
        expect=(expect("block", "manifests/autoscaler.yaml", "spec:"),),
    ),
    # An unpinned workload may take the card of any node that admits it.
    Case(
        "unpinned-counts-on-its-only-node",
        edits=(sidecar(RUNNING, UNPINNED),),
        expect=(expect("block", SIDECAR, "replicas: 1"), expect("block", FAST, "active: true")),
    ),
    Case(
        "unpinned-without-toleration-lands-nowhere-known",
        edits=(sidecar(RUNNING, UNPINNED, ("      tolerations:\n", "      x:\n")),),
        notes=False,
    ),
    Case(
        "unpinned-two-replicas-count-on-every-node",
        edits=(
            replace(FAST, "active: true", "active: false"),
            second_node(),
            sidecar(("  replicas: 0\n", "  replicas: 2\n"), UNPINNED),
        ),
        expect=(expect("block", SIDECAR, "replicas: 2"),),
    ),
    Case(
        "unpinned-one-replica-fits-either-node",
        edits=(
            replace(FAST, "active: true", "active: false"),
            second_node(),
            sidecar(RUNNING, UNPINNED),
        ),
    ),
]


# A card time-sliced for three (seed 004's 96 GB) runs three lanes, not four.
CASES += [
    Case("three-lanes-on-a-card-sliced-for-three", repo="mixed-nvidia-amd"),
    Case(
        "a-fourth-lane-on-a-card-sliced-for-three",
        repo="mixed-nvidia-amd",
        edits=(
            {
                "file": "lanes/fourth.yaml",
                "write": (ROOT / "examples/mixed-nvidia-amd/lanes/qwen3-embedding-8b.yaml")
                .read_text()
                .replace("name: qwen3-embedding-8b", "name: fourth")
                .replace("aliases: [embed]", "aliases: [embed2]"),
            },
        ),
        expect=(
            expect("block", "lanes/fourth.yaml", "active: true"),
            expect("block", "lanes/gpt-oss-120b.yaml", "active: true"),
            expect("block", "lanes/qwen3-coder-30b.yaml", "active: true"),
            expect("block", "lanes/qwen3-embedding-8b.yaml", "active: true"),
        ),
    ),
]

# A compose host: Docker keeps no count, so every running service's cards are compared.
CASES += [
    Case("compose-one-running-lane", repo=COMPOSE_REPO),
    Case(
        "compose-a-hand-written-service-takes-every-gpu",
        repo=COMPOSE_REPO,
        edits=(api("    gpus: all\n"),),
        expect=(
            expect("block", COMPOSE_ACTIVE, "active: true"),
            expect("block", COMPOSE_FILE, "  api:"),
        ),
    ),
    Case(
        "compose-a-device-count-is-the-first-cards",
        repo=COMPOSE_REPO,
        edits=(
            api(
                "    deploy:\n      resources:\n        reservations:\n          devices:\n"
                "            - {capabilities: [gpu], count: 1}\n"
            ),
            replace(
                COMPOSE_FILE,
                '    deploy:\n      resources:\n        reservations: {cpus: "1", memory: 1g}\n  postgres:',
                "  postgres:",
            ),
        ),
        expect=(
            expect("block", COMPOSE_ACTIVE, "active: true"),
            expect("block", COMPOSE_FILE, "  api:"),
        ),
    ),
    Case(
        # A UUID cannot be mapped to a card: on a one-card host it is that card.
        "compose-a-device-reserved-by-uuid",
        repo=COMPOSE_REPO,
        edits=(
            compose_service(
                "worker",
                "    image: docker.io/library/busybox@sha256:" + "a" * 64 + "\n"
                "    deploy:\n      resources:\n        reservations:\n          devices:\n"
                "            - {capabilities: [gpu], device_ids: [GPU-5e1f0c2a]}\n",
            ),
        ),
        expect=(
            expect("block", COMPOSE_ACTIVE, "active: true"),
            expect("block", COMPOSE_FILE, "  worker:"),
        ),
    ),
    Case(
        "compose-a-gpu-service-in-a-profile-does-not-run",
        repo=COMPOSE_REPO,
        edits=(api("    gpus: all\n    profiles: [comfy]\n"),),
    ),
    Case(
        "compose-the-nvidia-runtime-with-no-devices-sees-none",
        repo=COMPOSE_REPO,
        edits=(
            compose_service(
                "worker",
                "    image: docker.io/library/busybox@sha256:" + "a" * 64 + "\n"
                "    runtime: nvidia\n    environment: [NVIDIA_VISIBLE_DEVICES=void]\n",
            ),
        ),
    ),
    Case(
        "compose-the-nvidia-runtime-sees-every-gpu-by-default",
        repo=COMPOSE_REPO,
        edits=(api("    runtime: nvidia\n"),),
        expect=(
            expect("block", COMPOSE_ACTIVE, "active: true"),
            expect("block", COMPOSE_FILE, "  api:"),
        ),
    ),
    Case(
        # Running lanes take the cards in turn: the second gets card 1, which this
        # one-card host lacks.
        "compose-two-running-lanes-on-one-card",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_PARKED, "active: false", "active: true"),),
        expect=(expect("block", COMPOSE_ACTIVE, "active: true"),),
    ),
    Case(
        "compose-two-running-lanes-on-two-cards",
        repo=COMPOSE_REPO,
        edits=(
            replace(COMPOSE_PARKED, "active: false", "active: true"),
            replace(COMPOSE_NODE, "count: 1", "count: 2"),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_a_json_manifest_counts_like_a_yaml_one(tmp_path: Path) -> None:
    """Argo CD syncs manifests/*.json too; its GPU pod is found at its JSON line."""
    import json

    import yaml

    from tests.rules.cases import SIDECAR_TEXT
    from tests.rules.harness import run

    data = yaml.safe_load(SIDECAR_TEXT)
    data["spec"]["replicas"] = 1
    edit = {"file": "manifests/sidecar.json", "write": json.dumps(data, indent=2)}
    repo, findings = run(Case("json", edits=(edit,)), tmp_path)
    found = {(f.file, f.line) for f in findings if f.rule == RULE}
    line = 1 + (repo / "manifests/sidecar.json").read_text().splitlines().index(
        '    "replicas": 1,'
    )
    assert found == {("manifests/sidecar.json", line), (FAST, 4)}
