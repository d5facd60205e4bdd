"""`gitops-gen diff --base REF`: what Argo CD would apply differently, for a pull request.

Objects are compared as data (see objdiff). The report puts the GPU first: per card,
which lane becomes active or parked, which images and device-plugin versions move, and
the VRAM estimate before and after. Above all of it, a "Policy weakened" section lists
what the change loosens in policies/ (see weakening.py): the gate switching itself off
must be the first thing a reviewer reads. Markdown stays under GitHub's comment limit by
shortening the per-object part, and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.check.policy import Policy
from gitops_gen.check.weakening import Weakening, weakenings
from gitops_gen.fit import worst_fit
from gitops_gen.pr.objdiff import MISSING, ObjectChange, ObjectDiff, Placed, diff_objects
from gitops_gen.render import Build
from gitops_gen.render.compose import GATEWAY_CONFIG
from gitops_gen.render.emitter import dump_yaml
from gitops_gen.specs.model import Lane, Repo

COMMENT_LIMIT = 65_000
MARKER = "<!-- gitops-gen diff -->"


@dataclass(frozen=True)
class CardChange:
    """What changes on one node's GPUs of one vendor."""

    node: str
    gpu: str
    vram_mib: int
    lanes: list[str] = field(default_factory=list)  # "lane: parked -> active"
    images: list[str] = field(default_factory=list)
    vram_before: float | None = None
    vram_after: float | None = None


@dataclass(frozen=True)
class PullRequestDiff:
    base_ref: str
    objects: ObjectDiff
    cards: list[CardChange]
    platform: list[str]
    # What this change loosens in policies/; it deploys nothing, so `empty` ignores it.
    policy: list[Weakening] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.objects.empty


def _short(image: str) -> str:
    name, _, digest = image.partition("@")
    return f"{name}@{digest[:19]}" if digest else name


def _lanes_by_node(repo: Repo) -> dict[str, list[Lane]]:
    found: dict[str, list[Lane]] = {}
    for lane in repo.lanes.values():
        found.setdefault(lane.node, []).append(lane)
    return found


def _active_vram(repo: Repo, lanes: list[Lane], vendor: str) -> float | None:
    """The estimated VRAM of the active lanes among `lanes` (one node's) on its `vendor` GPU."""
    total = 0.0
    found = False
    for lane in lanes:
        if not lane.active or lane.gpus == 0 or lane.model is None:
            continue
        gpus = repo.gpus_of(lane)
        if repo.vendor_of(lane) != vendor or not gpus:
            continue
        fit = worst_fit(lane, repo.models.get(lane.model), gpus)
        if fit is not None:
            total += fit.total_mib
            found = True
    return total if found else None


def _cards(before: Repo, after: Repo) -> list[CardChange]:
    cards = []
    old_by_node, new_by_node = _lanes_by_node(before), _lanes_by_node(after)
    for node in after.nodes.values():
        for vendor in sorted({g.vendor for g in node.gpus}):
            gpu = node.gpus_of(vendor)[0]
            lanes, images = [], []
            for lane in new_by_node.get(node.name, []):
                if after.vendor_of(lane) != vendor:
                    continue
                old = before.lanes.get(lane.name)
                state = "active" if lane.active else "parked"
                if old is None:
                    lanes.append(f"`{lane.name}`: new, {state}")
                elif old.active != lane.active:
                    was = "active" if old.active else "parked"
                    lanes.append(f"`{lane.name}`: {was} -> **{state}**")
                if old is not None and old.image != lane.image:
                    images.append(f"`{lane.name}`: `{_short(old.image)}` -> `{_short(lane.image)}`")
            for old in old_by_node.get(node.name, []):
                if old.name not in after.lanes:
                    lanes.append(f"`{old.name}`: removed")
            vram_before = (
                _active_vram(before, old_by_node.get(node.name, []), vendor)
                if node.name in before.nodes
                else None
            )
            vram_after = _active_vram(after, new_by_node.get(node.name, []), vendor)
            if lanes or images or vram_before != vram_after:
                cards.append(
                    CardChange(
                        node.name,
                        gpu.model,
                        gpu.vram_mib * gpu.count,
                        lanes,
                        images,
                        vram_before,
                        vram_after,
                    )
                )
    return cards


def _platform(before: Repo, after: Repo) -> list[str]:
    old, new = before.config.device_plugin, after.config.device_plugin
    lines = []
    if old is not None and new is not None:
        if old.chart_version != new.chart_version:
            lines.append(
                f"NVIDIA device plugin chart `{old.chart_version}` -> `{new.chart_version}`"
            )
        if old.image != new.image:
            lines.append(
                f"NVIDIA device plugin image `{_short(old.image)}` -> `{_short(new.image)}`"
            )
    elif old is None and new is not None:
        lines.append(f"NVIDIA device plugin added (chart `{new.chart_version}`)")
    elif old is not None and new is None:
        lines.append("NVIDIA device plugin removed")
    return lines


def deployed_objects(build: Build) -> list[Placed]:
    """Everything Argo CD syncs, with its cluster: the rendered objects and the hand-written
    manifests; and what docker compose runs on each compose host, service by service."""
    objects: list[Placed] = [(o.path.split("/", 1)[0], o.data) for o in build.tree.objects]
    objects += [(m.cluster, m.data) for m in build.repo.manifests]
    return objects + [(str(o["metadata"]["namespace"]), o) for o in compose_objects(build)]


# A compose service has no apiVersion or kind; these name it in the diff.
COMPOSE_API = "compose-spec.io"


def compose_objects(build: Build) -> list[Mapping[str, Any]]:
    """Each service of a compose host (rendered or hand-written) and the gateway's config,
    as objects keyed by host and name, so a diff lists what `docker compose up` changes."""
    found: list[Mapping[str, Any]] = []

    def add(kind: str, host: str, name: str, spec: Any) -> None:
        meta = {"name": name, "namespace": host}
        found.append({"apiVersion": COMPOSE_API, "kind": kind, "metadata": meta, "spec": spec})

    sources = [(c.path.split("/", 1)[0], c.data) for c in build.tree.compose]
    sources += sorted((host, doc.data) for host, doc in build.repo.compose_files.items())
    for host, data in sources:
        services = data.get("services")
        for name, service in sorted((services if isinstance(services, dict) else {}).items()):
            add("ComposeService", host, str(name), service)
    for rendered in build.tree.compose:
        host = rendered.path.split("/", 1)[0]
        gateway = build.tree.documents.get(f"{host}/{GATEWAY_CONFIG}")
        if gateway is not None:
            add("ComposeConfig", host, GATEWAY_CONFIG, {"config.yaml": dump_yaml(gateway[1])})
    return found


def pull_request_diff(
    base_ref: str,
    before: Build,
    after: Build,
    *,
    policies: tuple[Policy, Policy] | None = None,
) -> PullRequestDiff:
    """`policies`: policies/ at the base and now."""
    objects = diff_objects(deployed_objects(before), deployed_objects(after))
    weakened = [w for w in weakenings(policies[1], policies[0]) if w.changed] if policies else []
    return PullRequestDiff(
        base_ref,
        objects,
        _cards(before.repo, after.repo),
        _platform(before.repo, after.repo),
        weakened,
    )


# --- text ---------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if isinstance(value, str) and "\n" in value:
        return f"({len(value.splitlines())} lines)"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


def _multiline(old: Any, new: Any) -> bool:
    return isinstance(old, str) and isinstance(new, str) and "\n" in old + new


def _text_diff(old: str, new: str) -> list[str]:
    """Changed lines of an embedded text (a ConfigMap's config), with a line of context."""
    import difflib

    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
    return [line for line in lines if not line.startswith(("---", "+++", "@@"))]


def _summary(diff: PullRequestDiff) -> str:
    counts = {s: len(diff.objects.of(s)) for s in ("changed", "added", "removed")}
    return (
        f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed "
        f"against {diff.base_ref}"
    )


def render_text(diff: PullRequestDiff) -> str:
    out = [f"gitops-gen diff: {_summary(diff)}"]
    if diff.policy:
        out.append("policy weakened:")
        out.extend(f"  {w.message} ({w.where})" for w in diff.policy)
    for card in diff.cards:
        out.append(f"gpu {card.node} ({card.gpu}, {card.vram_mib} MiB):")
        out.extend(f"  lane {line.replace('`', '').replace('**', '')}" for line in card.lanes)
        out.extend(f"  image {line.replace('`', '')}" for line in card.images)
        if card.vram_before != card.vram_after:
            out.append(
                f"  vram {_mib(card.vram_before)} -> {_mib(card.vram_after)} of {card.vram_mib} MiB"
            )
    out.extend(f"platform: {line.replace('`', '')}" for line in diff.platform)
    for change in diff.objects.changes:
        sign = {"added": "+", "removed": "-", "changed": "~"}[change.status]
        out.append(f"{sign} {change.ident}")
        for f in change.fields:
            if _multiline(f.old, f.new):
                out.append(f"    {f.path}:")
                out.extend(f"      {line}" for line in _text_diff(f.old, f.new))
            else:
                out.append(f"    {f.path}: {_value(f.old)} -> {_value(f.new)}")
    return "\n".join(out) + "\n"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MiB"


# --- markdown -----------------------------------------------------------------------------


def _object_section(change: ObjectChange) -> str:
    if change.status == "changed":
        lines = []
        for f in change.fields:
            if _multiline(f.old, f.new):
                lines.append(f"@@ {f.path} @@")
                lines.extend(_text_diff(f.old, f.new))
            else:
                lines.append(f"- {f.path}: {_value(f.old)}")
                lines.append(f"+ {f.path}: {_value(f.new)}")
        body = "\n".join(lines)
        title = (
            f"~ {change.ident} ({len(change.fields)} field{'s' if len(change.fields) != 1 else ''})"
        )
    else:
        data = change.new if change.status == "added" else change.old
        sign = "+" if change.status == "added" else "-"
        body = "\n".join(f"{sign} {line}" for line in dump_yaml(dict(data or {})).splitlines())
        title = f"{sign} {change.ident} ({change.status})"
    return (
        f"<details><summary><code>{title}</code></summary>\n\n```diff\n{body}\n```\n\n</details>\n"
    )


def _chart(card: CardChange) -> str:
    before = round(card.vram_before or 0)
    after = round(card.vram_after or 0)
    return (
        "```mermaid\nxychart-beta\n"
        f'    title "{card.node}: VRAM of the active lanes (MiB)"\n'
        '    x-axis ["before", "after"]\n'
        f'    y-axis "MiB" 0 --> {card.vram_mib}\n'
        f"    bar [{before}, {after}]\n```\n"
    )


def _policy_section(diff: PullRequestDiff) -> list[str]:
    if not diff.policy:
        return []
    lines = ["#### :warning: Policy weakened", ""]
    lines.extend(f"- `{w.where}`: {w.message.replace('<', '&lt;')}" for w in diff.policy)
    return [*lines, ""]


def render_markdown(diff: PullRequestDiff, *, limit: int = COMMENT_LIMIT) -> str:
    head = [MARKER, f"### gitops-gen diff: {_summary(diff)}", "", *_policy_section(diff)]
    if diff.empty and not diff.cards:
        head.append("No differences: Argo CD would apply nothing new.")
        return "\n".join(head) + "\n"
    gpu: list[str] = ["#### GPU", ""]
    for card in diff.cards:
        gpu.append(f"**{card.node}** ({card.gpu}, {card.vram_mib} MiB)")
        gpu.append("")
        gpu.extend(f"- lane {line}" for line in card.lanes)
        gpu.extend(f"- image {line}" for line in card.images)
        if card.vram_before != card.vram_after:
            gpu.append(
                f"- VRAM (estimate or recorded peak of the active lanes): "
                f"{_mib(card.vram_before)} -> {_mib(card.vram_after)}"
            )
            gpu.append("")
            gpu.append(_chart(card))
        gpu.append("")
    gpu.extend(f"- {line}" for line in diff.platform)
    if not diff.cards and not diff.platform:
        gpu.append("Nothing changes on the GPUs.")
    gpu.append("")
    objects = ["#### Objects", ""]
    sections = [_object_section(change) for change in diff.objects.changes]
    top = re.sub(r"\n{3,}", "\n\n", "\n".join([*head, *gpu, "", *objects])) + "\n"
    text = top + "".join(sections)
    if len(text) <= limit:
        return text
    # Too long for a comment: keep every object's name, drop the longest bodies first.
    shortened = [f"- `{c.status}` `{c.ident}`\n" for c in diff.objects.changes]
    note = (
        f"\n_The per-object diffs were shortened to stay under {limit} characters; run "
        f"`gitops-gen diff --base {diff.base_ref}` for all of them._\n"
    )
    kept: list[str] = []
    budget = limit - len(top) - len(note) - sum(map(len, shortened))
    for section, short in zip(sections, shortened, strict=True):
        if len(section) - len(short) <= budget:
            kept.append(section)
            budget -= len(section) - len(short)
        else:
            kept.append(short)
    return top + "".join(kept) + note


def render_json(diff: PullRequestDiff) -> str:
    data = {
        "base": diff.base_ref,
        "changed": len(diff.objects.of("changed")),
        "added": len(diff.objects.of("added")),
        "removed": len(diff.objects.of("removed")),
        "gpu": [
            {
                "node": c.node,
                "gpu": c.gpu,
                "vramMiB": c.vram_mib,
                "lanes": c.lanes,
                "images": c.images,
                "vramBeforeMiB": c.vram_before,
                "vramAfterMiB": c.vram_after,
            }
            for c in diff.cards
        ],
        "platform": diff.platform,
        "policyWeakened": [
            {"rule": w.rule, "message": w.message, "file": w.where.file, "line": w.where.line}
            for w in diff.policy
        ],
        "objects": [
            {
                "object": c.ident,
                "status": c.status,
                "fields": [
                    {
                        "path": f.path,
                        "old": None if f.old is MISSING else f.old,
                        "new": None if f.new is MISSING else f.new,
                    }
                    for f in c.fields
                ],
            }
            for c in diff.objects.changes
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
