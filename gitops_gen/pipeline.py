"""The render pipeline from a repo root to validated output: load, plan, render, validate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_gen.errors import InputError, Problem
from gitops_gen.kube import KubeSchemas
from gitops_gen.loader import load_repo
from gitops_gen.model import Repo
from gitops_gen.render import RenderedTree, render_repo


@dataclass(frozen=True)
class Build:
    repo: Repo
    tree: RenderedTree

    @property
    def out_dir(self) -> Path:
        """rendered/: the loader has made sure it stays inside the repo."""
        assert self.repo.config.argocd is not None
        return self.repo.root / self.repo.config.argocd.rendered_path


def build_repo(root: Path, *, validate: bool = True) -> Build:
    """Load and render the repo; with `validate`, every rendered object must pass the strict
    Kubernetes schema (the checker reports violations as findings instead)."""
    return build_loaded(load_repo(root), validate=validate)


def build_loaded(repo: Repo, *, validate: bool = True) -> Build:
    tree = render_repo(repo)
    if validate:
        validate_tree(repo, tree)
    return Build(repo=repo, tree=tree)


def validate_tree(repo: Repo, tree: RenderedTree) -> None:
    schemas = {c.name: KubeSchemas(c.kubernetes_version) for c in repo.config.clusters}
    problems: list[Problem] = []
    for obj in tree.objects:
        cluster = obj.path.split("/", 1)[0]
        for violation in schemas[cluster].violations(obj.data):
            # A spec value Kubernetes would reject (a bad quantity, say) is bad input.
            where = f"{obj.ident}" + (f" {violation.path}" if violation.path else "")
            problems.append(
                Problem(
                    obj.origin.file, obj.origin.line, where, f"{violation.message} (in {obj.path})"
                )
            )
    if problems:
        raise InputError(problems)
