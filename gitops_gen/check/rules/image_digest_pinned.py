"""Every image is pinned by digest: lanes, init containers, Jobs, the gateway, the device plugin.

A tag moves: the CUDA image under a lane can change between two syncs with nobody
committing anything. `repo:tag@sha256:<digest>` keeps the tag for people and the digest
for the node. Every unpinned image is reported in one run, including images whose
objects are not rendered yet (the prefetch Job appears only once a model is locked), so
that `gitops-gen pin` and a reviewer see the whole list at once. On a compose host every
service that pulls an image is checked, the hand-written ones too (a service built on
the host from its own `build:` context pulls nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.specs.model import Location

ID = "image-digest-pinned"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Pin the image as repository:tag@sha256:<64 hex digits>: 'gitops-gen pin' writes the "
    "digests of every unpinned image into the specs."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET

PINNED = re.compile(r"@sha256:[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class SpecImage:
    """An image written in the specs, whether or not an object using it is rendered."""

    image: str
    where: Location
    what: str  # "lane main", "gateway", "prefetch", "device plugin"
    object: str
    lane: str | None = None


def spec_images(ctx: CheckContext) -> list[SpecImage]:
    """Every image the specs name, in the order a person reads them."""
    config = ctx.repo.config
    users: dict[str, str] = {}
    for workload in ctx.inventory.workloads:
        for container in workload.containers():
            users.setdefault(str(container.data.get("image", "")), workload.obj.ident)
    found: list[SpecImage] = []
    for plugin in config.device_plugins:
        found.append(
            SpecImage(
                plugin.image,
                plugin.where("image"),
                f"{plugin.vendor} device plugin",
                f"Application/{plugin.chart_name}",
            )
        )
        if plugin.vendor == "nvidia" and (plugin.nfd or plugin.gfd):
            # The chart's node-feature-discovery runs at its appVersion tag unless pinned.
            found.append(
                SpecImage(
                    plugin.nfd_image or "",
                    plugin.where("nfdImage") if plugin.nfd_image else plugin.where(),
                    "bundled node-feature-discovery (devicePlugin.nfdImage)",
                    f"Application/{plugin.chart_name}",
                )
            )
    if config.prefetch is not None:
        image = config.prefetch.image
        ident = users.get(image, "Job/model-prefetch")
        found.append(SpecImage(image, config.prefetch.where("image"), "prefetch", ident))
    dcgm = config.monitoring.dcgm_exporter if config.monitoring else None
    if dcgm is not None:
        found.append(
            SpecImage(
                dcgm.image,
                dcgm.where("image"),
                "DCGM exporter",
                f"Application/{dcgm.chart_name}",
            )
        )
    if config.gateway is not None:
        image = config.gateway.image
        ident = users.get(image, f"Deployment/{config.gateway.name}")
        found.append(SpecImage(image, config.gateway.where("image"), "gateway", ident))
    for lane in ctx.repo.lanes.values():
        found.append(
            SpecImage(
                lane.image,
                lane.where("image"),
                f"lane {lane.name}",
                ctx.lane_object(lane),
                lane.name,
            )
        )
    return found


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    specs = spec_images(ctx)
    from_specs = {s.image for s in specs}
    reported: set[tuple[Location, str]] = set()
    for spec in specs:
        if PINNED.search(spec.image) or (spec.where, spec.image) in reported:
            continue
        reported.add((spec.where, spec.image))
        yield Hit(
            f"{spec.what} image {spec.image or '(none)'} is not pinned by digest",
            spec.where,
            spec.object,
            spec.lane,
        )
    # Images that come from elsewhere: hand-written manifests, packaged defaults.
    for workload in ctx.inventory.workloads:
        lane = ctx.lane_of(workload)
        for container in workload.containers():
            image = str(container.data.get("image", ""))
            if PINNED.search(image) or image in from_specs:
                continue
            where = (
                workload.obj.where(*container.path, "image")
                if workload.obj.doc is not None
                else workload.obj.origin
            )
            if (where, image) in reported:
                continue
            reported.add((where, image))
            yield Hit(
                f"image {image or '(none)'} of container "
                f"{container.data.get('name', '?')!r} is not pinned by digest",
                where,
                workload.obj.ident,
                lane.name if lane is not None else None,
            )
    for service in ctx.inventory.services:
        pulled = service.image
        if pulled is None or PINNED.search(pulled) or pulled in from_specs:
            continue
        if "build" in service.data:
            continue  # built on the host from its own context: nothing to pull
        where = service.where("image")
        if (where, pulled) in reported:
            continue
        reported.add((where, pulled))
        yield Hit(
            f"image {pulled} of compose service {service.name!r} is not pinned by digest",
            where,
            service.ident,
            service.lane,
        )
