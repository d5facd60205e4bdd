"""init scaffolds a repo that renders, and whose check lists exactly what to fill in;
three commands later (lock add, pin) the hooks it wrote pass."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.specs.source import load_yaml
from tests.conftest import Result
from tests.test_lock import REV, write_gguf
from tests.test_pin import Registry, init_repo, needs_registry, push_init_images, registry

__all__ = ["registry"]  # the module-scoped fixture, shared with test_pin


def test_init_renders_and_check_names_what_to_fill_in(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    repo = tmp_path / "new"
    result = cli("init", str(repo), cwd=tmp_path)
    assert result.code == 0, result.err
    assert "rendered 13 files (13 objects, schema-valid) into rendered/" in result.out
    assert cli("render", "--check", cwd=repo).code == 0  # rendered at once
    check = cli("check", "--format", "json", cwd=repo)
    assert check.code == 20
    findings = json.loads(check.out)["findings"]
    rules = {f["rule"] for f in findings if f["severity"] == "block"}
    # the placeholders: images to pin, a model to lock; nothing else blocks
    assert rules == {"image-digest-pinned", "model-locked", "model-prefetched"}
    # every unpinned image in one run: lane, device plugin, its bundled NFD, prefetch (no
    # Job renders before the model is locked) and gateway
    unpinned = sorted(
        (f["file"], f["line"]) for f in findings if f["rule"] == "image-digest-pinned"
    )
    assert unpinned == [
        ("gitops-gen.yaml", 15),
        ("gitops-gen.yaml", 17),
        ("gitops-gen.yaml", 21),
        ("gitops-gen.yaml", 23),
        ("lanes/main.yaml", 10),
    ]
    assert cli("schema", cwd=repo).code == 0


def test_init_never_overwrites(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (tmp_path / "gitops-gen.yaml").write_text("kind: Config\n")
    result = cli("init", str(tmp_path), cwd=tmp_path)
    assert result.code == 2
    assert "init never overwrites" in result.err
    assert (tmp_path / "gitops-gen.yaml").read_text() == "kind: Config\n"


def test_init_hooks_are_local_and_fail_only_on_blocks(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    repo = tmp_path / "new"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    config = load_yaml((repo / ".pre-commit-config.yaml").read_text())
    (local,) = config["repos"]
    assert local["repo"] == "local"  # no remote repo or tag that does not exist yet
    hooks = {h["id"]: h for h in local["hooks"]}
    assert {h["language"] for h in hooks.values()} == {"system"}
    assert list(hooks) == ["gitops-gen"]  # one process: render, then check the same build
    assert hooks["gitops-gen"]["entry"] == "gitops-gen pre-commit"
    assert hooks["gitops-gen"]["verbose"] is True  # a passing hook still shows warnings


def _run_hooks(repo: Path) -> list[subprocess.CompletedProcess[str]]:
    """Each hook's entry, run as pre-commit runs a `language: system` hook."""
    config = load_yaml((repo / ".pre-commit-config.yaml").read_text())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return [
        subprocess.run(
            shlex.split(hook["entry"]), cwd=repo, env=env, capture_output=True, text=True
        )
        for hook in config["repos"][0]["hooks"]
    ]


@needs_registry
def test_init_to_green_in_three_steps(
    registry: Registry, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    push_init_images(registry)
    repo = init_repo(cli, tmp_path, registry)  # step 1 (images moved to the test registry)
    model = write_gguf(tmp_path / "Tiny-Q4_K_M.gguf")
    locked = cli("lock", "add", str(model), "--source", f"example/tiny@{REV}", cwd=repo)
    assert locked.code == 0, locked.err  # step 2: no --name, the lane's model is used
    assert locked.out.startswith("updated main-model in models.lock.yaml")
    assert "note: named main-model after the model lanes/main.yaml uses" in locked.out
    pinned = cli("pin", "--insecure-registry", registry.host, cwd=repo)
    assert pinned.code == 0, pinned.err  # step 3: pin, which re-renders
    assert cli("render", "--check", cwd=repo).code == 0
    assert cli("check", cwd=repo).code == 10  # a warning: not measured on a GPU yet
    assert cli("check", "--fail-on", "block", cwd=repo).code == 0
    assert [p.returncode for p in _run_hooks(repo)] == [0]
    if shutil.which("pre-commit", path=str(Path(sys.executable).parent)) is None:
        return  # the hooks ran above; the real pre-commit tool comes with '.[dev]'
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("Passed") == 1, run.stdout
    assert "[WARN] validation-evidence" in run.stdout  # a passing hook still shows warnings


@pytest.mark.parametrize("fail_on", ["warn", "block"])
def test_init_hooks_block_on_blocks(
    tmp_path: Path, cli: Callable[..., Result], fail_on: str
) -> None:
    repo = tmp_path / "new"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    assert cli("check", "--fail-on", fail_on, cwd=repo).code == 20
    (hook,) = _run_hooks(repo)
    assert hook.returncode == 20, hook.stdout + hook.stderr
