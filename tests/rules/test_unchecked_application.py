from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import expect
from tests.rules.harness import Case, assert_case

RULE = "unchecked-application"
APP = "manifests/app.yaml"
REPO_URL = "https://git.example.com/homelab/gpu-gitops.git"


def app(source: str, kind: str = "Application") -> dict[str, str]:
    spec = f"  project: default\n  destination: {{server: https://kubernetes.default.svc, namespace: vllm}}\n  source: {source}\n"
    if kind == "ApplicationSet":
        spec = (
            "  generators: [{list: {elements: [{name: a}]}}]\n  template:\n"
            "    metadata: {name: x}\n    spec:\n"
            + "".join("    " + line + "\n" for line in spec.splitlines())
        )
    return {
        "file": APP,
        "write": f"apiVersion: argoproj.io/v1alpha1\nkind: {kind}\nmetadata: {{name: extra, namespace: argocd}}\nspec:\n{spec}",
    }


CASES = [
    Case("no-handwritten-applications"),
    Case(
        "a-chart-from-elsewhere",
        edits=(
            app(
                "{repoURL: https://otwld.github.io/ollama-helm, chart: ollama, targetRevision: 1.0.0}"
            ),
        ),
        expect=(expect("block", APP, "  source:"),),
    ),
    Case(
        "a-folder-of-this-repo-gitops-gen-does-not-read",
        edits=(app(f"{{repoURL: {REPO_URL}, path: extra, targetRevision: main}}"),),
        expect=(expect("block", APP, "  source:"),),
    ),
    Case(
        "another-git-repo",
        edits=(app("{repoURL: https://git.example.com/other.git, path: ., targetRevision: main}"),),
        expect=(expect("block", APP, "  source:"),),
    ),
    Case(
        "the-rendered-tree-is-read",
        edits=(
            app(f"{{repoURL: {REPO_URL}, path: rendered/homelab/lanes, targetRevision: main}}"),
        ),
    ),
    Case(
        "an-applicationset-template-counts-too",
        edits=(app(f"{{repoURL: {REPO_URL}, path: extra}}", kind="ApplicationSet"),),
        expect=(expect("block", APP, "      source:"),),
    ),
]


FLEET_URL = "https://git.example.com/platform/llm-fleet.git"


def fleet_app(cluster: str) -> dict[str, str]:
    """A hand-written Application in the fleet example's manifests/<cluster>/."""
    return {
        "file": f"manifests/{cluster}/app.yaml",
        "write": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata: {name: extra, namespace: argocd}\nspec:\n  project: llm\n"
        "  destination: {server: https://kubernetes.default.svc, namespace: llm}\n"
        f"  source: {{repoURL: {FLEET_URL}, path: rendered/{cluster}/lanes, "
        "targetRevision: main}\n",
    }


CASES += [
    Case("an-application-on-the-hub", repo="fleet-hub", edits=(fleet_app("gpu-prod"),)),
    Case(
        # Only the hub runs Argo CD: in the homelab cluster nothing would read it.
        "an-application-for-a-cluster-the-hub-syncs",
        repo="fleet-hub",
        edits=(fleet_app("homelab"),),
        expect=(expect("block", "manifests/homelab/app.yaml", "kind: Application"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_unchecked_application(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
