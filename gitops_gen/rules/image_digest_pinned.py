"""Every image is pinned by digest: lanes, init containers, Jobs, the gateway, the device plugin.

A tag moves: the CUDA image under a lane can change between two syncs with nobody
committing anything. `repo:tag@sha256:<digest>` keeps the tag for people and the digest
for the node.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.checker import CheckContext
from gitops_gen.findings import Hit, Severity
from gitops_gen.model import Location

ID = "image-digest-pinned"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Pin the image as repository:tag@sha256:<64 hex digits> (e.g. from 'crane digest' or "
    "'docker buildx imagetools inspect')."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True

PINNED = re.compile(r"@sha256:[0-9a-f]{64}\Z")


def spec_images(ctx: CheckContext) -> dict[str, Location]:
    """Where each image of the rendered output is written in the specs."""
    config = ctx.repo.config
    found: dict[str, Location] = {}
    if config.prefetch is not None:
        found[config.prefetch.image] = config.prefetch.where("image")
    if config.gateway is not None:
        found[config.gateway.image] = config.gateway.where("image")
    for lane in ctx.repo.lanes.values():
        found.setdefault(lane.image, lane.where("image"))
    return found


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    known = spec_images(ctx)
    reported: set[tuple[Location, str]] = set()
    plugin = ctx.repo.config.device_plugin
    if plugin is not None and not PINNED.search(plugin.image):
        yield Hit(
            f"device plugin image {plugin.image} is not pinned by digest",
            plugin.where("image"),
            "Application/nvidia-device-plugin",
        )
    for workload in ctx.inventory.workloads:
        lane = ctx.lane_of(workload)
        for container in workload.containers():
            image = str(container.data.get("image", ""))
            if PINNED.search(image):
                continue
            if workload.obj.doc is not None:
                where = workload.obj.where(*container.path, "image")
            else:
                where = known.get(image, workload.obj.origin)
            if (where, image) in reported:
                continue
            reported.add((where, image))
            owner = lane.name if lane is not None and image == lane.image else None
            yield Hit(
                f"image {image or '(none)'} of container "
                f"{container.data.get('name', '?')!r} is not pinned by digest",
                where,
                workload.obj.ident,
                owner,
            )
