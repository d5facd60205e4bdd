"""Every file of rendered/: each target's tree, a Kubernetes cluster's or a compose host's."""

from __future__ import annotations

from gitops_gen.render.compose import plan_compose_host
from gitops_gen.render.plan import LanePlanner, PlannedFile, plan_cluster
from gitops_gen.specs.model import Repo


def plan_repo(repo: Repo, lane_planner: LanePlanner | None = None) -> list[PlannedFile]:
    """Every file of rendered/, in a stable order (by target, then by path); a
    `lane_planner` plans a Kubernetes lane's own files (plan_lane_files by default)."""
    files: list[PlannedFile] = []
    for cluster in repo.config.clusters:
        if cluster.is_compose:
            files += plan_compose_host(cluster, repo)
        else:
            files += plan_cluster(cluster.name, cluster.server, repo, lane_planner)
    return sorted(files, key=lambda f: f.path)
