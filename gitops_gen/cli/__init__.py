"""The command line: thin click commands over plain functions that return exit codes."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gitops_gen import __version__
from gitops_gen.check.engine import as_rule
from gitops_gen.check.findings import exit_code
from gitops_gen.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_ENVIRONMENT,
    EXIT_PASS,
    EXIT_STALE,
    EXIT_WARN,
    GitopsGenError,
    InputError,
    Problem,
    UsageProblem,
    describe_os_error,
)
from gitops_gen.pipeline import build_repo
from gitops_gen.render.writer import compare_tree, write_tree
from gitops_gen.specs.schema import SCHEMA_FILES, schema_text

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


def render_command(root: Path, *, check: bool, name_files: bool = True) -> int:
    from gitops_gen.switch import (
        clear_pending_switch,
        finish_pending_switch,
        refuse_pending_switch,
    )

    if check:
        refuse_pending_switch(root)  # --check writes nothing, so it cannot finish one
    pending = None if check else finish_pending_switch(root)
    if pending is not None:
        click.echo(f"render: finishing the interrupted switch of {', '.join(pending.lanes)}")
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
    if pending is not None:
        clear_pending_switch(root)
    changed = len(diff.stale) + len(diff.missing)
    click.echo(
        f"rendered {len(files)} files ({objects} objects, schema-valid) into {shown}/: "
        f"{changed} written, {len(diff.extra)} removed, {diff.unchanged} unchanged."
    )
    # Name what changed, so a pre-commit hook that stopped the commit says what to stage.
    listed = [
        *(("wrote", p) for p in sorted([*diff.stale, *diff.missing])),
        *(("removed", p) for p in diff.extra),
    ]
    if not name_files:
        return EXIT_PASS
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
    return EXIT_PASS


RENDER_LISTED = 20


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
            click.echo(f"  {name:13} {filename}")
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
        raise UsageProblem(f"--today: {value!r} is not a date like 2026-06-12") from None


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
    _run(
        lambda: check_command(
            repo,
            fmt=fmt,
            output=output,
            verbose=verbose,
            today=_today(today),
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
    from gitops_gen.check import check_repo
    from gitops_gen.check.reports import LaneState, Report, render_report
    from gitops_gen.check.reports import text as text_report
    from gitops_gen.check.rules import REGISTRY
    from gitops_gen.pr.base import BaseUnloadable, specs_and_policy_at

    base_blind = False
    try:
        base, base_policy = (
            specs_and_policy_at(root, base_ref) if base_ref is not None else (None, None)
        )
    except BaseUnloadable as exc:
        # Check the change on its own; being blind to what it changes is a warning.
        click.echo(
            f"gitops-gen: warning: {exc}; the checks against the base (maintenance-split, "
            "policy-weakened in this change) did not run",
            err=True,
        )
        base, base_policy, base_blind = None, None, True

    result = check_repo(root, today=today, base=base, base_policy=base_policy)
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
    code = exit_code(result.findings)
    if base_blind and code == EXIT_PASS:
        code = EXIT_WARN
    if code == EXIT_WARN and fail_on == "block":
        return EXIT_PASS
    return code


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
    from gitops_gen.check.rules import REGISTRY

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


@main.command("preflight")
@click.argument("lane")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.option("--today", metavar="DATE", help="Judge waiver expiry as of this date.")
@click.pass_obj
def preflight_cmd(repo: Path, lane: str, fmt: str, today: str | None) -> None:
    """Would LANE fit and start on its node if it were the active lane? (0/10/20)"""
    _run(lambda: preflight_command(repo, lane, fmt=fmt, today=_today(today)))


def preflight_command(root: Path, name: str, *, fmt: str, today: dt.date | None) -> int:
    from gitops_gen.switch.preflight import preflight, render_json, render_text

    result = preflight(root, name, today=today)
    click.echo(render_json(result) if fmt == "json" else render_text(result), nl=False)
    return result.exit_code


@main.command("switch")
@click.argument("lane")
@click.option("--force", is_flag=True, help="Switch despite warnings (never despite blocks).")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--today", metavar="DATE", help="Judge waiver expiry as of this date.")
@click.pass_obj
def switch_cmd(repo: Path, lane: str, force: bool, dry_run: bool, today: str | None) -> None:
    """Make LANE the active lane on its GPUs: preflight, edit the lane files, re-render."""
    _run(lambda: switch_command(repo, lane, force=force, dry_run=dry_run, today=_today(today)))


def switch_command(
    root: Path, name: str, *, force: bool, dry_run: bool, today: dt.date | None
) -> int:
    from gitops_gen.errors import EXIT_BLOCK, EXIT_WARN
    from gitops_gen.switch import apply_switch, plan_switch
    from gitops_gen.switch.preflight import preflight, render_text

    pre = preflight(root, name, today=today)
    click.echo(render_text(pre), nl=False)
    code = pre.exit_code
    if code == EXIT_BLOCK:
        click.echo("switch: blocked by preflight; nothing changed.")
        return code
    if code == EXIT_WARN and not force and not dry_run:
        click.echo("switch: preflight warns; nothing changed (--force to switch anyway).")
        return code
    switch = plan_switch(root, pre.build, pre.plan)
    out = switch.after.out_dir
    shown = out.relative_to(root).as_posix() if out.is_relative_to(root) else str(out)
    verb = "would" if dry_run else "will"
    if not switch.plan:
        click.echo(f"switch: {pre.lane.name} is already the active lane.")
    for lane_name, active in sorted(switch.plan.items()):
        state = "active (replicas 0 -> 1)" if active else "parked (replicas 1 -> 0)"
        click.echo(f"switch: {lane_name} {verb} be {state}")
    for rel in sorted(switch.texts):
        click.echo(f"  edit {rel}")
    for alias, old, new in switch.routes:
        click.echo(f"  route {alias}: {old} -> {new}")
    changed = [*switch.diff.stale, *switch.diff.missing]
    for rel in changed:
        click.echo(f"  render {shown}/{rel}")
    for rel in switch.diff.extra:
        click.echo(f"  remove {shown}/{rel}")
    if dry_run:
        click.echo("switch: dry run; nothing changed.")
        return code
    apply_switch(root, switch)
    click.echo(
        f"switch: done; {len(switch.texts)} lane files and {len(changed)} rendered files "
        "changed. Review and commit them; Argo CD applies the switch."
    )
    return code


def _size_bytes(text: str) -> int:
    """`21GiB`, `22012345678`, `40GB`, `512MiB` -> bytes."""
    import re as _re

    match = _re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?\s*", text)
    if not match:
        raise UsageProblem(f"{text!r} is not a size like 21GiB or 22012345678")
    factors = {
        None: 1,
        "B": 1,
        "KiB": 2**10,
        "MiB": 2**20,
        "GiB": 2**30,
        "TiB": 2**40,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "TB": 10**12,
    }
    return int(float(match.group(1)) * factors[match.group(2)])


POSITIVE = click.IntRange(min=1)


@main.command("fit")
@click.argument("lanes", nargs=-1)
@click.option(
    "--engine",
    type=click.Choice(("llamacpp", "ollama", "vllm")),
    help="Ad-hoc estimate: the engine (with --size, --layers, ...).",
)
@click.option("--size", "size", help="Ad-hoc: model size (GGUF file or weights), e.g. 21GiB.")
@click.option("--vram", "vram", help="Ad-hoc: GPU memory, e.g. 24467MiB or 48GiB.")
@click.option("--layers", type=POSITIVE)
@click.option("--attention-layers", type=POSITIVE)
@click.option("--kv-heads", type=POSITIVE)
@click.option("--head-dim", type=POSITIVE)
@click.option(
    "--heads", type=POSITIVE, help="Query heads (compute buffers without flash attention)."
)
@click.option("--ctx", type=POSITIVE, help="Context (ctxSize / maxModelLen).")
@click.option("--cache", default="f16", show_default=True, help="KV cache type (K and V).")
@click.option("--parallel", type=POSITIVE, default=1, show_default=True)
@click.option(
    "--flash-attn", type=click.Choice(("on", "off", "auto")), default="on", show_default=True
)
@click.option(
    "--gpu-memory-utilization",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=0.9,
    show_default=True,
)
@click.option("--hidden-size", type=POSITIVE, help="Ad-hoc vLLM: hidden size (config.json).")
@click.option("--intermediate-size", type=POSITIVE, help="Ad-hoc vLLM: MLP width (config.json).")
@click.option("--vocab-size", type=POSITIVE, help="Ad-hoc vLLM: vocabulary size (config.json).")
@click.pass_obj
def fit_cmd(
    repo: Path,
    /,
    lanes: tuple[str, ...],
    engine: str | None,
    size: str | None,
    vram: str | None,
    **knobs: Any,
) -> None:
    """VRAM budget of every lane (or LANES), or an ad-hoc estimate with --engine."""
    if engine is not None:
        _run(lambda: fit_adhoc(engine, size, vram, knobs))
    else:
        _run(lambda: fit_command(repo, lanes))


def _bar(share: float, width: int = 20) -> str:
    filled = min(width, round(share * width))
    return "[" + "#" * filled + "." * (width - filled) + "]" + ("!" if share > 1 else " ")


def fit_command(root: Path, names: tuple[str, ...]) -> int:
    from gitops_gen.fit import fit_lane
    from gitops_gen.specs.loader import load_repo
    from gitops_gen.switch.preflight import find_lane

    repo = load_repo(root)
    lanes = [find_lane(repo, n) for n in names] or list(repo.lanes.values())
    if not lanes:
        click.echo("fit: no lanes in lanes/; add one (gitops-gen init scaffolds a repo).")
        return EXIT_PASS
    width = max(len(lane.name) for lane in lanes) + 2
    click.echo(
        f"{'lane':{width}} {'engine':8} {'ctx':>7} {'weights':>8} {'KV':>6} "
        f"{'compute':>7} {'other':>6} {'total':>7} {'VRAM':>7}  use   budget"
    )
    worst = 0
    for lane in lanes:
        gpus = repo.gpus_of(lane)
        model = repo.models.get(lane.model) if lane.model else None
        fit = fit_lane(lane, model, gpus[0] if gpus else None)
        mark = "*" if lane.active else " "
        label = f"{lane.name}{mark}"
        if fit is None:
            click.echo(
                f"{label:{width}} {lane.engine:8} (not estimated: no locked architecture "
                "or a generic engine)"
            )
            continue
        e = fit.estimate
        tail = fit.source
        if e.kv_space_mib is not None and e.sequence_mib is not None:
            tail = (
                f"KV space {e.kv_space_mib:.0f} MiB = "
                f"{max(e.kv_space_mib, 0) / e.sequence_mib:.1f} x {e.context}-token "
                "sequences"
                if e.sequence_mib
                else ""
            )
        verdict = "fits" if fit.fits else "DOES NOT FIT"
        worst = max(worst, 0 if fit.fits else 1)
        click.echo(
            f"{label:{width}} {lane.engine:8} {e.context or 0:>7} {e.weights_mib:>8.0f} "
            f"{e.kv_cache_mib:>6.0f} {e.compute_mib:>7.0f} {e.overhead_mib:>6.0f} "
            f"{fit.total_mib:>7.0f} {e.vram_mib:>7.0f} {fit.share:>4.0%} "
            f"{_bar(fit.share)} {verdict}, {tail}"
        )
    click.echo("(* active; MiB per GPU; total = recorded live peak where evidence applies)")
    return EXIT_PASS


def fit_adhoc(engine: str, size: str | None, vram: str | None, knobs: dict[str, Any]) -> int:
    from gitops_gen.fit import MIB, estimate
    from gitops_gen.specs.model import Architecture

    missing = [
        name
        for name, value in (
            ("--size", size),
            ("--vram", vram),
            ("--layers", knobs["layers"]),
            ("--kv-heads", knobs["kv_heads"]),
            ("--head-dim", knobs["head_dim"]),
        )
        if value is None
    ]
    if missing:
        raise GitopsGenError(f"an ad-hoc estimate needs {', '.join(missing)}")
    assert size is not None and vram is not None
    size_bytes, vram_bytes = _size_bytes(size), _size_bytes(vram)
    if size_bytes == 0 or vram_bytes == 0:
        raise UsageProblem("--size and --vram must be more than 0")
    arch = Architecture(
        layers=knobs["layers"],
        attention_layers=knobs["attention_layers"] or knobs["layers"],
        kv_heads=knobs["kv_heads"],
        head_dim=knobs["head_dim"],
        sliding_window=None,
        sliding_window_layers=0,
        context_length=knobs["ctx"],
        params=None,
        active_params=None,
        attention_heads=knobs["heads"],
        hidden_size=knobs["hidden_size"],
        vocab_size=knobs["vocab_size"],
        intermediate_size=knobs["intermediate_size"],
    )
    serve: dict[str, Any] = {"parallel": knobs["parallel"], "flashAttn": knobs["flash_attn"]}
    if engine == "vllm":
        serve.update(
            maxModelLen=knobs["ctx"],
            gpuMemoryUtilization=knobs["gpu_memory_utilization"],
            kvCacheDtype="auto" if knobs["cache"] in ("f16", "bf16") else knobs["cache"],
        )
    elif engine == "ollama":
        serve.update(ctxSize=knobs["ctx"], kvCacheType=knobs["cache"])
    else:
        serve.update(ctxSize=knobs["ctx"], cacheTypeK=knobs["cache"], cacheTypeV=knobs["cache"])
    result = estimate(engine, arch, size_bytes, serve, vram_bytes / MIB)
    assert result is not None
    click.echo(
        f"weights {result.weights_mib:.0f} MiB, KV cache {result.kv_cache_mib:.0f} MiB, "
        f"compute {result.compute_mib:.0f} MiB, overhead {result.overhead_mib:.0f} MiB"
    )
    if result.kv_space_mib is not None and result.sequence_mib is not None:
        click.echo(
            f"KV space {result.kv_space_mib:.0f} MiB; one {result.context}-token sequence "
            f"needs {result.sequence_mib:.0f} MiB"
        )
    click.echo(
        f"total {result.total_mib:.0f} MiB of {result.vram_mib:.0f} MiB "
        f"({result.share:.0%}) {_bar(result.share)} "
        f"{'fits' if result.fits else 'DOES NOT FIT'}"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
    return EXIT_PASS if result.fits else 1


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
    _run(lambda: lock_add_command(repo, path, name=name, source=source))


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
    _run(lambda: pin_command(repo, images, dry_run=dry_run, refresh=refresh, insecure=insecure))


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
    _run(lambda: diff_command(repo, base_ref, fmt=fmt, exit_code=exit_code, output=output))


def diff_command(
    root: Path, base_ref: str, *, fmt: str, exit_code: bool, output: Path | None
) -> int:
    from gitops_gen.check import rule_options
    from gitops_gen.check.policy import load_policy
    from gitops_gen.pr.base import build_and_policy_at
    from gitops_gen.pr.report import pull_request_diff, render_json, render_markdown, render_text
    from gitops_gen.specs.schema import SpecSchemas

    before, base_policy = build_and_policy_at(root, base_ref)
    after = build_repo(root)
    policies = (
        base_policy,
        load_policy(root, schemas=SpecSchemas(), rule_options=rule_options()),
    )
    diff = pull_request_diff(base_ref, before, after, policies=policies)
    renderers = {"text": render_text, "markdown": render_markdown, "json": render_json}
    text = renderers[fmt](diff)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return EXIT_STALE if exit_code and not diff.empty else EXIT_PASS


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init_cmd(directory: Path) -> None:
    """Scaffold a gitops-gen repo in DIRECTORY: a node, a lane, a lock, policies, hooks."""
    _run(lambda: init_command(directory))


INIT_FILES = (
    "gitops-gen.yaml",
    "hardware/gpu-node-1.yaml",
    "lanes/main.yaml",
    "models.lock.yaml",
    "policies/policy.yaml",
    "policies/waivers.yaml",
    ".pre-commit-config.yaml",
)


def init_command(directory: Path) -> int:
    from importlib import resources

    if (directory / "gitops-gen.yaml").exists():
        raise GitopsGenError(
            f"{directory / 'gitops-gen.yaml'} exists: this is a gitops-gen repo "
            "already; init never overwrites"
        )
    source = resources.files("gitops_gen").joinpath("defaults")
    files = {rel: source.joinpath("init", rel).read_text("utf-8") for rel in INIT_FILES}
    files["policies/capabilities.yaml"] = source.joinpath("capabilities.yaml").read_text("utf-8")
    files["policies/known-broken.yaml"] = source.joinpath("known-broken.yaml").read_text("utf-8")
    clashes = [rel for rel in files if (directory / rel).exists()]
    if clashes:
        raise GitopsGenError(f"{', '.join(clashes)} exist in {directory}; init never overwrites")
    for rel, text in sorted(files.items()):
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    render_command(directory, check=False, name_files=False)
    click.echo(
        "next: describe your node in hardware/, then\n"
        "  gitops-gen lock add PATH   (your GGUF file or Hugging Face snapshot)\n"
        "  gitops-gen pin             (image digests, from their registries)\n"
        "  gitops-gen render && gitops-gen check"
    )
    return EXIT_PASS
