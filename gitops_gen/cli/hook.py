"""`pre-commit`: the whole hook in one process, rendering and checking one build."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen.cli.app import main, parse_today, run
from gitops_gen.cli.check import report_findings
from gitops_gen.cli.render import write_rendered
from gitops_gen.errors import EXIT_BLOCK, EXIT_PASS, EXIT_STALE, EXIT_WARN


@main.command("pre-commit")
@click.option(
    "--fail-on",
    type=click.Choice(("warn", "block")),
    default="block",
    show_default=True,
    help="block = warnings print and do not fail the hook; warn = warnings exit 10.",
)
@click.option("-v", "--verbose", is_flag=True, help="List every passing check.")
@click.option("--today", metavar="DATE", help="Judge waiver expiry as of this date.")
@click.pass_obj
def pre_commit(repo: Path, fail_on: str, verbose: bool, today: str | None) -> None:
    """`render` then `check` on one build: exit 20 blocked, 1 rendered/ was stale (now
    rewritten: stage it), 10 warnings (with --fail-on warn), 2 invalid input, else 0."""
    run(lambda: pre_commit_command(repo, fail_on=fail_on, verbose=verbose, today=today))


def pre_commit_command(root: Path, *, fail_on: str, verbose: bool, today: str | None) -> int:
    from gitops_gen.cache import Cache
    from gitops_gen.check import check_build

    day = parse_today(today)
    cache = Cache.open(root)
    build, changed, memo = write_rendered(root, cache)
    result = check_build(build, root=root, today=day, cache=cache, tree_memo=memo)
    cache.save()
    code = report_findings(result, fmt="text", output=None, verbose=verbose)
    if code == EXIT_BLOCK:
        return code
    if changed:
        return EXIT_STALE
    if code == EXIT_WARN and fail_on == "warn":
        return code
    return EXIT_PASS
