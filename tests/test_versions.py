"""Engine versions read from image tags (seed 000: the tag is what runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.check.engine import engine_version
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.versions import image_tag, in_range, same_version, version_from_image
from tests.conftest import ROOT, copy_repo, edit

DIGEST = "@sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "engine", "version"),
    [
        ("docker.io/ollama/ollama:0.23.0", "ollama", "0.23.0"),
        (f"docker.io/ollama/ollama:0.24.0{DIGEST}", "ollama", "0.24.0"),
        ("docker.io/ollama/ollama:0.6.2-rocm", "ollama", "0.6.2"),
        ("ghcr.io/ggml-org/llama.cpp:server-cuda-b6123", "llamacpp", "b6123"),
        (f"ghcr.io/ggml-org/llama.cpp:server-cuda-b6123{DIGEST}", "llamacpp", "b6123"),
        ("ghcr.io/ggml-org/llama.cpp:b5000", "llamacpp", "b5000"),
        (f"docker.io/vllm/vllm-openai:v0.12.0{DIGEST}", "vllm", "0.12.0"),
        ("docker.io/vllm/vllm-openai:v0.10.1.1", "vllm", "0.10.1.1"),
        ("localhost:5000/vllm/vllm-openai:v0.9.2", "vllm", "0.9.2"),
        # No version in the tag: the declared one is used.
        (f"ghcr.io/ggml-org/llama.cpp:server-cuda{DIGEST}", "llamacpp", None),
        ("docker.io/ollama/ollama:latest", "ollama", None),
        (f"docker.io/ollama/ollama{DIGEST}", "ollama", None),
        ("localhost:5000/ollama/ollama", "ollama", None),
        # cuda12 is a CUDA major, not a version; a vLLM tag is never a llama.cpp build.
        ("ghcr.io/ggml-org/llama.cpp:server-cuda12", "llamacpp", None),
        ("ghcr.io/ggml-org/llama.cpp:server-cuda12-b6123", "llamacpp", "b6123"),
        ("docker.io/vllm/vllm-openai:b6123", "vllm", None),
        ("ghcr.io/ggml-org/llama.cpp:server-0.3.1", "llamacpp", None),
    ],
)
def test_version_from_image(image: str, engine: str, version: str | None) -> None:
    assert version_from_image(image, engine) == version


def test_image_tag() -> None:
    assert image_tag(f"localhost:5000/a/b:1.2{DIGEST}") == "1.2"
    assert image_tag("localhost:5000/a/b") == ""


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("0.24", "0.24.0", True),
        ("v0.24.0", "0.24.0", True),
        ("b8210", "8210", True),
        ("0.23.0", "0.24.0", False),
        ("b6123", "b8210", False),
    ],
)
def test_same_version(a: str, b: str, same: bool) -> None:
    assert same_version(a, b) is same


def test_ranges_compare_four_part_versions() -> None:
    assert in_range("0.10.1.1", ">=0.10.1,<0.10.2")
    assert not in_range("0.9.1", ">=0.9.2")


def _lane(tmp_path: Path, image: str, declared: str | None):  # type: ignore[no-untyped-def]
    repo = copy_repo(ROOT / "examples" / "lab-48gb-comfyui", tmp_path / "repo")
    lane = repo / "lanes" / "qwen25-32b.yaml"
    edit(lane, "docker.io/ollama/ollama:0.24.0@", f"{image}@")
    edit(lane, "engineVersion: 0.24.0\n", f"engineVersion: {declared}\n" if declared else "")
    return load_repo(repo).lanes["qwen25-32b"]


def test_seed_000_the_tag_wins_over_the_declaration(tmp_path: Path) -> None:
    assert engine_version(_lane(tmp_path, "docker.io/ollama/ollama:0.23.0", "0.24.0")) == "0.23.0"


def test_an_untagged_image_uses_the_declaration(tmp_path: Path) -> None:
    assert engine_version(_lane(tmp_path, "docker.io/ollama/ollama", "0.24.0")) == "0.24.0"


def test_no_tag_and_no_declaration_is_unknown(tmp_path: Path) -> None:
    assert engine_version(_lane(tmp_path, "docker.io/ollama/ollama:latest", None)) is None


def test_node_driver_fields_load_and_are_optional() -> None:
    gpu = load_repo(ROOT).nodes["gpu-worker-1"].gpus[0]
    assert (gpu.driver_version, gpu.cuda_version) == ("610.43.02", "13.3")
    lab = load_repo(ROOT / "examples" / "lab-48gb-comfyui").nodes["phx-ai04"].gpus[0]
    assert (lab.driver_version, lab.cuda_version) == (None, None)


def test_an_unquoted_driver_version_is_invalid_input(example: Path, cli) -> None:  # type: ignore[no-untyped-def]
    edit(
        example / "hardware/gpu-worker-1.yaml",
        'driverVersion: "610.43.02"',
        "driverVersion: 610.43",
    )
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "hardware/gpu-worker-1.yaml:27: gpus[0].driverVersion: expected string, got 610.43"
    )
    edit(example / "hardware/gpu-worker-1.yaml", "driverVersion: 610.43", 'driverVersion: "R570"')
    result = cli("check", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0].startswith(
        "hardware/gpu-worker-1.yaml:27: gpus[0].driverVersion: 'R570' must be the driver version"
    )
