"""Real public GPU manifests, dropped as they are into manifests/ of an example repo.

tests/corpus/real-manifests/ holds one manifest file per source (each names its URL and
licence). Each one must load (no crash, no exit 2: they are valid Kubernetes), and the
rules it trips, beyond those of the untouched example, are exactly the expected ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_gen.check import check_repo
from gitops_gen.check.findings import Finding
from tests.conftest import ROOT, copy_repo
from tests.rules.harness import BASELINE, TODAY

CORPUS = Path(__file__).parent / "corpus" / "real-manifests"
HYGIENE = {"image-digest-pinned", "pod-hardening"}  # none of them pins or hardens
UNPINNED_GPU = HYGIENE | {"placement", "recreate-strategy"}
# (file, example repo, rules beyond the example's own findings)
CASES = [
    # The upstream static DaemonSet beside gitops-gen's own device plugin; its socket
    # directory is not a hostPath finding.
    ("nvidia-device-plugin-static.yaml", ".", HYGIENE | {"single-device-plugin"}),
    # AMD's static plugin beside the amd-gpu chart gitops-gen renders for the AMD card:
    # a second one; its /sys mount is still a hostPath finding.
    ("rocm-amdgpu-device-plugin.yaml", "mixed-nvidia-amd", HYGIENE | {"single-device-plugin"}),
    # GKE node selectors match no node in hardware/.
    ("gke-vllm-gemma-3-1b-it.yaml", ".", UNPINNED_GPU),
    ("gke-tgi-mixtral-8x7b.yaml", ".", UNPINNED_GPU),
    # Autoscalers whose targets are not deployed here.
    ("gke-vllm-hpa-leaderworkerset.yaml", ".", set()),
    ("production-stack-hpa.yaml", ".", set()),
    # Unpinned and not tolerating the root node's taint: it lands on no known node.
    ("vllm-docs-mistral-7b-nvidia.yaml", ".", UNPINNED_GPU),
    # Unpinned on an untainted node: it takes the card of the active lane.
    (
        "vllm-docs-mistral-7b-nvidia.yaml",
        "mixed-nvidia-amd",
        UNPINNED_GPU | {"single-active-gpu-lane"},
    ),
    (
        "vllm-docs-mistral-7b-amd.yaml",
        "mixed-nvidia-amd",
        UNPINNED_GPU | {"single-active-gpu-lane"},
    ),
    (
        "rocm-vllm-serve-deployment.yaml",
        "mixed-nvidia-amd",
        UNPINNED_GPU | {"single-active-gpu-lane"},
    ),
    (
        "rocm-pytorch-pod.yaml",
        "mixed-nvidia-amd",
        HYGIENE | {"placement", "single-active-gpu-lane"},
    ),
    (
        "rocm-jax-multi-gpu-pod.yaml",
        "mixed-nvidia-amd",
        HYGIENE | {"placement", "single-active-gpu-lane"},
    ),
    ("rocm-jax-multi-gpu-pod.yaml", ".", HYGIENE | {"placement"}),
    # A leading '---'; tolerates nvidia.com/gpu, the H100 node's taint, unpinned.
    ("ollama-gpu.yaml", "h100x2-tp2", HYGIENE | {"placement", "single-active-gpu-lane"}),
    ("ollama-gpu.yaml", ".", HYGIENE | {"placement"}),
]


def _key(f: Finding) -> tuple[str, str, str]:
    return (f.rule, f.object, f.message)


@pytest.mark.parametrize(
    ("name", "repo_name", "expected"), CASES, ids=[f"{c[0]}@{c[1]}" for c in CASES]
)
def test_real_manifest(name: str, repo_name: str, expected: set[str], tmp_path: Path) -> None:
    source = ROOT if repo_name == "." else ROOT / "examples" / repo_name
    repo = copy_repo(source, tmp_path / "repo")
    (repo / "manifests").mkdir(exist_ok=True)
    shutil.copy(CORPUS / name, repo / "manifests" / name)
    findings = check_repo(repo, today=TODAY).findings  # an InputError (exit 2) fails here
    baseline = {_key(f) for f in BASELINE.of(repo_name)}
    new = [f for f in findings if _key(f) not in baseline and f.severity.label != "NOTE"]
    assert {f.rule for f in new} == expected, [(f.rule, f.line, f.message) for f in new]
    assert all(f.file == f"manifests/{name}" for f in new if f.rule != "single-active-gpu-lane")


def test_every_corpus_file_is_used_and_names_its_source() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert files == sorted({c[0] for c in CASES})
    for name in files:
        head = (CORPUS / name).read_text().splitlines()[:4]
        assert head[0].startswith("# Source: https://github.com/"), name
        assert any(line.startswith("# Licence: ") for line in head), name


def test_device_plugin_socket_directory_is_not_a_finding(tmp_path: Path) -> None:
    for name, path in (
        ("nvidia-device-plugin-static.yaml", "/var/lib/kubelet/device-plugins"),
        ("rocm-amdgpu-device-plugin.yaml", "/var/lib/kubelet/device-plugins"),
    ):
        repo = copy_repo(ROOT, tmp_path / name)
        (repo / "manifests").mkdir(exist_ok=True)
        shutil.copy(CORPUS / name, repo / "manifests" / name)
        messages = [f.message for f in check_repo(repo, today=TODAY).findings]
        assert not [m for m in messages if path in m], messages
