"""Commands about one lane on its card: `preflight`, `switch` and `fit`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from gitops_gen.cli.app import main, parse_today, run
from gitops_gen.errors import EXIT_PASS, GitopsGenError, UsageProblem


@main.command("preflight")
@click.argument("lane")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.option("--today", metavar="DATE", help="Judge waiver expiry as of this date.")
@click.pass_obj
def preflight_cmd(repo: Path, lane: str, fmt: str, today: str | None) -> None:
    """Would LANE fit and start on its node if it were the active lane? (0/10/20)"""
    run(lambda: preflight_command(repo, lane, fmt=fmt, today=parse_today(today)))


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
    run(lambda: switch_command(repo, lane, force=force, dry_run=dry_run, today=parse_today(today)))


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
        run(lambda: fit_adhoc(engine, size, vram, knobs))
    else:
        run(lambda: fit_command(repo, lanes))


def _bar(share: float, width: int = 20) -> str:
    filled = min(width, round(share * width))
    return "[" + "#" * filled + "." * (width - filled) + "]" + ("!" if share > 1 else " ")


def fit_command(root: Path, names: tuple[str, ...]) -> int:
    from gitops_gen.fit import worst_fit
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
        model = repo.models.get(lane.model) if lane.model else None
        fit = worst_fit(lane, model, repo.gpus_of(lane))  # the card it may get that it fits worst
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
        if e.engine == "generic":  # declared as a whole: no parts to show
            click.echo(
                f"{label:{width}} {lane.engine:8} {'-':>7} {'-':>8} {'-':>6} {'-':>7} "
                f"{'-':>6} {fit.total_mib:>7.0f} {e.vram_mib:>7.0f} {fit.share:>4.0%} "
                f"{_bar(fit.share)} {verdict}, {fit.source}"
            )
            continue
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
