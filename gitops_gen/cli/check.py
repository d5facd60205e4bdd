"""`check` (every rule, a report, an exit code), `rules` and `explain`."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gitops_gen.cli.app import main, parse_today, run

if TYPE_CHECKING:
    from gitops_gen.check import CheckResult

from gitops_gen.errors import EXIT_PASS, EXIT_WARN, GitopsGenError

FORMATS = ("auto", "text", "json", "sarif", "github", "markdown")


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
@click.option(
    "--base",
    "base_ref",
    metavar="REF",
    help="Git revision the change is made against: enables diff-aware rules.",
)
@click.option(
    "--fail-on",
    type=click.Choice(("warn", "block")),
    default="warn",
    show_default=True,
    help="block = warnings print and exit 0 (what the pre-commit hook uses); "
    "warn = warnings exit 10.",
)
@click.pass_obj
def check(
    repo: Path,
    fmt: str,
    output: Path | None,
    verbose: bool,
    today: str | None,
    base_ref: str | None,
    fail_on: str,
) -> None:
    """Run every rule; exit 0 pass, 10 warnings only, 20 blocked, 2 invalid input."""
    run(
        lambda: check_command(
            repo,
            fmt=fmt,
            output=output,
            verbose=verbose,
            today=parse_today(today),
            base_ref=base_ref,
            fail_on=fail_on,
        )
    )


def check_command(
    root: Path,
    *,
    fmt: str,
    output: Path | None,
    verbose: bool,
    today: dt.date | None,
    base_ref: str | None = None,
    fail_on: str = "warn",
) -> int:
    from gitops_gen.cache import Cache
    from gitops_gen.check import check_repo
    from gitops_gen.pr.base import BaseUnloadable, specs_and_policy_at

    cache = Cache.open(root)
    base_blind = False
    try:
        base, base_policy = (
            specs_and_policy_at(root, base_ref, cache) if base_ref is not None else (None, None)
        )
    except BaseUnloadable as exc:
        # Check the change on its own; being blind to what it changes is a warning.
        click.echo(
            f"gitops-gen: warning: {exc}; the checks against the base (maintenance-split, "
            "policy-weakened in this change) did not run",
            err=True,
        )
        base, base_policy, base_blind = None, None, True

    result = check_repo(root, today=today, base=base, base_policy=base_policy, cache=cache)
    cache.save()
    code = report_findings(result, fmt=fmt, output=output, verbose=verbose)
    if base_blind and code == EXIT_PASS:
        code = EXIT_WARN
    if code == EXIT_WARN and fail_on == "block":
        return EXIT_PASS
    return code


def report_findings(result: CheckResult, *, fmt: str, output: Path | None, verbose: bool) -> int:
    """Print (or write) the report in `fmt`; the exit code the findings give."""
    from gitops_gen.check.engine import as_rule
    from gitops_gen.check.findings import exit_code
    from gitops_gen.check.reports import LaneState, Report, render_report
    from gitops_gen.check.reports import text as text_report
    from gitops_gen.check.rules import REGISTRY

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
    run(lambda: rules_command(fmt))


def rules_command(fmt: str) -> int:
    from gitops_gen.check.engine import as_rule
    from gitops_gen.check.rules import REGISTRY

    rules = [as_rule(module) for module in REGISTRY]
    if fmt == "markdown":
        click.echo("| rule | default | applies to | checks |")
        click.echo("| --- | --- | --- | --- |")
    for rule in rules:
        summary = (rule.__doc__ or "").strip().splitlines()[0]
        targets = "both" if len(rule.TARGETS) > 1 else next(iter(rule.TARGETS))
        if fmt == "markdown":
            severity = rule.SEVERITY.label.lower()
            click.echo(f"| `{rule.ID}` | {severity} | {targets} | {summary} |")
        else:
            click.echo(f"{rule.ID:26} {rule.SEVERITY.label.lower():6} {targets:10} {summary}")
    return EXIT_PASS


@main.command()
@click.argument("rule_id", metavar="RULE")
def explain(rule_id: str) -> None:
    """What RULE checks, why it exists, and how to fix what it finds."""
    run(lambda: explain_command(rule_id))


def explain_command(rule_id: str) -> int:
    from gitops_gen.check.engine import as_rule
    from gitops_gen.check.rules import REGISTRY

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
