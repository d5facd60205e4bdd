"""`render` (write or verify rendered/) and `schema` (the spec formats)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gitops_gen.cli.app import main, run
from gitops_gen.errors import EXIT_PASS, EXIT_STALE

if TYPE_CHECKING:
    from gitops_gen.cache import Cache
    from gitops_gen.render import Build
    from gitops_gen.render.writer import TreeMemo


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if rendered/ is not what the specs render to.",
)
@click.pass_obj
def render(repo: Path, check: bool) -> None:
    """Render the specs into rendered/ (validated against the Kubernetes schemas)."""
    run(lambda: render_command(repo, check=check))


def render_command(root: Path, *, check: bool, name_files: bool = True) -> int:
    from gitops_gen.cache import Cache

    cache = Cache.open(root)
    if check:
        code = check_rendered(root, cache)
    else:
        write_rendered(root, cache, name_files=name_files)
        code = EXIT_PASS
    cache.save()
    return code


def check_rendered(root: Path, cache: Cache) -> int:
    from gitops_gen.pipeline import build_repo
    from gitops_gen.render.writer import TreeMemo, compare_tree
    from gitops_gen.switch import refuse_pending_switch

    refuse_pending_switch(root)  # --check writes nothing, so it cannot finish one
    build = build_repo(root, cache=cache)
    shown = _shown(root, build.out_dir)
    files = build.tree.files
    diff = compare_tree(build.out_dir, files, TreeMemo(cache, build.tree))
    if diff.clean:
        click.echo(f"{shown}/ is up to date ({len(files)} files, {_contents(build)}).")
        return EXIT_PASS
    click.echo(f"{shown}/ is stale; run 'gitops-gen render' and commit the result:")
    for label, paths in (("stale", diff.stale), ("missing", diff.missing), ("extra", diff.extra)):
        for path in paths:
            click.echo(f"  {label:8} {shown}/{path}")
    return EXIT_STALE


def write_rendered(
    root: Path, cache: Cache, *, name_files: bool = True
) -> tuple[Build, int, TreeMemo]:
    """Finish an interrupted switch, render, validate and write rendered/, and say what
    changed; returns the build, how many files were written or removed, and what is now
    known of rendered/ (for the checks that read it next)."""
    from gitops_gen.pipeline import build_repo
    from gitops_gen.render.writer import TreeMemo, write_tree
    from gitops_gen.switch import clear_pending_switch, finish_pending_switch

    pending = finish_pending_switch(root)
    if pending is not None:
        click.echo(f"render: finishing the interrupted switch of {', '.join(pending.lanes)}")
    build = build_repo(root, cache=cache)
    shown = _shown(root, build.out_dir)
    files = build.tree.files
    memo = TreeMemo(cache, build.tree)
    diff = write_tree(build.out_dir, files, memo)
    if pending is not None:
        clear_pending_switch(root)
    changed = len(diff.stale) + len(diff.missing)
    click.echo(
        f"rendered {len(files)} files ({_contents(build)}, schema-valid) into "
        f"{shown}/: {changed} written, {len(diff.extra)} removed, {diff.unchanged} unchanged."
    )
    # Name what changed, so a pre-commit hook that stopped the commit says what to stage.
    listed = [
        *(("wrote", p) for p in sorted([*diff.stale, *diff.missing])),
        *(("removed", p) for p in diff.extra),
    ]
    if not name_files:
        return build, len(listed), memo
    for label, path in listed[:RENDER_LISTED]:
        click.echo(f"  {label:8} {shown}/{path}")
    if len(listed) > RENDER_LISTED:
        click.echo(f"  ... and {len(listed) - RENDER_LISTED} more")
    if listed:
        click.echo(f"stage them with the specs: git add {shown}/")
    removed_lanes = sorted({p.split("/")[2] for p in diff.extra if p.split("/")[1:2] == ["lanes"]})
    if removed_lanes and not build.repo.lanes:
        # An empty lanes/ (a bad merge, a moved folder) renders fine: say what it undid.
        click.echo(
            f"render: lanes/ holds no lane, so the files of every lane were removed "
            f"({', '.join(removed_lanes)}); if that was not meant, restore lanes/ and render again"
        )
    return build, len(listed), memo


def _shown(root: Path, out: Path) -> str:
    return out.relative_to(root).as_posix() if out.is_relative_to(root) else str(out)


RENDER_LISTED = 20


def _spec_kinds() -> list[str]:
    """The kinds `schema` takes, from the packaged schema files' names (without loading
    the schema module and what it imports, which only the command itself needs)."""
    folder = resources.files("gitops_gen").joinpath("schemas")
    suffix = ".schema.json"
    return sorted(p.name[: -len(suffix)] for p in folder.iterdir() if p.name.endswith(suffix))


SPEC_KINDS = _spec_kinds()


@main.command()
@click.argument("kind", required=False, type=click.Choice(SPEC_KINDS))
@click.option(
    "--write",
    "write_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every schema into this directory (for editors).",
)
def schema(kind: str | None, write_dir: Path | None) -> None:
    """Print the JSON Schema of a spec KIND (config, node, lane, models-lock)."""
    run(lambda: schema_command(kind, write_dir))


def schema_command(kind: str | None, write_dir: Path | None) -> int:
    from gitops_gen.specs.schema import SCHEMA_FILES, schema_text

    if write_dir is not None:
        write_dir.mkdir(parents=True, exist_ok=True)
        for name, filename in sorted(SCHEMA_FILES.items()):
            (write_dir / filename).write_text(schema_text(name), encoding="utf-8")
            click.echo(f"wrote {write_dir / filename}")
        return EXIT_PASS
    if kind is None:
        click.echo("Spec kinds (gitops-gen schema KIND prints one):")
        for name, filename in sorted(SCHEMA_FILES.items()):
            click.echo(f"  {name:13} {filename}")
        return EXIT_PASS
    click.echo(schema_text(kind), nl=False)
    return EXIT_PASS


def _contents(build: Build) -> str:
    """What the files hold: Kubernetes objects, and the services of compose hosts."""
    parts = []
    if build.tree.objects or not build.tree.compose:
        parts.append(f"{len(build.tree.objects)} objects")
    services = sum(len(c.data.get("services", {})) for c in build.tree.compose)
    if build.tree.compose:
        parts.append(f"{services} compose services")
    return ", ".join(parts)
