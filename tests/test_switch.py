"""switch: preflight first, only the active: lines change, re-render, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.cache import CACHE_DIR
from gitops_gen.specs.source import load_yaml
from tests.conftest import Result, edit

FAST = "lanes/qwen36-35b-gguf-fast.yaml"
LONG = "lanes/qwen36-35b-gguf-longctx.yaml"


def _files(repo: Path) -> dict[str, bytes]:
    """Every file of the repo, but the git-ignored cache (what it holds is not the repo's)."""
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in repo.rglob("*")
        if p.is_file() and p.relative_to(repo).parts[0] != CACHE_DIR
    }


def test_switch_and_back_round_trips_byte_identical(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    before = _files(example_rendered)
    to_long = cli("switch", "qwen36-35b-gguf-longctx", "--force", cwd=example_rendered)
    assert to_long.code == 10, to_long.out  # a deliberate experiment: no evidence yet
    after = _files(example_rendered)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {
        FAST,
        LONG,
        "rendered/homelab/gateway/configmap.yaml",
        "rendered/homelab/gateway/deployment.yaml",
        "rendered/homelab/lanes/qwen36-35b-gguf-fast/deployment.yaml",
        "rendered/homelab/lanes/qwen36-35b-gguf-longctx/deployment.yaml",
    }
    # only the active: lines changed in the lane files
    for lane in (FAST, LONG):
        old, new = before[lane].decode().splitlines(), after[lane].decode().splitlines()
        assert [(a, b) for a, b in zip(old, new, strict=True) if a != b] in (
            [("active: true", "active: false")],
            [("active: false", "active: true")],
        )
    assert (
        "  route fast: qwen36-35b-gguf-fast -> qwen36-35b-gguf-longctx" in to_long.out.splitlines()
    )
    deployment = load_yaml(
        after["rendered/homelab/lanes/qwen36-35b-gguf-longctx/deployment.yaml"].decode()
    )
    assert deployment["spec"]["replicas"] == 1
    assert cli("render", "--check", cwd=example_rendered).code == 0
    back = cli("switch", "qwen36-35b-gguf-fast", cwd=example_rendered)
    assert back.code == 0, back.out
    assert _files(example_rendered) == before


def test_a_route_to_parked_lanes_only_says_so(example: Path, cli: Callable[..., Result]) -> None:
    # A lane without the chat alias: after the switch, chat is served by parked lanes
    # only (gateway-aliases warns), and the route names them as parked.
    edit(
        example / "lanes/vllm-rollback.yaml",
        "aliases: [fast, chat, agent]",
        "aliases: [fast, agent]",
    )
    result = cli("switch", "vllm-rollback", "--force", "--dry-run", cwd=example)
    routes = [line for line in result.out.splitlines() if line.startswith("  route chat:")]
    assert routes == [
        "  route chat: qwen36-35b-gguf-fast -> gpt-oss-agent (parked), qwen36-27b-deep (parked), "
        "qwen36-35b-gguf-fast (parked), qwen36-35b-gguf-longctx (parked)"
    ], result.out


def test_blocked_switch_changes_nothing(example_rendered: Path, cli: Callable[..., Result]) -> None:
    before = _files(example_rendered)
    result = cli("switch", "qwen36-nvfp4-experiment", "--force", cwd=example_rendered)
    assert result.code == 20
    assert result.out.splitlines()[-1] == "switch: blocked by preflight; nothing changed."
    assert _files(example_rendered) == before


def test_warning_without_force_changes_nothing(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    before = _files(example_rendered)
    result = cli("switch", "qwen36-35b-gguf-longctx", cwd=example_rendered)
    assert result.code == 10
    assert "--force" in result.out.splitlines()[-1]
    assert _files(example_rendered) == before


def test_dry_run_prints_the_plan_and_changes_nothing(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    before = _files(example_rendered)
    result = cli("switch", "qwen36-27b-deep", "--dry-run", cwd=example_rendered)
    lines = result.out.splitlines()
    assert "switch: qwen36-27b-deep would be active (replicas 0 -> 1)" in lines
    assert "switch: qwen36-35b-gguf-fast would be parked (replicas 1 -> 0)" in lines
    assert "  edit lanes/qwen36-27b-deep.yaml" in lines
    assert lines[-1] == "switch: dry run; nothing changed."
    assert _files(example_rendered) == before


def test_failure_while_writing_restores_the_lane_files(
    example_rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitops_gen.switch as switch_module
    from gitops_gen.pipeline import build_repo
    from gitops_gen.switch.preflight import find_lane, switch_plan

    before = _files(example_rendered)
    built = build_repo(example_rendered)
    plan = switch_plan(built.repo, find_lane(built.repo, "qwen36-27b-deep"))
    switch = switch_module.plan_switch(example_rendered, built, plan)

    def broken_write_tree(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(switch_module, "write_tree", broken_write_tree)
    with pytest.raises(OSError):
        switch_module.apply_switch(example_rendered, switch)
    assert _files(example_rendered) == before


def test_missing_active_key_is_inserted_after_the_name(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    deep = example_rendered / "lanes/qwen36-27b-deep.yaml"
    edit(deep, "active: false\n", "")
    edit(
        example_rendered / "lanes/qwen36-27b-deep.yaml",
        "aliases:",
        'evidence: {gpuModel: rtx-pro-4000-blackwell-sff, date: "2026-06-01"}\naliases:',
    )
    assert cli("render", cwd=example_rendered).code == 0
    result = cli("switch", "qwen36-27b-deep", cwd=example_rendered)
    assert result.code == 0, result.out
    lines = deep.read_text().splitlines()
    assert lines[lines.index("name: qwen36-27b-deep") + 1] == "active: true"


def test_flow_style_lane_file_is_edited_semantically(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    import json

    from gitops_gen.specs.source import read_yaml

    deep = example_rendered / "lanes/qwen36-27b-deep.yaml"
    data = read_yaml(example_rendered, "lanes/qwen36-27b-deep.yaml").data
    data["evidence"] = {"gpuModel": "rtx-pro-4000-blackwell-sff", "date": "2026-06-01"}
    deep.write_text(json.dumps(data))
    assert cli("render", cwd=example_rendered).code == 0
    result = cli("switch", "qwen36-27b-deep", cwd=example_rendered)
    assert result.code == 0, result.out
    new = read_yaml(example_rendered, "lanes/qwen36-27b-deep.yaml").data
    assert new == {**data, "active": True}


_KILLED_SWITCH = """
import os, sys
import gitops_gen.switch as switch
from gitops_gen.cli import main

calls = []
real = switch.write_file_atomic
repo, kill = sys.argv[1], sys.argv[2]
at = int(kill) if kill.isdigit() else -1

def dying_write(path, text):
    calls.append(path)
    if len(calls) == at:
        os._exit(9)  # killed: no except, no finally
    real(path, text)

def dying_tree(*args, **kwargs):
    os._exit(9)

switch.write_file_atomic = dying_write
if kill == "tree":
    switch.write_tree = dying_tree
sys.argv = ["gitops-gen", "-C", repo, "switch", "qwen36-35b-gguf-longctx", "--force"]
main()
"""


@pytest.mark.parametrize(
    "kill_at",
    [
        "2",  # after the journal, before the first lane file
        "3",  # after one lane file, before the other
        "tree",  # after both lane files, before rendered/
    ],
)
def test_a_killed_switch_is_finished_by_the_next_render(
    kill_at: str, example_rendered: Path, cli: Callable[..., Result]
) -> None:
    import subprocess
    import sys

    before = _files(example_rendered)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_SWITCH, str(example_rendered), kill_at],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 9, killed.stderr
    assert (example_rendered / ".gitops-gen-switch.json").is_file()
    # Lanes and rendered/ may disagree now: every other command says what to run.
    for args in (("check",), ("render", "--check"), ("diff", "--base", "HEAD")):
        result = cli(*args, cwd=example_rendered)
        assert result.code == 2, (args, result.err)
        assert result.err.strip() == (
            "gitops-gen: a switch of qwen36-35b-gguf-fast, qwen36-35b-gguf-longctx was "
            "interrupted: lanes/ and rendered/ may disagree; run 'gitops-gen render' to finish it"
        )
    finished = cli("render", cwd=example_rendered)
    assert finished.code == 0, finished.err
    assert finished.out.startswith(
        "render: finishing the interrupted switch of qwen36-35b-gguf-fast, qwen36-35b-gguf-longctx"
    )
    assert not (example_rendered / ".gitops-gen-switch.json").exists()
    assert cli("render", "--check", cwd=example_rendered).code == 0
    after = _files(example_rendered)
    assert after != before
    assert "active: true" in (example_rendered / "lanes/qwen36-35b-gguf-longctx.yaml").read_text()
    assert "active: false" in (example_rendered / "lanes/qwen36-35b-gguf-fast.yaml").read_text()


def test_flow_style_lane_keeps_its_layout_and_comments(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    deep = example_rendered / "lanes/qwen36-27b-deep.yaml"
    text = deep.read_text()
    from gitops_gen.specs.source import read_yaml

    data = read_yaml(example_rendered, "lanes/qwen36-27b-deep.yaml").data
    data["evidence"] = {"gpuModel": "rtx-pro-4000-blackwell-sff", "date": "2026-06-01"}
    import json

    flow = (
        "# the deep lane, kept in flow style\n"
        + json.dumps(data).replace(
            '"active": false', '"active": false  ' if False else '"active": false'
        )
        + "  # one line\n"
    )
    deep.write_text(flow)
    assert text != flow
    assert cli("render", cwd=example_rendered).code == 0
    result = cli("switch", "qwen36-27b-deep", cwd=example_rendered)
    assert result.code == 0, result.out
    assert deep.read_text() == flow.replace('"active": false', '"active": true')
