from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.rules.cases import expect, replace
from tests.rules.harness import Case, assert_case, prepare

RULE = "workflow-pinned"
LAB = "lab-48gb-comfyui"
REGISTRY = "workflows/comfyui/registry.yaml"
WORKFLOW = "workflows/comfyui/wan21-t2v-480p.json"
CASES = [
    Case("every-workflow-pinned", repo=LAB),
    Case(
        "a-workflow-changed-after-review",
        repo=LAB,
        edits=(replace(WORKFLOW, '"seed": 0', '"seed": 1'),),
        expect=(expect("block", REGISTRY, "- file: wan21-t2v-480p.json"),),
    ),
    Case(
        "a-pinned-workflow-is-missing",
        repo=LAB,
        edits=({"file": WORKFLOW, "delete": True},),
        expect=(expect("block", REGISTRY, "- file: wan21-t2v-480p.json"),),
    ),
    Case(
        "a-workflow-beside-the-registry-is-not-pinned",
        repo=LAB,
        edits=({"file": "workflows/comfyui/upscale.json", "write": "{}\n"},),
        expect=(expect("warn", REGISTRY, "workflows:"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def _workflows(repo: Path) -> dict[str, str]:
    tree = render_repo(load_repo(repo))
    (configmap,) = [o for o in tree.objects if o.path.endswith("comfyui/workflows.yaml")]
    return dict(configmap.data["data"])


def test_only_workflows_matching_their_pin_reach_the_server(tmp_path: Path) -> None:
    repo = prepare(Case("pinned", repo=LAB), tmp_path / "a")
    text = (repo / WORKFLOW).read_text()
    data = _workflows(repo)
    assert data["wan21-t2v-480p.json"] == text
    pin = hashlib.sha256(text.encode()).hexdigest()
    assert data["registry.json"] == f'{{\n  "wan21-t2v-480p.json": "{pin}"\n}}\n'
    changed = prepare(
        Case("c", repo=LAB, edits=(replace(WORKFLOW, '"seed": 0', '"seed": 1'),)), tmp_path / "b"
    )
    assert _workflows(changed) == {"registry.json": "{}\n"}


def test_the_server_restarts_when_its_workflows_change(tmp_path: Path) -> None:
    """The pod template carries the registry's digest: a new pin rolls the Deployment."""

    def annotation(repo: Path) -> str:
        tree = render_repo(load_repo(repo))
        (deployment,) = [o for o in tree.objects if o.path.endswith("comfyui/deployment.yaml")]
        annotations = deployment.data["spec"]["template"]["metadata"]["annotations"]
        return str(annotations["lab.example.com/workflows-sha256"])

    before = annotation(prepare(Case("a", repo=LAB), tmp_path / "a"))
    edited = Case(
        "b",
        repo=LAB,
        edits=(
            {"file": "workflows/comfyui/second.json", "write": "{}\n"},
            {
                "file": REGISTRY,
                "append": "  - file: second.json\n    sha256: "
                + hashlib.sha256(b"{}\n").hexdigest()
                + "\n",
            },
        ),
    )
    assert annotation(prepare(edited, tmp_path / "b")) != before
