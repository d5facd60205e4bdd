from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, FAST, expect, replace
from tests.rules.harness import Case, assert_case, git_commit, run

RULE = "maintenance-split"
CHART = replace(CONFIG, "version: 0.19.2", "version: 0.19.3")
PLUGIN_IMAGE = replace(
    CONFIG,
    "k8s-device-plugin:v0.19.2@sha256:953375db906d1c42c60adbf8d65021c7553a326497ec6fd9d526aa26bad1a46c",
    "k8s-device-plugin:v0.19.3@sha256:" + "2" * 64,
)
RUNTIME = replace(
    FAST,
    "server-cuda-b8210@sha256:72b1b5b494391913c288889b90c54c6fdfa0e635f26b6ef55535816df0d1e82d",
    "server-cuda-b8300@sha256:" + "1" * 64,
)
CASES = [
    Case("needs-a-base-to-say-anything", edits=(CHART, RUNTIME)),
    Case("device-plugin-alone", base=True, edits=(CHART,)),
    Case("runtime-alone", base=True, edits=(RUNTIME,)),
    Case(
        "chart-and-runtime-together",
        base=True,
        edits=(CHART, RUNTIME),
        expect=(expect("block", CONFIG, "version: 0.19.3"),),
    ),
    Case(
        "plugin-image-and-runtime-together",
        base=True,
        edits=(PLUGIN_IMAGE, RUNTIME),
        expect=(expect("block", CONFIG, "k8s-device-plugin:v0.19.3"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_the_same_bumps_in_two_commits_pass(tmp_path: Path) -> None:
    import subprocess

    from gitops_gen.check import check_repo
    from gitops_gen.gitbase import load_at
    from tests.rules.harness import TODAY, prepare

    repo = prepare(Case("first", base=True, edits=(CHART,)), tmp_path)
    git_commit(repo, "device plugin first")  # main~1
    text = (repo / FAST).read_text()
    (repo / FAST).write_text(text.replace(RUNTIME["replace"], RUNTIME["with"]))
    git_commit(repo, "then the runtime")  # main

    def split_findings(base: str) -> list[str]:
        findings = check_repo(repo, today=TODAY, base=load_at(repo, base)).findings
        return [f.rule for f in findings if f.rule == RULE]

    assert split_findings("main~1") == []  # the runtime commit on its own
    subprocess.run(["git", "checkout", "-q", "main~1"], cwd=repo, check=True)
    assert split_findings("main~2") == []  # the device-plugin commit on its own
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    assert split_findings("main~2") == [RULE]  # both as one pull request


def test_message_says_what_moved(tmp_path: Path) -> None:
    _repo, findings = run(CASES[3], tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "this change moves the device plugin (chart 0.19.2 -> 0.19.3) and "
        "the runtime image of qwen36-35b-gguf-fast together"
    )
