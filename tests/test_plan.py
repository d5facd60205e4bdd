"""Plan-step decisions that are easy to get subtly wrong."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gitops_gen.render.plan import k8s_name, parse_image, plan_lane, tolerations_for
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.model import Taint
from tests.conftest import ROOT, copy_repo


@pytest.mark.parametrize(
    ("ref", "repository", "tag", "digest"),
    [
        (
            "ghcr.io/ggml-org/llama.cpp:server-cuda@sha256:ab",
            "ghcr.io/ggml-org/llama.cpp",
            "server-cuda",
            "sha256:ab",
        ),
        ("registry:5000/team/img@sha256:cd", "registry:5000/team/img", "", "sha256:cd"),
        ("registry:5000/team/img:1.2", "registry:5000/team/img", "1.2", ""),
        ("ollama/ollama", "ollama/ollama", "", ""),
    ],
)
def test_parse_image(ref: str, repository: str, tag: str, digest: str) -> None:
    assert parse_image(ref) == (parse_image(ref).__class__(repository, tag, digest))


def test_long_names_are_truncated_with_a_stable_hash() -> None:
    long = k8s_name("prefetch", "m" * 80)
    assert len(long) == 63
    assert long == k8s_name("prefetch", "m" * 80)
    assert long != k8s_name("prefetch", "m" * 79 + "n")
    assert k8s_name("a", "b") == "a-b"


def test_tolerations_follow_taints_exactly() -> None:
    node = load_repo(ROOT).nodes["gpu-worker-1"]
    node = replace(
        node,
        taints=(
            Taint("dedicated", "gpu", "NoSchedule"),
            Taint("nvidia.com/gpu", None, "NoExecute"),
        ),
    )
    assert tolerations_for(node) == [
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"},
    ]


def test_parked_lane_keeps_its_gpu_claim_at_zero_replicas() -> None:
    repo = load_repo(ROOT)
    values = plan_lane(repo.lanes["qwen36-27b-deep"], repo)
    assert values["replicaCount"] == 0
    assert values["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert values["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_tensor_parallel_lane_claims_both_gpus() -> None:
    repo = load_repo(ROOT / "examples" / "h100x2-tp2")
    values = plan_lane(repo.lanes["mistral-small-24b-tp2"], repo)
    assert values["resources"]["limits"]["nvidia.com/gpu"] == 2
    args = values["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "2"


def test_amd_lane_asks_for_amd_gpu_without_runtime_class() -> None:
    repo = load_repo(ROOT / "examples" / "mixed-nvidia-amd")
    values = plan_lane(repo.lanes["qwen3-embedding-amd"], repo)
    assert values["resources"]["limits"] == {"cpu": "8", "memory": "16Gi", "amd.com/gpu": 1}
    assert values["runtimeClassName"] is None
    nvidia = plan_lane(repo.lanes["gpt-oss-120b"], repo)
    assert nvidia["runtimeClassName"] == "nvidia"
    assert nvidia["args"][:2] == ["-m", "/models/gguf/gpt-oss-120b-mxfp4-00001-of-00003.gguf"]


def test_ollama_lane_is_configured_through_its_environment() -> None:
    repo = load_repo(ROOT / "examples" / "lab-48gb-comfyui")
    values = plan_lane(repo.lanes["llama70b-16k"], repo)
    env = {e["name"]: e["value"] for e in values["env"]}
    assert env["OLLAMA_FLASH_ATTENTION"] == "1"
    assert env["OLLAMA_KV_CACHE_TYPE"] == "q8_0"
    assert env["OLLAMA_CONTEXT_LENGTH"] == "16384"
    assert env["OLLAMA_NUM_PARALLEL"] == "1"
    # the GGUF is imported under the lane's served name once the server answers
    assert values["postStart"][-2:] == [
        "llama70b-16k",
        "/models/gguf/Llama-3.3-70B-Instruct-Q4_K_M.gguf",
    ]


def test_amd_lanes_get_the_groups_owning_the_device_nodes() -> None:
    from gitops_gen.render.targets import plan_repo

    repo = load_repo(ROOT / "examples" / "mixed-nvidia-amd")
    by_path = {p.path: p.values for p in plan_repo(repo)}
    amd = by_path["workstation/lanes/qwen3-embedding-amd/deployment.yaml"]
    nvidia = by_path["workstation/lanes/gpt-oss-120b/deployment.yaml"]
    assert amd["security"]["pod"]["supplementalGroups"] == [44, 992]
    assert "supplementalGroups" not in nvidia["security"]["pod"]


def test_ollama_is_ready_only_once_its_model_is_imported() -> None:
    repo = load_repo(ROOT / "examples" / "lab-48gb-comfyui")
    values = plan_lane(repo.lanes["qwen25-32b"], repo)
    assert values["readyCommand"] == ["ollama", "show", "qwen25-32b"]
    assert (
        plan_lane(load_repo(ROOT).lanes["qwen36-35b-gguf-fast"], load_repo(ROOT))["readyCommand"]
        == []
    )


@pytest.mark.parametrize(
    ("version", "flag", "env"),
    [
        ("0.12.0", None, "FLASH_ATTN"),
        ("0.13.0", "flash_attn", None),
        ("0.20.1", "flash_attn", None),
    ],
)
def test_the_attention_backend_is_spelled_as_the_vllm_release_takes_it(
    tmp_path: Path, version: str, flag: str | None, env: str | None
) -> None:
    """A flag from 0.13.0 (vllm-project/vllm#26315), VLLM_ATTENTION_BACKEND before."""
    repo = copy_repo(ROOT / "examples" / "h100x2-tp2", tmp_path / "repo")
    lane = repo / "lanes/mistral-small-24b-tp2.yaml"
    lane.write_text(
        lane.read_text()
        .replace("vllm-openai:v0.12.0@", f"vllm-openai:v{version}@")
        .replace("engineVersion: 0.12.0", f"engineVersion: {version}")
    )
    loaded = load_repo(repo)
    values = plan_lane(loaded.lanes["mistral-small-24b-tp2"], loaded)
    args, env_values = values["args"], {e["name"]: e["value"] for e in values["env"]}
    assert "--async-scheduling" in args
    if flag is None:
        assert "--attention-backend" not in args
    else:
        assert args[args.index("--attention-backend") + 1] == flag
    assert env_values.get("VLLM_ATTENTION_BACKEND") == env
