"""Every manifest under rendered/ was written by gitops-gen from the specs.

Argo CD syncs rendered/ recursively: a hand-written Deployment dropped there reaches the
cluster, yet render keeps it (it never touches files without its header) and no rule
sees it, since check builds the tree from the specs. Hand-written objects belong in
manifests/, where they are checked with everything else. Files Argo CD does not read
(anything but .yaml, .yml, .json and .jsonnet: a README.md note, say) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.render.writer import scan_tree
from gitops_gen.specs.manifests import ARGOCD_MANIFEST_SUFFIXES
from gitops_gen.specs.model import Location

ID = "foreign-rendered-file"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Move hand-written manifests to manifests/ (they are deployed and checked from there); "
    "delete stale generated files with 'gitops-gen render'."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    rendered_path = ctx.repo.config.rendered_path
    out_dir = ctx.repo.root / rendered_path
    hosts = {c.name for c in ctx.repo.config.clusters if c.is_compose}
    # One walk; reads only each file's header, and not even that of a file the cache
    # knows is current.
    generated, foreign = scan_tree(out_dir, ctx.tree_memo)
    rendered = set(ctx.tree.paths)
    for rel in sorted(foreign):
        if rel.split("/", 1)[0] in hosts:
            continue  # compose runs only the files that are included, not a folder
        if rel.endswith(ARGOCD_MANIFEST_SUFFIXES):
            yield Hit(
                "not written by gitops-gen (no gitops-gen header), yet Argo CD syncs it from "
                "here: move it to manifests/",
                Location(f"{rendered_path}/{rel}", 1),
            )
    for rel in sorted(set(generated) - rendered):
        yield Hit(
            "carries the gitops-gen header but the specs do not render it: Argo CD syncs it "
            "until 'gitops-gen render' removes it (a hand-written copy belongs in manifests/)",
            Location(f"{rendered_path}/{rel}", 1),
        )
