"""Every command works when the gitops-gen repo is a subdirectory of a git repository
(a monorepo's deploy/, or examples/*), run from the git root with -C and from inside."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Result, copy_repo, edit
from tests.rules.harness import git_commit

EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
FAST = "lanes/qwen36-35b-gguf-fast.yaml"


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A git repo with the root example under deploy/ and every example under examples/."""
    top = tmp_path / "mono"
    copy_repo(ROOT, top / "deploy", with_rendered=True)
    for name in EXAMPLES:
        copy_repo(ROOT / "examples" / name, top / "examples" / name, with_rendered=True)
    (top / "README.md").write_text("an application repo\n")
    git_commit(top, "base")
    return top


def test_diff_and_check_base_in_a_subdirectory(monorepo: Path, cli: Callable[..., Result]) -> None:
    deploy = monorepo / "deploy"
    edit(deploy / FAST, "ctxSize: 49152", "ctxSize: 65536")
    assert cli("render", cwd=deploy).code == 0
    for args, cwd in (
        (("-C", "deploy"), monorepo),  # from the git root
        ((), deploy),  # from inside
        (("-C", str(deploy)), monorepo.parent),  # from outside the git repo
    ):
        diff = cli(*args, "diff", "--base", "HEAD", "--format", "json", cwd=cwd)
        assert diff.code == 0, diff.err
        changed = {o["object"] for o in json.loads(diff.out)["objects"]}
        assert "Deployment/vllm/qwen36-35b-gguf-fast" in changed
        check = cli(*args, "check", "--base", "HEAD", cwd=cwd)
        assert check.code in (0, 10), check.err


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_diffs_against_its_base_from_the_git_root(
    name: str, monorepo: Path, cli: Callable[..., Result]
) -> None:
    result = cli("-C", f"examples/{name}", "diff", "--base", "HEAD", cwd=monorepo)
    assert result.code == 0, result.err
    assert "0 changed, 0 added, 0 removed" in result.out
    check = cli("-C", f"examples/{name}", "check", "--base", "HEAD", cwd=monorepo)
    assert check.code in (0, 10), check.err + check.out


def test_a_bad_ref_says_the_ref_is_unknown(monorepo: Path, cli: Callable[..., Result]) -> None:
    result = cli("-C", "deploy", "diff", "--base", "no-such-branch", cwd=monorepo)
    assert result.code == 2
    assert result.err.strip() == (
        "gitops-gen: unknown revision 'no-such-branch': no such branch, tag or commit"
    )
    assert "Traceback" not in result.err


def test_a_repo_outside_git_says_so(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = copy_repo(ROOT, tmp_path / "plain")
    shutil.rmtree(repo / ".git", ignore_errors=True)
    result = cli("check", "--base", "HEAD", cwd=repo)
    assert result.code == 2
    assert "not a git repository" in result.err


def test_dash_c_is_accepted_anywhere(monorepo: Path, cli: Callable[..., Result]) -> None:
    for args in (
        ("render", "--check", "-C", "deploy"),
        ("render", "-C", "deploy", "--check"),
        ("render", "--check", "--repo=deploy"),
        ("render", "--check", "-Cdeploy"),
    ):
        result = cli(*args, cwd=monorepo)
        assert result.code == 0, (args, result.err)
        assert result.out.startswith("rendered/ is up to date"), args
    result = cli("check", "--base", "HEAD", "-C", "examples/h100x2-tp2", cwd=monorepo)
    assert result.code in (0, 10), result.err


def test_hoisting_leaves_everything_else_in_order() -> None:
    from gitops_gen.cli import hoist_repo_option

    assert hoist_repo_option(["check", "--format", "json", "-C", "x", "--base", "main"]) == [
        "-C",
        "x",
        "check",
        "--format",
        "json",
        "--base",
        "main",
    ]
    assert hoist_repo_option(["explain", "--", "-C"]) == ["explain", "--", "-C"]
