"""The rendered example: its contract (asserted from the specs), its bytes (snapshot),
and its determinism (the same bytes whatever the file order)."""

from __future__ import annotations

import json
import random
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment
from syrupy.assertion import SnapshotAssertion

from gitops_gen.errors import TemplateError
from gitops_gen.render.emitter import load_rendered
from gitops_gen.render.plan import PlannedFile
from gitops_gen.render.targets import plan_repo
from gitops_gen.render.templating import (
    RenderedTree,
    TemplateRenderer,
    _load_template,
    render_repo,
)
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.model import Location
from gitops_gen.specs.source import load_yaml
from tests.conftest import ROOT, copy_repo, edit


@pytest.fixture(scope="module")
def tree() -> RenderedTree:
    return render_repo(load_repo(ROOT))


def _objects(tree: RenderedTree, kind: str) -> dict[str, dict[str, Any]]:
    return {
        o.data["metadata"]["name"]: dict(o.data) for o in tree.objects if o.data["kind"] == kind
    }


EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())


def test_rendered_example_matches_snapshot(tree: RenderedTree, snapshot: SnapshotAssertion) -> None:
    assert dict(tree.files) == snapshot


@pytest.mark.parametrize("name", EXAMPLES)
def test_rendered_examples_match_snapshots(name: str, snapshot: SnapshotAssertion) -> None:
    assert dict(render_repo(load_repo(ROOT / "examples" / name)).files) == snapshot


def test_examples_cover_every_engine_and_vendor() -> None:
    lanes = [
        lane for name in EXAMPLES for lane in load_repo(ROOT / "examples" / name).lanes.values()
    ]
    assert {lane.engine for lane in lanes} == {"llamacpp", "vllm", "ollama", "generic"}
    assert {lane.gpu_vendor for lane in lanes} >= {"nvidia", "amd"}
    assert any(lane.gpus == 2 for lane in lanes)


def test_only_the_active_lane_owns_the_gpu(tree: RenderedTree) -> None:
    replicas = {
        name: d["spec"]["replicas"]
        for name, d in _objects(tree, "Deployment").items()
        if d["metadata"]["labels"].get("platform.example.com/gpu-llm") == "true"
    }
    assert replicas == {
        "qwen36-35b-gguf-fast": 1,
        "qwen36-35b-gguf-longctx": 0,
        "qwen36-27b-deep": 0,
        "qwen36-nvfp4-experiment": 0,
        "gpt-oss-agent": 0,
        "vllm-rollback": 0,
    }


def test_every_gpu_deployment_keeps_the_gpu_contract(tree: RenderedTree) -> None:
    repo = load_repo(ROOT)
    node = repo.nodes["gpu-worker-1"]
    for name, lane in repo.lanes.items():
        deployment = _objects(tree, "Deployment")[name]
        spec = deployment["spec"]
        pod = spec["template"]["spec"]
        server = pod["containers"][0]
        assert spec["strategy"] == {"type": "Recreate"}
        assert spec["revisionHistoryLimit"] == 2
        assert pod["runtimeClassName"] == "nvidia"
        assert pod["automountServiceAccountToken"] is False
        assert pod["enableServiceLinks"] is False
        assert pod["nodeSelector"] == {
            "kubernetes.io/hostname": "gpu-worker-1",
            "workload.ai/gpu": "true",
        }
        taints = {(t.key, t.value, t.effect) for t in node.taints}
        tolerated = {(t["key"], t.get("value"), t["effect"]) for t in pod["tolerations"]}
        assert taints <= tolerated
        resources = server["resources"]
        assert resources["requests"]["nvidia.com/gpu"] == lane.gpus
        assert resources["limits"]["nvidia.com/gpu"] == lane.gpus
        assert resources["requests"]["cpu"] == lane.resources.cpu.request
        assert resources["limits"]["memory"] == lane.resources.memory.limit
        assert server["image"] == lane.image and "@sha256:" in server["image"]
        assert server["securityContext"]["allowPrivilegeEscalation"] is False
        assert server["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["model-cache"]["hostPath"]["path"] == "/models/vllm"
        assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert server[probe]["httpGet"]["path"] == "/health"
        model = repo.models[lane.model or ""]
        annotations = deployment["metadata"]["annotations"]
        if model.format == "gguf":
            assert annotations["ai.example.com/model-file-sha256"] == model.sha256
            assert annotations["ai.example.com/model-file-size-bytes"] == str(model.size_bytes)
        else:
            assert annotations["ai.example.com/model-size-bytes"] == str(model.size_bytes)


def test_llamacpp_args_are_spelled_as_llama_server_spells_them(tree: RenderedTree) -> None:
    pod = _objects(tree, "Deployment")["qwen36-35b-gguf-fast"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == [
        "-m",
        "/models/gguf/Qwen3.6-35B-A3B-UD-Q4_K_M.gguf",
        "--alias",
        "qwen36-35b-gguf-fast",
        "--ctx-size",
        "49152",
        "--cache-type-k",
        "q8_0",
        "--cache-type-v",
        "q8_0",
        "--n-gpu-layers",
        "999",
        "--flash-attn",
        "on",
        "--parallel",
        "1",
        "--jinja",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--metrics",
    ]


def test_vllm_args_are_spelled_as_vllm_serve_spells_them(tree: RenderedTree) -> None:
    server = _objects(tree, "Deployment")["qwen36-nvfp4-experiment"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert server["command"] == ["vllm", "serve"]
    assert server["args"] == [
        "/models/hf/qwen36-35b-a3b-nvfp4",
        "--served-model-name",
        "qwen36-nvfp4-experiment",
        "--max-model-len",
        "16384",
        "--gpu-memory-utilization",
        "0.92",
        "--kv-cache-dtype",
        "fp8",
        "--max-num-seqs",
        "4",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    env = {e["name"]: e["value"] for e in server["env"]}
    assert env["HF_HUB_OFFLINE"] == "1"


def test_prefetch_jobs_cover_each_locked_model_once(tree: RenderedTree) -> None:
    jobs = _objects(tree, "Job")
    refs = sorted(j["metadata"]["annotations"]["ai.example.com/model-ref"] for j in jobs.values())
    # the nvfp4 checkpoint opts out of prefetch; the two fast/longctx lanes share one file
    assert refs == [
        "gpt-oss-20b-mxfp4",
        "qwen3-14b-awq",
        "qwen36-27b-q4-k-m",
        "qwen36-35b-a3b-ud-q4-k-m",
    ]
    job = next(
        j
        for j in jobs.values()
        if j["metadata"]["annotations"]["ai.example.com/model-ref"] == "qwen36-27b-q4-k-m"
    )
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODEL_FILES"] == (
        "331a2c21bc065f529009dca35148e8c8a74b0f80982ce69aef96eced8320af93  Qwen3.6-27B-Q4_K_M.gguf"
    )
    assert env["BASE_URL"] == (
        "https://huggingface.co/unsloth/Qwen3.6-27B-GGUF/resolve/"
        "6a4ee9637272f25d395040ac19424bf31763f19c"
    )
    # the server waits for exactly this verified marker
    deep = _objects(tree, "Deployment")["qwen36-27b-deep"]["spec"]["template"]["spec"]
    verify = {e["name"]: e["value"] for e in deep["initContainers"][0]["env"]}
    assert verify["MODEL_FILES"] == env["MODEL_FILES"]
    assert verify["MARKER"] == env["MARKER"]
    assert verify["PREFETCH_JOB"] == job["metadata"]["name"]


def test_gateway_routes_each_alias_to_the_active_lane(tree: RenderedTree) -> None:
    config_map = _objects(tree, "ConfigMap")["litellm-config"]
    config = load_yaml(config_map["data"]["config.yaml"])
    routes: dict[str, list[str]] = {}
    for entry in config["model_list"]:
        routes.setdefault(entry["model_name"], []).append(entry["litellm_params"]["api_base"])
    # every lane serves the stable aliases; only the active lane gets the routes
    assert routes["fast"] == ["http://qwen36-35b-gguf-fast.vllm.svc.cluster.local:8080/v1"]
    assert routes["chat"] == routes["fast"]
    assert routes["agent"] == routes["fast"]
    assert routes["embed"] == ["http://embeddings.ai.svc.cluster.local:8080/v1"]


def test_device_plugin_is_a_pinned_chart_with_seed_values(tree: RenderedTree) -> None:
    app = _objects(tree, "Application")["homelab-nvidia-device-plugin"]
    source = app["spec"]["source"]
    assert (source["chart"], source["targetRevision"]) == ("nvidia-device-plugin", "0.19.2")
    values = source["helm"]["valuesObject"]
    assert values["image"]["tag"].startswith("v0.19.2@sha256:")
    assert values["runtimeClassName"] == "nvidia"
    assert values["gfd"] == {"enabled": True}
    assert values["nfd"]["enabled"] is True
    # The bundled NFD worker must reach the tainted GPU node too (its own defaults do not).
    assert {
        "key": "workload.ai/dedicated",
        "operator": "Equal",
        "value": "gpu",
        "effect": "NoSchedule",
    } in values["nfd"]["worker"]["tolerations"]
    # Placed on the GPU node by hostname: no NFD label has to exist first.
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["gpu-worker-1"]}
            ]
        }
    ]
    assert values["migStrategy"] == "none"
    assert values["failOnInitError"] is True
    assert (values["deviceListStrategy"], values["deviceIDStrategy"]) == ("envvar", "uuid")
    # only keys the upstream chart defines (values.yaml, plus nfd.enabled from Chart.yaml)
    chart_keys = {
        "image",
        "runtimeClassName",
        "migStrategy",
        "failOnInitError",
        "deviceListStrategy",
        "deviceIDStrategy",
        "nodeSelector",
        "tolerations",
        "gfd",
        "nfd",
        "compatWithCPUManager",
        "affinity",
        "resources",
        "config",
    }
    assert set(values) <= chart_keys


def test_argocd_apps_point_at_rendered_dirs_and_never_hide_drift(tree: RenderedTree) -> None:
    apps = _objects(tree, "Application")
    root = apps["homelab-root"]
    assert root["spec"]["source"]["path"] == "rendered/homelab/argocd/apps"
    paths = {a["spec"]["source"].get("path") for a in apps.values()}
    for group in ("platform", "models", "lanes", "gateway"):
        assert f"rendered/homelab/{group}" in paths
        assert (ROOT / "rendered" / "homelab" / group).is_dir()
    assert all("ignoreDifferences" not in a["spec"] for a in apps.values())


def _shuffled_copy(target: Path, seed: int) -> Path:
    """Same specs, other file names and orders: lanes renamed, lock and labels reordered."""
    repo = copy_repo(ROOT, target)
    rng = random.Random(seed)
    lanes = sorted((repo / "lanes").iterdir())
    names = [f"{rng.randrange(10**6):06d}-{i}.yaml" for i in range(len(lanes))]
    for lane, name in zip(lanes, names, strict=True):
        lane.rename(lane.with_name(name))
    lock = load_yaml((repo / "models.lock.yaml").read_text())
    items = list(lock["models"].items())
    rng.shuffle(items)
    import yaml

    (repo / "models.lock.yaml").write_text(yaml.safe_dump({"models": dict(items)}, sort_keys=False))
    node = repo / "hardware" / "gpu-worker-1.yaml"
    text = node.read_text()
    block = text[text.index("labels:\n") + 8 : text.index("taints:")].splitlines(keepends=True)
    rng.shuffle(block)
    node.write_text(
        text.replace(text[text.index("labels:\n") + 8 : text.index("taints:")], "".join(block))
    )
    shutil.move(str(repo / "hardware" / "gpu-worker-1.yaml"), str(repo / "hardware" / "x.yml"))
    return repo


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_output_is_byte_identical_whatever_the_input_order(
    tree: RenderedTree, tmp_path: Path, seed: int
) -> None:
    repo = _shuffled_copy(tmp_path / "shuffled", seed)
    other = render_repo(load_repo(repo))

    # The provenance header names the lane file; everything else must match byte for byte.
    def body(text: str) -> str:
        return text.split("\n", 1)[1]

    assert list(other.files) == list(tree.files)
    assert {k: body(v) for k, v in other.files.items()} == {
        k: body(v) for k, v in tree.files.items()
    }
    assert render_repo(load_repo(repo)).files == other.files


# The renderer parses each shape of a template's output once and builds every object of
# that shape from its values' JSON. These pin that the objects are what the rendered text
# itself parses to, and that anything else still goes through the strict text parser.


def _renderer(**templates: str) -> TemplateRenderer:
    return TemplateRenderer(loader=jinja2.DictLoader(templates))


def _planned(template: str, **values: Any) -> PlannedFile:
    return PlannedFile("c/x.yaml", Location("lanes/x.yaml", 1), values, template)


@pytest.mark.parametrize("name", ["", *EXAMPLES])
def test_every_rendered_object_is_what_its_text_parses_to(name: str) -> None:
    repo = load_repo(ROOT / "examples" / name if name else ROOT)
    renderer = TemplateRenderer()
    env = SandboxedEnvironment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: json.dumps(value, ensure_ascii=True, allow_nan=False),
        keep_trailing_newline=True,
    )
    for planned in plan_repo(repo):
        if planned.template is not None:
            text = env.get_template(planned.template).render(v=planned.values)
            assert renderer.render(planned) == load_rendered(text), planned.path


def test_a_shape_is_parsed_once_however_many_objects_have_it(monkeypatch) -> None:
    from gitops_gen.render import templating

    parsed: list[str] = []
    real = templating.load_rendered

    def counting(text: str) -> Any:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(templating, "load_rendered", counting)
    renderer = _renderer(t="kind: A\nname: {{ v.name }}\nlabels: {{ v.labels }}\n")
    objects = [
        renderer.render(_planned("t", name=f"lane-{i}", labels={"i": str(i), "x": [i, None]}))
        for i in range(50)
    ]
    assert len(parsed) == 1
    assert objects[7] == {"kind": "A", "name": "lane-7", "labels": {"i": "7", "x": [7, None]}}


def test_a_number_in_exponent_form_stays_a_number() -> None:
    # JSON writes 1e-05 without a dot; YAML 1.1 reads that text as a string, so the old
    # text round trip turned a float value into a string.
    assert load_rendered("x: " + json.dumps(1e-05)) == {"x": "1e-05"}
    data = _renderer(t="kind: A\nx: {{ v.x }}\n").render(_planned("t", x=1e-05))
    assert data == {"kind": "A", "x": 1e-05}
    assert isinstance(data["x"], float)


def test_a_value_used_as_a_key_is_read_from_the_text() -> None:
    renderer = _renderer(t="kind: A\n{{ v.key }}: 1\n")
    assert renderer.render(_planned("t", key="a: b")) == {"kind": "A", "a: b": 1}
    with pytest.raises(TemplateError, match="duplicate key 'kind'"):
        renderer.render(_planned("t", key="kind"))


def test_a_value_inside_a_string_is_read_from_the_text() -> None:
    # The JSON text lands inside the quotes, as the template wrote it: invalid YAML.
    renderer = _renderer(t='kind: A\nx: "pre-{{ v.s }}"\n')
    with pytest.raises(TemplateError, match="produced invalid YAML"):
        renderer.render(_planned("t", s="abc"))


def test_a_template_cannot_hold_the_slot_characters() -> None:
    with pytest.raises(TemplateError, match="reserved for value slots"):
        TemplateRenderer(
            loader=jinja2.FunctionLoader(lambda name: "kind: A\nx: \ue0000\ue001\n")
        ).render(_planned("t"))


def test_a_reusing_renderer_renders_each_template_and_values_once() -> None:
    # diff renders two revisions with one renderer: an unchanged object is rendered once
    # and is the very same object on both sides; a changed value is rendered anew.
    calls: list[str] = []
    renderer = TemplateRenderer(
        loader=jinja2.FunctionLoader(lambda name: calls.append(name) or "kind: A\nx: {{ v.x }}\n"),
        reuse=True,
    )
    first = renderer.render(_planned("t", x=[1, {"y": "z"}]))
    again = renderer.render(_planned("t", x=[1, {"y": "z"}]))
    other = renderer.render(_planned("t", x=[1, {"y": "w"}]))
    assert again is first and other is not first
    assert other == {"kind": "A", "x": [1, {"y": "w"}]}
    plain = TemplateRenderer(loader=jinja2.FunctionLoader(lambda name: "kind: A\nx: {{ v.x }}\n"))
    assert plain.render(_planned("t", x=1)) is not plain.render(_planned("t", x=1))


def test_values_that_json_writes_alike_are_not_one_output() -> None:
    # An output is remembered by its values: a tuple and a list, or the same keys in
    # another order, are one JSON text but can render differently.
    renderer = TemplateRenderer(
        loader=jinja2.FunctionLoader(
            lambda name: "kind: A\nx: {{ v.x | string }}\nk: {{ v.m | list | first }}\n"
        ),
        reuse=True,
    )
    as_tuple = renderer.render(_planned("t", x=(1,), m={"a": 1, "b": 2}))
    as_list = renderer.render(_planned("t", x=[1], m={"a": 1, "b": 2}))
    reordered = renderer.render(_planned("t", x=(1,), m={"b": 2, "a": 1}))
    assert (as_tuple["x"], as_list["x"], reordered["x"]) == ("(1,)", "[1]", "(1,)")
    assert (as_tuple["k"], reordered["k"]) == ("a", "b")
    # A value marshal cannot write is rendered every time, never looked up.
    odd = renderer.render(_planned("t", x=Fraction(1, 2), m={"a": 1}))
    assert odd["x"] == "1/2"
    assert renderer.render(_planned("t", x=Fraction(1, 3), m={"a": 1}))["x"] == "1/3"


def test_two_specs_rendering_the_same_object_are_bad_input(tmp_path: Path, cli) -> None:
    # A lane named like the gateway would render a second Deployment, Service and
    # NetworkPolicy litellm: Argo CD would apply one over the other.
    from gitops_gen.errors import InputError

    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    lane = repo / "lanes" / "vllm-rollback.yaml"
    lane.write_text(lane.read_text().replace("name: vllm-rollback", "name: litellm"))
    with pytest.raises(InputError) as raised:
        render_repo(load_repo(repo))
    lines = raised.value.lines()
    assert lines[0].startswith("lanes/vllm-rollback.yaml:")
    assert (
        "metadata.name: Deployment/vllm/litellm is also rendered from gitops-gen.yaml:" in lines[0]
    )
    before = {p: p.read_bytes() for p in (repo / "rendered").rglob("*") if p.is_file()}
    result = cli("render", cwd=repo)
    assert result.code == 2 and "Traceback" not in result.err
    assert {p: p.read_bytes() for p in (repo / "rendered").rglob("*") if p.is_file()} == before


def test_the_gateway_key_is_a_secret_reference_and_nothing_else(tmp_path: Path, cli) -> None:
    h100 = render_repo(load_repo(ROOT / "examples" / "h100x2-tp2"))
    deployment = next(o.data for o in h100.objects if o.path.endswith("gateway/deployment.yaml"))
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [
        {
            "name": "LITELLM_MASTER_KEY",
            "valueFrom": {"secretKeyRef": {"name": "litellm-master-key", "key": "master-key"}},
        }
    ]
    config_map = next(o.data for o in h100.objects if o.path.endswith("gateway/configmap.yaml"))
    config = load_yaml(config_map["data"]["config.yaml"])
    assert config["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}
    # Without masterKeySecret the gateway has neither.
    keyless = copy_repo(ROOT, tmp_path / "keyless")
    edit(
        keyless / "gitops-gen.yaml",
        "  masterKeySecret: {name: litellm-master-key, key: master-key}\n",
        "",
    )
    root = render_repo(load_repo(keyless))
    root_map = next(o.data for o in root.objects if o.path.endswith("gateway/configmap.yaml"))
    assert "general_settings" not in load_yaml(root_map["data"]["config.yaml"])
    # A literal key is refused, and the refusal does not repeat it.
    repo = copy_repo(ROOT, tmp_path / "repo")
    config_file = repo / "gitops-gen.yaml"
    text = config_file.read_text()
    config_file.write_text(
        text.replace("gateway:\n", "gateway:\n  masterKey: sk-do-not-echo-4711\n", 1)
    )
    result = cli("render", cwd=repo)
    assert result.code == 2 and "gateway" in result.err
    assert "sk-do-not-echo-4711" not in result.out + result.err


MANIFEST_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: qwen36-35b-gguf-fast%s}
spec:
  selector: {app: other}
  ports: [{port: 80}]
"""


@pytest.mark.parametrize(
    ("namespace", "refused"),
    [("", True), (", namespace: vllm", True), (", namespace: elsewhere", False)],
)
def test_a_manifest_of_an_object_the_specs_render_is_bad_input(
    tmp_path: Path, namespace: str, refused: bool
) -> None:
    from gitops_gen.errors import InputError

    repo = copy_repo(ROOT, tmp_path / "repo")
    (repo / "manifests").mkdir()
    (repo / "manifests" / "svc.yaml").write_text(MANIFEST_SERVICE % namespace)
    if not refused:
        render_repo(load_repo(repo))  # another namespace: another object
        return
    with pytest.raises(InputError) as raised:
        render_repo(load_repo(repo))
    (line,) = raised.value.lines()
    assert line.startswith("manifests/svc.yaml:1: metadata.name: Service/vllm/qwen36-35b-gguf-fast")
    assert "is also rendered from lanes/qwen36-35b-gguf-fast.yaml:" in line


def test_a_hand_written_namespace_is_the_rendered_one(tmp_path: Path) -> None:
    # Cluster-scoped: a Namespace is one object whatever namespace a manifest claims.
    from gitops_gen.errors import InputError

    repo = copy_repo(ROOT, tmp_path / "repo")
    (repo / "manifests").mkdir()
    (repo / "manifests" / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: vllm}\n"
    )
    with pytest.raises(InputError) as raised:
        render_repo(load_repo(repo))
    assert "Namespace/vllm/vllm is also rendered from gitops-gen.yaml" in raised.value.lines()[0]


def test_the_same_object_in_two_clusters_is_two_objects(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo")
    config = repo / "gitops-gen.yaml"
    config.write_text(
        config.read_text().replace(
            'kubernetesVersion: "1.35"\n',
            'kubernetesVersion: "1.35"\n  - name: edge\n    kubernetesVersion: "1.35"\n',
            1,
        )
    )
    node = (repo / "hardware" / "gpu-worker-1.yaml").read_text()
    (repo / "hardware" / "gpu-worker-1.yaml").write_text(
        node.replace("kind: Node\n", "kind: Node\ncluster: homelab\n")
    )
    edge = node.replace("gpu-worker-1", "edge-1").replace(
        "kind: Node\n", "kind: Node\ncluster: edge\n"
    )
    (repo / "hardware" / "edge-1.yaml").write_text(edge)
    lane = (repo / "lanes" / "qwen36-35b-gguf-fast.yaml").read_text()
    (repo / "lanes" / "edge-fast.yaml").write_text(
        lane.replace("name: qwen36-35b-gguf-fast", "name: edge-fast").replace(
            "node: gpu-worker-1", "node: edge-1"
        )
    )
    tree = render_repo(load_repo(repo))
    namespaces = sorted(o.path for o in tree.objects if o.data["kind"] == "Namespace")
    assert namespaces == ["edge/platform/namespace.yaml", "homelab/platform/namespace.yaml"]
