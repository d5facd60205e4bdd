"""The compose target: a docker compose host renders the same lanes as a Kubernetes node.

What compose itself would do with the file is taken from the Compose Specification and
Docker's documented behaviour: `$` is interpolated everywhere, a service in a profile
is not started by `docker compose up`, `count` reserves the first cards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.check.validation import compose_violations
from gitops_gen.render.compose import compose_bytes, compose_cpus, device_ids
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.quantity import parse_docker_size, parse_quantity
from tests.conftest import ROOT, Result, copy_repo, edit

EXAMPLE = ROOT / "examples" / "rtx5090-compose"
ACTIVE = "lanes/qwen25-32b-awq.yaml"
PARKED = "lanes/llama31-70b-awq.yaml"
NODE = "hardware/ws5090.yaml"
CONFIG = "gitops-gen.yaml"


@pytest.fixture
def compose_repo(tmp_path: Path) -> Path:
    return copy_repo(EXAMPLE, tmp_path / "repo")


def _compose(repo: Path) -> dict[str, Any]:
    (rendered,) = render_repo(load_repo(repo)).compose
    return dict(rendered.data)


def _written(repo: Path) -> dict[str, Any]:
    """What compose reads: the written file, parsed as YAML."""
    data: dict[str, Any] = yaml.safe_load((repo / "rendered/ws5090/compose.yaml").read_text())
    return data


def test_the_rendered_file_is_valid_by_the_compose_specification(compose_repo: Path) -> None:
    data = _compose(compose_repo)
    assert compose_violations(data) == []
    assert sorted(data["services"]) == [
        "litellm",
        "llama31-70b-awq",
        "prefetch-llama-3-1-70b-instruct-awq",
        "prefetch-qwen25-32b-instruct-awq",
        "qwen25-32b-awq",
    ]


def test_a_lane_name_may_start_with_a_digit_on_a_compose_host(compose_repo: Path) -> None:
    # On Kubernetes it names a Service, which must start with a letter (exit 2 there);
    # compose takes a service name starting with a digit.
    edit(compose_repo / PARKED, "name: llama31-70b-awq", "name: 70b-awq")
    data = _compose(compose_repo)
    assert "70b-awq" in data["services"]
    assert compose_violations(data) == []


def test_a_parked_lane_is_in_a_profile_and_the_active_one_is_not(compose_repo: Path) -> None:
    services = _compose(compose_repo)["services"]
    assert services["llama31-70b-awq"]["profiles"] == ["parked"]
    assert "profiles" not in services["qwen25-32b-awq"]


def test_a_lane_reserves_its_card_by_id_and_waits_for_its_verified_model(
    compose_repo: Path,
) -> None:
    lane = _compose(compose_repo)["services"]["qwen25-32b-awq"]
    assert lane["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}
    ]
    assert lane["depends_on"] == {
        "prefetch-qwen25-32b-instruct-awq": {"condition": "service_completed_successfully"}
    }
    assert lane["volumes"] == [
        {"type": "bind", "source": "/srv/models", "target": "/models", "read_only": True}
    ]
    assert lane["healthcheck"]["test"][:2] == ["CMD", "python3"]
    assert lane["healthcheck"]["start_period"] == "1800s"


def test_running_lanes_take_the_cards_in_turn_and_parked_ones_the_first() -> None:
    from gitops_gen.specs.model import Lane

    lanes = [
        Lane(doc=None, name="b", active=True, gpus=2),  # type: ignore[arg-type]
        Lane(doc=None, name="a", active=True, gpus=1),  # type: ignore[arg-type]
        Lane(doc=None, name="c", active=False, gpus=2),  # type: ignore[arg-type]
        Lane(doc=None, name="cpu", active=True, gpus=0),  # type: ignore[arg-type]
    ]
    assert device_ids(lanes) == {"a": ["0"], "b": ["1", "2"], "c": ["0", "1"]}


def test_the_same_lane_runs_the_same_command_as_on_kubernetes(tmp_path: Path) -> None:
    """The root example rendered for Kubernetes and, unchanged but for its target, for a
    compose host: every lane has the same image, entrypoint, arguments and environment."""
    kube = render_repo(load_repo(ROOT))
    repo = copy_repo(ROOT, tmp_path / "repo")
    edit(repo / CONFIG, '    kubernetesVersion: "1.35"', "    target: compose")
    services = _compose(repo)["services"]
    deployments = [o for o in kube.objects if o.path.endswith("/deployment.yaml")]
    lanes = [d for d in deployments if d.path.split("/")[1] == "lanes"]
    assert len(lanes) == 6
    for deployment in lanes:
        name = deployment.data["metadata"]["name"]
        pod = deployment.data["spec"]["template"]["spec"]
        server = pod["containers"][0]
        service = services[name]
        assert service["image"] == server["image"]
        assert service["command"] == server["args"]
        assert service.get("entrypoint", []) == server.get("command", [])
        env = {e["name"]: e["value"] for e in server.get("env", [])}
        assert service.get("environment", {}) == env
        assert ("profiles" in service) == (deployment.data["spec"]["replicas"] == 0)
        reserved = service["deploy"]["resources"]["reservations"]
        requests = server["resources"]["requests"]
        assert parse_quantity(reserved["cpus"]) == parse_quantity(requests["cpu"])
        assert parse_docker_size(reserved["memory"]) == parse_quantity(requests["memory"])


def test_a_dollar_from_a_spec_reaches_the_container_as_written(compose_repo: Path) -> None:
    """Compose substitutes `$VAR` in every value; a spec's `$` is doubled so that the
    container gets it literally. Only the secrets are left for compose to fill."""
    edit(
        compose_repo / ACTIVE,
        "VLLM_WORKER_MULTIPROC_METHOD: spawn",
        "VLLM_WORKER_MULTIPROC_METHOD: spawn\n  PROMPT: 'costs $5 ${HOME} $$'",
    )
    from gitops_gen.cli.render import render_command

    assert render_command(compose_repo, check=False) == 0
    written = _written(compose_repo)
    assert (
        written["services"]["qwen25-32b-awq"]["environment"]["PROMPT"] == "costs $$5 $${HOME} $$$$"
    )
    # What compose makes of it: `$$` is a literal `$`.
    assert _interpolated("costs $$5 $${HOME} $$$$") == "costs $5 ${HOME} $$"
    gateway = written["services"]["litellm"]["environment"]
    assert gateway["LITELLM_MASTER_KEY"].startswith("${LITELLM_MASTER_KEY:?")
    script = written["services"]["prefetch-qwen25-32b-instruct-awq"]["entrypoint"][2]
    assert "$$MARKER" in script and "$MARKER" not in script.replace("$$MARKER", "")


def _interpolated(value: str) -> str:
    """Compose's rule for a value without variables left: `$$` becomes `$`."""
    assert "${" not in value.replace("$${", "")
    return value.replace("$$", "\0").replace("\0", "$")


@pytest.mark.parametrize(
    ("quantity", "cpus"), [("4", "4"), ("250m", "0.25"), ("1500m", "1.5"), ("0.1", "0.1")]
)
def test_cpu_quantities_become_compose_cores(quantity: str, cpus: str) -> None:
    assert compose_cpus(quantity) == cpus


@pytest.mark.parametrize(
    ("quantity", "size"),
    [("64Gi", "64g"), ("512Mi", "512m"), ("1536Mi", "1536m"), ("8Ki", "8k"), ("1G", "1000000000b")],
)
def test_memory_quantities_keep_their_bytes(quantity: str, size: str) -> None:
    assert compose_bytes(quantity) == size
    assert parse_docker_size(size) == parse_quantity(quantity)


def test_the_gateway_is_published_only_where_the_host_says(compose_repo: Path) -> None:
    services = _compose(compose_repo)["services"]
    assert services["litellm"]["ports"] == ["127.0.0.1:4000:4000"]
    assert all("ports" not in s for n, s in services.items() if n != "litellm")
    edit(compose_repo / CONFIG, "publishAddress: 127.0.0.1", "publishAddress: 0.0.0.0")
    assert _compose(compose_repo)["services"]["litellm"]["ports"] == ["0.0.0.0:4000:4000"]


def test_the_gateway_routes_aliases_to_the_lanes_by_service_name(compose_repo: Path) -> None:
    tree = render_repo(load_repo(compose_repo))
    _origin, config = tree.documents["ws5090/gateway/litellm.yaml"]
    routes = {(m["model_name"], m["litellm_params"]["api_base"]) for m in config["model_list"]}
    assert routes == {
        ("chat", "http://qwen25-32b-awq:8000/v1"),
        ("code", "http://qwen25-32b-awq:8000/v1"),
    }
    assert config["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}


def test_switch_moves_the_card_on_a_compose_host(
    compose_repo: Path, cli: Callable[..., Result]
) -> None:
    """Make the 70B fit (a second card and tensor parallel 2) and switch to it: the files
    change, the compose file follows, and the old lane is parked."""
    edit(compose_repo / NODE, "count: 1", "count: 2")
    edit(compose_repo / PARKED, "gpus: 1", "gpus: 2")
    edit(compose_repo / PARKED, "  maxModelLen: 32768", "  maxModelLen: 8192")
    assert cli("render", cwd=compose_repo).code == 0
    result = cli("switch", "llama31-70b-awq", "--force", cwd=compose_repo)
    # WARN: nobody has measured the 70B on these cards (validation-evidence).
    assert result.code == 10, result
    assert "switch: done" in result.out
    services = _written(compose_repo)["services"]
    assert "profiles" not in services["llama31-70b-awq"]
    assert services["qwen25-32b-awq"]["profiles"] == ["parked"]
    devices = services["llama31-70b-awq"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["device_ids"] == ["0", "1"]
    assert cli("render", "--check", cwd=compose_repo).code == 0


# --- bad input: one line with file:line and the key path, nothing written --------------------


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda repo: edit(repo / rel, old, new)


def _write(rel: str, text: str) -> Callable[[Path], None]:
    def write(repo: Path) -> None:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)

    return write


BAD = [
    (
        "a-kubernetes-cluster-needs-its-version",
        _edit(CONFIG, "    target: compose\n", ""),
        f"{CONFIG}:5: clusters[0]: missing required key 'kubernetesVersion'",
    ),
    (
        "a-compose-host-has-no-kubernetes-version",
        _edit(
            CONFIG, "    target: compose\n", '    target: compose\n    kubernetesVersion: "1.35"\n'
        ),
        f"{CONFIG}:7: clusters[0].kubernetesVersion: a compose host has no kubernetesVersion; "
        "remove it",
    ),
    (
        "a-kubernetes-cluster-needs-argo-cd",
        _edit(
            CONFIG,
            "    target: compose\n",
            '    target: kubernetes\n    kubernetesVersion: "1.35"\n',
        ),
        f"{CONFIG}:3: missing required key 'argocd' (cluster 'ws5090' is synced by Argo CD)",
    ),
    (
        "two-machines-on-one-compose-host",
        _write("hardware/second.yaml", (EXAMPLE / NODE).read_text().replace("ws5090", "second")),
        "hardware/ws5090.yaml:3: name: compose host 'ws5090' is one machine and already has "
        "node 'second' (hardware/second.yaml); give this one its own compose host",
    ),
    (
        "an-amd-gpu-on-a-compose-host",
        _edit(NODE, "vendor: nvidia", "vendor: amd"),
        f"{NODE}:11: gpus[0].vendor: compose host 'ws5090': gitops-gen renders NVIDIA GPU "
        "reservations for compose; amd GPUs need a Kubernetes target",
    ),
    (
        "kubernetes-manifests-on-a-compose-host",
        _write("manifests/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
        "manifests/extra.yaml: ws5090 is a compose host: hand-written services go in the "
        "compose file named by its composeFile, not in manifests/",
    ),
    (
        "the-compose-file-is-missing",
        lambda repo: (repo / "compose.yaml").unlink(),
        "compose.yaml: file not found",
    ),
    (
        "a-hand-written-service-named-like-a-lane",
        _edit("compose.yaml", "  postgres:\n", "  qwen25-32b-awq:\n"),
        "compose.yaml:18: services.qwen25-32b-awq: service 'qwen25-32b-awq' is also rendered in "
        "ws5090/compose.yaml (from gitops-gen.yaml:5); rename the hand-written one",
    ),
    (
        "a-lane-named-like-the-gateway",
        _edit(ACTIVE, "name: qwen25-32b-awq", "name: litellm"),
        f"{CONFIG}:19: name: the gateway would be compose service 'litellm', which this host "
        "already renders; rename one of them",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_exits_2_with_one_line(
    compose_repo: Path,
    cli: Callable[..., Result],
    mutate: Callable[[Path], None],
    expected: str,
) -> None:
    mutate(compose_repo)
    specs = {p: p.read_bytes() for p in compose_repo.rglob("*") if p.is_file()}
    result = cli("render", cwd=compose_repo)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert result.err.splitlines()[0] == expected
    assert not (compose_repo / "rendered").exists()
    assert {p: p.read_bytes() for p in compose_repo.rglob("*") if p.is_file()} == specs


def test_a_pull_request_diff_lists_compose_services(
    compose_repo: Path, cli: Callable[..., Result]
) -> None:
    from tests.rules.harness import git_commit

    assert cli("render", cwd=compose_repo).code == 0
    git_commit(compose_repo, "base")
    edit(compose_repo / ACTIVE, "  maxModelLen: 32768", "  maxModelLen: 16384")
    edit(compose_repo / "compose.yaml", "pg17@", "pg16@")
    assert cli("render", cwd=compose_repo).code == 0
    result = cli("diff", "--base", "HEAD", cwd=compose_repo)
    assert result.out.splitlines() == [
        "gitops-gen diff: 2 changed, 0 added, 0 removed against HEAD",
        "~ ComposeService/ws5090/postgres",
        "    spec.image: docker.io/pgvector/pgvector:pg17@sha256:"
        "9ca6e1e3c5c1d3e4c2b3b7b4b5b8a4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1 -> "
        "docker.io/pgvector/pgvector:pg16@sha256:"
        "9ca6e1e3c5c1d3e4c2b3b7b4b5b8a4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1",
        "~ ComposeService/ws5090/qwen25-32b-awq",
        "    spec.command[--max-model-len]: 32768 -> 16384",
    ]


def test_a_generic_lane_gets_its_pinned_workflows_on_a_compose_host(tmp_path: Path) -> None:
    """The 48 GB lab as a compose host: ComfyUI's reviewed workflows are compose configs
    mounted where it reads them, and nothing else."""
    lab = ROOT / "examples" / "lab-48gb-comfyui"
    repo = copy_repo(lab, tmp_path / "lab")
    edit(repo / CONFIG, '    kubernetesVersion: "1.34"', "    target: compose")
    document = _compose(repo)
    assert compose_violations(document) == []
    comfy = document["services"]["comfyui"]
    assert comfy["configs"] == [
        {
            "source": "comfyui-workflow-0",
            "target": "/opt/comfyui/user/default/workflows/registry.json",
        },
        {
            "source": "comfyui-workflow-1",
            "target": "/opt/comfyui/user/default/workflows/wan21-t2v-480p.json",
        },
    ]
    workflow = (repo / "workflows/comfyui/wan21-t2v-480p.json").read_text()
    assert document["configs"]["comfyui-workflow-1"] == {"content": workflow}
    assert comfy["labels"]["dev.gitops-gen.part"] == "gpu-lane"
    assert "healthcheck" not in comfy  # no tool known to be in a generic image
    edit(
        repo / "lanes/comfyui.yaml", "  port: 8188", "  port: 8188\n  healthCommand: [curl, -f, x]"
    )
    comfy = _compose(repo)["services"]["comfyui"]
    assert comfy["healthcheck"]["test"] == ["CMD", "curl", "-f", "x"]


def test_running_lanes_share_a_time_sliced_card_by_its_replicas() -> None:
    from gitops_gen.specs.model import Lane

    lanes = [
        Lane(doc=None, name=n, active=True, gpus=1)  # type: ignore[arg-type]
        for n in ("a", "b", "c")
    ]
    assert device_ids(lanes, [2]) == {"a": ["0"], "b": ["0"], "c": ["1"]}
    assert device_ids(lanes, [1, 2]) == {"a": ["0"], "b": ["1"], "c": ["1"]}


def test_a_time_sliced_card_on_a_compose_host_is_shared_and_summed(compose_repo: Path) -> None:
    from gitops_gen.check import check_repo
    from tests.rules.harness import TODAY

    edit(compose_repo / NODE, "    mig: false", "    mig: false\n    timeSlicing: {replicas: 2}")
    edit(compose_repo / PARKED, "active: false", "active: true")
    services = _compose(compose_repo)["services"]
    for lane in ("qwen25-32b-awq", "llama31-70b-awq"):
        devices = services[lane]["deploy"]["resources"]["reservations"]["devices"]
        assert devices[0]["device_ids"] == ["0"]
    findings = check_repo(compose_repo, today=TODAY).findings
    assert not [f for f in findings if f.rule == "single-active-gpu-lane"]
    shared = [f for f in findings if f.rule == "vram-fit" and "share" in f.message]
    assert {f.lane for f in shared} == {"qwen25-32b-awq", "llama31-70b-awq"}
    assert all(f.severity.label == "BLOCK" for f in shared)


def test_the_shipped_compose_schema_is_the_upstream_file_its_notice_names() -> None:
    # The Compose Specification's schema ships in the package, unmodified: its bytes are
    # those of schema/compose-spec.json at the commit NOTICE names, whose sha256 it gives.
    import hashlib
    import re

    folder = ROOT / "gitops_gen" / "schemas" / "compose"
    notice = (folder / "NOTICE").read_text()
    assert "https://github.com/compose-spec/compose-spec" in notice
    assert re.search(r"commit\s+[0-9a-f]{40}", notice)
    (recorded,) = re.findall(r"^sha256: ([0-9a-f]{64})$", notice, re.MULTILINE)
    assert hashlib.sha256((folder / "compose-spec.json").read_bytes()).hexdigest() == recorded
