"""`gitops-gen check`: build the repo, run every rule, report findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_gen.cache import Cache
from gitops_gen.check.engine import CheckContext, as_rule, run_rules
from gitops_gen.check.findings import Finding
from gitops_gen.check.inventory import build_inventory
from gitops_gen.check.policy import Policy, load_policy
from gitops_gen.check.rules import REGISTRY
from gitops_gen.check.validation import KubeSchemas, rendered_violations
from gitops_gen.render import Build, render
from gitops_gen.render.templating import TemplateRenderer
from gitops_gen.render.writer import TreeMemo
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.model import Repo
from gitops_gen.specs.schema import SpecSchemas


def rule_options() -> dict[str, dict[str, Any]]:
    return {as_rule(m).ID: dict(as_rule(m).OPTIONS) for m in REGISTRY}


@dataclass(frozen=True)
class CheckResult:
    build: Build
    policy: Policy
    findings: list[Finding]
    context: CheckContext


def check_repo(
    root: Path,
    *,
    today: dt.date | None = None,
    overrides: Mapping[str, bool] | None = None,
    base: Repo | None = None,
    base_policy: Policy | None = None,
    cache: Cache | None = None,
) -> CheckResult:
    """Check the repo at `root`; `overrides` (lane -> active) checks a switch before it is
    made; `base` and `base_policy` (the repo and its policies/ at a pull request's base)
    enable the diff-aware rules."""
    build = render(load_repo(root, cache=cache), TemplateRenderer(cache=cache))
    return check_build(
        build,
        root=root,
        today=today,
        overrides=overrides,
        base=base,
        base_policy=base_policy,
        cache=cache,
    )


def check_build(
    build: Build,
    *,
    root: Path,
    today: dt.date | None = None,
    overrides: Mapping[str, bool] | None = None,
    base: Repo | None = None,
    base_policy: Policy | None = None,
    cache: Cache | None = None,
    tree_memo: TreeMemo | None = None,
) -> CheckResult:
    """Run every rule on a build (`tree_memo`: what the render that wrote rendered/ just
    now knows of it). The rendered objects are validated here, once, for the
    kubernetes-schema rule: not at all for a validated build, and not those the cache
    knows to be valid."""
    violations = {} if build.validated else rendered_violations(build.repo, build.tree, cache)
    policy = load_policy(root, schemas=SpecSchemas(), rule_options=rule_options())
    ctx = CheckContext(
        repo=build.repo,
        tree=build.tree,
        inventory=build_inventory(build.repo, build.tree),
        policy=policy,
        today=today or dt.date.today(),
        kube={c.name: KubeSchemas(c.kubernetes_version) for c in build.repo.config.clusters},
        overrides=dict(overrides or {}),
        base=base,
        base_policy=base_policy,
        rendered_violations=violations,
        tree_memo=tree_memo or (TreeMemo(cache, build.tree) if cache is not None else None),
    )
    return CheckResult(build=build, policy=policy, findings=run_rules(ctx, REGISTRY), context=ctx)
