"""gitops-gen's commands timed as users run them, on synthetic repos of N lanes over N/4 nodes.

    python benchmarks/bench_render.py [--sizes 10,100,1000,5000,10000 | --quick]
                                      [--repeat N] [--markdown FILE] [--stages]

Each size is a generated git repository: the specs and rendered/ committed, then a second
commit that changes one lane's ctxSize (re-rendered), so `diff --base HEAD~1` has a base.
Every command runs as its own process (the `gitops-gen` console script next to this
Python), measured with os.wait4: CPU seconds (user + system, the child's own and those of
the processes it waited for, such as git), wall seconds, and peak resident memory.

- cold: `.gitops-gen-cache/` deleted just before the run; warm: the same command again
  right after. (The operating system's file cache is not dropped: cold is gitops-gen's
  cache only. Dirty pages are flushed (sync) before every run, outside its time.)
- one-lane edit: after a warm run, one lane file is edited (not committed) and
  `pre-commit` runs, the case a user hits on every commit. Without `pre-commit`,
  `render` and `check` run as two processes and their times are summed.
- objects/s: the Kubernetes objects under rendered/ over the wall time.
- growth: wall time over the same command's at the previous size.
- floors: `python -c pass` and `gitops-gen --version`, what any command pays to start.

A command that fails (an exit status it may not have, or a traceback) aborts the
benchmark with its stderr: the time of a failing command says nothing. Timings are the
best of --repeat runs (default 3, 1 from 5,000 lanes up). --stages adds the in-process
stage breakdown (load, render, validate, rules) without the cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
DIGEST = "sha256:" + "ab" * 32
CACHE = ".gitops-gen-cache"
GIT = [
    "git",
    "-c",
    "user.name=bench",
    "-c",
    "user.email=bench@example.com",
    "-c",
    "commit.gpgsign=false",
]
ALL_SIZES = (10, 100, 1000, 5000, 10000)
QUICK_SIZES = (10, 100, 1000)
CTX_SIZE = "ctxSize: 49152"
DIFF_LANE = "lane-00001"  # changed by HEAD (llama.cpp, active at every size)
EDIT_LANE = "lane-00000"  # edited in the work tree for the one-lane-edit case


def generate(root: Path, lanes: int, nodes: int) -> None:
    """A synthetic repo shaped like the example: one active lane per node, the rest parked."""
    shutil.copy(ROOT / "gitops-gen.yaml", root / "gitops-gen.yaml")
    (root / "hardware").mkdir()
    (root / "lanes").mkdir()
    for n in range(nodes):
        (root / "hardware" / f"node-{n:04d}.yaml").write_text(f"""\
kind: Node
name: gpu-{n:04d}
labels: {{kubernetes.io/hostname: gpu-{n:04d}, workload.ai/gpu: "true"}}
taints: [{{key: workload.ai/dedicated, value: gpu, effect: NoSchedule}}]
allocatable: {{cpu: "15", memory: 57457452Ki}}
systemReserved: {{cpu: 2755m, memory: 10304Mi}}
gpus: [{{vendor: nvidia, model: rtx-pro-4000-blackwell-sff, count: 1, vramMiB: 24467,
        computeCapability: "12.0"}}]
modelCache: {{hostPath: /models/vllm, mountPath: /models}}
""")
    models = []
    for m in range(max(1, lanes // 10)):
        models.append(f"""\
  model-{m:04d}:
    format: gguf
    file: Model-{m:04d}-Q4_K_M.gguf
    source: {{hf: example/model-{m:04d}-GGUF, revision: "{"c" * 40}"}}
    sha256: "{m:064x}"
    sizeBytes: {15_000_000_000 + m}
    architecture: {{layers: 40, attentionLayers: 10, kvHeads: 2, headDim: 256,
                   contextLength: 262144}}
""")
    (root / "models.lock.yaml").write_text("models:\n" + "".join(models))
    for i in range(lanes):
        node = i % nodes
        engine = "vllm" if i % 7 == 6 else "llamacpp"
        serve = (
            "{maxModelLen: 16384, gpuMemoryUtilization: 0.9}"
            if engine == "vllm"
            else "{ctxSize: 49152, cacheTypeK: q8_0, cacheTypeV: q8_0, flashAttn: 'on', "
            "parallel: 1, gpuLayers: 999, jinja: true, metrics: true}"
        )
        (root / "lanes" / f"lane-{i:05d}.yaml").write_text(f"""\
kind: Lane
name: lane-{i:05d}
active: {"true" if i < nodes else "false"}
node: gpu-{node:04d}
engine: {engine}
image: ghcr.io/example/{engine}:1.0@{DIGEST}
model: model-{i % len(models):04d}
serve: {serve}
resources:
  cpu: {{request: "8", limit: "14"}}
  memory: {{request: 32Gi, limit: 64Gi}}
aliases: [alias-{i % 50}]
""")


# --- measuring one process ---------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mib: float

    def __add__(self, other: Run) -> Run:
        """Two processes one after the other: times add up, memory peaks at the larger."""
        return Run(self.wall + other.wall, self.cpu + other.cpu, max(self.rss_mib, other.rss_mib))


class BenchError(Exception):
    """A command failed or the generated repo is not what the benchmark needs."""


def gitops_gen() -> list[str]:
    exe = Path(sys.executable).parent / "gitops-gen"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gitops_gen"]


def measure(command: list[str], cwd: Path, allowed: Iterable[int] = (0,)) -> Run:
    """One run of `command` as its own process. Raises BenchError, with the command's
    stderr, when it exits with a status outside `allowed` or prints a traceback."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        # what earlier steps wrote (the generated repo, git's objects) is flushed first,
        # so its write-back does not stall this run's file operations
        os.sync()
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    allowed = tuple(allowed)
    if code not in allowed or "Traceback (most recent call last)" in stderr:
        raise BenchError(
            f"{' '.join(command)} exited {code} (expected {' or '.join(map(str, allowed))})"
            f" in a {cwd.name} repo:\n{stderr.rstrip()}"
        )
    # ru_maxrss is in KiB on Linux
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(runs: Iterable[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


# --- the repo under test -----------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    done = subprocess.run([*GIT, *args], cwd=root, capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"git {' '.join(args)} exited {done.returncode}:\n{done.stderr}")


def edit_lane(root: Path, lane: str, new: str) -> None:
    path = root / "lanes" / f"{lane}.yaml"
    text = path.read_text()
    if CTX_SIZE not in text:
        raise BenchError(f"{path.name} has no {CTX_SIZE!r} to edit")
    path.write_text(text.replace(CTX_SIZE, new, 1))


def count_objects(rendered: Path) -> int:
    """The Kubernetes objects under rendered/: YAML documents with a top-level kind."""
    count = 0
    for path in rendered.rglob("*.yaml"):
        for doc in path.read_text(encoding="utf-8").split("\n---\n"):
            count += any(line.startswith("kind:") for line in doc.splitlines())
    return count


def prepare(root: Path, lanes: int) -> int:
    """Generate, render and commit the repo, then commit a change of one lane on top.
    Returns the number of rendered objects."""
    generate(root, lanes, max(1, lanes // 4))
    exe = gitops_gen()
    measure([*exe, "render"], root, (0, 10))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    edit_lane(root, DIFF_LANE, "ctxSize: 32768")
    measure([*exe, "render"], root, (0, 10))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one lane changed")
    shutil.rmtree(root / CACHE, ignore_errors=True)
    return count_objects(root / "rendered")


# --- the scenarios -----------------------------------------------------------------------

# (label, arguments, exit statuses that are not a failure)
COMMANDS: list[tuple[str, list[str], tuple[int, ...]]] = [
    ("render", ["render"], (0, 10)),
    ("render --check", ["render", "--check"], (0,)),  # right after render: must be clean
    ("check", ["check", "--format", "text"], (0, 10)),
    ("pre-commit", ["pre-commit"], (0, 10)),
    ("diff --base", ["diff", "--base", "HEAD~1"], (0,)),
]
EDIT_HOOK = "edit: pre-commit"
EDIT_TWO = "edit: render+check"


def has_pre_commit() -> bool:
    done = subprocess.run([*gitops_gen(), "pre-commit", "--help"], capture_output=True)
    return done.returncode == 0


# results[label][cache mode] = best run, or None for a command this version lacks
Results = dict[str, dict[str, Run | None]]


def bench_commands(root: Path, repeat: int, pre_commit: bool) -> Results:
    exe = gitops_gen()
    results: Results = {}
    for label, args, allowed in COMMANDS:
        if label == "pre-commit" and not pre_commit:
            results[label] = {"cold": None, "warm": None}
            continue
        cold, warm = [], []
        for _ in range(repeat):
            shutil.rmtree(root / CACHE, ignore_errors=True)
            cold.append(measure([*exe, *args], root, allowed))
            warm.append(measure([*exe, *args], root, allowed))
        results[label] = {"cold": best(cold), "warm": best(warm)}

    def hook(stale: bool) -> Run:
        if pre_commit:  # exit 1: rendered/ was stale and has been rewritten
            return measure([*exe, "pre-commit"], root, (1,) if stale else (0, 10))
        return measure([*exe, "render"], root, (0, 10)) + measure(
            [*exe, "check", "--format", "text"], root, (0, 10)
        )

    edits = []
    for k in range(repeat):
        hook(stale=False)  # the warm run: the cache holds the tree as committed
        # a new value each time, so no repeat finds the edited lane in the cache already
        edit_lane(root, EDIT_LANE, f"ctxSize: {49152 - 1024 * (k + 1)}")
        edits.append(hook(stale=True))
        git(root, "checkout", "-q", "--", ".")
    results[EDIT_HOOK if pre_commit else EDIT_TWO] = {"warm": best(edits)}
    return results


def bench_stages(root: Path, repeat: int) -> dict[str, float]:
    """Best-of-`repeat` seconds of each stage in this process, without the cache."""
    from gitops_gen.check import check_build
    from gitops_gen.check.validation import rendered_violations
    from gitops_gen.render import render
    from gitops_gen.specs import load_repo

    def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
        times, result = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        return min(times), result

    t_load, repo = timed(lambda: load_repo(root))
    t_render, build = timed(lambda: render(repo))
    t_validate, violations = timed(lambda: rendered_violations(repo, build.tree, None))
    if violations:
        raise BenchError(f"rendered objects fail the Kubernetes schemas: {violations}")
    checked = replace(build, validated=True)
    t_rules, _ = timed(lambda: check_build(checked, root=root))
    return {
        "load": t_load,
        "render": t_render,
        "validate": t_validate,
        "rules": t_rules,
        "total": t_load + t_render + t_validate + t_rules,
    }


# --- output ------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    version = subprocess.run([*gitops_gen(), "--version"], capture_output=True, text=True)
    words = version.stdout.split()
    return (
        f"{cpu}, {cores} cores"
        + (f" ({usable} usable)" if usable != cores else "")
        + f", Python {platform.python_version()}, "
        f"gitops-gen {words[-1] if words else '?'}, {dt.date.today().isoformat()}"
    )


HEAD = [
    "lanes",
    "objects",
    "command",
    "cache",
    "CPU s",
    "wall s",
    "objects/s",
    "peak MiB",
    "growth",
]
WIDTHS = [6, 7, 18, 5, 7, 7, 9, 8, 6]
LEFT = {2, 3}  # text columns


def row(lanes: int, objects: int, label: str, mode: str, run: Run | None, growth: str) -> list[str]:
    if run is None:
        return [f"{lanes:,}", f"{objects:,}", label, mode, "n/a", "n/a", "n/a", "n/a", "-"]
    return [
        f"{lanes:,}",
        f"{objects:,}",
        label,
        mode,
        f"{run.cpu:.2f}",
        f"{run.wall:.2f}",
        f"{objects / run.wall:,.0f}",
        f"{run.rss_mib:.0f}",
        growth,
    ]


def text_line(cells: list[str], widths: list[int], left: set[int]) -> str:
    return "  ".join(
        c.ljust(w) if i in left else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


def text_table(head: list[str], rows: list[list[str]], left: set[int]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(text_line(r, widths, left) for r in [head, *rows])


def markdown_table(head: list[str], rows: list[list[str]], left: set[int]) -> str:
    align = [":---" if i in left else "---:" for i in range(len(head))]
    lines = [head, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


def growth_note(sizes: list[int]) -> str:
    steps = ", ".join(f"{b / a:g}x" for a, b in itertools.pairwise(sizes))
    return "growth = wall time over the same command's at the previous size" + (
        f" (lanes grow {steps})." if steps else "."
    )


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of lane counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"lane counts must be at least 1: {text!r}")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(ALL_SIZES),
        help="comma-separated lane counts (default %(default)s)",
    )
    group.add_argument(
        "--quick",
        action="store_const",
        const=list(QUICK_SIZES),
        dest="sizes",
        help="sizes 10,100,1000",
    )
    parser.add_argument("--repeat", type=int, help="best of N (default 3, 1 from 5000 lanes)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    parser.add_argument("--stages", action="store_true", help="also time the stages in-process")
    args = parser.parse_args()
    try:
        run_benchmark(args.sizes, args.repeat, args.markdown, args.stages, sys.stdout)
    except BenchError as error:
        sys.exit(f"bench: aborted: {error}")


def run_benchmark(
    sizes: list[int], repeat: int | None, markdown: Path | None, stages: bool, out: TextIO
) -> None:
    started = time.perf_counter()
    where = machine()
    pre_commit = has_pre_commit()
    print(f"Machine: {where}.", file=out)
    if not pre_commit:
        print("gitops-gen has no pre-commit command: n/a below.", file=out)
    floors = {
        "python -c pass": best(measure([sys.executable, "-c", "pass"], ROOT) for _ in range(5)),
        "gitops-gen --version": best(measure([*gitops_gen(), "--version"], ROOT) for _ in range(5)),
    }
    floor_head = ["floor", "CPU s", "wall s", "peak MiB"]
    floor_rows = [
        [name, f"{r.cpu:.3f}", f"{r.wall:.3f}", f"{r.rss_mib:.0f}"] for name, r in floors.items()
    ]
    print("\n" + text_table(floor_head, floor_rows, {0}) + "\n", file=out)

    # the rows print as each size finishes (10,000 lanes take minutes), so fixed widths
    print(text_line(HEAD, WIDTHS, LEFT), file=out, flush=True)
    rows: list[list[str]] = []
    stage_rows: list[list[str]] = []
    previous: dict[str, float] = {}
    for size in sizes:
        n = repeat or (3 if size < 5000 else 1)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"gitops-gen-bench-{size}-") as tmp:
            root = Path(tmp)
            objects = prepare(root, size)
            results = bench_commands(root, n, pre_commit)
            if stages:
                t = bench_stages(root, n)
                growth = f"{t['total'] / previous['stages']:.1f}x" if "stages" in previous else "-"
                previous["stages"] = t["total"]
                stage_rows.append(
                    [f"{size:,}", f"{objects:,}", *(f"{v:.3f}" for v in t.values()), growth]
                )
        for label, runs in results.items():
            for mode, run in runs.items():
                key = f"{label} {mode}"
                growth = "-"
                if run is not None:
                    if key in previous:
                        growth = f"{run.wall / previous[key]:.1f}x"
                    previous[key] = run.wall
                cells = row(size, objects, label, mode, run, growth)
                rows.append(cells)
                print(text_line(cells, WIDTHS, LEFT), file=out, flush=True)
        print(
            f"... {size:,} lanes: best of {n}, {time.perf_counter() - t0:.0f} s with setup",
            file=sys.stderr,
            flush=True,
        )
    notes = [
        growth_note(sizes),
        "cold = .gitops-gen-cache/ deleted first; warm = the same command right after.",
        f"{EDIT_HOOK if pre_commit else EDIT_TWO} = one lane file edited after a warm run"
        + ("." if pre_commit else " (two processes, summed)."),
        "CPU s = user + system of the process and the processes it waited for (git).",
    ]
    print("\n" + "\n".join(notes), file=out)
    stage_head = ["lanes", "objects", "load", "render", "validate", "rules", "total", "growth"]
    if stages:
        print("\nIn-process stages, no cache (seconds):\n", file=out)
        print(text_table(stage_head, stage_rows, set()), file=out)
    print(f"\n{len(sizes)} sizes in {time.perf_counter() - started:.0f} s.", file=sys.stderr)
    if markdown:
        text = (
            f"Machine: {where}.\n\n"
            + markdown_table(floor_head, floor_rows, {0})
            + "\n"
            + markdown_table(HEAD, rows, LEFT)
            + "\n"
            + "".join(f"{note}\n" for note in notes)
        )
        if stages:
            text += "\nIn-process stages, no cache (seconds):\n\n" + markdown_table(
                stage_head, stage_rows, set()
            )
        markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
