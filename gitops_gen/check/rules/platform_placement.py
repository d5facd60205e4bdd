"""Every GPU node gets its vendor's device plugin, and the plugin's pods can run there.

A lane's GPU exists for Kubernetes only once the device plugin runs on the node. Seen in
the field: a node tainted `nvidia.com/gpu=present:NoSchedule` with `tolerations: []` in
the chart values (the chart then drops its own default toleration); the chart's default
node affinity asking for NFD labels that the bundled NFD worker can never add because it
does not tolerate the node's taints; an AMD card with no AMD device plugin at all. In
each case every lane stays Pending and nothing else says why.

The rule renders each chart's pod placement the way Helm would (chart defaults merged
with the rendered values; see gitops_gen/platform.py) and schedules every DaemonSet
against every GPU node of its vendor. It also reports a label that
`conventions.nodeSelectorLabels` selects lanes by but a node lacks: the lanes' node
selector would silently lose it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import KUBERNETES_ONLY, Hit, Severity
from gitops_gen.check.inventory import as_map, get
from gitops_gen.render.platform import (
    CONFIG_LABEL,
    chart_facts,
    gpu_nodes,
    schedule_platform,
    time_slicing_config,
    time_slicing_name,
)
from gitops_gen.render.scheduling import device_plugin_of
from gitops_gen.specs.model import DevicePlugin, Node

ID = "platform-placement"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Make the device plugin reach every GPU node: configure the vendor's plugin in "
    "gitops-gen.yaml (devicePlugin / amdDevicePlugin), and give its nodeSelector only labels "
    "the nodes carry in hardware/ (gitops-gen tolerates the nodes' taints and selects them "
    "by hostname itself)."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = KUBERNETES_ONLY

CONFIG_KEYS = {"nvidia": "devicePlugin", "amd": "amdDevicePlugin"}


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    config = ctx.repo.config
    lane_nodes = {lane.node for lane in ctx.repo.lanes.values()}
    for cluster in config.kube_clusters:  # a compose host has no device plugin
        nodes = sorted(
            (n for n in ctx.repo.nodes.values() if n.cluster == cluster.name),
            key=lambda n: n.name,
        )
        vendors = sorted({g.vendor for n in nodes if n.name in lane_nodes for g in n.gpus})
        for vendor in vendors:
            plugin = config.device_plugin_for(vendor)
            if plugin is None:
                yield from _missing_plugin(ctx, cluster.name, vendor, nodes)
                continue
            yield from _check_plugin(ctx, cluster.name, plugin, nodes)
        yield from _selector_labels(ctx, [n for n in nodes if n.name in lane_nodes])
        yield from _shared_card_config(ctx, nodes)
    # Argo CD's objects live where Argo CD runs: in each cluster, or all on the hub.
    trees: dict[str, set[str]] = {}
    for cluster in config.kube_clusters:
        trees.setdefault(config.argocd_cluster(cluster.name), set()).add(cluster.name)
    for home, clusters in sorted(trees.items()):
        yield from _projects(ctx, clusters, home)


def _missing_plugin(
    ctx: CheckContext, cluster: str, vendor: str, nodes: list[Node]
) -> Iterator[Hit]:
    hand_written = any(
        obj.cluster == cluster and device_plugin_of(obj.data, ctx.repo.config) == vendor
        for obj in ctx.inventory.objects
        if obj.doc is not None
    )
    if hand_written:
        return
    for node in nodes:
        if node.gpus_of(vendor):
            yield Hit(
                f"node {node.name} has {vendor} GPUs but no {vendor} device plugin is deployed: "
                f"its lanes stay Pending (add {CONFIG_KEYS[vendor]} to gitops-gen.yaml)",
                node.where("gpus"),
                f"Node/{node.name}",
            )


def _rendered_values(ctx: CheckContext, cluster: str, plugin: DevicePlugin) -> Mapping[str, Any]:
    """The chart values exactly as rendered into the plugin's Application."""
    for obj in ctx.inventory.objects:
        if obj.kind != "Application" or obj.cluster != cluster or obj.doc is not None:
            continue
        source = get(obj.data, ("spec", "source"), {})
        if isinstance(source, dict) and source.get("chart") == plugin.chart_name:
            values = get(source, ("helm", "valuesObject"), {})
            return values if isinstance(values, dict) else {}
    return {}


def _check_plugin(
    ctx: CheckContext, cluster: str, plugin: DevicePlugin, nodes: list[Node]
) -> Iterator[Hit]:
    key = CONFIG_KEYS[plugin.vendor]
    app = f"Application/{plugin.chart_name}"
    chart = chart_facts().get(plugin.chart_name)
    if chart is None:
        known = ", ".join(sorted(chart_facts()))
        yield Hit(
            f"{key}.chart.name {plugin.chart_name!r} is not a chart gitops-gen knows how to "
            f"place (known: {known}): its pods may never reach the GPU nodes",
            plugin.where("chart", "name"),
            app,
            severity=Severity.WARN,
        )
        return
    if chart.vendor != plugin.vendor:
        yield Hit(
            f"{key} uses the {chart.vendor} chart {plugin.chart_name!r}",
            plugin.where("chart", "name"),
            app,
        )
        return
    if plugin.chart_version not in chart.checked_versions:
        yield Hit(
            f"{key}.chart.version {plugin.chart_version}: the placement of "
            f"{plugin.chart_name} was checked for {', '.join(chart.checked_versions)}; "
            "verify its DaemonSets' nodeSelector, affinity and tolerations did not change",
            plugin.where("chart", "version"),
            app,
            severity=Severity.WARN,
        )
    targets = gpu_nodes(plugin, nodes)
    for miss in schedule_platform(plugin, _rendered_values(ctx, cluster, plugin), targets):
        field = "nodeSelector" if any("nodeSelector" in r for r in miss.reasons) else "chart"
        yield Hit(
            f"DaemonSet {miss.daemon_set} of chart {plugin.chart_name} cannot run on node "
            f"{miss.node.name}: {'; '.join(miss.reasons)}; the node's {plugin.vendor} GPUs "
            "are never advertised and its lanes stay Pending",
            plugin.where(field)
            if field == "nodeSelector" and plugin.node_selector
            else plugin.where(),
            app,
        )


def _shared_card_config(ctx: CheckContext, nodes: list[Node]) -> Iterator[Hit]:
    """A time-sliced card is advertised per replica only where the plugin runs its
    time-sliced config: the default one, or the one the node's label selects."""
    plugin = ctx.repo.config.device_plugin_for("nvidia")
    if plugin is None:
        return
    config = time_slicing_config(gpu_nodes(plugin, nodes))
    if config is None:
        return
    for node in nodes:
        for index, gpu in enumerate(node.gpus):
            if gpu.time_slicing is None:
                continue
            wanted = time_slicing_name(gpu.time_slicing)
            chosen = node.labels.get(CONFIG_LABEL, config["default"])
            if chosen == wanted:
                continue
            yield Hit(
                f"node {node.name} time-slices its {gpu.model} ({gpu.time_slicing} replicas), "
                f"but the device plugin would run config {chosen!r} there and advertise one "
                f"{gpu.resource}: the lanes sharing it stay Pending (label the node "
                f"{CONFIG_LABEL}={wanted}, in hardware/ and on the cluster)",
                node.where("gpus", index, "timeSlicing"),
                f"Node/{node.name}",
            )


def _selector_labels(ctx: CheckContext, nodes: list[Node]) -> Iterator[Hit]:
    config = ctx.repo.config
    for node in nodes:
        missing = [k for k in config.node_selector_labels if k not in node.labels]
        if missing:
            yield Hit(
                f"conventions.nodeSelectorLabels selects lanes by {', '.join(missing)}, but "
                f"node {node.name} has no such label in hardware/: its lanes' nodeSelector "
                "would silently lose it (add the label to the node, or drop it from "
                "conventions.nodeSelectorLabels)",
                node.where("labels") if node.labels else node.where(),
                f"Node/{node.name}",
            )


def _projects(ctx: CheckContext, clusters: set[str], argocd_at: str) -> Iterator[Hit]:
    """Every Application of these clusters' trees has a project on the cluster whose Argo
    CD syncs them (`argocd_at`), and the project admits its source and destination."""
    objects = ctx.inventory.objects
    projects = {o.name: o for o in objects if o.kind == "AppProject" and o.cluster == argocd_at}
    for app in objects:
        if app.cluster not in clusters or app.kind not in ("Application", "ApplicationSet"):
            continue
        # An ApplicationSet's Applications are its template: checked unless templated.
        at: tuple[str, ...] = ("spec",) if app.kind == "Application" else _TEMPLATE_SPEC
        spec = get(app.data, at, {})
        if not isinstance(spec, dict) or (app.kind == "ApplicationSet" and _templated(spec)):
            continue
        name = str(spec.get("project") or "default")
        where = app.where(*at, "project")
        if app.doc is None:
            where = ctx.repo.config.where("argocd", "project")
        if name == "default":
            continue
        project = projects.get(name)
        if project is None:
            yield Hit(
                f"{app.ident} uses Argo CD project {name!r}, which nothing creates: nothing "
                "in it syncs (gitops-gen renders the project set in argocd.project; a "
                "hand-written Application needs an AppProject in manifests/ or project default)",
                where,
                app.ident,
            )
            continue
        yield from _admits(project.data.get("spec") or {}, app, spec, where)


_TEMPLATE_SPEC = ("spec", "template", "spec")


def _templated(spec: Mapping[str, Any]) -> bool:
    """The project, repo or destination is filled in per generated Application."""
    source = as_map(spec.get("source"))
    destination = as_map(spec.get("destination"))
    values = [spec.get("project"), source.get("repoURL"), *destination.values()]
    return any("{{" in str(v) for v in values if v is not None)


def _admits(project: Any, app: Any, spec: Mapping[str, Any], where: Any) -> Iterator[Hit]:
    if not isinstance(project, dict):
        return
    repos = [str(r) for r in project.get("sourceRepos") or []]
    sources = [as_map(spec.get("source")), *map(as_map, spec.get("sources") or [])]
    for repo_url in dict.fromkeys(str(s.get("repoURL", "")) for s in sources):
        if repo_url and not _repo_permitted(repos, repo_url):
            yield Hit(
                f"{app.ident}: project does not allow source repo {repo_url}",
                where,
                app.ident,
            )
    destination = as_map(spec.get("destination"))
    namespace = str(destination.get("namespace", ""))
    server = str(destination.get("server", ""))
    allowed = [d for d in project.get("destinations") or [] if isinstance(d, dict)]
    if namespace and not any(_admitted(d, server, namespace) for d in allowed):
        yield Hit(
            f"{app.ident}: project does not allow destination namespace {namespace}"
            + (f" on {server}" if server else ""),
            where,
            app.ident,
        )


def _repo_permitted(patterns: list[str], repo_url: str) -> bool:
    """Argo CD's sourceRepos: glob patterns, and `!pattern` denies what it matches."""
    if any(p.startswith("!") and fnmatchcase(repo_url, p[1:]) for p in patterns):
        return False
    return any(not p.startswith("!") and fnmatchcase(repo_url, p) for p in patterns)


def _admitted(allowed: Mapping[str, Any], server: str, namespace: str) -> bool:
    """An AppProject destination admits this one: namespace and server are globs (`*`),
    and one naming no server (a cluster `name` instead) is not held against it."""
    ns = str(allowed.get("namespace", ""))
    at = str(allowed.get("server", "*") or "*")
    return fnmatchcase(namespace, ns) and (not server or fnmatchcase(server, at))
