"""The `gitops-gen` group and what every command shares: exit codes from errors, `-C`.

Imports stay light here and in every command module (click and the standard library):
a command imports the stages it runs when it runs, so `--version`, `rules` and the
pre-commit hook do not pay for what they do not use.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from gitops_gen import __version__
from gitops_gen.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_ENVIRONMENT,
    GitopsGenError,
    InputError,
    UsageProblem,
    describe_os_error,
)

EXIT_INTERNAL = 3


def run(action: Callable[[], int]) -> None:
    """Map errors to exit codes in one place; bad input never shows a traceback."""
    try:
        code = action()
    except InputError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        count = len(exc.problems)
        click.echo(
            f"gitops-gen: {count} problem{'s' if count != 1 else ''} in the specs; "
            "nothing was written.",
            err=True,
        )
        code = exc.exit_code
    except GitopsGenError as exc:
        for line in exc.lines():
            click.echo(f"gitops-gen: {line}", err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = _broken_pipe()
    except OSError as exc:  # the machine, not the input: disk full, no permission, ...
        click.echo(f"gitops-gen: {describe_os_error(exc, Path.cwd())}", err=True)
        code = EXIT_ENVIRONMENT
    except Exception as exc:  # a bug in gitops-gen, not bad input
        if os.environ.get("GITOPS_GEN_DEBUG"):
            raise
        click.echo(
            f"gitops-gen: internal error: {type(exc).__name__}: {exc} "
            "(set GITOPS_GEN_DEBUG=1 for a traceback)",
            err=True,
        )
        code = EXIT_INTERNAL
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _broken_pipe()
    sys.exit(code)


def _broken_pipe() -> int:
    """The reader went away (`gitops-gen explain X | head -1`): stop quietly, as a tool
    killed by SIGPIPE would, and keep Python from complaining while it exits."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitops-gen")
@click.option(
    "-C",
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Root of the gitops-gen repo.",
)
@click.pass_context
def main(ctx: click.Context, repo: Path) -> None:
    """Render GPU inference lanes into Kubernetes manifests and police the GPU contract."""
    ctx.obj = repo
    if ctx.invoked_subcommand in REPO_COMMANDS:
        from gitops_gen.switch import refuse_pending_switch

        try:
            refuse_pending_switch(repo)
        except GitopsGenError as exc:
            click.echo(f"gitops-gen: {exc}", err=True)
            ctx.exit(exc.exit_code)


def entry() -> None:
    """The console script: `-C DIR` is accepted anywhere on the command line
    (`gitops-gen render -C deploy` as well as `gitops-gen -C deploy render`)."""
    # A run builds many small containers and frees few, and none in cycles worth
    # collecting: the collector's passes over them cost up to half the time of a large
    # repo and find nothing (the same peak memory without it, at 5,000 lanes).
    gc.disable()
    main(args=hoist_repo_option(sys.argv[1:]), prog_name="gitops-gen")


def hoist_repo_option(args: list[str]) -> list[str]:
    """Move every `-C DIR` / `--repo DIR` (or `-CDIR`, `--repo=DIR`) to the front, where
    the group reads it; a `--` ends the options, as usual."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            rest.extend(args[index:])
            break
        if word in ("-C", "--repo") and index + 1 < len(args):
            front += [word, args[index + 1]]
            index += 2
            continue
        if word.startswith("--repo=") or (word.startswith("-C") and len(word) > 2):
            front.append(word)
        else:
            rest.append(word)
        index += 1
    return front + rest


# Commands that read lanes/ and rendered/ together: they wait for an interrupted switch
# to be finished (`render` finishes it).
REPO_COMMANDS = frozenset({"check", "diff", "fit", "preflight", "switch", "lock", "pin"})


def parse_today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageProblem(f"--today: {value!r} is not a date like 2026-06-12") from None
