"""`gitops-gen pre-commit`: render and check in one process, with the exit codes of both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, Result, copy_repo

LANE = "lanes/qwen36-35b-gguf-fast.yaml"


def _repo(tmp_path: Path) -> Path:
    return copy_repo(ROOT, tmp_path / "repo", with_rendered=True)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "rendered").rglob("*"))
        if p.is_file()
    }


def test_an_up_to_date_repo_passes_and_prints_the_check_report(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    repo = _repo(tmp_path)
    hook = cli("pre-commit", cwd=repo)
    assert hook.code == 0, hook.err
    first, _, report = hook.out.partition("\n")
    assert first == "rendered 44 files (44 objects, schema-valid) into rendered/: " + (
        "0 written, 0 removed, 44 unchanged."
    )
    # The report is exactly what `check` prints for the same repo.
    assert report == cli("check", "--format", "text", cwd=repo).out


def test_a_stale_tree_is_rewritten_named_and_fails_once(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    repo = _repo(tmp_path)
    lane = repo / LANE
    lane.write_text(lane.read_text().replace("ctxSize: 49152", "ctxSize: 32768"))
    hook = cli("pre-commit", cwd=repo)
    assert hook.code == 1, hook.out + hook.err
    assert "  wrote    rendered/homelab/lanes/qwen36-35b-gguf-fast/deployment.yaml" in hook.out
    assert "stage them with the specs: git add rendered/" in hook.out
    assert "decision: PASS" in hook.out  # the rules ran on the new build
    assert cli("render", "--check", cwd=repo).code == 0
    assert cli("pre-commit", cwd=repo).code == 0  # staged (here: written), it passes


def test_a_block_wins_over_a_stale_tree(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = _repo(tmp_path)
    lane = repo / "lanes/qwen36-27b-deep.yaml"
    lane.write_text(lane.read_text().replace("active: false", "active: true"))
    hook = cli("pre-commit", cwd=repo)
    assert hook.code == 20, hook.out + hook.err
    assert "[BLOCK] single-active-gpu-lane" in hook.out
    assert cli("render", "--check", cwd=repo).code == 0  # rendered/ follows the specs


def test_warnings_fail_only_with_fail_on_warn(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = _repo(tmp_path)
    lane = repo / LANE
    text = lane.read_text()
    lane.write_text(text[: text.index("evidence:")])  # the active lane is unmeasured: a warning
    assert cli("render", cwd=repo).code == 0
    assert cli("check", cwd=repo).code == 10
    assert cli("pre-commit", cwd=repo).code == 0
    assert cli("pre-commit", "--fail-on", "warn", cwd=repo).code == 10


def test_invalid_input_writes_nothing(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = _repo(tmp_path)
    before = _tree(repo)
    lane = repo / LANE
    lane.write_text(lane.read_text().replace("ctxSize: 49152", "ctxSize: lots"))
    hook = cli("pre-commit", cwd=repo)
    assert hook.code == 2
    assert f"{LANE}:" in hook.err and "ctxSize" in hook.err
    assert "Traceback" not in hook.err
    assert _tree(repo) == before


def test_the_hook_does_not_refuse_an_interrupted_switch_it_finishes() -> None:
    # Like `render`, `pre-commit` finishes an interrupted switch instead of refusing to
    # run (tests/test_switch.py covers the journal itself).
    from gitops_gen.cli.app import REPO_COMMANDS

    assert "pre-commit" not in REPO_COMMANDS and "render" not in REPO_COMMANDS


def test_files_the_render_did_not_write_are_still_seen_by_the_checks(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    # The checks reuse what the render found under rendered/ instead of walking it again:
    # a hand-written manifest there, and an old generated file the render removed.
    repo = _repo(tmp_path)
    (repo / "rendered/homelab/lanes/extra.yaml").write_text("kind: ConfigMap\n")
    lane = repo / LANE
    lane.write_text(lane.read_text().replace("ctxSize: 49152", "ctxSize: 32768"))
    (repo / "lanes/gpt-oss-agent.yaml").unlink()
    hook = cli("pre-commit", cwd=repo)
    assert hook.code == 20, hook.out + hook.err
    lines = hook.out.splitlines()
    found = [lines[i + 1].strip() for i, line in enumerate(lines) if "foreign-rendered" in line]
    assert found == ["at rendered/homelab/lanes/extra.yaml:1"], hook.out
    assert "removed  rendered/homelab/lanes/gpt-oss-agent/service.yaml" in hook.out
