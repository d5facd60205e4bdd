"""Pull requests: the objects Argo CD would apply differently from a base revision."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.cache import Cache
from gitops_gen.check import rule_options
from gitops_gen.check.policy import load_policy
from gitops_gen.pipeline import build_repo
from gitops_gen.pr.base import build_and_policy_at
from gitops_gen.pr.report import PullRequestDiff, pull_request_diff
from gitops_gen.render.templating import TemplateRenderer
from gitops_gen.specs.schema import SpecSchemas


def diff_against(root: Path, base_ref: str, cache: Cache | None = None) -> PullRequestDiff:
    """The stage's entry: the repo at `root` (validated) against itself at `base_ref`."""
    # One renderer for both revisions: an object whose template and values did not change
    # is rendered once, and is the same object on both sides of the diff.
    renderer = TemplateRenderer(reuse=True, cache=cache)
    before, base_policy = build_and_policy_at(root, base_ref, cache, renderer)
    after = build_repo(root, cache=cache, renderer=renderer)
    policies = (
        base_policy,
        load_policy(root, schemas=SpecSchemas(), rule_options=rule_options()),
    )
    return pull_request_diff(base_ref, before, after, policies=policies)
