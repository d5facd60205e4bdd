"""gitops-gen's commands timed on synthetic repos: N lanes over N/4 nodes, as a user runs them.

    python benchmarks/bench_render.py [--sizes 10,100,1000,5000,10000] [--repeat N]
                                      [--markdown FILE]

Every command runs as its own process (the console script), measured with os.wait4:
CPU seconds (user + system), wall seconds, and peak resident memory. "cold" runs
without .gitops-gen-cache/ (deleted first), "warm" right after a run that filled it.
"edit" is the pre-commit case: one lane file edited, then `pre-commit` with a warm cache.
Objects/s is the rendered objects of the repo over the wall time. The floors are
`python -c pass` and `gitops-gen --version`: what any command pays before it starts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIGEST = "sha256:" + "ab" * 32
CACHE = ".gitops-gen-cache"
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


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


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mib: float


def gitops_gen() -> list[str]:
    exe = Path(sys.executable).parent / "gitops-gen"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gitops_gen"]


def measure(command: list[str], cwd: Path, allowed: tuple[int, ...] = (0,)) -> Run:
    """One run of `command` as its own process; aborts the benchmark if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read() if proc.stderr else ""
    proc.returncode = code
    if code not in allowed:
        sys.exit(f"bench: {' '.join(command)} exited {code} in {cwd}:\n{stderr}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True)


def prepare(root: Path, lanes: int) -> int:
    """The repo, rendered and committed twice (HEAD changes one lane): returns its objects."""
    generate(root, lanes, max(1, lanes // 4))
    done = subprocess.run(
        [*gitops_gen(), "render"], cwd=root, capture_output=True, text=True, check=True
    )
    found = re.search(r"\((\d+) objects", done.stdout)
    assert found, done.stdout
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    edit_lane(root, "aliases: [alias-", "aliases: [edited, alias-")
    subprocess.run([*gitops_gen(), "render"], cwd=root, capture_output=True, check=True)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one lane changed")
    return int(found.group(1))


def edit_lane(root: Path, old: str, new: str) -> None:
    lane = root / "lanes" / "lane-00001.yaml"
    text = lane.read_text()
    assert old in text, old
    lane.write_text(text.replace(old, new, 1))


COMMANDS: list[tuple[str, list[str], tuple[int, ...]]] = [
    ("render", ["render"], (0,)),
    ("render --check", ["render", "--check"], (0,)),
    ("check", ["check", "--format", "text"], (0, 10)),
    ("pre-commit", ["pre-commit"], (0,)),
    ("diff --base", ["diff", "--base", "HEAD~1"], (0,)),
]


def bench_size(lanes: int, repeat: int) -> tuple[int, dict[str, dict[str, Run]]]:
    results: dict[str, dict[str, Run]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        objects = prepare(root, lanes)
        exe = gitops_gen()
        for name, args, allowed in COMMANDS:
            cold, warm = [], []
            for _ in range(repeat):
                shutil.rmtree(root / CACHE, ignore_errors=True)
                cold.append(measure([*exe, *args], root, allowed))
                warm.append(measure([*exe, *args], root, allowed))
            results[name] = {"cold": best(cold), "warm": best(warm)}
        edits = []
        for _ in range(repeat):
            measure([*exe, "pre-commit"], root)  # a warm cache for the tree as committed
            edit_lane(root, "aliases: [edited, alias-", "aliases: [again, alias-")
            edits.append(measure([*exe, "pre-commit"], root, (1,)))  # rendered/ changed
            git(root, "checkout", "-q", "--", ".")
        results["pre-commit"]["edit"] = best(edits)
    return objects, results


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run(
        [*gitops_gen(), "--version"], capture_output=True, text=True
    ).stdout.split()[-1]
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"gitops-gen {version}, {dt.date.today().isoformat()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000,10000")
    parser.add_argument("--repeat", type=int, help="best of N (default 3, 1 from 5000 lanes)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    floors = {
        "python -c pass": best([measure([sys.executable, "-c", "pass"], ROOT) for _ in range(5)]),
        "gitops-gen --version": best(
            [measure([*gitops_gen(), "--version"], ROOT) for _ in range(5)]
        ),
    }
    rows: list[list[str]] = []
    previous: dict[str, float] = {}
    for size in sizes:
        repeat = args.repeat or (3 if size < 5000 else 1)
        objects, results = bench_size(size, repeat)
        for name, runs in results.items():
            for mode, run in runs.items():
                key = f"{name} {mode}"
                growth = f"{run.wall / previous[key]:.1f}x" if key in previous else "-"
                previous[key] = run.wall
                rows.append(
                    [
                        str(size),
                        str(objects),
                        name,
                        mode,
                        f"{run.cpu:.2f}",
                        f"{run.wall:.2f}",
                        f"{objects / run.wall:,.0f}",
                        f"{run.rss_mib:.0f}",
                        growth,
                    ]
                )
        print(f"... {size} lanes done", file=sys.stderr)

    head = ["lanes", "objects", "command", "cache", "CPU s", "wall s", "objects/s", "MiB", "x"]
    floor_head = ["floor", "CPU s", "wall s", "MiB"]
    floor_rows = [
        [k, f"{r.cpu:.3f}", f"{r.wall:.3f}", f"{r.rss_mib:.0f}"] for k, r in floors.items()
    ]
    print(table(floor_head, floor_rows))
    print()
    print(table(head, rows))
    print("\nx = wall time over the same command at the previous size.")
    if args.markdown:
        args.markdown.write_text(
            f"Machine: {machine()}.\n\n"
            + markdown(floor_head, floor_rows)
            + "\n"
            + markdown(head, rows),
            encoding="utf-8",
        )


def table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [head, *rows]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i in (2, 3) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def markdown(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
