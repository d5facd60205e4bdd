"""Lane units: a lane's own rendered files, remembered by the sources they come from.

A lane's Deployment, Service, NetworkPolicy, PodMonitor and workflows are planned by
`plan_lane_files` from the lane and `LaneInputs` only (the config, the nodes, the model
lock, the workflow registries; mypy holds the planner to that). So they are a function
of the lane's file and the files those come from, and are keyed by exactly those texts'
digests (`Repo.sources`) and the workflow files' checksums. A lane whose inputs did not
change is not planned again, and its files are not keyed object by object: one lookup
finds the render-cache entries of all of them. An edit of the config, a node, the lock
or a workflow gives every lane a new key, which is correct and merely slower.

The cache is keyed to gitops-gen's code as a whole, so a change to a planner or a
template is a new cache.
"""

from __future__ import annotations

from typing import Any

from gitops_gen.cache import Cache, digest
from gitops_gen.render.plan import LanePlan, PlannedFile, plan_lane_files
from gitops_gen.specs.model import Lane, Location, Repo

SECTION = "lane"


class StaleUnit(Exception):
    """A remembered output did not read back as one object: plan without units."""


class LaneUnits:
    """The lane planner of one render (`plan`), and what it learned (`remember`)."""

    def __init__(self, repo: Repo, cache: Cache) -> None:
        self._repo = repo
        self._cache = cache
        self._shared = _shared_key(repo)
        self._planned: dict[str, LanePlan] = {}  # unit key -> planned now, to remember

    @classmethod
    def of(cls, repo: Repo, cache: Cache | None) -> LaneUnits | None:
        """Units for a repo whose sources the loader recorded; None without a cache."""
        if cache is None or not cache.enabled or not repo.sources:
            return None
        return cls(repo, cache)

    def plan(self, lane: Lane, base: str) -> LanePlan:
        source = self._repo.sources.get(lane.doc.file)
        if source is None:
            return plan_lane_files(lane, self._repo, base)
        key = digest(SECTION, self._shared, base, lane.doc.file, source)
        found = _restore(self._cache.get(SECTION, key))
        if found is not None:
            return found
        planned = self._planned[key] = plan_lane_files(lane, self._repo, base)
        return planned

    def remember(self, key_of: Any) -> None:
        """Keep each lane planned now whose files all went into the render cache (an
        output that would not read back from its JSON text is never kept there)."""
        for unit, planned in self._planned.items():
            entries = []
            for file in planned.files:
                key = key_of(file)
                if key is None or self._cache.get("render", key) is None:
                    break
                entries.append((file.path, file.origin.file, file.origin.line, file.template, key))
            else:
                self._cache.put(SECTION, unit, (planned.base_url, tuple(entries)))


def _restore(entry: Any) -> LanePlan | None:
    """The lane's files by their render-cache keys; None for anything this module does
    not write. (A key whose text is gone makes the render start again without units.)"""
    if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], tuple)):
        return None
    url, items = entry
    files = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 5):
            return None
        path, file, line, template, key = item
        if not (
            isinstance(line, int)
            and all(isinstance(s, str) for s in (url, path, file, template, key))
        ):
            return None
        files.append(PlannedFile(path, Location(file, line), {}, template, cached=key))
    return LanePlan(files, url) if files else None


def _shared_key(repo: Repo) -> str:
    """The digest of every source of `LaneInputs`: each spec file but the lanes', and each
    workflow file's checksum (or its absence) and the files beside a registry."""
    lane_files = {lane.doc.file for lane in repo.lanes.values()}
    parts = [
        f"{path}\0{key}" for path, key in sorted(repo.sources.items()) if path not in lane_files
    ]
    for path, registry in sorted(repo.workflow_registries.items()):
        parts.append(f"{path}\0" + "\0".join(f"{w.path}={w.actual}" for w in registry.workflows))
        parts.append("\0".join(registry.unlisted))
    return digest(*parts)
