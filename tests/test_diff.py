"""diff --base: object-level changes Argo CD would apply, read from git without touching
the working tree; markdown for the PR comment, snapshot-tested, truncated past the limit."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from gitops_gen.pipeline import build_repo
from gitops_gen.pr.base import build_at
from gitops_gen.pr.report import COMMENT_LIMIT, pull_request_diff, render_markdown
from tests.conftest import ROOT, Result, copy_repo, edit
from tests.rules.harness import git_commit

FAST = "lanes/qwen36-35b-gguf-fast.yaml"
LONG = "lanes/qwen36-35b-gguf-longctx.yaml"
OLD_DIGEST = (
    "server-cuda-b8210@sha256:72b1b5b494391913c288889b90c54c6fdfa0e635f26b6ef55535816df0d1e82d"
)
NEW_DIGEST = "server-cuda-b8210@sha256:" + "3" * 64


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    git_commit(repo, "base")
    return repo


def _status(repo: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def _json_diff(cli: Callable[..., Result], repo: Path, *args: str) -> dict:
    result = cli("diff", "--base", "HEAD", "--format", "json", *args, cwd=repo)
    assert result.code in (0, 1), result.err
    return json.loads(result.out)


def test_lane_switch_flips_two_deployments_and_moves_the_route(
    git_repo: Path, cli: Callable[..., Result]
) -> None:
    edit(git_repo / FAST, "active: true", "active: false")
    edit(git_repo / LONG, "active: false", "active: true")
    index_before = (git_repo / ".git" / "index").read_bytes()
    status_before = _status(git_repo)
    data = _json_diff(cli, git_repo)
    changes = {
        o["object"]: [(f["path"], f["old"], f["new"]) for f in o["fields"]] for o in data["objects"]
    }
    assert changes.keys() == {
        "Deployment/vllm/qwen36-35b-gguf-fast",
        "Deployment/vllm/qwen36-35b-gguf-longctx",
        "ConfigMap/vllm/litellm-config",
        # the gateway restarts to read its new config: its config checksum moves
        "Deployment/vllm/litellm",
    }
    assert changes["Deployment/vllm/qwen36-35b-gguf-fast"] == [("spec.replicas", 1, 0)]
    assert changes["Deployment/vllm/qwen36-35b-gguf-longctx"] == [("spec.replicas", 0, 1)]
    # The gateway's routes compare as data, keyed by alias: one line per route moved.
    routes = {path: (old, new) for path, old, new in changes["ConfigMap/vllm/litellm-config"]}
    for alias in ("agent", "chat", "fast"):
        old, new = routes[f"data.config.yaml.model_list[{alias}].litellm_params.api_base"]
        assert "qwen36-35b-gguf-fast.vllm.svc" in old
        assert "qwen36-35b-gguf-longctx.vllm.svc" in new
    assert data["gpu"][0]["lanes"] == [
        "`qwen36-35b-gguf-fast`: active -> **parked**",
        "`qwen36-35b-gguf-longctx`: parked -> **active**",
    ]
    # nothing in the working tree or the index was touched
    assert _status(git_repo) == status_before
    assert (git_repo / ".git" / "index").read_bytes() == index_before


def test_digest_bump_is_one_change(git_repo: Path, cli: Callable[..., Result]) -> None:
    edit(git_repo / FAST, OLD_DIGEST, NEW_DIGEST)
    data = _json_diff(cli, git_repo)
    assert [(o["object"], [f["path"] for f in o["fields"]]) for o in data["objects"]] == [
        ("Deployment/vllm/qwen36-35b-gguf-fast", ["spec.template.spec.containers[server].image"])
    ]
    assert data["gpu"][0]["images"][0].startswith("`qwen36-35b-gguf-fast`: ")


def test_formatting_and_key_order_never_show(git_repo: Path, cli: Callable[..., Result]) -> None:
    text = (git_repo / FAST).read_text()
    edit(
        git_repo / FAST,
        "  cacheTypeK: q8_0\n  cacheTypeV: q8_0\n",
        "  cacheTypeV: q8_0\n  cacheTypeK: q8_0\n",
    )
    (git_repo / FAST).write_text("# reformatted\n" + (git_repo / FAST).read_text())
    assert (git_repo / FAST).read_text() != text
    assert cli("diff", "--base", "HEAD", "--exit-code", cwd=git_repo).code == 0


def test_exit_code_option(git_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("diff", "--base", "HEAD", "--exit-code", cwd=git_repo).code == 0
    edit(git_repo / FAST, "ctxSize: 49152", "ctxSize: 40960")
    assert cli("diff", "--base", "HEAD", "--exit-code", cwd=git_repo).code == 1
    assert cli("diff", "--base", "HEAD", cwd=git_repo).code == 0


def test_unknown_base_is_invalid_input(git_repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("diff", "--base", "no-such-branch", cwd=git_repo)
    assert result.code == 2
    assert result.err.startswith("gitops-gen: unknown revision 'no-such-branch'")
    assert "Traceback" not in result.err


def test_secret_data_is_never_printed(git_repo: Path, cli: Callable[..., Result]) -> None:
    secret = git_repo / "manifests" / "secret.yaml"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: hf, namespace: vllm}\n"
        "stringData: {HF_TOKEN: hf_oldsecretvalue}\n"
    )
    git_commit(git_repo, "secret")
    edit(secret, "hf_oldsecretvalue", "hf_newsecretvalue")
    for fmt in ("text", "markdown", "json"):
        out = cli("diff", "--base", "HEAD", "--format", fmt, cwd=git_repo).out
        assert "Secret/vllm/hf" in out
        assert "hf_oldsecretvalue" not in out and "hf_newsecretvalue" not in out


def test_markdown_for_a_lane_switch(
    git_repo: Path, cli: Callable[..., Result], snapshot: SnapshotAssertion
) -> None:
    edit(git_repo / FAST, "active: true", "active: false")
    edit(git_repo / LONG, "active: false", "active: true")
    result = cli("diff", "--base", "HEAD", "--format", "markdown", cwd=git_repo)
    assert result.out.startswith("<!-- gitops-gen diff -->\n### gitops-gen diff: 4 changed")
    assert "```mermaid\nxychart-beta" in result.out
    assert result.out.index("#### GPU") < result.out.index("#### Objects")
    assert result.out == snapshot


def test_markdown_is_shortened_past_the_limit(git_repo: Path, snapshot: SnapshotAssertion) -> None:
    edit(git_repo / FAST, "active: true", "active: false")
    edit(git_repo / LONG, "active: false", "active: true")
    edit(git_repo / FAST, OLD_DIGEST, NEW_DIGEST)
    diff = pull_request_diff("HEAD", build_at(git_repo, "HEAD"), build_repo(git_repo))
    full = render_markdown(diff)
    short = render_markdown(diff, limit=2500)
    assert len(full) > 2500 >= len(short)
    assert "were shortened to stay under 2500 characters" in short
    for change in diff.objects.changes:
        assert change.ident in short  # every object is still named
    assert short == snapshot


def test_a_huge_change_stays_under_the_comment_limit(git_repo: Path) -> None:
    lanes = git_repo / "lanes"
    template = (lanes / "qwen36-27b-deep.yaml").read_text()
    for i in range(150):
        (lanes / f"extra-{i}.yaml").write_text(
            template.replace("name: qwen36-27b-deep", f"name: extra-{i}")
        )
    diff = pull_request_diff("HEAD", build_at(git_repo, "HEAD"), build_repo(git_repo))
    # Per lane: Deployment, Service, PodMonitor (it serves --metrics), NetworkPolicy.
    assert len(diff.objects.of("added")) == 600
    text = render_markdown(diff)
    assert len(text) <= COMMENT_LIMIT
    assert "were shortened" in text


# --- policies/ weakened in this change heads the summary (issue 8) ---------------------------

POLICY = "policies/policy.yaml"
WAIVERS = "policies/waivers.yaml"


def _weaken(repo: Path) -> None:
    edit(
        repo / POLICY,
        "  vram-fit: {options: {warnAt: 0.95}}",
        "  vram-fit: {options: {warnAt: 0.95}}\n  single-active-gpu-lane: {severity: off}",
    )
    edit(
        repo / WAIVERS,
        "waivers: []",
        "waivers:\n  - rule: image-digest-pinned\n    lane: qwen36-35b-gguf-fast\n"
        '    reason: digest pending from the vendor\n    expires: "9999-12-31"\n',
    )


WEAKENED = [
    "core rule single-active-gpu-lane is set to off: the gate no longer blocks on it "
    "(lowered from block in this change)",
    "core rule image-digest-pinned is waived for lane qwen36-35b-gguf-fast until 9999-12-31, "
    "added in this change: digest pending from the vendor",
]


def test_markdown_opens_with_the_policy_weakened(
    git_repo: Path, cli: Callable[..., Result]
) -> None:
    _weaken(git_repo)
    edit(git_repo / FAST, "active: true", "active: false")
    edit(git_repo / LONG, "active: false", "active: true")
    out = cli("diff", "--base", "HEAD", "--format", "markdown", cwd=git_repo).out
    lines = out.splitlines()
    assert lines[:5] == [
        "<!-- gitops-gen diff -->",
        "### gitops-gen diff: 4 changed, 0 added, 0 removed against HEAD",
        "",
        "#### :warning: Policy weakened",
        "",
    ]
    assert lines[5:7] == [
        f"- `{POLICY}:7`: {WEAKENED[0]}",
        f"- `{WAIVERS}:5`: {WEAKENED[1]}",
    ]
    assert out.index("Policy weakened") < out.index("#### GPU") < out.index("#### Objects")


def test_a_policy_only_change_still_shows_its_weakening(
    git_repo: Path, cli: Callable[..., Result]
) -> None:
    """Nothing to deploy, but the gate is weaker: the summary must say so, first."""
    _weaken(git_repo)
    out = cli("diff", "--base", "HEAD", "--format", "markdown", cwd=git_repo).out
    assert out.index("#### :warning: Policy weakened") < out.index("No differences")
    text = cli("diff", "--base", "HEAD", cwd=git_repo).out.splitlines()
    assert text[1:4] == [
        "policy weakened:",
        f"  {WEAKENED[0]} ({POLICY}:7)",
        f"  {WEAKENED[1]} ({WAIVERS}:5)",
    ]
    data = _json_diff(cli, git_repo)
    assert [w["message"] for w in data["policyWeakened"]] == WEAKENED


def test_a_tightened_policy_is_not_a_weakening(git_repo: Path, cli: Callable[..., Result]) -> None:
    edit(
        git_repo / POLICY,
        "  vram-fit: {options: {warnAt: 0.95}}",
        "  vram-fit: {options: {warnAt: 0.95}}\n  context-ceiling: {severity: block}",
    )
    out = cli("diff", "--base", "HEAD", "--format", "markdown", cwd=git_repo).out
    assert "Policy weakened" not in out
    assert _json_diff(cli, git_repo)["policyWeakened"] == []
