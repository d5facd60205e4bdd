"""Render + validate timings on synthetic repos: N lanes over N/4 nodes.

    python benchmarks/bench_render.py [--sizes 10,100,1000] [--repeat 3]

Prints, per size, the best-of-N wall time of each stage (load, render, Kubernetes
schema validation, render --check against a written tree), objects per second, and
the growth ratio against the previous size (linear growth keeps ratio ~ size ratio).
Also times the example repo's `gitops-gen render --check` as a user runs it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gitops_gen.build import build_repo  # noqa: E402
from gitops_gen.check import check_repo  # noqa: E402
from gitops_gen.checker import run_rules  # noqa: E402
from gitops_gen.kube import KubeSchemas  # noqa: E402
from gitops_gen.loader import load_repo  # noqa: E402
from gitops_gen.render import render_repo  # noqa: E402
from gitops_gen.rules import REGISTRY  # noqa: E402
from gitops_gen.writer import compare_tree, write_tree  # noqa: E402

DIGEST = "sha256:" + "ab" * 32


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
        model = f"model-{i % len(models):04d}"
        if engine == "vllm":
            model = f"model-{i % len(models):04d}"
        (root / "lanes" / f"lane-{i:05d}.yaml").write_text(f"""\
kind: Lane
name: lane-{i:05d}
active: {"true" if i < nodes else "false"}
node: gpu-{node:04d}
engine: {engine}
image: ghcr.io/example/{engine}:1.0@{DIGEST}
model: {model}
serve: {serve}
resources:
  cpu: {{request: "8", limit: "14"}}
  memory: {{request: 32Gi, limit: 64Gi}}
aliases: [alias-{i % 50}]
""")


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench_size(lanes: int, repeat: int) -> dict[str, float]:
    nodes = max(1, lanes // 4)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, lanes, nodes)
        t_load, repo = best(lambda: load_repo(root), repeat)
        t_render, tree = best(lambda: render_repo(repo), repeat)

        def validate() -> int:
            schemas = KubeSchemas("1.35")  # includes compiling validators, as a run does
            return sum(len(list(schemas.violations(o.data))) for o in tree.objects)

        t_validate, errors = best(validate, repeat)
        assert errors == 0
        t_build, build = best(lambda: build_repo(root), repeat)
        write_tree(build.out_dir, build.tree.files)
        t_check, diff = best(lambda: compare_tree(build.out_dir, build.tree.files), repeat)
        assert diff.clean
        result = check_repo(root)
        assert not [f for f in result.findings if f.severity.label == "BLOCK"]
        t_rules, _ = best(lambda: run_rules(result.context, REGISTRY), repeat)
        t_total, _ = best(lambda: check_repo(root), repeat)
        return {
            "lanes": lanes,
            "nodes": nodes,
            "objects": len(tree.objects),
            "files": len(tree.files),
            "load": t_load,
            "render": t_render,
            "validate": t_validate,
            "build": t_build,
            "check": t_check,
            "rules": t_rules,
            "total": t_total,
        }


def bench_example_cli(args: list[str], repeat: int) -> float:
    exe = Path(sys.executable).parent / "gitops-gen"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "gitops_gen"]
    return best(lambda: subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True), repeat)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    for command in (["render", "--check"], ["check"]):
        wall = bench_example_cli(command, args.repeat)
        print(f"example repo: gitops-gen {' '.join(command):15} {wall:.3f} s wall")
    print()
    print(
        f"{'lanes':>6} {'nodes':>5} {'objects':>7} {'load':>7} {'render':>7} {'validate':>8} "
        f"{'build':>7} {'diff':>7} {'rules':>7} {'check':>7} {'obj/s':>7} {'x build':>7} "
        f"{'x rules':>7}"
    )
    previous = None
    for size in sizes:
        r = bench_size(size, args.repeat)
        ratio = f"{r['build'] / previous['build']:.1f}x" if previous else "-"
        rules_ratio = f"{r['rules'] / previous['rules']:.1f}x" if previous else "-"
        print(
            f"{r['lanes']:>6} {r['nodes']:>5} {r['objects']:>7} {r['load']:>6.3f}s "
            f"{r['render']:>6.3f}s {r['validate']:>7.3f}s {r['build']:>6.3f}s "
            f"{r['check']:>6.3f}s {r['rules']:>6.3f}s {r['total']:>6.3f}s "
            f"{r['objects'] / r['build']:>7.0f} {ratio:>7} {rules_ratio:>7}"
        )
        previous = r
    print(
        "\nbuild = load + render + validate (what `render` does before writing); diff = "
        "render --check\nagainst a written tree; rules = every rule on the built repo; "
        "check = the whole `gitops-gen check`\n(load, render, rules); x = growth over the "
        "previous size."
    )


if __name__ == "__main__":
    main()
