"""A table of bad inputs: each must exit 2 with exactly the expected one-line message."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gitops_gen.errors import InputError
from tests.conftest import Result, edit

FAST = "lanes/qwen36-35b-gguf-fast.yaml"
NODE = "hardware/gpu-worker-1.yaml"
LOCK = "models.lock.yaml"
CONFIG = "gitops-gen.yaml"
SERVICE_RULES = (
    "is not valid as a Service name: the API server wants a DNS-1035 label (lowercase "
    "letters, digits and '-', starting with a letter and ending with a letter or digit, at "
    "most 63 characters)"
)


def _write(rel: str, text: str) -> Callable[[Path], None]:
    return lambda repo: (repo / rel).write_text(text)


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda repo: edit(repo / rel, old, new)


def _remove(rel: str) -> Callable[[Path], None]:
    return lambda repo: (repo / rel).unlink()


CASES = [
    # wrong types
    (
        "ctx-not-int",
        _edit(FAST, "ctxSize: 49152", "ctxSize: 49k"),
        f"{FAST}:12: serve.ctxSize: expected integer, got '49k'",
    ),
    (
        "active-not-bool",
        _edit(FAST, "active: true", "active: maybe"),
        f"{FAST}:4: active: expected true or false, got 'maybe'",
    ),
    (
        "resources-not-mapping",
        _edit(FAST, 'cpu: {request: "8", limit: "14"}', "cpu: 8"),
        f"{FAST}:22: resources.cpu: expected mapping, got 8",
    ),
    ("gpus-negative", _edit(FAST, "gpus: 1", "gpus: -1"), f"{FAST}:6: gpus: must be >= 0, got -1"),
    (
        "vram-declared-by-an-llm-lane",
        _edit(FAST, "gpus: 1", "gpus: 1\nvramMiB: 20000"),
        f"{FAST}:7: vramMiB: vramMiB is for generic lanes; a llamacpp lane is estimated from "
        "its model (record a measured peak in evidence.livePeakMiB)",
    ),
    (
        "a-generic-gpu-lane-without-its-vram",
        _write(
            "lanes/comfy.yaml",
            "kind: Lane\nname: comfy\nnode: gpu-worker-1\nengine: generic\n"
            "image: ghcr.io/example/comfyui:1@sha256:" + "a" * 64 + "\n"
            "serve: {port: 8188}\n"
            "resources: {cpu: {request: '1'}, memory: {request: 1Gi}}\n",
        ),
        "lanes/comfy.yaml:4: engine: a generic GPU lane must declare vramMiB (the most VRAM it "
        "keeps on each GPU): gitops-gen cannot estimate a server it does not know",
    ),
    # unknown keys: a typo is never ignored
    (
        "typo-in-serve",
        _edit(FAST, "cacheTypeV: q8_0", "cachetypeV: q8_0"),
        f"{FAST}:14: serve.cachetypeV: unknown key 'cachetypeV' (did you mean 'cacheTypeV'?)",
    ),
    (
        "typo-top-level",
        _edit(FAST, "engineVersion: b8210", "engineVerison: b8210"),
        f"{FAST}:9: engineVerison: unknown key 'engineVerison' (did you mean 'engineVersion'?)",
    ),
    (
        "vllm-key-on-llamacpp",
        _edit(FAST, "ctxSize: 49152", "maxModelLen: 49152"),
        f"{FAST}:12: serve.maxModelLen: unknown key 'maxModelLen' (allowed: batchSize, "
        "cacheTypeK, cacheTypeV, ctxSize, extraArgs, flashAttn, gpuLayers, jinja, metrics, "
        "parallel, port, threads, ubatchSize)",
    ),
    (
        "node-typo",
        _edit(NODE, "vramMiB: 24467", "vramMib: 24467"),
        f"{NODE}:22: gpus[0].vramMib: unknown key 'vramMib' (did you mean 'vramMiB'?)",
    ),
    # missing required keys
    (
        "missing-node",
        _edit(FAST, "node: gpu-worker-1\n", ""),
        f"{FAST}:2: missing required key 'node'",
    ),
    (
        "missing-lock-sha-file",
        _edit(LOCK, "    file: Qwen3.6-27B-Q4_K_M.gguf\n", ""),
        f"{LOCK}:21: models.qwen36-27b-q4-k-m: missing required key 'file'",
    ),
    # enums and patterns
    (
        "bad-engine",
        _edit(FAST, "engine: llamacpp", "engine: llama"),
        f"{FAST}:7: engine: expected one of 'llamacpp', 'vllm', 'ollama', 'generic'; got 'llama'",
    ),
    (
        "bad-flash-attn",
        _edit(FAST, 'flashAttn: "on"', "flashAttn: maybe"),
        f"{FAST}:15: serve.flashAttn: 'maybe' must be on, off or auto",
    ),
    (
        "bad-quantity",
        _edit(FAST, "memory: {request: 32Gi", "memory: {request: 32GB"),
        f"{FAST}:23: resources.memory.request: '32GB' must be a Kubernetes quantity like "
        "8, 2500m or 32Gi",
    ),
    # quantities the API server refuses, wherever a spec holds one (issue 8)
    (
        "quantity-with-space",
        _edit(FAST, "memory: {request: 32Gi", "memory: {request: 64 GiB"),
        f"{FAST}:23: resources.memory.request: '64 GiB' must be a Kubernetes quantity like "
        "8, 2500m or 32Gi",
    ),
    (
        "quantity-in-words",
        _edit(NODE, 'allocatable: {cpu: "15"', "allocatable: {cpu: eight"),
        f"{NODE}:15: allocatable.cpu: 'eight' must be a Kubernetes quantity like 15, 2755m "
        "or 57457452Ki",
    ),
    (
        "quantity-trailing-space",
        _edit(CONFIG, "memory: {request: 512Mi", 'memory: {request: "32GB "'),
        f"{CONFIG}:52: gateway.resources.memory.request: '32GB ' must be a Kubernetes quantity "
        "like 500m or 1Gi",
    ),
    (
        # Python's `$` matches before a final newline: the pattern alone let this through.
        "quantity-trailing-newline",
        _edit(FAST, "aliases:", 'shmSize: "16Gi\\n"\naliases:'),
        f"{FAST}:24: shmSize: '16Gi\\n' must be a Kubernetes quantity like 8, 2500m or 32Gi",
    ),
    (
        "bad-label-value",
        _edit(NODE, "workload.ai/vram: 24gb", "workload.ai/vram: 24 gb"),
        f"{NODE}:8: labels.workload.ai/vram: '24 gb' must be a Kubernetes label value "
        "(quote true/false/numbers), at most 63 characters",
    ),
    (
        "bad-label-key",
        _edit(NODE, "workload.ai/profile:", "workload.ai/pro file:"),
        f"{NODE}:9: labels.workload.ai/pro file: key 'workload.ai/pro file' must be a "
        "Kubernetes label key like workload.ai/gpu",
    ),
    (
        "path-traversal-in-lock",
        _edit(LOCK, "file: Qwen3.6-27B-Q4_K_M.gguf", "file: ../../etc/passwd"),
        f"{LOCK}:23: models.qwen36-27b-q4-k-m.file: '../../etc/passwd' must be a plain file "
        "name (no '/', no leading '.')",
    ),
    (
        "wrong-kind",
        _edit(FAST, "kind: Lane", "kind: Node"),
        f"{FAST}:2: kind: expected 'Lane', got 'Node'",
    ),
    (
        "engine-version-without-digits",
        _edit(FAST, "engineVersion: b8210", "engineVersion: latest"),
        f"{FAST}:9: engineVersion: 'latest' must be a version like b8210 or 0.24.0",
    ),
    # invalid Kubernetes names
    (
        "lane-name-upper",
        _edit(FAST, "name: qwen36-35b-gguf-fast", "name: Qwen36_Fast"),
        f"{FAST}:3: name: 'Qwen36_Fast' must be a Kubernetes name: lowercase letters, digits "
        "and '-', at most 63 characters",
    ),
    (
        "lane-name-too-long",
        _edit(FAST, "name: qwen36-35b-gguf-fast", "name: " + "a" * 64),
        f"{FAST}:3: name: '{'a' * 64}' must be a Kubernetes name: lowercase letters, digits "
        "and '-', at most 63 characters",
    ),
    # broken YAML and files
    (
        "broken-yaml",
        _write(FAST, "kind: Lane\nname: x\n  serve: [\n"),
        f"{FAST}:3: invalid YAML: mapping values are not allowed in this context",
    ),
    (
        "unclosed-flow",
        _write(FAST, "kind: Lane\nserve: {ctxSize: 1\n"),
        f"{FAST}:3: invalid YAML: did not find expected ',' or '}}'",
    ),
    (
        "duplicate-key",
        _edit(FAST, "gpus: 1\n", "gpus: 1\ngpus: 2\n"),
        f"{FAST}:7: gpus: duplicate key (first defined on line 6)",
    ),
    ("empty-file", _write(FAST, "# nothing\n"), f"{FAST}:1: file is empty"),
    (
        "two-documents",
        _write(FAST, "kind: Lane\n---\nkind: Lane\n"),
        f"{FAST}:3: expected one YAML document, found several",
    ),
    (
        "python-tag",
        _edit(FAST, "engineVersion: b8210", "engineVersion: !!python/name:os.system"),
        f"{FAST}:9: engineVersion: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'",
    ),
    ("not-a-mapping", _write(FAST, "- kind: Lane\n"), f"{FAST}:1: expected mapping, got a list"),
    (
        "missing-config",
        _remove(CONFIG),
        f"{CONFIG}: file not found in . (is this a gitops-gen repo? 'gitops-gen init' "
        "scaffolds one)",
    ),
    # cross references
    (
        "unknown-node",
        _edit(FAST, "node: gpu-worker-1", "node: gpu-worker-9"),
        f"{FAST}:5: node: unknown node 'gpu-worker-9' (hardware/ defines: gpu-worker-1)",
    ),
    (
        "unknown-model",
        _edit(FAST, "model: qwen36-35b-a3b-ud-q4-k-m", "model: qwen99"),
        f"{FAST}:10: model: unknown model 'qwen99' ({LOCK} defines: gpt-oss-20b-mxfp4, "
        "qwen3-14b-awq, qwen36-27b-q4-k-m, qwen36-35b-a3b-nvfp4, qwen36-35b-a3b-ud-q4-k-m)",
    ),
    (
        "gguf-engine-safetensors",
        _edit(FAST, "model: qwen36-35b-a3b-ud-q4-k-m", "model: qwen3-14b-awq"),
        f"{FAST}:10: model: engine llamacpp needs a gguf model; 'qwen3-14b-awq' is safetensors",
    ),
    (
        "missing-lock-file",
        _remove(LOCK),
        f"lanes/gpt-oss-agent.yaml:10: model: unknown model 'gpt-oss-20b-mxfp4' ({LOCK} defines: "
        f"none, or {LOCK} is missing)",
    ),
    (
        "unknown-vendor",
        _edit(FAST, "gpus: 1\n", "gpus: 1\ngpuVendor: amd\n"),
        f"{FAST}:7: gpuVendor: node 'gpu-worker-1' has no amd GPU (it has: nvidia)",
    ),
    (
        "duplicate-lane",
        lambda repo: (repo / "lanes/copy.yaml").write_text((repo / FAST).read_text()),
        f"{FAST}:3: name: duplicate lane name 'qwen36-35b-gguf-fast' (also in lanes/copy.yaml:3)",
    ),
    (
        "unknown-cluster",
        _edit(NODE, "kind: Node\n", "kind: Node\ncluster: prod\n"),
        f"{NODE}:3: cluster: unknown cluster 'prod' (gitops-gen.yaml defines: homelab)",
    ),
    (
        "lane-name-starting-with-a-digit",
        _edit(FAST, "name: qwen36-35b-gguf-fast", "name: 36b-gguf-fast"),
        f"{FAST}:3: name: '36b-gguf-fast' {SERVICE_RULES} (the lane's Service)",
    ),
    (
        "gateway-name-starting-with-a-digit",
        _edit(CONFIG, "name: litellm", "name: 4000-gateway"),
        f"{CONFIG}:45: gateway.name: '4000-gateway' {SERVICE_RULES} (the gateway's Service)",
    ),
    (
        "vllm-batch-below-its-sequences",
        _edit(
            "lanes/vllm-rollback.yaml",
            "  maxNumSeqs: 8\n",
            "  maxNumSeqs: 8\n  maxNumBatchedTokens: 4\n",
        ),
        "lanes/vllm-rollback.yaml:16: serve.maxNumBatchedTokens: 4 is below serve.maxNumSeqs "
        "(8): vLLM refuses to start unless maxNumBatchedTokens >= maxNumSeqs",
    ),
    (
        "vllm-batch-below-its-default-sequences",
        _edit("lanes/vllm-rollback.yaml", "  maxNumSeqs: 8\n", "  maxNumBatchedTokens: 128\n"),
        "lanes/vllm-rollback.yaml:15: serve.maxNumBatchedTokens: 128 is below the maxNumSeqs "
        "vLLM takes when it is not set (256 or more): vLLM refuses to start unless "
        "maxNumBatchedTokens >= maxNumSeqs",
    ),
    (
        "two-gguf-models-sharing-a-file",
        _edit(
            LOCK,
            "models:\n",
            "models:\n  qwen36-35b-older:\n    format: gguf\n"
            "    file: Qwen3.6-35B-A3B-UD-Q4_K_M.gguf\n"
            "    source: {hf: unsloth/Qwen3.6-35B-A3B-GGUF, revision: abc1111}\n"
            f"    sha256: {'a1' * 32}\n    sizeBytes: 22000000000\n",
        ),
        f"{LOCK}:4: models.qwen36-35b-older: its file 'Qwen3.6-35B-A3B-UD-Q4_K_M.gguf' is also "
        "model 'qwen36-35b-a3b-ud-q4-k-m''s, with other contents: both prefetch it to the same "
        "gguf/ path, so one lane would load the other's model; lock one of them from another "
        "file",
    ),
    (
        "split-gguf-file-not-among-its-files",
        _edit(
            LOCK,
            "    file: Qwen3.6-27B-Q4_K_M.gguf\n",
            "    file: Qwen3.6-27B-Q4_K_M.gguf\n    files:\n"
            f"      - {{path: Q4/Qwen3.6-27B-Q4_K_M-00001-of-00002.gguf, sha256: {'b2' * 32}, "
            "sizeBytes: 1}\n"
            f"      - {{path: Q4/Qwen3.6-27B-Q4_K_M-00002-of-00002.gguf, sha256: {'c3' * 32}, "
            "sizeBytes: 1}\n",
        ),
        f"{LOCK}:23: models.qwen36-27b-q4-k-m.file: 'Qwen3.6-27B-Q4_K_M.gguf' is not one of "
        "files (the server is given it, and the prefetch fetches only files): name the first "
        "shard, 'Q4/Qwen3.6-27B-Q4_K_M-00001-of-00002.gguf'",
    ),
    (
        "ollama-lane-without-its-context",
        _write(
            "lanes/ollama.yaml",
            "kind: Lane\nname: ollama-lane\nnode: gpu-worker-1\nengine: ollama\n"
            "image: docker.io/ollama/ollama:0.24.0@sha256:" + "ab" * 32 + "\n"
            "model: qwen36-27b-q4-k-m\nserve: {flashAttn: true}\n"
            'resources: {cpu: {request: "1"}, memory: {request: 1Gi}}\n',
        ),
        "lanes/ollama.yaml:7: serve: an Ollama lane must set serve.ctxSize: without it Ollama "
        "picks the context itself (4096 in older releases, more with more VRAM in newer ones), "
        "so its VRAM cannot be checked",
    ),
    (
        "config-typo",
        _edit(CONFIG, "namespace: vllm", "namepsace: vllm"),
        f"{CONFIG}:6: namepsace: unknown key 'namepsace' (did you mean 'namespace'?)",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(
    example: Path, cli: Callable[..., Result], mutate: Callable[[Path], None], expected: str
) -> None:
    mutate(example)
    specs = {p: p.read_bytes() for p in example.rglob("*") if p.is_file()}
    result = cli("render", cwd=example)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert lines[0] == expected
    assert lines[-1].endswith("nothing was written.")
    assert not (example / "rendered").exists()
    # the specs are never modified, whatever happened
    assert {p: p.read_bytes() for p in example.rglob("*") if p.is_file()} == specs


def test_every_problem_in_every_file_is_listed_in_order(
    example: Path, cli: Callable[..., Result]
) -> None:
    edit(example / FAST, "ctxSize: 49152", "ctxSize: 49k")
    edit(example / FAST, "cacheTypeV: q8_0", "cachetypeV: q8_0")
    edit(example / NODE, "vramMiB: 24467", "vramMiB: lots")
    edit(example / "lanes/gpt-oss-agent.yaml", "node: gpu-worker-1", "node: nowhere")
    result = cli("render", cwd=example)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{NODE}:22: gpus[0].vramMiB: expected integer, got 'lots'",
        f"{FAST}:12: serve.ctxSize: expected integer, got '49k'",
        f"{FAST}:14: serve.cachetypeV: unknown key 'cachetypeV' (did you mean 'cacheTypeV'?)",
        "gitops-gen: 3 problems in the specs; nothing was written.",
    ]


def test_bad_input_leaves_existing_rendered_tree_untouched(
    example_rendered: Path, cli: Callable[..., Result]
) -> None:
    tree = example_rendered / "rendered"
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert before
    edit(example_rendered / FAST, "ctxSize: 49152", "ctxSize: 49k")
    assert cli("render", cwd=example_rendered).code == 2
    after = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert after == before


def test_random_mutations_never_crash(tmp_path: Path) -> None:
    """Whatever a spec holds, a run ends in findings or an input error, never a bug."""
    import json
    import random

    from gitops_gen.check import check_repo
    from gitops_gen.errors import GitopsGenError
    from gitops_gen.specs.source import read_yaml
    from tests.conftest import ROOT, copy_repo
    from tests.test_fastschema import _mutate

    repo = copy_repo(ROOT, tmp_path / "repo")
    files = [p.relative_to(repo).as_posix() for p in sorted(repo.rglob("*.yaml"))]
    rng = random.Random(2026)
    outcomes = {"findings": 0, "invalid": 0}
    for _ in range(120):
        rel = rng.choice(files)
        original = (repo / rel).read_text()
        (repo / rel).write_text(json.dumps(_mutate(read_yaml(repo, rel).data, rng)))
        try:
            check_repo(repo)
            outcomes["findings"] += 1
        except GitopsGenError:
            outcomes["invalid"] += 1
        (repo / rel).write_text(original)
    assert outcomes["findings"] > 10 and outcomes["invalid"] > 10, outcomes


def test_a_huge_list_is_refused_before_it_is_parsed(
    example: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 40 MB lane file holding a 20-million-item list used to hold `check` for minutes
    at 1.7 GB: the text is bounded before the YAML parser ever sees it."""
    import yaml

    from gitops_gen.specs.loader import load_repo

    lane = example / "lanes" / "qwen36-35b-gguf-fast.yaml"
    lane.write_text(lane.read_text() + "x: [" + ",".join("1" for _ in range(20_000_000)) + "]\n")

    real_compose = yaml.compose_all

    def small_only(text: str, *args: object, **kwargs: object) -> object:
        assert len(text) < 1_000_000, "the YAML parser was handed the huge file"
        return real_compose(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yaml, "compose_all", small_only)
    with pytest.raises(InputError) as raised:
        load_repo(example)
    assert raised.value.lines() == [
        "lanes/qwen36-35b-gguf-fast.yaml: is 38 MiB; spec files are at most 16 MiB"
    ]
    # Under the size bound, the number of nodes the text can hold is bounded too.
    lane.write_text(
        lane.read_text()[:2000] + "\nx: [" + ",".join("1" for _ in range(2_000_000)) + "]\n"
    )
    with pytest.raises(InputError) as raised:
        load_repo(example)
    (line,) = raised.value.lines()
    assert line.startswith("lanes/qwen36-35b-gguf-fast.yaml:1: too large to be a spec: ")
    assert line.endswith("lines and commas (at most 250000)")


def test_a_file_over_the_size_bound_is_not_read(example: Path) -> None:
    from gitops_gen.specs.loader import load_repo

    lane = example / "lanes" / "qwen36-35b-gguf-fast.yaml"
    lane.write_text(lane.read_text() + "#" + "x" * (17 * 1024 * 1024) + "\n")
    with pytest.raises(InputError) as raised:
        load_repo(example)
    assert raised.value.lines() == [
        "lanes/qwen36-35b-gguf-fast.yaml: is 17 MiB; spec files are at most 16 MiB"
    ]


def test_deep_nesting_is_one_line(example: Path) -> None:
    from gitops_gen.specs.loader import load_repo

    lane = example / "lanes" / "qwen36-35b-gguf-fast.yaml"
    lane.write_text(lane.read_text() + "x: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(InputError) as raised:
        load_repo(example)
    (line,) = raised.value.lines()
    assert line.startswith("lanes/qwen36-35b-gguf-fast.yaml:")
    assert line.endswith("nested deeper than 64 levels")


def test_a_spec_linking_outside_the_repo_is_refused_unread(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:TOPSECRET:/root:/bin/bash\n")
    lane = example / "lanes" / "stolen.yaml"
    lane.symlink_to(secret)
    result = cli("check", cwd=example)
    assert result.code == 2
    assert "lanes/stolen.yaml: is a link to a file outside the repo; not read" in result.err
    assert "TOPSECRET" not in result.err + result.out


# Hand-written manifests are read as Argo CD reads them, and refused as the API server
# would refuse them.
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tool
  namespace: vllm
spec:
  selector: {matchLabels: {app: tool}}
  template:
    metadata: {labels: {app: tool}}
    spec:
      serviceAccountName: tool
      containers:
        - name: main
          image: ghcr.io/example/tool:1.0
"""
NAME_RULES = (
    "(lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at "
    "most 253 characters)"
)
LABEL_RULES = (
    "(lowercase letters, digits and '-', starting and ending with a letter or digit, at most "
    "63 characters)"
)
MANIFEST_CASES = [
    (
        "json-syntax-error",
        "manifests/tool.json",
        '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap"\n  "metadata": {}\n}\n',
        "manifests/tool.json:4: invalid JSON: Expecting ',' delimiter",
    ),
    (
        "json-not-an-object",
        "manifests/tool.json",
        "[]\n",
        "manifests/tool.json:1: expected a Kubernetes object (a mapping)",
    ),
    (
        "jsonnet-argo-would-evaluate",
        "manifests/tool.jsonnet",
        "{}\n",
        "manifests/tool.jsonnet:1: Argo CD evaluates Jsonnet here but gitops-gen cannot check "
        "it: commit its output as YAML or JSON instead",
    ),
    (
        "generate-name-without-name",
        "manifests/tool.yaml",
        DEPLOYMENT.replace("  name: tool\n", "  generateName: tool-\n"),
        "manifests/tool.yaml:4: metadata.generateName: generateName without metadata.name: "
        "Argo CD cannot sync an object without metadata.name (it could never find it again); "
        "set a fixed name",
    ),
    (
        "service-account-placeholder",
        "manifests/tool.yaml",
        DEPLOYMENT.replace("serviceAccountName: tool", "serviceAccountName: $K8S_SA_NAME"),
        "manifests/tool.yaml:11: spec.template.spec.serviceAccountName: '$K8S_SA_NAME' is not "
        f"valid as a service account name: the API server wants a DNS-1123 subdomain {NAME_RULES}",
    ),
    (
        "object-name-upper-case",
        "manifests/tool.yaml",
        DEPLOYMENT.replace("  name: tool\n", "  name: Tool\n"),
        "manifests/tool.yaml:4: metadata.name: 'Tool' is not valid as an object name: the API "
        f"server wants a DNS-1123 subdomain {NAME_RULES}",
    ),
    (
        "container-name-with-dot",
        "manifests/tool.yaml",
        DEPLOYMENT.replace("- name: main", "- name: main.v2"),
        "manifests/tool.yaml:13: spec.template.spec.containers[0].name: 'main.v2' is not valid "
        f"as a container name: the API server wants a DNS-1123 label {LABEL_RULES}",
    ),
    (
        "service-name-with-dot",
        "manifests/tool.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: tool.v2}\nspec: {ports: [{port: 80}]}\n",
        f"manifests/tool.yaml:3: metadata.name: 'tool.v2' {SERVICE_RULES}",
    ),
    (
        "service-name-starting-with-a-digit",
        "manifests/tool.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: 2nd-tool}\nspec: {ports: [{port: 80}]}\n",
        f"manifests/tool.yaml:3: metadata.name: '2nd-tool' {SERVICE_RULES}",
    ),
    (
        "namespace-placeholder",
        "manifests/tool.yaml",
        DEPLOYMENT.replace("namespace: vllm", "namespace: ${NAMESPACE}"),
        "manifests/tool.yaml:5: metadata.namespace: '${NAMESPACE}' is not valid as a namespace: "
        f"the API server wants a DNS-1123 label {LABEL_RULES}",
    ),
]


@pytest.mark.parametrize(
    ("rel", "text", "expected"), [c[1:] for c in MANIFEST_CASES], ids=[c[0] for c in MANIFEST_CASES]
)
def test_bad_manifest_exits_2_with_one_line(
    example: Path, cli: Callable[..., Result], rel: str, text: str, expected: str
) -> None:
    (example / "manifests").mkdir(exist_ok=True)
    (example / rel).write_text(text)
    result = cli("check", cwd=example)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert result.err.splitlines()[0] == expected


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        # kubectl and Argo CD skip empty documents
        ("manifests/tool.yaml", "---\n" + DEPLOYMENT + "---\n"),
        ("manifests/tool.yaml", DEPLOYMENT + "---\n# the end\n---\n"),
        # RBAC names are path segments: colons are fine
        (
            "manifests/tool-role.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
            "metadata: {name: 'system:tool'}\nrules: []\n",
        ),
        # Argo CD reads JSON manifests too
        ("manifests/tool.json", json.dumps(yaml.safe_load(DEPLOYMENT), indent=2)),
        # files Argo CD does not read, and subdirectories (recurse: false), are not read
        ("manifests/notes.md", "not: [valid"),
        ("manifests/old/tool.yaml", "not: [valid"),
    ],
    ids=[
        "leading-and-trailing-separators",
        "comment-only-document",
        "rbac",
        "json",
        "md",
        "subdir",
    ],
)
def test_valid_manifest_files_load(
    example: Path, cli: Callable[..., Result], rel: str, text: str
) -> None:
    (example / rel).parent.mkdir(parents=True, exist_ok=True)
    (example / rel).write_text(text)
    result = cli("check", cwd=example)
    assert result.code != 2, result.err
    from gitops_gen.specs.loader import load_repo

    names = [m.data["metadata"]["name"] for m in load_repo(example).manifests]
    expected = [] if rel.endswith((".md", "old/tool.yaml")) else ["tool"]
    assert [n.replace("system:", "") for n in names] == expected


def _lab_with_hand_written_comfyui(tmp_path: Path) -> Path:
    """The 48 GB lab example with ComfyUI as a hand-written Deployment in manifests/."""
    from tests.conftest import ROOT, copy_repo

    repo = copy_repo(ROOT / "examples" / "lab-48gb-comfyui", tmp_path / "repo")
    (repo / "manifests").mkdir()
    manifest = (ROOT / "tests" / "data" / "comfyui-deployment.yaml").read_text()
    (repo / "manifests" / "comfyui.yaml").write_text(manifest)
    return repo


def test_manifests_are_read_as_their_application_syncs_them(tmp_path: Path) -> None:
    """The loader reads manifests/ without recursing because the rendered Application
    does not recurse either; if plan.py ever changes that, the loader must follow."""
    from gitops_gen.pipeline import build_repo
    from gitops_gen.specs.manifests import ARGOCD_MANIFEST_SUFFIXES

    repo = _lab_with_hand_written_comfyui(tmp_path)
    tree = build_repo(repo).tree
    app = next(o.data for o in tree.objects if o.path.endswith("argocd/apps/manifests.yaml"))
    assert app["spec"]["source"]["directory"] == {"recurse": False}
    assert ARGOCD_MANIFEST_SUFFIXES == (".yaml", ".yml", ".json", ".jsonnet")


def test_wrong_types_in_hand_written_manifests_never_crash(tmp_path: Path) -> None:
    """240 hand-written manifests with one field deleted, added or given another type
    (`securityContext: 5`, a list where a map goes, ...): every run ends in findings or
    an input error, never a bug. Seeded from a hand-written ComfyUI Deployment and the
    real public manifests of the corpus."""
    import json
    import random
    import traceback

    import yaml

    from gitops_gen.check import check_repo
    from gitops_gen.errors import GitopsGenError
    from tests.conftest import ROOT
    from tests.test_fastschema import _mutate

    repo = _lab_with_hand_written_comfyui(tmp_path)
    seeds = [repo / "manifests" / "comfyui.yaml"]
    seeds += sorted((ROOT / "tests" / "corpus" / "real-manifests").glob("*.yaml"))
    documents = [
        doc
        for seed in seeds
        for doc in yaml.safe_load_all(seed.read_text())
        if isinstance(doc, dict) and doc.get("kind")
    ]
    target = repo / "manifests" / "comfyui.yaml"
    rng = random.Random(240)
    outcomes = {"findings": 0, "invalid": 0}
    for _ in range(240):
        mutated = _mutate(rng.choice(documents), rng)
        target.write_text(json.dumps(mutated))
        try:
            check_repo(repo)
            outcomes["findings"] += 1
        except GitopsGenError:
            outcomes["invalid"] += 1
        except Exception:  # the contract under test: this never happens
            pytest.fail(f"{traceback.format_exc()}\n{json.dumps(mutated)[:2000]}")
    assert outcomes["findings"] > 20 and outcomes["invalid"] > 20, outcomes


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "nope"],
        ["check", "--today", "2026-02-30"],
        ["check", "--today", ""],
        ["check", "--base", ""],
        ["check", "--base", "--"],
        ["preflight", ""],
        ["preflight", "no-such-lane"],
        ["switch", "../../etc/passwd"],
        ["explain", "no-such-rule"],
        ["schema", "no-such-kind"],
        ["fit", "--engine", "vllm"],
        [
            "fit",
            "--engine",
            "llamacpp",
            "--size",
            "lots",
            "--vram",
            "24GiB",
            "--layers",
            "1",
            "--kv-heads",
            "1",
            "--head-dim",
            "1",
        ],
        [
            "fit",
            "--engine",
            "llamacpp",
            "--size",
            "1GiB",
            "--vram",
            "0",
            "--layers",
            "0",
            "--kv-heads",
            "0",
            "--head-dim",
            "0",
            "--ctx",
            "0",
        ],
        ["lock", "add", "/no/such/file.gguf"],
        ["diff", "--base", "HEAD", "--format", "xml"],
        ["pin", "not a reference"],
        ["-C", "/no/such/dir", "check"],
        ["render", "--check", "extra-argument"],
        ["init", "/proc/forbidden-place"],
    ],
    ids=lambda a: " ".join(a) or "empty",
)
def test_odd_command_lines_are_answered_not_crashed(
    args: list[str], example: Path, cli: Callable[..., Result]
) -> None:
    result = cli(*args, cwd=example)
    assert result.code in (0, 1, 2, 4, 10, 20), (result.code, result.err)
    assert "Traceback" not in result.err + result.out
    assert "internal error" not in result.err


def test_a_name_with_a_trailing_newline_is_refused(
    example: Path, cli: Callable[..., Result]
) -> None:
    """Python's `$` matches before a final newline; JSON Schema's does not, nor does the
    API server take such a name."""
    edit(
        example / FAST,
        "name: qwen36-35b-gguf-fast\n",
        'name: "qwen36-35b-gguf-fast\\n"\n',
    )
    result = cli("render", cwd=example)
    assert result.code == 2
    assert result.err.startswith("lanes/qwen36-35b-gguf-fast.yaml:3: name: ")
