"""Object diffs a reviewer reads in ten seconds, with no secret in any of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gitops_gen.pr.objdiff import MISSING, diff_objects
from tests.conftest import Result, edit
from tests.rules.harness import git_commit


def _deployment(args: list[str]) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "fast", "namespace": "vllm"},
        "spec": {"template": {"spec": {"containers": [{"name": "server", "args": args}]}}},
    }


def test_engine_args_compare_as_flags() -> None:
    old = ["-m", "/models/a.gguf", "--ctx-size", "49152", "--jinja", "--alias", "fast"]
    new = ["-m", "/models/a.gguf", "--alias", "fast", "--ctx-size=65536", "--metrics"]
    (change,) = diff_objects([_deployment(old)], [_deployment(new)]).changes
    fields = {f.path: (f.old, f.new) for f in change.fields}
    prefix = "spec.template.spec.containers[server].args"
    assert fields == {
        f"{prefix}[--ctx-size]": ("49152", "65536"),
        f"{prefix}[--jinja]": ("(set)", MISSING),
        f"{prefix}[--metrics]": (MISSING, "(set)"),
    }


def test_negative_numbers_are_values_not_flags() -> None:
    (change,) = diff_objects(
        [_deployment(["--n-gpu-layers", "-1"])], [_deployment(["--n-gpu-layers", "99"])]
    ).changes
    assert [(f.path.rsplit("[", 1)[1], f.old, f.new) for f in change.fields] == [
        ("--n-gpu-layers]", "-1", "99")
    ]


def _gateway(routes: list[tuple[str, str, str]]) -> dict:
    config = {
        "model_list": [
            {
                "model_name": alias,
                "litellm_params": {"model": "openai/x", "api_base": base},
                "model_info": {"lane": lane},
            }
            for alias, lane, base in routes
        ]
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "litellm", "namespace": "vllm"},
        "data": {"config.yaml": json.dumps(config, indent=1)},
    }


def test_gateway_routes_compare_as_data_keyed_by_alias() -> None:
    base_a, base_b = "http://fast.vllm.svc:8080/v1", "http://longctx.vllm.svc:8080/v1"
    old = _gateway([("fast", "fast", base_a), ("chat", "fast", base_a), ("agent", "fast", base_a)])
    new = _gateway(
        [("fast", "longctx", base_b), ("chat", "longctx", base_b), ("agent", "fast", base_a)]
    )
    (change,) = diff_objects([old], [new]).changes
    assert [(f.path, f.old, f.new) for f in change.fields] == [
        ("data.config.yaml.model_list[fast].litellm_params.api_base", base_a, base_b),
        ("data.config.yaml.model_list[fast].model_info.lane", "fast", "longctx"),
        ("data.config.yaml.model_list[chat].litellm_params.api_base", base_a, base_b),
        ("data.config.yaml.model_list[chat].model_info.lane", "fast", "longctx"),
    ]


def test_routes_sharing_an_alias_are_told_apart_by_lane() -> None:
    a, b = "http://a.svc/v1", "http://b.svc/v1"
    old = _gateway([("fast", "lane-a", a), ("fast", "lane-b", b)])
    new = _gateway([("fast", "lane-a", a), ("fast", "lane-b", b + "2")])
    (change,) = diff_objects([old], [new]).changes
    assert [f.path for f in change.fields] == [
        "data.config.yaml.model_list[fast via lane-b].litellm_params.api_base"
    ]


def _secret(value: str, *, listed: bool = False, annotated: bool = False) -> dict:
    secret: dict = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hf", "namespace": "vllm"},
        "stringData": {"HF_TOKEN": value},
    }
    if annotated:
        secret["metadata"]["annotations"] = {
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(secret)
        }
    if listed:
        return {"apiVersion": "v1", "kind": "List", "items": [secret]}
    return secret


def test_secrets_are_masked_in_lists_and_annotations() -> None:
    for listed in (False, True):
        for annotated in (False, True):
            for old, new in (
                ([], [_secret("hf_added", listed=listed, annotated=annotated)]),
                (
                    [_secret("hf_old", listed=listed, annotated=annotated)],
                    [_secret("hf_new", listed=listed, annotated=annotated)],
                ),
            ):
                text = repr(diff_objects(old, new))
                assert "hf_" not in text, (listed, annotated, text)


def test_markdown_never_shows_a_secret(tmp_path: Path, cli: Callable[..., Result]) -> None:
    from tests.conftest import ROOT, copy_repo

    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    manifests = repo / "manifests"
    manifests.mkdir(exist_ok=True)
    listed = manifests / "secrets.yaml"
    listed.write_text(json.dumps(_secret("hf_basevalue", annotated=True)))
    git_commit(repo, "base")
    listed.write_text(json.dumps(_secret("hf_headvalue", annotated=True)))
    (manifests / "added.yaml").write_text(
        json.dumps(_secret("hf_addedvalue", annotated=True)).replace('"hf"', '"hf2"')
    )
    edit(repo / "lanes/qwen36-35b-gguf-fast.yaml", "ctxSize: 49152", "ctxSize: 65536")
    for fmt in ("markdown", "text", "json"):
        result = cli("diff", "--base", "HEAD", "--format", fmt, cwd=repo)
        assert result.code in (0, 1), result.err
        assert "hf_" not in result.out + result.err, fmt
    markdown = cli("diff", "--base", "HEAD", "--format", "markdown", cwd=repo).out
    assert "[--ctx-size]" in markdown


def test_objects_of_different_clusters_never_match() -> None:
    a, b = _deployment(["--ctx-size", "1"]), _deployment(["--ctx-size", "2"])
    # one cluster: no cluster in the names
    (change,) = diff_objects([("c1", a)], [("c1", b)]).changes
    assert change.ident == "Deployment/vllm/fast" and change.status == "changed"
    # the same name in another cluster is another object
    changes = diff_objects([("c1", a), ("c2", a)], [("c1", a), ("c2", b)]).changes
    assert [(c.ident, c.status) for c in changes] == [("c2: Deployment/vllm/fast", "changed")]
    moved = diff_objects([("c1", a)], [("c2", a)]).changes
    assert [(c.ident, c.status) for c in moved] == [
        ("c1: Deployment/vllm/fast", "removed"),
        ("c2: Deployment/vllm/fast", "added"),
    ]
