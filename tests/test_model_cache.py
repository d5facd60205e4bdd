"""The model cache is a folder on the node (hostPath) or a PersistentVolumeClaim."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.check import check_repo
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.conftest import ROOT, Result, copy_repo, edit
from tests.rules.harness import TODAY

NODE = "hardware/gpu-worker-1.yaml"
HOST_PATH = "  hostPath: /models/vllm\n"
CLAIM = "  persistentVolumeClaim: {claimName: models}\n"


def test_a_claim_holds_the_models_for_lanes_and_prefetch(example: Path) -> None:
    edit(example / NODE, HOST_PATH, CLAIM)
    objects = {o.path: o.data for o in render_repo(load_repo(example)).objects}
    volumes = [
        objects[path]["spec"]["template"]["spec"]["volumes"][0]
        for path in (
            "homelab/lanes/vllm-rollback/deployment.yaml",
            "homelab/models/gpu-worker-1/qwen3-14b-awq.yaml",
        )
    ]
    assert (
        volumes == [{"name": "model-cache", "persistentVolumeClaim": {"claimName": "models"}}] * 2
    )
    findings = check_repo(example, today=TODAY).findings
    assert not [f for f in findings if f.severity.label in ("BLOCK", "WARN")]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            HOST_PATH,
            HOST_PATH + CLAIM,
            f"{NODE}:31: modelCache: give exactly one of hostPath and persistentVolumeClaim: "
            "where the models are",
        ),
        (
            HOST_PATH,
            "",
            f"{NODE}:31: modelCache: give exactly one of hostPath and persistentVolumeClaim: "
            "where the models are",
        ),
    ],
    ids=["both", "neither"],
)
def test_exactly_one_place(
    example: Path, cli: Callable[..., Result], old: str, new: str, expected: str
) -> None:
    edit(example / NODE, old, new)
    result = cli("render", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == expected


def test_a_compose_host_keeps_its_models_in_a_folder(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    repo = copy_repo(ROOT / "examples" / "rtx5090-compose", tmp_path / "repo")
    edit(repo / "hardware/ws5090.yaml", "  hostPath: /srv/models\n", CLAIM)
    result = cli("render", cwd=repo)
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "hardware/ws5090.yaml:22: modelCache.persistentVolumeClaim: a compose host keeps its "
        "models in a folder (hostPath), not a Kubernetes claim"
    )
