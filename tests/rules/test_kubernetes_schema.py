from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.rules.cases import SIDECAR, expect, sidecar
from tests.rules.harness import Case, assert_case

RULE = "kubernetes-schema"


def scaled_object(extra: str) -> dict[str, str]:
    """A hand-written KEDA ScaledObject of the sidecar, with `extra` lines in its spec."""
    return {
        "file": "manifests/scaler.yaml",
        "write": "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\n"
        "metadata: {name: sidecar-gpu, namespace: vllm}\nspec:\n"
        "  scaleTargetRef: {name: sidecar-gpu}\n"
        "  triggers:\n    - {type: cron, metadata: {timezone: UTC, start: 0 8 * * *, "
        'end: 0 18 * * *, desiredReplicas: "1"}}\n' + extra,
    }


def argo_app(extra: str) -> dict[str, str]:
    """A hand-written Application of the rendered lanes, with `extra` lines in its spec."""
    return {
        "file": "manifests/app.yaml",
        "write": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata: {name: extra, namespace: argocd}\nspec:\n  project: default\n"
        "  destination: {server: https://kubernetes.default.svc, namespace: vllm}\n"
        "  source: {repoURL: https://git.example.com/homelab/gpu-gitops.git, "
        "path: rendered/homelab/lanes, targetRevision: main}\n" + extra,
    }


CASES = [
    Case("every-object-valid", edits=(sidecar(),)),
    Case(
        "misspelt-field",
        edits=(
            sidecar(
                ("          image: ghcr", "          imagePolicy: Always\n          image: ghcr")
            ),
        ),
        expect=(expect("block", SIDECAR, "        - name: main"),),
    ),
    Case(
        "wrong-type",
        edits=(sidecar(("  replicas: 0", "  replicas: none")),),
        expect=(expect("block", SIDECAR, "replicas: none"),),
    ),
    Case(
        "handwritten-comfyui-valid",
        repo="lab-48gb-comfyui",
        edits=(
            {
                "file": "manifests/comfyui.yaml",
                "write": (ROOT / "tests" / "data" / "comfyui-deployment.yaml").read_text(),
            },
        ),
    ),
    Case(
        # A hand-written monitor is checked against the shipped Prometheus Operator CRD.
        "handwritten-podmonitor-with-a-typo",
        edits=(
            {
                "file": "manifests/monitor.yaml",
                "write": "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\n"
                "metadata: {name: extra, namespace: vllm}\nspec:\n  selector: {}\n"
                "  podMetricsEndpoints:\n    - {port: http, pathh: /metrics}\n",
            },
        ),
        expect=(expect("block", "manifests/monitor.yaml", "pathh: /metrics"),),
    ),
    # Schema-valid (a Quantity is "string or number"), refused by the API server: issue 8.
    Case(
        "quantity-with-space",
        edits=(sidecar(("memory: 1Gi", "memory: 64 GiB")),),
        expect=(expect("block", SIDECAR, "limits: {cpu"),),
    ),
    Case(
        "quantity-in-words",
        edits=(sidecar(("{cpu: 100m,", "{cpu: eight,")),),
        expect=(expect("block", SIDECAR, "requests: {cpu"),),
    ),
    Case(
        "quantity-trailing-space",
        edits=(sidecar(("memory: 128Mi", 'memory: "32GB "')),),
        expect=(expect("block", SIDECAR, "requests: {cpu"),),
    ),
    Case(
        "pull-policy-not-an-enum-value",
        edits=(
            sidecar(
                (
                    "          image: ghcr",
                    "          imagePullPolicy: Sometimes\n          image: ghcr",
                )
            ),
        ),
        expect=(expect("block", SIDECAR, "imagePullPolicy: Sometimes"),),
    ),
    Case(
        "toleration-operator-not-an-enum-value",
        edits=(sidecar(("operator: Equal", "operator: Matches")),),
        expect=(expect("block", SIDECAR, "operator: Matches"),),
    ),
    # Argo CD objects are checked against Argo CD's own CRDs (3.5.1): every field it
    # defines is accepted, a misspelt one is not.
    Case(
        "handwritten-application-with-argo-cd-fields",
        edits=(
            argo_app(
                "  ignoreDifferences:\n    - {group: apps, kind: Deployment, "
                "jsonPointers: [/spec/replicas]}\n  revisionHistoryLimit: 5\n"
                "  info: [{name: owner, value: platform}]\n"
            ),
        ),
    ),
    Case(
        "handwritten-application-with-a-typo",
        edits=(argo_app("  syncPolicy: {automated: {prune: true, selfheal: true}}\n"),),
        expect=(expect("block", "manifests/app.yaml", "syncPolicy:"),),
    ),
    # A KEDA ScaledObject against KEDA 2.20.2's CRD.
    Case(
        "handwritten-scaledobject-with-keda-fields",
        edits=(
            scaled_object("  fallback: {failureThreshold: 3, replicas: 0}\n  maxReplicaCount: 1\n"),
        ),
    ),
    Case(
        "handwritten-scaledobject-with-a-typo",
        edits=(scaled_object("  maxReplicas: 1\n"),),
        expect=(expect("block", "manifests/scaler.yaml", "spec:"),),
    ),
    Case(
        "every-quantity-form-is-valid",
        edits=(sidecar(("{cpu: 100m, memory: 128Mi,", "{cpu: 0.1, memory: 1.28e8,")),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_the_message_names_the_field_and_the_grammar(tmp_path: Path) -> None:
    from tests.rules.harness import run

    case = next(c for c in CASES if c.id == "quantity-with-space")
    _repo, findings = run(case, tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert "spec.template.spec.containers[0].resources.limits.memory" in finding.message
    assert "'64 GiB' is not a Kubernetes quantity" in finding.message
