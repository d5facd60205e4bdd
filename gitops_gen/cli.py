"""The command line: thin click commands over plain functions that return exit codes."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from gitops_gen import __version__
from gitops_gen.build import build_repo
from gitops_gen.checker import as_rule
from gitops_gen.errors import EXIT_PASS, EXIT_STALE, GitopsGenError, InputError
from gitops_gen.findings import exit_code
from gitops_gen.schema import SCHEMA_FILES, schema_text
from gitops_gen.writer import compare_tree, write_tree

EXIT_INTERNAL = 3


def _run(action: Callable[[], int]) -> None:
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
    except Exception as exc:  # a bug in gitops-gen, not bad input
        if os.environ.get("GITOPS_GEN_DEBUG"):
            raise
        click.echo(
            f"gitops-gen: internal error: {type(exc).__name__}: {exc} "
            "(set GITOPS_GEN_DEBUG=1 for a traceback)",
            err=True,
        )
        code = EXIT_INTERNAL
    sys.exit(code)


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


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if rendered/ is not what the specs render to.",
)
@click.pass_obj
def render(repo: Path, check: bool) -> None:
    """Render the specs into rendered/ (validated against the Kubernetes schemas)."""
    _run(lambda: render_command(repo, check=check))


def render_command(root: Path, *, check: bool) -> int:
    build = build_repo(root)
    out = build.out_dir
    shown = out.relative_to(root).as_posix() if out.is_relative_to(root) else str(out)
    files = build.tree.files
    objects = len(build.tree.objects)
    if check:
        diff = compare_tree(out, files)
        if diff.clean:
            click.echo(f"{shown}/ is up to date ({len(files)} files, {objects} objects).")
            return EXIT_PASS
        click.echo(f"{shown}/ is stale; run 'gitops-gen render' and commit the result:")
        for label, paths in (
            ("stale", diff.stale),
            ("missing", diff.missing),
            ("extra", diff.extra),
        ):
            for path in paths:
                click.echo(f"  {label:8} {shown}/{path}")
        return EXIT_STALE
    diff = write_tree(out, files)
    changed = len(diff.stale) + len(diff.missing)
    click.echo(
        f"rendered {len(files)} files ({objects} objects, schema-valid) into {shown}/: "
        f"{changed} written, {len(diff.extra)} removed, {diff.unchanged} unchanged."
    )
    return EXIT_PASS


@main.command()
@click.argument("kind", required=False, type=click.Choice(sorted(SCHEMA_FILES)))
@click.option(
    "--write",
    "write_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every schema into this directory (for editors).",
)
def schema(kind: str | None, write_dir: Path | None) -> None:
    """Print the JSON Schema of a spec KIND (config, node, lane, models-lock)."""
    _run(lambda: schema_command(kind, write_dir))


def schema_command(kind: str | None, write_dir: Path | None) -> int:
    if write_dir is not None:
        write_dir.mkdir(parents=True, exist_ok=True)
        for name, filename in sorted(SCHEMA_FILES.items()):
            (write_dir / filename).write_text(schema_text(name), encoding="utf-8")
            click.echo(f"wrote {write_dir / filename}")
        return EXIT_PASS
    if kind is None:
        click.echo("Spec kinds (gitops-gen schema KIND prints one):")
        for name, filename in sorted(SCHEMA_FILES.items()):
            click.echo(f"  {name:12} {filename}")
        return EXIT_PASS
    click.echo(schema_text(kind), nl=False)
    return EXIT_PASS


FORMATS = ("auto", "text", "json", "sarif", "github", "markdown")


def _today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-06-12") from None


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="auto = github inside GitHub Actions, text elsewhere.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option("-v", "--verbose", is_flag=True, help="Text format: list every passing check.")
@click.option("--today", metavar="DATE", help="Judge waiver expiry as of this date.")
@click.pass_obj
def check(repo: Path, fmt: str, output: Path | None, verbose: bool, today: str | None) -> None:
    """Run every rule; exit 0 pass, 10 warnings only, 20 blocked, 2 invalid input."""
    _run(lambda: check_command(repo, fmt=fmt, output=output, verbose=verbose, today=_today(today)))


def check_command(
    root: Path, *, fmt: str, output: Path | None, verbose: bool, today: dt.date | None
) -> int:
    from gitops_gen.check import check_repo
    from gitops_gen.reports import LaneState, Report, render_report
    from gitops_gen.reports import text as text_report
    from gitops_gen.rules import REGISTRY

    result = check_repo(root, today=today)
    repo = result.build.repo
    report = Report(
        findings=result.findings,
        rules=tuple(as_rule(m) for m in REGISTRY),
        lanes=tuple(LaneState(lane.name, lane.active, lane.node) for lane in repo.lanes.values()),
    )
    if fmt == "auto":
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    text = (
        text_report.render(report, verbose=verbose) if fmt == "text" else render_report(report, fmt)
    )
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}: {report.summary()}", err=True)
    else:
        click.echo(text, nl=False)
    return exit_code(result.findings)


@main.command("rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "markdown")),
    default="text",
    show_default=True,
    help="markdown = the table in the README.",
)
def rules_cmd(fmt: str) -> None:
    """List every rule with its default severity."""
    _run(lambda: rules_command(fmt))


def rules_command(fmt: str) -> int:
    from gitops_gen.rules import REGISTRY

    rules = [as_rule(module) for module in REGISTRY]
    if fmt == "markdown":
        click.echo("| rule | default | checks |")
        click.echo("| --- | --- | --- |")
    for rule in rules:
        summary = (rule.__doc__ or "").strip().splitlines()[0]
        if fmt == "markdown":
            click.echo(f"| `{rule.ID}` | {rule.SEVERITY.label.lower()} | {summary} |")
        else:
            click.echo(f"{rule.ID:26} {rule.SEVERITY.label.lower():6} {summary}")
    return EXIT_PASS


@main.command()
@click.argument("rule_id", metavar="RULE")
def explain(rule_id: str) -> None:
    """What RULE checks, why it exists, and how to fix what it finds."""
    _run(lambda: explain_command(rule_id))


def explain_command(rule_id: str) -> int:
    from gitops_gen.rules import REGISTRY

    rules = {as_rule(m).ID: as_rule(m) for m in REGISTRY}
    rule = rules.get(rule_id)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id, list(rules), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " ('gitops-gen rules' lists them)"
        raise GitopsGenError(f"unknown rule {rule_id!r}{hint}")
    click.echo(f"{rule.ID} (default severity: {rule.SEVERITY.label.lower()})")
    click.echo("")
    click.echo((rule.__doc__ or "").strip())
    click.echo("")
    click.echo(f"Fix: {rule.REMEDIATION}")
    if rule.OPTIONS:
        click.echo("")
        click.echo("Options (policies/policy.yaml, rules.<id>.options):")
        for name, default in rule.OPTIONS.items():
            click.echo(f"  {name}: default {default!r}")
    return EXIT_PASS
