"""Every rendered object validates, strictly, against its cluster's Kubernetes version."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gitops_gen.kube import KubeSchemas, supported_versions
from gitops_gen.loader import load_repo
from gitops_gen.render import render_repo
from tests.conftest import ROOT

REPOS = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]


@pytest.mark.parametrize("root", REPOS, ids=lambda p: p.name if p != ROOT else "root")
def test_every_rendered_object_is_valid_for_its_kubernetes_version(root: Path) -> None:
    repo = load_repo(root)
    tree = render_repo(repo)
    versions = {c.name: c.kubernetes_version for c in repo.config.clusters}
    schemas = {name: KubeSchemas(v) for name, v in versions.items()}
    assert tree.objects
    for obj in tree.objects:
        cluster = obj.path.split("/", 1)[0]
        assert list(schemas[cluster].violations(obj.data)) == [], obj.path


def test_the_root_example_targets_kubernetes_1_35() -> None:
    assert [c.kubernetes_version for c in load_repo(ROOT).config.clusters] == ["1.35"]
    assert "1.35" in supported_versions()


def _deployment() -> dict:
    tree = render_repo(load_repo(ROOT))
    return copy.deepcopy(next(dict(o.data) for o in tree.objects if o.data["kind"] == "Deployment"))


def test_strict_mode_refuses_unknown_fields() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["gpu"] = 1
    found = list(KubeSchemas("1.35").violations(obj))
    assert [v.path for v in found] == ["spec.template.spec.containers[0]"]
    assert "unknown field" in found[0].message and "'gpu'" in found[0].message


def test_wrong_types_are_refused_with_their_path() -> None:
    obj = _deployment()
    obj["spec"]["replicas"] = "one"
    found = list(KubeSchemas("1.35").violations(obj))
    assert [v.path for v in found] == ["spec.replicas"]


def test_unknown_kinds_are_reported_not_ignored() -> None:
    found = list(KubeSchemas("1.35").violations({"apiVersion": "example.com/v1", "kind": "Nope"}))
    assert found and "no schema for example.com/v1 Nope" in found[0].message


def test_validators_are_compiled_once_per_kind() -> None:
    schemas = KubeSchemas("1.35")
    first = schemas.validator("apps/v1", "Deployment")
    assert schemas.validator("apps/v1", "Deployment") is first


@pytest.mark.parametrize("root", REPOS, ids=lambda p: p.name if p != ROOT else "root")
def test_kubernetes_validate_itself_accepts_every_builtin_object(root: Path) -> None:
    """The independent reference: kubernetes-validate's own entry point, strict mode."""
    import kubernetes_validate

    repo = load_repo(root)
    versions = {c.name: c.kubernetes_version for c in repo.config.clusters}
    checked = 0
    for obj in render_repo(repo).objects:
        if obj.data["apiVersion"] == "argoproj.io/v1alpha1":
            continue  # a CRD: kubernetes-validate has no schema; ours is tested above
        version = versions[obj.path.split("/", 1)[0]]
        kubernetes_validate.validate(dict(obj.data), version, strict=True)
        checked += 1
    assert checked >= 9
