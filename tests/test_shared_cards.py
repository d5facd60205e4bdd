"""Cards shared on purpose: time-slicing in hardware/, rendered into the device plugin's
config, and the lanes sharing a card held to its VRAM together (seed 004)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.pipeline import build_repo
from gitops_gen.render.platform import CONFIG_LABEL
from tests.conftest import ROOT, Result, copy_repo, edit
from tests.rules.harness import TODAY

MIXED = ROOT / "examples" / "mixed-nvidia-amd"
NODE = "hardware/brain.yaml"
SHARED = "timeSlicing: {replicas: 3}"


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    return copy_repo(MIXED, tmp_path / "repo")


def _plugin_config(repo: Path) -> dict:
    tree = build_repo(repo).tree
    (app,) = [o for o in tree.objects if o.path.endswith("apps/nvidia-device-plugin.yaml")]
    return dict(app.data["spec"]["source"]["helm"]["valuesObject"]["config"])


def test_the_device_plugin_time_slices_the_card_by_default(mixed: Path) -> None:
    config = _plugin_config(mixed)
    assert config["default"] == "time-sliced-3"
    assert config["map"]["default"] == "version: v1\n"
    assert "      - name: nvidia.com/gpu\n        replicas: 3\n" in config["map"]["time-sliced-3"]
    assert "failRequestsGreaterThanOne: true" in config["map"]["time-sliced-3"]


def test_without_sharing_the_plugin_gets_no_config(mixed: Path) -> None:
    edit(mixed / NODE, f",\n     {SHARED}", "")
    tree = build_repo(mixed).tree
    (app,) = [o for o in tree.objects if o.path.endswith("apps/nvidia-device-plugin.yaml")]
    assert "config" not in app.data["spec"]["source"]["helm"]["valuesObject"]


def _second_node(repo: Path, shared: bool, label: str = "") -> None:
    """Another NVIDIA node in the cluster; shared or not, with labels of its own."""
    sharing = ", timeSlicing: {replicas: 2}" if shared else ""
    (repo / "hardware/second.yaml").write_text(
        "kind: Node\nname: second\n"
        f"labels: {{kubernetes.io/hostname: second{label}}}\n"
        'allocatable: {cpu: "8", memory: 32Gi}\n'
        "gpus:\n"
        '  - {vendor: nvidia, model: rtx-4090, count: 1, vramMiB: 24564, computeCapability: "8.9"'
        f"{sharing}}}\n"
        "modelCache: {hostPath: /data/models, mountPath: /models}\n"
    )


def _placement(repo: Path) -> list[tuple[str, int, str]]:
    from gitops_gen.check import check_repo

    findings = check_repo(repo, today=TODAY).findings
    return [(f.file, f.line, f.message) for f in findings if f.rule == "platform-placement"]


def test_nodes_sharing_differently_select_their_config_by_label(mixed: Path) -> None:
    _second_node(mixed, shared=False)
    config = _plugin_config(mixed)
    assert config["default"] == "default"
    ((file, line, message),) = _placement(mixed)
    assert (file, line) == (NODE, 10)
    assert f"label the node {CONFIG_LABEL}=time-sliced-3" in message
    edit(
        mixed / NODE,
        "labels: {kubernetes.io/hostname: brain}",
        f"labels: {{kubernetes.io/hostname: brain, {CONFIG_LABEL}: time-sliced-3}}",
    )
    assert _placement(mixed) == []


def test_two_replica_counts_give_two_named_configs(mixed: Path) -> None:
    _second_node(mixed, shared=True, label=f", {CONFIG_LABEL}: time-sliced-2")
    config = _plugin_config(mixed)
    assert sorted(config["map"]) == ["default", "time-sliced-2", "time-sliced-3"]
    assert config["default"] == "default"
    assert [m for _f, _l, m in _placement(mixed)] == [
        "node brain time-slices its rtx-pro-6000-blackwell (3 replicas), but the device plugin "
        "would run config 'default' there and advertise one nvidia.com/gpu: the lanes sharing "
        "it stay Pending (label the node nvidia.com/device-plugin.config=time-sliced-3, in "
        "hardware/ and on the cluster)"
    ]


def test_switch_on_a_shared_card_parks_nothing(mixed: Path, cli: Callable[..., Result]) -> None:
    edit(mixed / "lanes/qwen3-coder-30b.yaml", "active: true", "active: false")
    assert cli("render", cwd=mixed).code == 0
    result = cli("switch", "qwen3-coder-30b", "--force", cwd=mixed)
    assert "would park" not in result.out, result.out
    assert "active: true" in (mixed / "lanes/gpt-oss-120b.yaml").read_text()
    assert "active: true" in (mixed / "lanes/qwen3-coder-30b.yaml").read_text()


BAD = [
    (
        "an-amd-card-time-sliced",
        "deviceGroups: [44, 992]}",
        "deviceGroups: [44, 992], timeSlicing: {replicas: 2}}",
        f"{NODE}:14: gpus[1].timeSlicing: time-slicing is the NVIDIA device plugin's; not for AMD",
    ),
    (
        "several-cards-time-sliced",
        "count: 1, vramMiB: 97887",
        "count: 2, vramMiB: 97887",
        f"{NODE}:10: gpus[0].timeSlicing: only a node's single NVIDIA card may be time-sliced "
        "(count: 1): with several, the device plugin picks the card and the VRAM of the lanes "
        "sharing one cannot be checked",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_sharing_exits_2(
    mixed: Path, cli: Callable[..., Result], old: str, new: str, expected: str
) -> None:
    edit(mixed / NODE, old, new)
    result = cli("render", cwd=mixed)
    assert result.code == 2, result
    assert result.err.splitlines()[0] == expected


def test_a_lane_takes_one_replica_of_a_shared_card(mixed: Path, cli: Callable[..., Result]) -> None:
    edit(mixed / "lanes/qwen3-coder-30b.yaml", "gpuVendor: nvidia", "gpuVendor: nvidia\ngpus: 2")
    result = cli("render", cwd=mixed)
    assert result.code == 2, result
    assert result.err.splitlines()[0] == (
        "lanes/qwen3-coder-30b.yaml:8: gpus: node 'brain' time-slices its card: a lane takes "
        "one replica of it (gpus: 1)"
    )
