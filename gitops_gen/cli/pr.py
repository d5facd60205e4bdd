"""`diff`: what a pull request changes, object by object, for reviewers."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen.cli.app import main, run
from gitops_gen.errors import EXIT_PASS, EXIT_STALE


@main.command("diff")
@click.option(
    "--base",
    "base_ref",
    required=True,
    metavar="REF",
    help="Git revision to compare with (e.g. origin/main).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "markdown", "json")),
    default="text",
    show_default=True,
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are differences.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file.",
)
@click.pass_obj
def diff_cmd(repo: Path, base_ref: str, fmt: str, exit_code: bool, output: Path | None) -> None:
    """What Argo CD would apply differently from REF, object by object, GPU first."""
    run(lambda: diff_command(repo, base_ref, fmt=fmt, exit_code=exit_code, output=output))


def diff_command(
    root: Path, base_ref: str, *, fmt: str, exit_code: bool, output: Path | None
) -> int:
    from gitops_gen.cache import Cache
    from gitops_gen.pr import diff_against
    from gitops_gen.pr.report import render_json, render_markdown, render_text

    cache = Cache.open(root)
    diff = diff_against(root, base_ref, cache)
    cache.save()
    renderers = {"text": render_text, "markdown": render_markdown, "json": render_json}
    text = renderers[fmt](diff)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return EXIT_STALE if exit_code and not diff.empty else EXIT_PASS
