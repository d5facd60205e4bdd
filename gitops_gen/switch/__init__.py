"""`gitops-gen switch LANE`: make LANE the active lane on its GPUs, as a reviewed change.

Preflight first; then only the `active:` lines of the lane files change (comments, key
order and quoting stay as written), and rendered/ is re-rendered. All or nothing: the
new lane texts and the new tree are computed and validated before anything is written,
and a failure while writing puts the lane files back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.pipeline import build_loaded
from gitops_gen.render import Build
from gitops_gen.render.writer import TreeDiff, compare_tree, write_file_atomic, write_tree
from gitops_gen.specs.model import Lane, Repo
from gitops_gen.specs.source import load_yaml, parse_yaml

_ACTIVE_LINE = re.compile(r"^(?P<pre>\s*active\s*:\s*)(?P<value>[^\s#]+)(?P<post>\s*(?:#.*)?)$")
# `active: <bool>` inside a flow mapping (`{name: x, active: false, ...}`) on one line.
_FLOW_ACTIVE = re.compile(
    r"(?P<pre>(?<![\w.\-\"'])(?P<q>[\"']?)active(?P=q)\s*:\s*)"
    r"(?P<value>true|false|True|False|TRUE|FALSE)"
    r"(?=\s*[,}#]|\s*$)"
)
JOURNAL = ".gitops-gen-switch.json"


class SwitchError(GitopsGenError):
    """The lane files could not be edited safely."""


def set_active(text: str, lane: Lane, active: bool) -> str:
    """`text` (a lane file) with its `active:` set, nothing else changed."""
    value = "true" if active else "false"
    lines = text.split("\n")
    line_no = lane.doc.lines.get(("active",))
    if line_no is not None:
        line = lines[line_no - 1]
        match = _ACTIVE_LINE.match(line)
        if match is not None:
            lines[line_no - 1] = f"{match['pre']}{value}{match['post']}"
        else:
            # Flow style: change the one value in place, so the layout and every comment
            # stay as written.
            found = list(_FLOW_ACTIVE.finditer(line))
            if len(found) != 1:
                raise SwitchError(
                    f"{lane.doc.file}:{line_no}: cannot find the one 'active:' value to "
                    "change on this line; set it by hand"
                )
            start, end = found[0].span("value")
            lines[line_no - 1] = line[:start] + value + line[end:]
    else:
        after = lane.doc.lines.get(("name",), 1)
        indent = re.match(r"\s*", lines[after - 1])
        lines.insert(after, f"{indent.group(0) if indent else ''}active: {value}")
    new = "\n".join(lines)
    _verify(text, new, lane, active)
    return new


def _verify(old: str, new: str, lane: Lane, active: bool) -> None:
    before = parse_yaml(old, file=lane.doc.file).data
    after = parse_yaml(new, file=lane.doc.file).data
    expected = {**before, "active": active}
    if after != expected:
        raise SwitchError(
            f"{lane.doc.file}: could not set active: {active} without changing "
            "anything else; edit it by hand"
        )


@dataclass(frozen=True)
class SwitchPlan:
    plan: Mapping[str, bool]  # lane -> active, only the lanes whose state changes
    texts: Mapping[str, tuple[str, str]]  # lane file -> (old text, new text)
    before: Build
    after: Build
    diff: TreeDiff
    routes: list[tuple[str, str, str]]  # (alias, old lanes, new lanes)


def _routes(build: Build) -> dict[str, str]:
    found: dict[str, str] = {}
    for obj in build.tree.objects:
        if obj.data.get("kind") == "ConfigMap" and "config.yaml" in obj.data.get("data", {}):
            config: Any = load_yaml(obj.data["data"]["config.yaml"])
            for entry in config.get("model_list", []):
                info = entry.get("model_info", {})
                lane = info.get("lane")
                if lane:
                    # An alias only parked lanes serve is routed to them, and fails.
                    lane += " (parked)" if info.get("active") is False else ""
                    key = entry["model_name"]
                    found[key] = ", ".join(filter(None, [found.get(key), lane]))
    return found


def plan_switch(root: Path, before: Build, plan: Mapping[str, bool]) -> SwitchPlan:
    repo = before.repo
    changes = {name: active for name, active in plan.items() if repo.lanes[name].active != active}
    texts: dict[str, tuple[str, str]] = {}
    lanes = dict(repo.lanes)
    for name, active in changes.items():
        lane = repo.lanes[name]
        old = (root / lane.doc.file).read_text(encoding="utf-8")
        texts[lane.doc.file] = (old, set_active(old, lane, active))
        lanes[name] = replace(lane, active=active)
    new_repo: Repo = replace(repo, lanes=lanes)
    after = build_loaded(new_repo)
    diff = compare_tree(after.out_dir, after.tree.files)
    old_routes, new_routes = _routes(before), _routes(after)
    routes = [
        (alias, old_routes.get(alias, "-"), new_routes.get(alias, "-"))
        for alias in sorted(set(old_routes) | set(new_routes))
        if old_routes.get(alias) != new_routes.get(alias)
    ]
    return SwitchPlan(
        plan=changes, texts=texts, before=before, after=after, diff=diff, routes=routes
    )


def apply_switch(root: Path, switch: SwitchPlan) -> TreeDiff:
    """Write the lane files, then the tree; on any failure the lane files go back.

    A journal of the lane texts is written first and removed last, so that a switch
    killed midway (no `except` runs then) is seen by the next command, and
    `gitops-gen render` finishes it: lanes and rendered/ always end up agreeing."""
    journal = root / JOURNAL
    write_file_atomic(
        journal,
        json.dumps(
            {
                "lanes": sorted(switch.plan),
                "files": {
                    rel: {"old": old, "new": new} for rel, (old, new) in switch.texts.items()
                },
            },
            indent=1,
            sort_keys=True,
        ),
    )
    written: list[tuple[Path, str]] = []
    try:
        for rel, (old, new) in sorted(switch.texts.items()):
            path = root / rel
            write_file_atomic(path, new)
            written.append((path, old))
        diff = write_tree(switch.after.out_dir, switch.after.tree.files)
    except BaseException:
        for path, old in reversed(written):
            write_file_atomic(path, old)
        journal.unlink(missing_ok=True)
        raise
    journal.unlink(missing_ok=True)
    return diff


@dataclass(frozen=True)
class PendingSwitch:
    """A switch that was killed between its lane edits and its render."""

    lanes: tuple[str, ...]
    files: Mapping[str, Mapping[str, str]]  # lane file -> {"old": text, "new": text}


def pending_switch(root: Path) -> PendingSwitch | None:
    path = root / JOURNAL
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PendingSwitch(tuple(data["lanes"]), dict(data["files"]))
    except (ValueError, KeyError, TypeError, OSError):
        raise SwitchError(
            f"{JOURNAL}: an interrupted switch left this journal, and it cannot be read; "
            "check lanes/ and rendered/ with 'git status', then delete it"
        ) from None


def refuse_pending_switch(root: Path) -> None:
    """Every command but `render` stops while an interrupted switch is unfinished."""
    pending = pending_switch(root)
    if pending is not None:
        raise SwitchError(
            f"a switch of {', '.join(pending.lanes)} was interrupted: lanes/ and rendered/ "
            "may disagree; run 'gitops-gen render' to finish it"
        )


def finish_pending_switch(root: Path) -> PendingSwitch | None:
    """Write the lane texts an interrupted switch had not written yet (before a render)."""
    pending = pending_switch(root)
    if pending is None:
        return None
    for rel, texts in sorted(pending.files.items()):
        path = root / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == texts["new"]:
            continue
        if current != texts["old"]:
            raise SwitchError(
                f"{rel} changed after the interrupted switch of {', '.join(pending.lanes)}; "
                f"check it, then delete {JOURNAL} and render"
            )
        write_file_atomic(path, texts["new"])
    return pending


def clear_pending_switch(root: Path) -> None:
    (root / JOURNAL).unlink(missing_ok=True)
