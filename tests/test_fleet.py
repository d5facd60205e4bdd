"""Several clusters synced by one Argo CD (`argocd.hub`): an ApplicationSet on the hub."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.check.validation import KubeSchemas
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.conftest import ROOT, Result, copy_repo, edit

FLEET = ROOT / "examples" / "fleet-hub"
HOMELAB = "https://homelab.example.com:6443"
IN_CLUSTER = "https://kubernetes.default.svc"
FLEET_REPO = "https://git.example.com/platform/llm-fleet.git"


def _objects(repo: Path) -> dict[str, dict[str, Any]]:
    return {o.path: dict(o.data) for o in render_repo(load_repo(repo)).objects}


def _placement_findings(
    cli: Callable[..., Result], repo: Path, manifests: dict[str, str]
) -> tuple[int, list[str]]:
    """Write hand-written manifests (path under manifests/ -> text), render and check:
    check's exit code and its platform-placement lines."""
    for path, text in manifests.items():
        (repo / "manifests" / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / "manifests" / path).write_text(text)
    assert cli("render", cwd=repo).code in (0, 10)
    result = cli("check", "--format", "text", cwd=repo)
    return result.code, [line for line in result.out.splitlines() if "platform-placement" in line]


def _generate(appset: dict[str, Any]) -> list[dict[str, Any]]:
    """What Argo CD's list generator makes with goTemplate: the template once per
    element, every `{{.key}}` replaced (missingkey=error: an unknown key fails)."""

    def fill(value: Any, element: dict[str, str]) -> Any:
        if isinstance(value, str):
            return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: element[m.group(1)], value)
        if isinstance(value, dict):
            return {k: fill(v, element) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v, element) for v in value]
        return value

    spec = appset["spec"]
    assert spec["goTemplate"] is True and spec["goTemplateOptions"] == ["missingkey=error"]
    (generator,) = spec["generators"]
    apps = []
    for element in generator["list"]["elements"]:
        app = fill(copy.deepcopy(spec["template"]), element)
        apps.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **app})
    return apps


def test_the_hub_generates_one_root_application_per_cluster() -> None:
    objects = _objects(FLEET)
    appset = objects["gpu-prod/argocd/fleet/applicationset.yaml"]
    assert appset["metadata"]["namespace"] == "argocd"
    generated = _generate(appset)
    assert [a["metadata"]["name"] for a in generated] == ["gpu-prod-root", "homelab-root"]
    for app, cluster in zip(generated, ("gpu-prod", "homelab"), strict=True):
        # a valid Application, living on the hub, syncing that cluster's apps/ folder
        assert list(KubeSchemas("1.33").violations(app)) == []
        assert app["metadata"]["labels"]["gitops-gen.dev/cluster"] == cluster
        assert app["spec"]["destination"] == {"server": IN_CLUSTER, "namespace": "argocd"}
        assert app["spec"]["project"] == "llm"
        path = app["spec"]["source"]["path"]
        assert path == f"rendered/{cluster}/argocd/apps"
        children = [p for p in objects if p.startswith(f"{cluster}/argocd/apps/")]
        assert len(children) >= 5, children  # platform, models, lanes, gateway, plugin...
        # ...and each of those deploys to the cluster it is for, from the hub
        server = IN_CLUSTER if cluster == "gpu-prod" else HOMELAB
        for child in children:
            spec = objects[child]["spec"]
            assert spec["destination"]["server"] == server, child
            assert objects[child]["metadata"]["namespace"] == "argocd"
    # the hub's own root syncs the ApplicationSet and the project; no other cluster has one
    root = objects["gpu-prod/argocd/root.yaml"]
    assert root["spec"]["source"]["path"] == "rendered/gpu-prod/argocd/fleet"
    assert not any(p.startswith("homelab/argocd/") and "/apps/" not in p for p in objects)
    assert "gpu-prod/argocd/apps/appproject.yaml" not in objects


def test_one_project_admits_every_cluster_and_argo_cd_only_on_the_hub() -> None:
    project = _objects(FLEET)["gpu-prod/argocd/fleet/appproject.yaml"]
    destinations = {(d["server"], d["namespace"]) for d in project["spec"]["destinations"]}
    assert {(HOMELAB, "llm"), (IN_CLUSTER, "llm"), (IN_CLUSTER, "argocd")} <= destinations
    assert (HOMELAB, "argocd") not in destinations  # nothing of Argo CD's goes there
    assert (HOMELAB, "nvidia-device-plugin") in destinations


def test_the_applicationset_is_checked_against_argo_cds_real_crd() -> None:
    appset = _objects(FLEET)["gpu-prod/argocd/fleet/applicationset.yaml"]
    schemas = KubeSchemas("1.33")
    assert list(schemas.violations(appset)) == []
    # fields the CRD has that gitops-gen never writes are accepted...
    ok = copy.deepcopy(appset)
    ok["spec"]["strategy"] = {"type": "AllAtOnce"}
    ok["spec"]["syncPolicy"] = {"preserveResourcesOnDeletion": True}
    assert list(schemas.violations(ok)) == []
    # ...and what the API server would refuse is found, however deep
    for path, value in (
        (("spec", "template", "spec", "sourcez"), {}),
        (("spec", "generators", 0, "list", "elementz"), []),
        (("spec", "goTemplate"), "yes"),
    ):
        bad = copy.deepcopy(appset)
        *parents, last = path
        target: Any = bad
        for key in parents:
            target = target[key]
        target[last] = value
        assert list(schemas.violations(bad)), path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  hub: gpu-prod\n",
            "  hub: elsewhere\n",
            "gitops-gen.yaml:20: argocd.hub: hub 'elsewhere' is not a Kubernetes cluster of "
            "this repo (clusters: gpu-prod, homelab)",
        ),
        (
            f"    server: {HOMELAB}\n",
            "",
            "gitops-gen.yaml:11: clusters[1]: cluster 'homelab' needs its server: the hub "
            "'gpu-prod' syncs it, and without one its objects would go to the hub itself",
        ),
        (
            f"    server: {HOMELAB}\n",
            f"    server: {IN_CLUSTER}/\n",
            "gitops-gen.yaml:13: clusters[1].server: cluster 'homelab' has the server of "
            "cluster 'gpu-prod': one Argo CD would deploy both trees to the same cluster",
        ),
        (  # the same API server in other letters, with the scheme's port written out
            f"    server: {HOMELAB}\n",
            f"    server: {IN_CLUSTER.upper().replace('HTTPS', 'https')}:443\n",
            "gitops-gen.yaml:13: clusters[1].server: cluster 'homelab' has the server of "
            "cluster 'gpu-prod': one Argo CD would deploy both trees to the same cluster",
        ),
    ],
)
def test_a_hub_that_cannot_tell_its_clusters_apart_is_bad_input(
    tmp_path: Path, cli: Callable[..., Result], old: str, new: str, message: str
) -> None:
    repo = copy_repo(FLEET, tmp_path / "repo", with_rendered=True)
    edit(repo / "gitops-gen.yaml", old, new)
    before = sorted(p.read_bytes() for p in (repo / "rendered").rglob("*.yaml"))
    result = cli("render", cwd=repo)
    assert result.code == 2, result
    assert message in result.err
    assert "Traceback" not in result.err
    assert sorted(p.read_bytes() for p in (repo / "rendered").rglob("*.yaml")) == before


def test_without_a_hub_each_cluster_keeps_its_own_root_and_project(tmp_path: Path) -> None:
    repo = copy_repo(FLEET, tmp_path / "repo")
    edit(repo / "gitops-gen.yaml", "  hub: gpu-prod\n", "")
    objects = _objects(repo)
    assert not any("/fleet/" in p for p in objects)
    for cluster, server in (("gpu-prod", IN_CLUSTER), ("homelab", HOMELAB)):
        root = objects[f"{cluster}/argocd/root.yaml"]
        assert root["spec"]["destination"]["server"] == server
        project = objects[f"{cluster}/argocd/apps/appproject.yaml"]
        assert {d["server"] for d in project["spec"]["destinations"]} == {server}


def test_a_project_must_admit_the_server_an_application_deploys_to(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The hub's project lists destinations per server: an Application for a cluster the
    project does not name is refused by Argo CD, so check blocks it."""
    repo = copy_repo(FLEET, tmp_path / "repo")
    extra = (
        "apiVersion: argoproj.io/v1alpha1\n"
        "kind: Application\n"
        "metadata: {name: homelab-extra, namespace: argocd}\n"
        "spec:\n"
        "  project: llm\n"
        f"  source: {{repoURL: {FLEET_REPO},"
        " targetRevision: main, path: rendered/homelab/lanes}\n"
        "  destination: {server: https://elsewhere.example.com:6443, namespace: llm}\n"
    )
    code, placement = _placement_findings(cli, repo, {"homelab/extra.yaml": extra})
    assert code == 20
    (line,) = placement
    assert (
        "Application/argocd/homelab-extra: project does not allow destination namespace llm "
        "on https://elsewhere.example.com:6443" in line
    )


def _appset(project: str, server: str) -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\n"
        "kind: ApplicationSet\n"
        "metadata: {name: extra, namespace: argocd}\n"
        "spec:\n"
        "  goTemplate: true\n"
        "  generators: [{list: {elements: [{lane: a}]}}]\n"
        "  template:\n"
        "    metadata: {name: 'extra-{{.lane}}'}\n"
        "    spec:\n"
        f"      project: {project}\n"
        f"      source: {{repoURL: {FLEET_REPO},"
        " targetRevision: main, path: rendered/gpu-prod/lanes}\n"
        f"      destination: {{server: '{server}', namespace: llm}}\n"
    )


@pytest.mark.parametrize(
    ("project", "server", "finding"),
    [
        ("llm", IN_CLUSTER, None),
        ("missing", IN_CLUSTER, "uses Argo CD project 'missing', which nothing creates"),
        ("llm", "https://elsewhere.example.com", "project does not allow destination namespace"),
        ("missing", "{{.server}}", None),  # filled in per Application: not checked here
    ],
)
def test_an_applicationset_template_needs_its_project_too(
    tmp_path: Path, cli: Callable[..., Result], project: str, server: str, finding: str | None
) -> None:
    repo = copy_repo(FLEET, tmp_path / "repo")
    appset = {"gpu-prod/appset.yaml": _appset(project, server)}
    code, placement = _placement_findings(cli, repo, appset)
    if finding is None:
        assert placement == []
    else:
        assert code == 20
        (line,) = placement
        assert "ApplicationSet/argocd/extra" in line and finding in line


@pytest.mark.parametrize(
    ("source_repos", "sources", "refused"),
    [
        ('["https://git.example.com/*"]', [FLEET_REPO], None),  # a glob admits it
        ('["*", "!https://git.example.com/*"]', [FLEET_REPO], FLEET_REPO),  # denied
        (f'["{FLEET_REPO}"]', [FLEET_REPO, "https://charts.example.com"], "https://charts"),
        (
            f'["{FLEET_REPO}", "https://charts.example.com"]',
            [FLEET_REPO, "https://charts.example.com"],
            None,
        ),
    ],
)
def test_project_source_repos_are_globs_and_every_source_counts(
    tmp_path: Path,
    cli: Callable[..., Result],
    source_repos: str,
    sources: list[str],
    refused: str | None,
) -> None:
    """Argo CD's sourceRepos are glob patterns (`!` denies), and a multi-source
    Application needs every one of its repos admitted."""
    repo = copy_repo(FLEET, tmp_path / "repo")
    project = (
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\n"
        "metadata: {name: team, namespace: argocd}\n"
        f"spec:\n  sourceRepos: {source_repos}\n"
        "  destinations: [{server: 'https://*', namespace: 'l*'}]\n"
    )
    listed = "".join(
        f"    - {{repoURL: '{url}', targetRevision: main, path: rendered/gpu-prod/lanes}}\n"
        for url in sources
    )
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata: {name: team-app, namespace: argocd}\nspec:\n  project: team\n"
        f"  destination: {{server: '{IN_CLUSTER}', namespace: llm}}\n  sources:\n{listed}"
    )
    manifests = {"gpu-prod/project.yaml": project, "gpu-prod/app.yaml": app}
    _code, placement = _placement_findings(cli, repo, manifests)
    if refused is None:
        assert placement == []
    else:
        (line,) = placement
        assert f"project does not allow source repo {refused}" in line


def test_diff_keeps_clusters_apart(tmp_path: Path, cli: Callable[..., Result]) -> None:
    """Both clusters have a Deployment/llm/litellm: a change to one cluster's gateway
    must show, named by its cluster (it used to match the other cluster's unchanged one)."""
    from tests.rules.harness import git_commit

    repo = copy_repo(FLEET, tmp_path / "repo", with_rendered=True)
    git_commit(repo, "base")
    edit(
        repo / "lanes/mistral-small-24b-tp2.yaml",
        "aliases: [chat, chat-small]",
        "aliases: [chat, chat-small, big]",
    )
    assert cli("render", cwd=repo).code == 0
    result = cli("diff", "--base", "HEAD", cwd=repo)
    assert result.out.splitlines()[:1] == [
        "gitops-gen diff: 2 changed, 0 added, 0 removed against HEAD"
    ], result.out
    assert "~ gpu-prod: Deployment/llm/litellm" in result.out
    assert "~ gpu-prod: ConfigMap/llm/litellm-config" in result.out
    assert "homelab:" not in result.out


@pytest.mark.parametrize("name", ["homelab-lanes", "homelab-root", "gpu-prod-root"])
def test_on_a_hub_argo_cd_names_are_one_namespace_for_every_cluster(
    tmp_path: Path, cli: Callable[..., Result], name: str
) -> None:
    """All clusters' Applications, and the roots the ApplicationSet generates, live in the
    hub's Argo CD: a hand-written one of the same name would fight them."""
    repo = copy_repo(FLEET, tmp_path / "repo")
    (repo / "manifests" / "gpu-prod").mkdir(parents=True)
    (repo / "manifests" / "gpu-prod" / "dup.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}, namespace: argocd}}\nspec:\n  project: llm\n"
        f"  destination: {{server: '{IN_CLUSTER}', namespace: llm}}\n"
        f"  source: {{repoURL: '{FLEET_REPO}', targetRevision: main, path: rendered/gpu-prod/lanes}}\n"
    )
    result = cli("render", cwd=repo)
    assert result.code == 2, result
    assert (
        f"manifests/gpu-prod/dup.yaml:1: metadata.name: Application/argocd/{name} is also"
        in result.err
    )
    assert not (repo / "rendered").exists()


def test_a_server_is_written_as_argo_cd_stores_it(tmp_path: Path) -> None:
    """Argo CD keeps a cluster's server without a trailing slash and looks destinations up
    exactly: one written with a slash would never be found."""
    repo = copy_repo(FLEET, tmp_path / "repo")
    edit(repo / "gitops-gen.yaml", f"server: {HOMELAB}\n", f"server: {HOMELAB}/\n")
    objects = _objects(repo)
    servers = {
        objects[p]["spec"]["destination"]["server"]
        for p in objects
        if p.startswith("homelab/argocd/apps/")
    }
    assert servers == {HOMELAB}
    project = objects["gpu-prod/argocd/fleet/appproject.yaml"]
    assert HOMELAB + "/" not in {d["server"] for d in project["spec"]["destinations"]}


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("https://kube.example.com", "HTTPS://Kube.Example.COM:443/", True),
        ("http://kube.example.com:80", "http://kube.example.com", True),
        ("https://kube.example.com:6443", "https://kube.example.com", False),
        ("https://kube.example.com:80", "https://kube.example.com", False),
        ("https://[FD00::1]:443", "https://[fd00::1]", True),
        ("https://rancher.example.com/k8s/clusters/c-1", "https://rancher.example.com", False),
    ],
)
def test_servers_are_one_api_server_when_only_their_spelling_differs(
    one: str, other: str, same: bool
) -> None:
    from gitops_gen.specs.loader import _api_address

    assert (_api_address(one) == _api_address(other)) is same
