"""`lock add` (hash and record a model artifact) and `pin` (image digests)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gitops_gen.cli.app import main, run
from gitops_gen.cli.render import render_command
from gitops_gen.errors import EXIT_ENVIRONMENT, EXIT_PASS, GitopsGenError, InputError, Problem


@main.group("lock")
def lock_group() -> None:
    """Manage models.lock.yaml."""


@lock_group.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="Key in models.lock.yaml (default: from the file name).")
@click.option(
    "--source",
    metavar="REPO@REVISION",
    help="Hugging Face repo and commit, e.g. unsloth/Qwen3.6-35B-A3B-GGUF@<sha>; "
    "read from the path inside a Hugging Face cache.",
)
@click.pass_obj
def lock_add(repo: Path, path: Path, name: str | None, source: str | None) -> None:
    """Add or refresh a local GGUF file or Hugging Face snapshot in models.lock.yaml."""
    run(lambda: lock_add_command(repo, path, name=name, source=source))


def lock_add_command(root: Path, path: Path, *, name: str | None, source: str | None) -> int:
    import re as _re

    from gitops_gen import lock
    from gitops_gen.specs.loader import CONFIG_FILE

    if not (root / CONFIG_FILE).is_file():
        # Never leave a stray models.lock.yaml in whatever folder this ran in.
        raise InputError(
            [
                Problem(
                    CONFIG_FILE,
                    0,
                    "",
                    f"file not found in {root} (is this a gitops-gen repo? 'gitops-gen init' "
                    "scaffolds one, or pass -C DIR); nothing was written",
                )
            ]
        )
    lock.check_lock_file(root)
    artifact = lock.describe(path)
    matched = False
    if name is None:
        # The model a lane waits for is almost always the one being locked: use its name.
        waiting = lock.waiting_models(root)
        if len(waiting) > 1:
            listed = ", ".join(waiting)
            raise GitopsGenError(
                f"lanes wait for several models ({listed}); say which one this is, "
                f"e.g. --name {waiting[0]}"
            )
        matched = len(waiting) == 1
    key = name or (waiting[0] if matched else lock.default_name(path))
    if not _re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", key) or len(key) > 63:
        raise GitopsGenError(f"--name {key!r} must be a Kubernetes name (lowercase, digits, '-')")
    origin: tuple[str, str] | None = None
    if source is not None:
        repo_id, _, revision = source.partition("@")
        if "/" not in repo_id or not revision:
            raise GitopsGenError(f"--source {source!r} must be ORG/NAME@REVISION")
        origin = (repo_id, revision)
    else:
        origin = lock.source_from_path(path)
    total = sum(f.stat().st_size for f in artifact.files)
    with click.progressbar(
        length=total,
        label=f"sha256 {path.name}",
        file=sys.stderr,
        show_pos=False,
        show_percent=True,
    ) as bar:
        entry = lock.lock_entry(artifact, origin, progress=bar.update)
    verb = lock.write_lock(root, key, entry)
    arch = entry["architecture"]
    click.echo(
        f"{verb} {key} in models.lock.yaml: {artifact.format}, "
        f"{len(artifact.files)} file(s), {artifact.size_bytes} bytes, {arch['layers']} layers, "
        f"{arch['kvHeads']} KV heads x {arch['headDim']}"
    )
    for note in artifact.notes:
        click.echo(f"note: {note}")
    users = lock.lanes_using(root, key)
    if matched:
        click.echo(f"note: named {key} after the model {', '.join(users)} uses (--name to change)")
    elif not users:
        click.echo(
            f"note: no lane uses {key} yet: set 'model: {key}' in a lane, or lock it again "
            "with --name NAME"
        )
    if origin is None:
        click.echo(
            "note: source is unknown/unknown: set source.hf and a 40-hex source.revision "
            "(model-locked blocks until then)"
        )
    return EXIT_PASS


@main.command("pin")
@click.argument("images", nargs=-1, metavar="[IMAGE]...")
@click.option(
    "--dry-run", is_flag=True, help="Look the digests up and print the edits; write nothing."
)
@click.option(
    "--refresh", is_flag=True, help="Look pinned images up again (the tag may have moved)."
)
@click.option(
    "--insecure-registry",
    "insecure",
    multiple=True,
    metavar="HOST:PORT",
    help="Speak plain http to this registry (a local test registry); also "
    "$GITOPS_GEN_INSECURE_REGISTRIES, comma-separated.",
)
@click.pass_obj
def pin_cmd(
    repo: Path, images: tuple[str, ...], dry_run: bool, refresh: bool, insecure: tuple[str, ...]
) -> None:
    """Pin every image named by tag (or IMAGEs) to its digest, from its registry."""
    run(lambda: pin_command(repo, images, dry_run=dry_run, refresh=refresh, insecure=insecure))


def pin_command(
    root: Path,
    images: tuple[str, ...],
    *,
    dry_run: bool,
    refresh: bool,
    insecure: tuple[str, ...] = (),
) -> int:
    from gitops_gen.lock import oci, pin
    from gitops_gen.specs.loader import load_repo

    repo = load_repo(root)
    plan = pin.plan_pins(pin.image_sites(repo), images, refresh=refresh)
    for site, why in plan.skipped:
        if images or refresh:
            click.echo(f"  skip  {site.file}:{site.line} {site.image}: {why}")
    if not plan.lookups:
        click.echo("pin: nothing to pin: every image is pinned by digest.")
        return EXIT_PASS
    client = oci.Client(insecure=oci.insecure_hosts(insecure), credentials=oci.docker_credentials())
    outcome = pin.resolve_all(root, plan, client.resolve)
    for _image, error in outcome.failed:
        click.echo(f"gitops-gen: {error}", err=True)
    verb = "would pin" if dry_run else "pin"
    for site, new in outcome.pinned:
        click.echo(f"  {verb}  {site.file}:{site.line} ({site.what}) {pin.short(new)}")
    count = len({site.unpinned for site, _ in outcome.pinned})
    shown = f"{count} image{'s' if count != 1 else ''} in {len(outcome.files)} file" + (
        "s" if len(outcome.files) != 1 else ""
    )
    if not outcome.pinned and not outcome.failed:
        click.echo("pin: nothing changed: every tag still names the digest pinned to it.")
    if dry_run and outcome.pinned:
        click.echo(f"pin: dry run; {shown} would change; nothing written.")
    elif outcome.files:
        pin.write_files(root, outcome.files)
        click.echo(f"pin: pinned {shown}.")
        render_command(root, check=False)
    if outcome.failed:
        failed = len(outcome.failed)
        rest = "the others are pinned" if outcome.files and not dry_run else "nothing written"
        click.echo(
            f"gitops-gen: {failed} image{'s' if failed != 1 else ''} could not be looked up "
            f"(registry or network; exit {EXIT_ENVIRONMENT}); {rest}.",
            err=True,
        )
        return EXIT_ENVIRONMENT
    return EXIT_PASS
