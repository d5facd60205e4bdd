from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, SIDECAR, expect, replace, sidecar
from tests.rules.harness import Case, assert_case

RULE = "placement"
TOLERATIONS = (
    "      tolerations:\n        - {key: workload.ai/dedicated, operator: Equal, "
    "value: gpu, effect: NoSchedule}\n"
)
SECOND_NODE = {
    "file": "hardware/gpu-worker-2.yaml",
    "write": """\
kind: Node
name: gpu-worker-2
labels: {kubernetes.io/hostname: gpu-worker-2, workload.ai/gpu: "true"}
allocatable: {cpu: "15", memory: 57457452Ki}
gpus: [{vendor: nvidia, model: rtx-pro-4000-blackwell-sff, count: 1, vramMiB: 24467}]
modelCache: {hostPath: /models/vllm, mountPath: /models}
""",
}
TP2 = "lanes/mistral-small-24b-tp2.yaml"  # Mistral Small 3.2: 32 attention heads
THREE_GPUS = (
    replace("hardware/h100-node-a.yaml", "count: 2, vramMiB", "count: 4, vramMiB"),
    replace(TP2, "gpus: 2", "gpus: 3"),
)
CASES = [
    Case("rendered-lanes-placed"),
    Case("handwritten-placed", edits=(sidecar(),)),
    Case(
        "taint-not-tolerated",
        edits=(sidecar((TOLERATIONS, "")),),
        expect=(expect("block", SIDECAR, "    spec:"),),
    ),
    Case(
        "exists-toleration-covers-any-value",
        edits=(
            sidecar(
                (
                    "{key: workload.ai/dedicated, operator: Equal, value: gpu, effect: NoSchedule}",
                    "{key: workload.ai/dedicated, operator: Exists}",
                )
            ),
        ),
    ),
    Case(
        "ambiguous-placement",
        edits=(
            SECOND_NODE,
            sidecar(("{kubernetes.io/hostname: gpu-worker-1}", '{workload.ai/gpu: "true"}')),
        ),
        expect=(expect("block", SIDECAR, "nodeSelector:"),),
    ),
    Case(
        "no-node-matches",
        edits=(
            sidecar(
                ("{kubernetes.io/hostname: gpu-worker-1}", "{kubernetes.io/hostname: gpu-worker-7}")
            ),
        ),
        expect=(expect("block", SIDECAR, "nodeSelector:"),),
    ),
    Case(
        "runtime-class-not-deployed",
        edits=(sidecar(("runtimeClassName: nvidia", "runtimeClassName: nvidia-cdi")),),
        expect=(expect("block", SIDECAR, "runtimeClassName: nvidia-cdi"),),
    ),
    Case(
        "more-gpus-than-the-node-has",
        edits=(sidecar(("nvidia.com/gpu: 1}", "nvidia.com/gpu: 2}")),),
        expect=(expect("block", SIDECAR, "      containers:"),),
    ),
    Case(
        "tensor-parallel-wider-than-the-lane",
        repo="h100x2-tp2",
        edits=(replace("lanes/mistral-small-24b-tp2.yaml", "gpus: 2", "gpus: 1"),),
        expect=(expect("block", "lanes/mistral-small-24b-tp2.yaml", "tensorParallelSize"),),
    ),
    Case(
        "tensor-parallel-not-dividing-the-heads",
        repo="h100x2-tp2",
        edits=(*THREE_GPUS, replace(TP2, "tensorParallelSize: 2", "tensorParallelSize: 3")),
        expect=(expect("block", TP2, "tensorParallelSize"),),
    ),
    Case(
        "gpus-not-dividing-the-heads",
        repo="h100x2-tp2",
        edits=(*THREE_GPUS, replace(TP2, "  tensorParallelSize: 2\n", "")),
        expect=(expect("block", TP2, "gpus: 3"),),
    ),
    Case(
        "tensor-parallel-dividing-the-heads-on-more-gpus",
        repo="h100x2-tp2",
        edits=(*THREE_GPUS[:1], replace(TP2, "gpus: 2", "gpus: 4")),
    ),
    Case(
        "lanes-without-runtime-class",
        edits=(
            replace(CONFIG, "  - {vendor: nvidia, name: nvidia, handler: nvidia}\n", ""),
            replace(CONFIG, "runtimeClasses:\n", "runtimeClasses: []\n"),
        ),
        expect=tuple(
            expect("block", f"lanes/{name}.yaml", "gpus: 1")
            for name in (
                "gpt-oss-agent",
                "qwen36-27b-deep",
                "qwen36-35b-gguf-fast",
                "qwen36-35b-gguf-longctx",
                "qwen36-nvfp4-experiment",
                "vllm-rollback",
            )
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_unpinned_gpu_workload(tmp_path: Path) -> None:
    from tests.rules.harness import run

    case = Case(
        "unpinned",
        edits=(sidecar(("      nodeSelector: {kubernetes.io/hostname: gpu-worker-1}\n", "")),),
    )
    _repo, findings = run(case, tmp_path)
    assert [f.message for f in findings if f.rule == RULE] == [
        "GPU workload is not pinned to a node (no nodeSelector, nodeName or required node "
        "affinity): it may land on any GPU node"
    ]


def test_runtime_class_fix_names_the_manifest_field(tmp_path: Path) -> None:
    """A hand-written manifest is fixed in the manifest, not in gitops-gen.yaml."""
    from tests.rules.harness import run

    case = Case("no-runtime-class", edits=(sidecar(("      runtimeClassName: nvidia\n", "")),))
    _repo, findings = run(case, tmp_path)
    assert [f.message for f in findings if f.rule == RULE] == [
        "requests nvidia.com/gpu but sets no runtimeClassName: the container gets no nvidia "
        "runtime (set spec.template.spec.runtimeClassName: nvidia)"
    ]


def affinity(operator: str, values: str) -> tuple[str, str]:
    """Replace the sidecar's nodeSelector by a required node affinity on the hostname."""
    return (
        "      nodeSelector: {kubernetes.io/hostname: gpu-worker-1}\n",
        "      affinity:\n        nodeAffinity:\n"
        "          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms:\n"
        f"              - matchExpressions: [{{key: kubernetes.io/hostname, operator: {operator}, "
        f"values: {values}}}]\n",
    )


@pytest.mark.parametrize(
    ("operator", "values", "messages"),
    [
        ("In", "[gpu-worker-1]", []),
        (
            "In",
            "[gpu-worker-9]",
            ["no node in hardware/ matches this GPU workload's placement (node affinity)"],
        ),
        (
            "NotIn",
            "[gpu-worker-1]",
            ["no node in hardware/ matches this GPU workload's placement (node affinity)"],
        ),
    ],
)
def test_required_node_affinity_pins_like_a_node_selector(
    operator: str, values: str, messages: list[str], tmp_path: Path
) -> None:
    from tests.rules.harness import run

    case = Case("affinity", edits=(sidecar(affinity(operator, values)),))
    _repo, findings = run(case, tmp_path)
    assert [f.message for f in findings if f.rule == RULE] == messages
