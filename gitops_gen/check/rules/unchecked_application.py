"""A hand-written Argo CD Application deploys only what check can see.

An Application (or ApplicationSet) in manifests/ makes Argo CD deploy whatever its source
holds: a Helm chart from elsewhere (an Ollama chart with `gpu.enabled`), or a folder of
this repo gitops-gen does not read. Its GPU pods would take a lane's card with no rule
counting them, their images unpinned, their placement unchecked. Only sources gitops-gen
itself reads pass: this repo's rendered path and manifests folder. With `argocd.hub`,
only the hub runs Argo CD: an Argo CD object written for another cluster would sit there
with nothing acting on it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.inventory import as_list, as_map, get
from gitops_gen.render.scheduling import device_plugin_of

ID = "unchecked-application"
ARGO_CD_KINDS = ("Application", "ApplicationSet", "AppProject")
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Render what the Application would deploy into manifests/ (for a chart, "
    "'helm template' output), where every rule checks it; or deploy it from outside this "
    "repo's Argo CD tree. With argocd.hub, Argo CD objects go in the hub's manifests folder."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = KUBERNETES_ONLY


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    argocd = ctx.repo.config.argocd
    if argocd is None:
        return
    # Paths in Git that gitops-gen reads: rendered/ (and below) and each manifests folder.
    rendered_path = ctx.repo.config.rendered_path
    repo_dir = posixpath.dirname(rendered_path)
    read = {
        rendered_path,
        *(posixpath.join(repo_dir, m.directory) for m in ctx.repo.manifests),
    }
    for obj in ctx.inventory.objects:
        if obj.doc is None or obj.kind not in ARGO_CD_KINDS:
            continue
        home = ctx.repo.config.argocd_cluster(obj.cluster)
        if home != obj.cluster:
            # manifests/<cluster>/ syncs to that cluster; only the hub runs Argo CD.
            yield Hit(
                f"{obj.kind} {obj.name} would be created in cluster {obj.cluster}, where no "
                f"Argo CD runs (argocd.hub is {home}): nothing would act on it; put it "
                f"in manifests/{home}/",
                obj.where("kind"),
                obj.ident,
            )
            continue
        if obj.kind == "AppProject":
            continue
        if device_plugin_of(obj.data, ctx.repo.config) is not None:
            continue  # a device plugin's chart: single-device-plugin and platform-placement
        at: tuple[str, ...] = ("spec",)
        if obj.kind == "ApplicationSet":
            at = ("spec", "template", "spec")
        spec = as_map(get(obj.data, at))
        sources = [as_map(spec.get("source")), *map(as_map, as_list(spec.get("sources")))]
        for index, source in enumerate(s for s in sources if s):
            what = _unread(source, argocd.repo_url, read)
            if what is None:
                continue
            key = (*at, "source") if index == 0 and spec.get("source") else (*at, "sources")
            yield Hit(
                f"{obj.kind} {obj.name} deploys {what}, which gitops-gen does not read: its "
                "GPU pods, images and placement go unchecked",
                obj.where(*key),
                obj.ident,
            )


def _unread(source: Mapping[str, Any], repo_url: str, read: set[str]) -> str | None:
    """What the source deploys that gitops-gen does not read, or None."""
    url = str(source.get("repoURL", ""))
    if source.get("chart"):
        return f"chart {source.get('chart')} from {url}"
    path = posixpath.normpath(str(source.get("path", ".")))
    if url.rstrip("/") != repo_url.rstrip("/"):
        return f"{path} of {url}"
    if any(path == p or path.startswith(p + "/") for p in read):
        return None
    return f"{path} of this repo"
