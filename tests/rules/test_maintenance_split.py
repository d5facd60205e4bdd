from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import CONFIG, DEEP, FAST, NODE, expect, replace, sidecar
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
SWITCH = (
    replace(FAST, "active: true", "active: false"),
    replace(DEEP, "active: false", "active: true"),
)
DRIVER = replace(NODE, 'driverVersion: "610.43.02"', 'driverVersion: "610.50.01"')
AT_CHART = (expect("block", CONFIG, "version: 0.19.3"),)
AMD_CHART = replace(
    "gitops-gen.yaml", "name: amd-gpu, version: 0.21.0", "name: amd-gpu, version: 0.20.0"
)
# The running AMD lane (speech to text) gets new server arguments.
AMD_LANE_ARGS = replace(
    "lanes/whisper-stt-amd.yaml",
    'args: [--host, 0.0.0.0, --port, "8000"]',
    'args: [--host, 0.0.0.0, --port, "8000", --log-level, debug]',
)
CASES = [
    Case("needs-a-base-to-say-anything", edits=(CHART, RUNTIME)),
    Case(
        # The AMD plugin re-registers amd.com/gpu just as the AMD lane restarts.
        "amd-device-plugin-and-an-amd-lane",
        repo="mixed-nvidia-amd",
        base=True,
        edits=(AMD_CHART, AMD_LANE_ARGS),
        expect=(expect("block", "gitops-gen.yaml", "version: 0.20.0"),),
    ),
    Case("amd-device-plugin-alone", repo="mixed-nvidia-amd", base=True, edits=(AMD_CHART,)),
    Case("a-switch-alone", base=True, edits=SWITCH),
    Case("a-driver-upgrade-alone", base=True, edits=(DRIVER,)),
    Case(
        # A switch parks one pod and starts another while the plugin re-registers.
        "device-plugin-and-a-switch",
        base=True,
        edits=(CHART, *SWITCH),
        expect=AT_CHART,
    ),
    Case(
        "device-plugin-and-new-server-args",
        base=True,
        edits=(CHART, replace(FAST, "ctxSize: 49152", "ctxSize: 40960")),
        expect=AT_CHART,
    ),
    Case(
        "device-plugin-and-new-env",
        base=True,
        edits=(CHART, {"file": FAST, "append": 'env: {GGML_CUDA_FORCE_MMQ: "1"}\n'}),
        expect=AT_CHART,
    ),
    Case(
        # The prefetch image is the lane's verify-model init container: a new pod.
        "device-plugin-and-the-init-container-image",
        base=True,
        edits=(
            CHART,
            replace(CONFIG, "curl:8.11.1@sha256:e4e98a5b", "curl:8.12.0@sha256:e4e98a5b"),
        ),
        expect=AT_CHART,
    ),
    Case(
        "device-plugin-values-and-runtime",
        base=True,
        edits=(
            replace(CONFIG, "deviceListStrategy: envvar", "deviceListStrategy: volume-mounts"),
            RUNTIME,
        ),
        expect=(expect("block", CONFIG, "devicePlugin:"),),
    ),
    Case(
        "driver-and-runtime",
        base=True,
        edits=(DRIVER, RUNTIME),
        expect=(expect("block", NODE, "driverVersion:"),),
    ),
    Case(
        "runtime-class-and-runtime",
        base=True,
        edits=(replace(CONFIG, "handler: nvidia}", "handler: nvidia-cdi}"), RUNTIME),
        expect=(expect("block", CONFIG, "runtimeClasses:"),),
    ),
    Case(
        # A parked lane's new image restarts nothing.
        "device-plugin-and-a-parked-lane-image",
        base=True,
        edits=(
            CHART,
            replace(
                "lanes/vllm-rollback.yaml",
                "vllm-openai:v0.12.0@sha256:613a",
                "vllm-openai:v0.12.0@sha256:0000",
            ),
        ),
    ),
    Case(
        # Gateway aliases are not in the pod template.
        "driver-and-an-alias",
        base=True,
        edits=(DRIVER, replace(FAST, "aliases: [fast, chat, agent]", "aliases: [fast, chat]")),
    ),
    Case(
        "device-plugin-and-a-new-running-gpu-manifest",
        base=True,
        edits=(CHART, sidecar(("replicas: 0", "replicas: 1"))),
        expect=AT_CHART,
    ),
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
    from gitops_gen.pr.base import load_at
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
    _repo, findings = run(next(c for c in CASES if c.id == "chart-and-runtime-together"), tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "this change moves the nvidia device plugin (chart 0.19.2 -> 0.19.3) and "
        "restarts the GPU pods of qwen36-35b-gguf-fast (image) together"
    )


def _two_commits(tmp_path: Path, base_edits: tuple, head_edits: tuple) -> list[str]:
    from gitops_gen.check import check_repo
    from gitops_gen.pr.base import load_at
    from tests.rules.harness import TODAY, prepare

    repo = prepare(Case("base", edits=base_edits), tmp_path)
    git_commit(repo, "base")
    for edit in head_edits:
        target = repo / edit["file"]
        if "write" in edit:
            target.write_text(edit["write"])
        else:
            target.write_text(target.read_text().replace(edit["replace"], edit["with"], 1))
    findings = check_repo(repo, today=TODAY, base=load_at(repo, "HEAD")).findings
    return [f.message for f in findings if f.rule == RULE]


NEW_TOOL = ("tool:1.0@sha256:" + "a" * 64, "tool:1.1@sha256:" + "b" * 64)


def test_a_running_hand_written_gpu_pod_template_change(tmp_path: Path) -> None:
    running = sidecar(("replicas: 0", "replicas: 1"))
    changed = sidecar(("replicas: 0", "replicas: 1"), NEW_TOOL)
    (message,) = _two_commits(tmp_path, (running,), (CHART, changed))
    assert message.endswith(
        "restarts the GPU pods of Deployment/vllm/sidecar-gpu (pod template) together"
    )


def test_a_parked_hand_written_gpu_pod_template_change(tmp_path: Path) -> None:
    assert _two_commits(tmp_path, (sidecar(),), (CHART, sidecar(NEW_TOOL))) == []


def test_message_names_every_restart_and_why(tmp_path: Path) -> None:
    _repo, findings = run(next(c for c in CASES if c.id == "device-plugin-and-a-switch"), tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    assert finding.message == (
        "this change moves the nvidia device plugin (chart 0.19.2 -> 0.19.3) and restarts the GPU "
        "pods of qwen36-27b-deep (switch to active), qwen36-35b-gguf-fast (switch to parked) "
        "together"
    )
