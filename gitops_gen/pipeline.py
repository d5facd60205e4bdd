"""The stages composed: a repo root to validated output (load, plan, render, validate)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gitops_gen.cache import Cache
from gitops_gen.check.validation import rendered_violations
from gitops_gen.errors import InputError, Problem
from gitops_gen.render import Build, render
from gitops_gen.render.templating import RenderedTree, TemplateRenderer
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.model import Repo


def build_repo(
    root: Path,
    *,
    validate: bool = True,
    cache: Cache | None = None,
    renderer: TemplateRenderer | None = None,
) -> Build:
    """Load and render the repo; with `validate`, every rendered object must pass the strict
    Kubernetes schema (the checker reports violations as findings instead)."""
    return build_loaded(
        load_repo(root, cache=cache), validate=validate, cache=cache, renderer=renderer
    )


def build_loaded(
    repo: Repo,
    *,
    validate: bool = True,
    cache: Cache | None = None,
    renderer: TemplateRenderer | None = None,
) -> Build:
    build = render(repo, renderer or TemplateRenderer(cache=cache))
    if not validate:
        return build
    validate_tree(repo, build.tree, cache)
    return replace(build, validated=True)


def validate_tree(repo: Repo, tree: RenderedTree, cache: Cache | None = None) -> None:
    """A spec value Kubernetes would reject (a bad quantity, say) is bad input."""
    found = rendered_violations(repo, tree, cache)
    problems: list[Problem] = []
    for obj in (*tree.objects, *tree.compose):
        for violation in found.get(obj.path, ()):
            where = f"{obj.ident}" + (f" {violation.path}" if violation.path else "")
            problems.append(
                Problem(
                    obj.origin.file, obj.origin.line, where, f"{violation.message} (in {obj.path})"
                )
            )
    if problems:
        raise InputError(problems)
