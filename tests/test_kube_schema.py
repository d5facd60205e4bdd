"""Every rendered object validates, strictly, against its cluster's Kubernetes version."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gitops_gen.check.validation import KubeSchemas, supported_versions
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.source import format_path
from tests.conftest import ROOT

REPOS = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]
# Repos with a Kubernetes cluster (a compose-only repo renders no Kubernetes object).
KUBE_REPOS = [p for p in REPOS if load_repo(p).config.kube_clusters]


@pytest.mark.parametrize("root", KUBE_REPOS, ids=lambda p: p.name if p != ROOT else "root")
def test_every_rendered_object_is_valid_for_its_kubernetes_version(root: Path) -> None:
    repo = load_repo(root)
    tree = render_repo(repo)
    versions = {c.name: c.kubernetes_version for c in repo.config.kube_clusters}
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


@pytest.mark.parametrize("root", KUBE_REPOS, ids=lambda p: p.name if p != ROOT else "root")
def test_kubernetes_validate_itself_accepts_every_builtin_object(root: Path) -> None:
    """The independent reference: kubernetes-validate's own entry point, strict mode."""
    import kubernetes_validate

    repo = load_repo(root)
    versions = {c.name: c.kubernetes_version for c in repo.config.clusters}
    checked = 0
    for obj in render_repo(repo).objects:
        if obj.data["apiVersion"].split("/")[0] in (
            "argoproj.io",
            "monitoring.coreos.com",
            "nfd.k8s-sigs.io",
        ):
            continue  # a CRD: kubernetes-validate has no schema; ours is tested above
        version = versions[obj.path.split("/", 1)[0]]
        kubernetes_validate.validate(dict(obj.data), version, strict=True)
        checked += 1
    assert checked >= 9


# --- what the API server enforces beyond the OpenAPI schemas (issue 8) ----------------------

QUANTITY_HINT = "is not a Kubernetes quantity"


def _container_edit(obj: dict, key: str, value: object) -> dict:
    obj = copy.deepcopy(obj)
    container = obj["spec"]["template"]["spec"]["containers"][0]
    if key in ("cpu", "memory"):
        container["resources"]["requests"][key] = value
    else:
        container[key] = value
    return obj


@pytest.mark.parametrize(
    ("key", "value", "path", "message"),
    [
        ("memory", "64 GiB", "resources.requests.memory", f"'64 GiB' {QUANTITY_HINT}"),
        ("cpu", "eight", "resources.requests.cpu", f"'eight' {QUANTITY_HINT}"),
        ("memory", "32GB ", "resources.requests.memory", f"'32GB ' {QUANTITY_HINT}"),
        (
            "imagePullPolicy",
            "Sometimes",
            "imagePullPolicy",
            "'Sometimes' is not one of Always, IfNotPresent, Never",
        ),
    ],
)
def test_values_the_api_server_refuses_fail_in_both_validators(
    key: str, value: object, path: str, message: str
) -> None:
    schemas = KubeSchemas("1.35")
    obj = _container_edit(_deployment(), key, value)
    fast = schemas.fast("apps/v1", "Deployment")
    assert fast is not None and not fast(obj)
    assert not schemas.validator("apps/v1", "Deployment").is_valid(obj)
    found = list(schemas.violations(obj))
    assert [v.path for v in found] == [f"spec.template.spec.containers[0].{path}"]
    assert found[0].message.startswith(message), found[0].message


@pytest.mark.parametrize("value", ["8", "2500m", "32Gi", "1e9", "1.5", ".5", "+1", "100u", 2, 0.5])
def test_every_form_of_the_quantity_grammar_is_accepted(value: object) -> None:
    schemas = KubeSchemas("1.35")
    obj = _container_edit(_deployment(), "cpu", value)
    fast = schemas.fast("apps/v1", "Deployment")
    assert fast is not None and fast(obj)
    assert list(schemas.violations(obj)) == []


def _rendered(kind: str) -> dict:
    """The largest rendered object of `kind` (for a Deployment: a GPU lane's)."""
    tree = render_repo(load_repo(ROOT))
    found = [dict(o.data) for o in tree.objects if o.data["kind"] == kind]
    return copy.deepcopy(max(found, key=lambda o: len(str(o))))


def _set(obj: dict, path: str, value: object) -> dict:
    obj = copy.deepcopy(obj)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = obj
    for part in parents:
        target = target[part]
    target[last] = value
    return obj


POD = "spec.template.spec"
ENUM_CASES = [
    ("Deployment", f"{POD}.containers.0.ports.0.protocol", "HTTP", "TCP"),
    ("Service", "spec.ports.0.protocol", "tcp", "UDP"),
    ("Service", "spec.type", "Internal", "NodePort"),
    ("Deployment", f"{POD}.restartPolicy", "OnFailure", "Always"),
    ("Job", f"{POD}.restartPolicy", "Always", "OnFailure"),
    ("Deployment", f"{POD}.tolerations.0.operator", "Matches", "Exists"),
    ("Deployment", f"{POD}.tolerations.0.effect", "NoExec", "NoExecute"),
    ("Deployment", "spec.strategy.type", "Recreated", "RollingUpdate"),
    ("Deployment", f"{POD}.securityContext.seccompProfile.type", "Default", "Unconfined"),
]


@pytest.mark.parametrize(("kind", "path", "bad", "good"), ENUM_CASES)
def test_enums_the_api_server_enforces(kind: str, path: str, bad: str, good: str) -> None:
    schemas = KubeSchemas("1.35")
    obj = _rendered(kind)
    fast = schemas.fast(obj["apiVersion"], kind)
    assert fast is not None
    wrong = _set(obj, path, bad)
    assert not fast(wrong)
    found = list(schemas.violations(wrong))
    assert [v.path for v in found] == [format_path(tuple(_parts(path)))], found
    assert found[0].message.startswith(f"{bad!r} is not one of")
    right = _set(obj, path, good)
    assert fast(right) and list(schemas.violations(right)) == []


def _parts(path: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in path.split(".")]


def test_a_job_must_say_its_pods_stop() -> None:
    """Left out, restartPolicy defaults to Always, which the API server refuses for a Job."""
    schemas = KubeSchemas("1.35")
    job = _rendered("Job")
    del job["spec"]["template"]["spec"]["restartPolicy"]
    found = list(schemas.violations(job))
    assert [(v.path, v.message) for v in found] == [
        ("spec.template.spec", "'restartPolicy' is a required property")
    ]


def test_taint_effects_of_a_node_object() -> None:
    schemas = KubeSchemas("1.35")
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n"},
        "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
    }
    assert list(schemas.violations(node)) == []
    node["spec"]["taints"][0]["effect"] = "Never"
    assert [v.path for v in schemas.violations(node)] == ["spec.taints[0].effect"]


def test_every_tightening_applies_to_the_bundled_definitions() -> None:
    """A renamed definition would drop its check in silence; every one must be found."""
    import json

    from gitops_gen.check.validation import (
        API_ENUMS,
        POD_TEMPLATES,
        QUANTITY,
        _bundled_schemas,
        tighten,
    )

    for version in ("1.35", *supported_versions()[-1:]):
        path = _bundled_schemas() / f"v{version}.0-local-strict" / "_definitions.json"
        defs = json.loads(path.read_text())["$defs"]
        tightened = tighten(defs)
        assert tightened[QUANTITY]["format"] == "quantity"
        for name, prop in API_ENUMS:
            assert "enum" in tightened[name]["properties"][prop], (version, name, prop)
        for name in POD_TEMPLATES:
            assert "allOf" in tightened[name]["properties"]["template"], (version, name)
        assert "enum" not in defs["io.k8s.api.core.v1.Container"]["properties"]["imagePullPolicy"]
