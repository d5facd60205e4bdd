"""Render: a loaded repo to the objects and bytes of rendered/ (plan, templates, emitter)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_gen.render.templating import RenderedTree, TemplateRenderer, render_repo
from gitops_gen.specs.model import Repo


@dataclass(frozen=True)
class Build:
    repo: Repo
    tree: RenderedTree
    validated: bool = False  # every rendered object passed the Kubernetes schemas

    @property
    def out_dir(self) -> Path:
        """rendered/: the loader has made sure it stays inside the repo."""
        return self.repo.root / self.repo.config.rendered_path


def render(repo: Repo, renderer: TemplateRenderer | None = None) -> Build:
    """The stage's entry: every planned file rendered, nothing validated or written."""
    return Build(repo=repo, tree=render_repo(repo, renderer=renderer))
