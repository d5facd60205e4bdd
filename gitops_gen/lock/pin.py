"""`gitops-gen pin`: write `tag@sha256:<digest>` for every image the specs name by tag.

The one command that talks to the outside (an OCI registry, see oci.py), and only when
asked; render, check and diff stay offline. Edits are line edits guided by the loader's
line map, as `switch` does for `active:` lines, so comments, quoting and layout stay;
each new file text is re-parsed and must differ from the old only in the pinned images.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.lock.oci import BadReference, Reference, RegistryError, parse_reference
from gitops_gen.render.writer import write_file_atomic
from gitops_gen.specs.model import Repo, Spec
from gitops_gen.specs.source import KeyPath, parse_yaml_documents

PINNED = re.compile(r"@sha256:[0-9a-f]{64}\Z")
# An image reference inside a line: not preceded or followed by more reference characters.
_EDGE = r"[\w./:@-]"


class PinError(GitopsGenError):
    """A spec line could not be edited safely, or an IMAGE argument names nothing (exit 2)."""


@dataclass(frozen=True)
class Site:
    """One place an image is written: file, line and key path, and the text there."""

    file: str
    line: int
    path: KeyPath
    image: str
    what: str  # "lane main", "gateway", ... for messages

    @property
    def unpinned(self) -> str:
        """The image without its digest: what a tag lookup starts from."""
        return self.image.partition("@")[0]


def _site(spec: Spec, what: str, image: str, key: str = "image") -> Site:
    path = (*spec.prefix, key)
    return Site(spec.doc.file, spec.doc.line_of(path), path, image, what)


def _containers(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """(key path of `image`, image) of every container in a hand-written object."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in ("containers", "initContainers", "ephemeralContainers") and isinstance(
                value, list
            ):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping) and isinstance(item.get("image"), str):
                        yield (*path, key, index, "image"), item["image"]
            else:
                yield from _containers(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _containers(item, (*path, index))


def image_sites(repo: Repo) -> list[Site]:
    """Every image the specs and hand-written manifests name, in reading order."""
    config = repo.config
    sites = [_site(p, f"{p.vendor} device plugin", p.image) for p in config.device_plugins]
    sites += [
        _site(p, "bundled node-feature-discovery", p.nfd_image, "nfdImage")
        for p in config.device_plugins
        if p.nfd_image
    ]
    if config.prefetch is not None:
        sites.append(_site(config.prefetch, "prefetch", config.prefetch.image))
    if config.gateway is not None:
        sites.append(_site(config.gateway, "gateway", config.gateway.image))
    dcgm = config.monitoring.dcgm_exporter if config.monitoring else None
    if dcgm is not None:
        sites.append(_site(dcgm, "DCGM exporter", dcgm.image))
    sites.extend(_site(lane, f"lane {lane.name}", lane.image) for lane in repo.lanes.values())
    for manifest in repo.manifests:
        kind = manifest.data.get("kind", "?")
        name = (manifest.data.get("metadata") or {}).get("name", "?")
        for path, image in _containers(manifest.data):
            line = manifest.doc.line_of(path)
            sites.append(Site(manifest.doc.file, line, path, image, f"{kind}/{name}"))
    return sites


@dataclass
class Plan:
    """What pin will do: one lookup per unpinned reference, applied at every site."""

    lookups: dict[str, list[Site]] = field(default_factory=dict)  # image text -> sites
    refs: dict[str, Reference] = field(default_factory=dict)
    skipped: list[tuple[Site, str]] = field(default_factory=list)  # (site, why)


def plan_pins(sites: Sequence[Site], selected: Sequence[str], *, refresh: bool) -> Plan:
    """Choose the sites to pin: all, or those `selected` names (as written, with or without
    tag or digest); an already pinned image only with `refresh`."""
    chosen = list(sites)
    if selected:
        unknown = [s for s in selected if not any(_matches(s, site) for site in sites)]
        if unknown:
            known = ", ".join(sorted({site.unpinned for site in sites})) or "none"
            raise PinError(f"{', '.join(unknown)}: not an image of the specs (they name: {known})")
        chosen = [site for site in sites if any(_matches(s, site) for s in selected)]
    plan = Plan()
    for site in chosen:
        try:
            ref = parse_reference(site.image)
        except BadReference as exc:
            raise PinError(f"{site.file}:{site.line}: {exc}") from None
        if ref.digest and not refresh:
            plan.skipped.append((site, "pinned already (--refresh to look it up again)"))
            continue
        if ref.digest and ref.tag is None:
            plan.skipped.append((site, "pinned by digest without a tag: nothing to look up"))
            continue
        plan.lookups.setdefault(site.unpinned, []).append(site)
        plan.refs[site.unpinned] = ref
    return plan


def _matches(wanted: str, site: Site) -> bool:
    bare = site.unpinned
    slash, colon = bare.rfind("/"), bare.rfind(":")
    repository = bare[:colon] if colon > slash else bare
    return wanted in (site.image, bare, repository)


def pinned_text(image: str, ref: Reference, digest: str) -> str:
    """`name:tag@digest`; an image written without a tag gets the `latest` it resolved."""
    base = image.partition("@")[0]
    return f"{base}{'' if ref.tag else ':latest'}@{digest}"


def edit_text(file: str, text: str, changes: Sequence[tuple[Site, str]]) -> str:
    """`text` with each site's image replaced on its own line; nothing else changes."""
    lines = text.split("\n")
    for site, new in changes:
        pattern = re.compile(rf"(?<!{_EDGE}){re.escape(site.image)}(?!{_EDGE})")
        for index in (site.line - 1, site.line):  # the key's line, or a value below it
            if 0 <= index < len(lines) and pattern.search(lines[index]):
                lines[index] = pattern.sub(new.replace("\\", "\\\\"), lines[index], count=1)
                break
        else:
            raise PinError(f"{file}:{site.line}: {site.image} is not on this line; pin it by hand")
    new_text = "\n".join(lines)
    _verify(file, text, new_text, {(s.image, new) for s, new in changes})
    return new_text


def _verify(file: str, old: str, new: str, allowed: set[tuple[str, str]]) -> None:
    before = [d.data for d in parse_yaml_documents(old, file=file)]
    after = [d.data for d in parse_yaml_documents(new, file=file)]
    if not _same_but(before, after, allowed):
        raise PinError(f"{file}: could not pin the images without changing anything else")


def _same_but(old: Any, new: Any, allowed: set[tuple[str, str]]) -> bool:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return list(old) == list(new) and all(_same_but(old[k], new[k], allowed) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(
            _same_but(a, b, allowed) for a, b in zip(old, new, strict=True)
        )
    return bool(old == new or (old, new) in allowed)


@dataclass
class Outcome:
    pinned: list[tuple[Site, str]] = field(default_factory=list)  # (site, new image)
    failed: list[tuple[str, RegistryError]] = field(default_factory=list)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # file -> (old, new)


def resolve_all(root: Path, plan: Plan, resolve: Callable[[Reference], str]) -> Outcome:
    """Look every reference up; compute the new file texts (nothing written yet)."""
    outcome = Outcome()
    for image, sites in plan.lookups.items():
        try:
            digest = resolve(plan.refs[image])
        except RegistryError as exc:
            outcome.failed.append((image, exc))
            continue
        for site in sites:
            new = pinned_text(site.image, plan.refs[image], digest)
            if new != site.image:
                outcome.pinned.append((site, new))
    by_file: dict[str, list[tuple[Site, str]]] = {}
    for site, new in outcome.pinned:
        by_file.setdefault(site.file, []).append((site, new))
    for file, changes in sorted(by_file.items()):
        old = (root / file).read_text(encoding="utf-8")
        outcome.files[file] = (old, edit_text(file, old, changes))
    return outcome


def write_files(root: Path, files: Mapping[str, tuple[str, str]]) -> None:
    """Write every new text, each atomically; on a failure the files written go back."""
    written: list[tuple[Path, str]] = []
    try:
        for file, (old, new) in sorted(files.items()):
            write_file_atomic(root / file, new)
            written.append((root / file, old))
    except BaseException:
        for path, old in reversed(written):
            write_file_atomic(path, old)
        raise


def short(digest_image: str) -> str:
    """`x:tag@sha256:0123456789ab...` for one-line output."""
    base, _, digest = digest_image.partition("@")
    return f"{base}@{digest[:19]}..." if digest else base
