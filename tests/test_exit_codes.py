"""Ordinary input and the environment never end in exit 3 ("a bug in gitops-gen")."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result, _console_script


def test_fit_with_no_lanes_says_so(example: Path, cli: Callable[..., Result]) -> None:
    for lane in (example / "lanes").iterdir():
        lane.unlink()
    result = cli("fit", cwd=example)
    assert (result.code, result.out.strip()) == (
        0,
        "fit: no lanes in lanes/; add one (gitops-gen init scaffolds a repo).",
    )


def test_a_date_in_the_wrong_form_is_a_usage_error(
    example: Path, cli: Callable[..., Result]
) -> None:
    for command in ("check", "preflight qwen36-35b-gguf-fast", "switch vllm-rollback --dry-run"):
        result = cli(*command.split(), "--today", "31/12/2026", cwd=example)
        assert result.code == 2, (command, result.err)
        assert result.err.strip() == (
            "gitops-gen: --today: '31/12/2026' is not a date like 2026-06-12"
        )


def test_a_reader_that_goes_away_is_not_a_crash(example: Path) -> None:
    """`gitops-gen explain placement | head -1`: exit 141, as after SIGPIPE, and quiet."""
    for args in (["explain", "placement"], ["rules"], ["schema", "lane"], ["check"]):
        proc = subprocess.Popen(
            [*_console_script(), *args], cwd=example, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before anything is written
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert proc.returncode == 141, (args, err)
        assert err == "", (args, err)


def test_render_says_when_it_removes_every_lane(example: Path, cli: Callable[..., Result]) -> None:
    assert cli("render", cwd=example).code == 0
    for lane in (example / "lanes").iterdir():
        lane.unlink()
    result = cli("render", cwd=example)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == (
        "render: lanes/ holds no lane, so the files of every lane were removed "
        "(gpt-oss-agent, qwen36-27b-deep, qwen36-35b-gguf-fast, qwen36-35b-gguf-longctx, "
        "qwen36-nvfp4-experiment, vllm-rollback); if that was not meant, restore lanes/ and "
        "render again"
    )
    check = cli("check", cwd=example)
    assert check.code == 10
    assert "cluster homelab has no lane in lanes/: its GPUs serve nothing" in check.out


def test_lock_add_outside_a_repo_writes_nothing(tmp_path: Path, cli: Callable[..., Result]) -> None:
    from tests.test_lock import write_gguf

    model = write_gguf(tmp_path / "tiny.gguf")
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    result = cli("lock", "add", str(model), "--source", "a/b@" + "0" * 40, cwd=nowhere)
    assert result.code == 2
    assert "gitops-gen.yaml: file not found" in result.err
    assert list(nowhere.iterdir()) == []


def test_lock_add_on_a_malformed_lock_is_input_error(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    from tests.test_lock import write_gguf

    model = write_gguf(tmp_path / "tiny.gguf")
    lock = example / "models.lock.yaml"
    for text, first in (
        ("models: [1, 2\n", "models.lock.yaml:2: invalid YAML"),
        ("models: 5\n", "models.lock.yaml:1: models: expected mapping, got 5"),
        ("models:\n  x: {format: 7}\n", "models.lock.yaml:2: models.x"),
    ):
        lock.write_text(text)
        result = cli(
            "lock",
            "add",
            str(model),
            "--name",
            "tiny",
            "--source",
            "a/b@" + "0" * 40,
            cwd=example,
        )
        assert result.code == 2, (text, result.err)
        assert result.err.startswith(first), result.err
        assert lock.read_text() == text
