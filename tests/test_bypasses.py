"""Adversarial review: changes that break the GPU contract (or leave a GPU pod Pending, or
run an unpinned image) yet pass `check`; correct configurations `check` refuses; and
invalid input `check` passes.

Each test edits a copy of an example repo the way a pull request could, runs the checker
and asserts the decision the README promises: "what passes check deploys and runs, and
what breaks the GPU contract cannot get past it". They fail on the code they were
written against; the comment above each says what Kubernetes or Argo CD would do.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.check.findings import Finding, Severity
from tests.rules.cases import FAST, NO_GPU_REQUEST, NODE, RUNNING, SIDECAR, replace, sidecar
from tests.rules.harness import Case, run

PARK_FAST = replace(FAST, "active: true", "active: false")
DIGEST = "sha256:" + "a" * 64


def blocks_in(findings: list[Finding], file: str) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.BLOCK and not f.waived and f.file == file]


def blocks(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.BLOCK and not f.waived]


def shown(findings: list[Finding]) -> list[tuple[str, str, str, int, str]]:
    return [(f.severity.label, f.rule, f.file, f.line, f.message) for f in findings]


def write(file: str, text: str) -> dict[str, Any]:
    return {"file": file, "write": text}


# --- 1. A hand-written Argo CD Application deploys what check never reads ------------------

# The manifests Application syncs manifests/ as it is; an Application in there is created in
# argocd (app of apps) and deploys its own source: here a Helm chart running Ollama on the
# one card the active lane holds. check reads none of it and passes.
HELM_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ollama-extra, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: vllm}
  source:
    repoURL: https://otwld.github.io/ollama-helm/
    chart: ollama
    targetRevision: 1.30.0
    helm:
      valuesObject:
        ollama: {gpu: {enabled: true, type: nvidia, number: 1}}
        nodeSelector: {kubernetes.io/hostname: gpu-worker-1}
        tolerations: [{operator: Exists}]
  syncPolicy: {automated: {}}
"""

# The same through a directory of this very repo that no gitops-gen Application covers.
DIR_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: extra-dir, namespace: argocd}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc, namespace: vllm}
  source:
    repoURL: https://git.example.com/homelab/gpu-gitops.git
    targetRevision: main
    path: extra
  syncPolicy: {automated: {}}
"""


def test_a_handwritten_application_of_a_gpu_chart_does_not_pass(tmp_path: Path) -> None:
    _repo, findings = run(
        Case("helm-app", edits=(write("manifests/ollama-app.yaml", HELM_APP),)), tmp_path
    )
    assert blocks_in(findings, "manifests/ollama-app.yaml"), shown(findings)


def test_a_handwritten_application_of_an_unchecked_path_does_not_pass(tmp_path: Path) -> None:
    gpu = sidecar(RUNNING)
    edits = (write("manifests/extra-app.yaml", DIR_APP), {**gpu, "file": "extra/gpu.yaml"})
    _repo, findings = run(Case("dir-app", edits=edits), tmp_path)
    assert blocks(findings), shown(findings)


# --- 2. A ReplicationController is a workload like any other ------------------------------

# v1 ReplicationController runs its pod template like a ReplicaSet. Here it takes the card the
# active lane holds, with an unpinned image and no hardening; check passes (exit 0).
RC = """\
apiVersion: v1
kind: ReplicationController
metadata: {name: rc-gpu, namespace: vllm}
spec:
  replicas: 1
  selector: {app: rc-gpu}
  template:
    metadata:
      labels: {app: rc-gpu}
    spec:
      runtimeClassName: nvidia
      nodeSelector: {kubernetes.io/hostname: gpu-worker-1}
      tolerations:
        - {key: workload.ai/dedicated, operator: Exists}
      containers:
        - name: main
          image: docker.io/library/busybox:1.36
          resources:
            limits: {nvidia.com/gpu: 1}
"""


def test_a_replication_controller_counts_against_the_card(tmp_path: Path) -> None:
    _repo, findings = run(Case("rc", edits=(write("manifests/rc.yaml", RC),)), tmp_path)
    rules = {f.rule for f in blocks_in(findings, "manifests/rc.yaml")}
    assert {"single-active-gpu-lane", "image-digest-pinned", "pod-hardening"} <= rules, shown(
        findings
    )


# --- 3. NVIDIA_VISIBLE_DEVICES reaches the container by envFrom / valueFrom too ---------------

VISIBLE_ALL = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: gpu-env, namespace: vllm}
data: {NVIDIA_VISIBLE_DEVICES: all}
"""
ENV_FROM = (
    "          resources:\n",
    "          envFrom:\n            - configMapRef: {name: gpu-env}\n          resources:\n",
)
VALUE_FROM = (
    "          resources:\n",
    "          env:\n            - name: NVIDIA_VISIBLE_DEVICES\n"
    "              valueFrom: {configMapKeyRef: {name: gpu-env, key: NVIDIA_VISIBLE_DEVICES}}\n"
    "          resources:\n",
)


def test_visible_devices_from_a_configmap_via_envfrom_is_seen(tmp_path: Path) -> None:
    edits = (
        write("manifests/gpu-env.yaml", VISIBLE_ALL),
        sidecar(RUNNING, *NO_GPU_REQUEST, ENV_FROM),
    )
    _repo, findings = run(Case("envfrom", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


def test_visible_devices_from_a_configmap_via_valuefrom_is_seen(tmp_path: Path) -> None:
    edits = (
        write("manifests/gpu-env.yaml", VISIBLE_ALL),
        sidecar(RUNNING, *NO_GPU_REQUEST, VALUE_FROM),
    )
    _repo, findings = run(Case("valuefrom", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


# envFrom names each variable prefix + key (Kubernetes), from a ConfigMap or a Secret, and
# a later source wins over an earlier one.
PREFIXED = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: gpu-env, namespace: vllm}
data: {VISIBLE_DEVICES: all}
"""
VOID = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: no-gpu, namespace: vllm}
data: {NVIDIA_VISIBLE_DEVICES: void}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: gpu-env, namespace: vllm}
data: {NVIDIA_VISIBLE_DEVICES: YWxs}
"""


def _env_from(*sources: str) -> tuple[str, str]:
    return (
        "          resources:\n",
        "          envFrom:\n"
        + "".join(f"            - {s}\n" for s in sources)
        + "          resources:\n",
    )


@pytest.mark.parametrize(("values", "blocked"), [(("void", "all"), True), (("all", "void"), False)])
def test_the_last_env_entry_of_a_name_wins(
    tmp_path: Path, values: tuple[str, str], blocked: bool
) -> None:
    # The kubelet applies env in order: a later entry of one name replaces an earlier one.
    entries = "".join(
        f'            - {{name: NVIDIA_VISIBLE_DEVICES, value: "{v}"}}\n' for v in values
    )
    edits = (
        sidecar(
            RUNNING,
            *NO_GPU_REQUEST,
            ("          resources:\n", "          env:\n" + entries + "          resources:\n"),
            ("      runtimeClassName: nvidia\n", ""),
        ),
    )
    _repo, findings = run(Case("env-order", edits=edits), tmp_path)
    assert bool(blocks_in(findings, SIDECAR)) == blocked, shown(findings)


@pytest.mark.parametrize(
    ("manifests", "sources", "blocked"),
    [
        ((PREFIXED,), ("{prefix: NVIDIA_, configMapRef: {name: gpu-env}}",), True),
        ((SECRET,), ("secretRef: {name: gpu-env}",), True),  # base64 of "all"
        (
            (VISIBLE_ALL, VOID),
            ("configMapRef: {name: gpu-env}", "configMapRef: {name: no-gpu}"),
            False,
        ),
        (
            (VOID, VISIBLE_ALL),
            ("configMapRef: {name: no-gpu}", "configMapRef: {name: gpu-env}"),
            True,
        ),
    ],
    ids=["prefixed", "secret", "later-void-wins", "later-all-wins"],
)
def test_visible_devices_from_envfrom_as_kubernetes_builds_them(
    tmp_path: Path, manifests: tuple[str, ...], sources: tuple[str, ...], blocked: bool
) -> None:
    edits = (
        write("manifests/gpu-env.yaml", "---\n".join(manifests)),
        # Without the runtime class, which is a route of its own: a node whose default
        # runtime is NVIDIA's honours the variable in any container.
        sidecar(
            RUNNING, *NO_GPU_REQUEST, _env_from(*sources), ("      runtimeClassName: nvidia\n", "")
        ),
    )
    _repo, findings = run(Case("envfrom", edits=edits), tmp_path)
    assert bool(blocks_in(findings, SIDECAR)) == blocked, shown(findings)


# --- 4. A native sidecar's GPU adds to the app containers' ----------------------------------

# An init container with restartPolicy: Always keeps running beside the app containers, so
# the scheduler sums its resources with theirs: this pod needs 2 GPUs on a 1-GPU node and
# stays Pending forever. check counts max(init, app) = 1 and passes (exit 10, alias warnings).
NATIVE_SIDECAR = (
    "      containers:\n",
    f"""\
      initContainers:
        - name: helper
          image: ghcr.io/example/tool:1.0@{DIGEST}
          restartPolicy: Always
          resources:
            requests: {{cpu: 100m, memory: 64Mi, nvidia.com/gpu: 1}}
            limits: {{cpu: 100m, memory: 64Mi, nvidia.com/gpu: 1}}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
      containers:
""",
)


def test_a_native_sidecar_gpu_adds_to_the_app_containers(tmp_path: Path) -> None:
    edits = (PARK_FAST, sidecar(RUNNING, NATIVE_SIDECAR))
    _repo, findings = run(Case("native-sidecar", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


# --- 5. A CronJob's jobTemplate parallelism runs that many pods -----------------------------

# The pod of a hardened one-GPU Job on the root example's node (CronJob and Job below).
GPU_JOB_POD = f"""\
spec:
  restartPolicy: Never
  runtimeClassName: nvidia
  automountServiceAccountToken: false
  enableServiceLinks: false
  nodeSelector: {{kubernetes.io/hostname: gpu-worker-1}}
  tolerations:
    - {{key: workload.ai/dedicated, operator: Exists}}
  securityContext:
    runAsNonRoot: true
    seccompProfile: {{type: RuntimeDefault}}
  containers:
    - name: eval
      image: ghcr.io/example/tool:1.0@{DIGEST}
      resources:
        requests: {{cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}}
        limits: {{cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {{drop: [ALL]}}
"""


def indent(text: str, spaces: int) -> str:
    return textwrap.indent(text, " " * spaces)


CRONJOB = f"""\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly-eval, namespace: vllm}}
spec:
  schedule: "0 2 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      parallelism: 2
      completions: 2
      template:
{indent(GPU_JOB_POD, 8)}"""


def test_a_cronjob_with_parallel_pods_counts_each_pod(tmp_path: Path) -> None:
    """The same Job blocks (2 GPUs on 1); inside a CronJob its parallelism was ignored."""
    edits = (PARK_FAST, write("manifests/eval.yaml", CRONJOB))
    _repo, findings = run(Case("cronjob-parallelism", edits=edits), tmp_path)
    assert blocks_in(findings, "manifests/eval.yaml"), shown(findings)


# --- 6. A NoExecute toleration with tolerationSeconds does not keep the pod on the node -----

# The pod is scheduled, then evicted tolerationSeconds later, again and again.
NO_EXECUTE = replace(
    NODE,
    "{key: workload.ai/dedicated, value: gpu, effect: NoSchedule}",
    "{key: workload.ai/dedicated, value: gpu, effect: NoExecute}",
)
EVICTED_AFTER = (
    "        - {key: workload.ai/dedicated, operator: Equal, value: gpu, effect: NoSchedule}\n",
    "        - {key: workload.ai/dedicated, operator: Exists, effect: NoExecute,"
    " tolerationSeconds: 30}\n",
)


def test_a_noexecute_toleration_with_seconds_is_not_tolerating(tmp_path: Path) -> None:
    edits = (PARK_FAST, NO_EXECUTE, sidecar(RUNNING, EVICTED_AFTER))
    _repo, findings = run(Case("toleration-seconds", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


# --- 7. A GPU resource the node's device plugin never advertises ---------------------------


# gitops-gen renders the device plugin without a sharing config (no nvidia.com/gpu.shared)
# and with migStrategy none on a GPU without MIG (no nvidia.com/mig-*): the pod is Pending.
def test_a_gpu_resource_no_plugin_advertises_does_not_pass(tmp_path: Path) -> None:
    for resource in ("nvidia.com/gpu.shared", "nvidia.com/mig-1g.10gb"):
        edits = (PARK_FAST, sidecar(RUNNING, ("nvidia.com/gpu: 1", f"{resource}: 1")))
        _repo, findings = run(Case(resource, edits=edits), tmp_path / resource.replace("/", "_"))
        assert blocks_in(findings, SIDECAR), (resource, shown(findings))


# --- 8. The NVIDIA runtime without a GPU request exposes every GPU -------------------------


# With deviceListStrategy envvar, a container under the nvidia RuntimeClass that requests no
# GPU gets what its image's NVIDIA_VISIBLE_DEVICES says, and CUDA-based images (nvidia/cuda,
# vllm, ollama) set it to `all` (NVIDIA/k8s-device-plugin#61). check cannot see image
# environments, but it sees runtimeClassName: nvidia on a pod that requests no GPU.
def test_the_nvidia_runtime_without_a_gpu_request_does_not_pass(tmp_path: Path) -> None:
    cuda = ("ghcr.io/example/tool:1.0@", "docker.io/nvidia/cuda:12.8.0-base-ubuntu24.04@")
    edits = (sidecar(RUNNING, *NO_GPU_REQUEST, cuda),)
    _repo, findings = run(Case("runtime-no-request", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


# --- False block: the README's own KEDA example ---------------------------------------------

# README ("What counts as holding a GPU") supports KEDA ScaledObjects; a ScaledObject capped
# at the card's one GPU is correct, yet kubernetes-schema blocks every one of them.
KEDA = """\
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: fast, namespace: vllm}
spec:
  scaleTargetRef: {name: qwen36-35b-gguf-fast}
  maxReplicaCount: 1
  triggers:
    - {type: cron, metadata: {timezone: UTC, start: 0 8 * * *, end: 0 18 * * *, desiredReplicas: "1"}}
"""


def test_a_capped_keda_scaledobject_is_not_blocked(tmp_path: Path) -> None:
    _repo, findings = run(Case("keda", edits=(write("manifests/keda.yaml", KEDA),)), tmp_path)
    assert not blocks(findings), shown(findings)


# --- 9. Switching off a non-core rule hides a GPU pod from the core rule ---------------------


# policies/ may lower any non-core rule without a policy-weakened finding (without --base).
# Objects under rendered/ that gitops-gen did not write are only foreign-rendered-file's
# business: single-active-gpu-lane never counts them, so with that rule off (or waived) a
# GPU Deployment dropped into rendered/<cluster>/lanes/ takes the active lane's card and
# check exits 0. Argo CD syncs it all the same (the lanes Application recurses).
def test_a_gpu_pod_under_rendered_counts_even_with_foreign_rendered_file_off(
    tmp_path: Path,
) -> None:
    gpu = sidecar(RUNNING)
    edits = (
        {**gpu, "file": "rendered/homelab/lanes/extra-gpu.yaml"},
        {"file": "policies/policy.yaml", "append": "  foreign-rendered-file: {severity: off}\n"},
    )
    _repo, findings = run(Case("foreign-off", edits=edits), tmp_path)
    # Switching the rule off is the weakening of a core rule: reported first, always.
    weakened = [f for f in findings if f.rule == "policy-weakened"]
    assert [f.message for f in weakened] == [
        "core rule foreign-rendered-file is set to off: the gate no longer blocks on it"
    ], shown(findings)


# --- 10. The device plugin chart's bundled NFD runs an image pinned by nothing ---------------


# nvidia-device-plugin's chart deploys its node-feature-discovery dependency (nfd.enabled or
# gfd.enabled, see gitops_gen/defaults/device-plugin-charts.yaml): master, worker and gc run
# registry.k8s.io/nfd/node-feature-discovery at the subchart's appVersion tag. The root
# example enables both; the values pin the device plugin image only, and check passes.
def test_the_bundled_nfd_image_is_pinned_or_reported(tmp_path: Path) -> None:
    import yaml

    from tests.conftest import ROOT

    _repo, findings = run(Case("nfd"), tmp_path)
    app = yaml.safe_load(
        (ROOT / "rendered/homelab/argocd/apps/nvidia-device-plugin.yaml").read_text()
    )
    values = app["spec"]["source"]["helm"]["valuesObject"]
    assert values["nfd"]["enabled"] is True
    nfd_image = str(values["nfd"].get("image", ""))
    reported = [f for f in findings if f.rule == "image-digest-pinned"]
    assert "@sha256:" in nfd_image or reported, values["nfd"]


# --- False block: a pull request that repairs specs the base cannot load --------------------


# The GitHub Action runs `check --base <base>`. When the base's specs do not load with this
# gitops-gen (a value a newer version type-checks, as the README's upgrade note says of
# `maxLifetimeDays: ninety`), the pull request that repairs them exits 2 forever: the fix
# can never pass CI. Only the diff-aware rules need the base; the fixed specs are fine.
def test_check_base_lets_the_pull_request_that_repairs_the_base_pass(
    tmp_path: Path, cli: Any
) -> None:
    from tests.conftest import ROOT, copy_repo
    from tests.rules.harness import git_commit

    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    policy = repo / "policies/policy.yaml"
    good = policy.read_text()
    policy.write_text(good + "  waiver-expired: {options: {maxLifetimeDays: ninety}}\n")
    git_commit(repo, "base the current gitops-gen cannot load")
    policy.write_text(good + "  waiver-expired: {options: {maxLifetimeDays: 90}}\n")
    assert cli("check", cwd=repo).code == 0
    result = cli("check", "--base", "HEAD", cwd=repo)
    assert result.code in (0, 10), (result.code, result.out, result.err)


# --- Invalid input that check passes: a renderedPath render refuses ---------------------------


# render (and render --check) refuse `renderedPath: manifests` (exit 2: output inside a spec
# path); check loads the same specs and exits 0.
def test_check_refuses_the_rendered_path_render_refuses(tmp_path: Path, cli: Any) -> None:
    from tests.conftest import ROOT, copy_repo

    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    config = repo / "gitops-gen.yaml"
    text = config.read_text()
    assert "  project: default\n" in text
    config.write_text(
        text.replace("  project: default\n", '  project: default\n  renderedPath: "manifests"\n')
    )
    assert cli("render", "--check", cwd=repo).code == 2
    result = cli("check", cwd=repo)
    assert result.code == 2, (result.code, result.out[-500:], result.err)


# --- 11. A GPU claimed through Dynamic Resource Allocation --------------------------------

# Kubernetes 1.35 (the example's version) serves resource.k8s.io/v1. A pod that claims a GPU
# by a ResourceClaimTemplate requests no nvidia.com/gpu, so no rule counts it: without a
# DRA driver (gitops-gen deploys the device plugin) the claim is never allocated and the pod
# is Pending forever; with one, it hands out the card the device plugin gave the lane.
DRA_TEMPLATE = """\
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: one-gpu, namespace: vllm}
spec:
  spec:
    devices:
      requests:
        - name: gpu
          exactly: {deviceClassName: gpu.nvidia.com}
"""
DRA_CLAIM = (
    ("requests: {cpu: 100m}", "requests: {cpu: 100m}\n            claims: [{name: gpu}]"),
    (
        "      containers:\n",
        "      resourceClaims:\n        - {name: gpu, resourceClaimTemplateName: one-gpu}\n"
        "      containers:\n",
    ),
)


def test_a_gpu_claimed_through_dra_does_not_pass(tmp_path: Path) -> None:
    edits = (
        write("manifests/claim.yaml", DRA_TEMPLATE),
        sidecar(RUNNING, *NO_GPU_REQUEST, *DRA_CLAIM),
    )
    _repo, findings = run(Case("dra", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


# --- 12. AMD device nodes by a path spelled differently -------------------------------------

# The kubelet mounts hostPath `/dev/./kfd` or `//dev/kfd` as /dev/kfd (the API server only
# refuses `..`), but the device-node match compares the path as written: the pod sees the
# AMD GPU the active AMD lane owns and neither unrequested-gpu-access nor
# single-active-gpu-lane counts it. Only pod-hardening's host-path list stops it, and a
# team that allows /dev there (a non-core option, silent without --base) gets exit 10.
ROCM = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: rocm-tool, namespace: vllm}}
spec:
  replicas: 1
  strategy: {{type: Recreate}}
  selector: {{matchLabels: {{app: rocm-tool}}}}
  template:
    metadata: {{labels: {{app: rocm-tool}}}}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      nodeSelector: {{kubernetes.io/hostname: brain}}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: main
          image: ghcr.io/example/tool:1.0@{digest}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 100m, memory: 128Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
          volumeMounts: [{{name: kfd, mountPath: /dev/kfd}}]
      volumes:
        - name: kfd
          hostPath: {{path: {path}}}
"""


def test_amd_device_nodes_are_matched_on_the_normalised_path(tmp_path: Path) -> None:
    for path in ("/dev/./kfd", "//dev/kfd"):
        text = ROCM.format(digest=DIGEST, path=path)
        case = Case(path, repo="mixed-nvidia-amd", edits=(write("manifests/rocm.yaml", text),))
        _repo, findings = run(case, tmp_path / path.replace("/", "_").replace(".", "d"))
        rules = {f.rule for f in blocks_in(findings, "manifests/rocm.yaml")}
        assert {"single-active-gpu-lane", "unrequested-gpu-access"} <= rules, (
            path,
            shown(findings),
        )


# --- 13. NVIDIA_VISIBLE_DEVICES=all beside a GPU request of 0, or in another container -------


# The device plugin overrides NVIDIA_VISIBLE_DEVICES only in a container it allocated GPUs
# to. `nvidia.com/gpu: 0` allocates none (NVIDIA/k8s-device-plugin#61, "Requesting zero GPUs
# allocates all GPUs"), so `all` stands; the check reads "requests nvidia.com/gpu" from the
# key alone and skips the route. Without the `: 0` line the same pod blocks.
def test_visible_devices_all_beside_a_zero_gpu_request_is_seen(tmp_path: Path) -> None:
    from tests.rules.cases import sees_nvidia

    edits = (sidecar(RUNNING, sees_nvidia("all"), ("nvidia.com/gpu: 1", "nvidia.com/gpu: 0")),)
    _repo, findings = run(Case("zero-request", edits=edits), tmp_path)
    assert blocks_in(findings, SIDECAR), shown(findings)


# Allocation is per container: a helper container that requests nothing and sets `all` sees
# both H100s while its neighbour requests one. With the TP=2 lane parked and the 1-GPU lane
# active, check counts 1 + 1 of 2 and passes, though the helper shares the lane's card.
TWO_CONTAINERS = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: two-containers, namespace: vllm}}
spec:
  replicas: 1
  strategy: {{type: Recreate}}
  selector: {{matchLabels: {{app: two-containers}}}}
  template:
    metadata: {{labels: {{app: two-containers}}}}
    spec:
      runtimeClassName: nvidia
      automountServiceAccountToken: false
      enableServiceLinks: false
      nodeSelector: {{kubernetes.io/hostname: h100-node-a}}
      tolerations: [{{key: nvidia.com/gpu, operator: Exists}}]
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: main
          image: ghcr.io/example/tool:1.0@{DIGEST}
          resources:
            requests: {{cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}}
            limits: {{cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
        - name: helper
          image: ghcr.io/example/tool:1.0@{DIGEST}
          env:
            - {{name: NVIDIA_VISIBLE_DEVICES, value: all}}
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{cpu: 100m, memory: 64Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
"""


def test_visible_devices_all_in_a_container_without_a_request_is_seen(tmp_path: Path) -> None:
    edits = (
        replace("lanes/mistral-small-24b-tp2.yaml", "active: true", "active: false"),
        replace("lanes/llama31-8b.yaml", "active: false", "active: true"),
        write("manifests/two.yaml", TWO_CONTAINERS),
    )
    _repo, findings = run(Case("two-containers", repo="h100x2-tp2", edits=edits), tmp_path)
    assert blocks_in(findings, "manifests/two.yaml"), shown(findings)


# --- 14. serve.extraArgs re-setting a flag gitops-gen manages and checks ----------------------


# extraArgs are appended after the managed flags, and both llama-server and vllm take the
# last occurrence. The checks read serve's keys: `serve.tensorParallelSize: 2` on a 1-GPU
# lane blocks (placement), the same through extraArgs passes and vLLM refuses to start
# (world size 2, one visible GPU); `--ctx-size 262144` behind the checked 49152 runs a
# context vram-fit and context-ceiling never saw. Either refuse managed flags in extraArgs
# (exit 2) or check the value that runs.
def test_extra_args_cannot_override_a_checked_flag(tmp_path: Path, cli: Any) -> None:
    from tests.conftest import ROOT, copy_repo

    cases = {
        "tp": (
            "h100x2-tp2",
            [
                ("lanes/mistral-small-24b-tp2.yaml", "active: true", "active: false"),
                ("lanes/llama31-8b.yaml", "active: false", "active: true"),
                (
                    "lanes/llama31-8b.yaml",
                    "gpuMemoryUtilization: 0.9}",
                    'gpuMemoryUtilization: 0.9, extraArgs: [--tensor-parallel-size, "2"]}',
                ),
            ],
        ),
        "ctx": (
            ".",
            [(FAST, "  port: 8080\n", '  port: 8080\n  extraArgs: [--ctx-size, "262144"]\n')],
        ),
    }
    for name, (source, edits) in cases.items():
        repo = copy_repo(ROOT if source == "." else ROOT / "examples" / source, tmp_path / name)
        for file, old, new in edits:
            text = (repo / file).read_text()
            assert old in text, (file, old)
            (repo / file).write_text(text.replace(old, new, 1))
        result = cli("check", cwd=repo)
        assert result.code in (2, 20), (name, result.code, result.out[-800:], result.err)


def _vllm_extra_args(tmp_path: Path, *args: str) -> Path:
    """The root example with the vLLM lane's extraArgs set."""
    from tests.conftest import ROOT, copy_repo

    repo = copy_repo(ROOT, tmp_path / "repo")
    listed = ", ".join(f'"{a}"' for a in args)
    replace_in(
        repo / "lanes/vllm-rollback.yaml",
        "  maxModelLen: 32768\n",
        f"  maxModelLen: 32768\n  extraArgs: [{listed}]\n",
    )
    return repo


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("args", "meant", "key"),
    [
        (("--max_model_len", "131072"), "--max-model-len", "serve.maxModelLen"),
        (("--max-model", "131072"), "--max-model-len", "serve.maxModelLen"),
        (("--max_model_len=131072",), "--max-model-len", "serve.maxModelLen"),
        (("--max-model-len.x", "1"), "--max-model-len", "serve.maxModelLen"),
        (("-t", "2"), "-tp", "serve.tensorParallelSize"),
        (("-p", "2"), "-pp", "gpus"),
    ],
    ids=["underscores", "prefix", "with-value", "dotted", "short-prefix", "short-pipeline"],
)
def test_extra_args_cannot_override_a_checked_flag_in_another_spelling(
    tmp_path: Path, cli: Any, args: tuple[str, ...], meant: str, key: str
) -> None:
    # vLLM's FlexibleArgumentParser reads underscores as dashes, and argparse takes an
    # unambiguous prefix of an option, a single-dash one too: each of these sets `meant`.
    result = cli("check", cwd=_vllm_extra_args(tmp_path, *args))
    assert result.code == 2, (result.code, result.err)
    written = args[0].split("=")[0]
    assert f"serve.extraArgs[0]: {written} ({meant}) is set from {key}" in result.err


def test_extra_args_cannot_load_a_vllm_config_file(tmp_path: Path, cli: Any) -> None:
    # vLLM pulls every setting of a `--config` YAML file into its arguments: the file, on
    # the node or in the image, could set max_model_len where no rule sees it.
    result = cli("check", cwd=_vllm_extra_args(tmp_path, "--config", "/models/serve.yaml"))
    assert result.code == 2, (result.code, result.err)
    assert "serve.extraArgs[0]: --config reads a vLLM config file, which may set" in result.err


def test_an_unmanaged_vllm_flag_is_not_read_as_a_managed_one(tmp_path: Path, cli: Any) -> None:
    result = cli("check", cwd=_vllm_extra_args(tmp_path, "--max_log_len", "100"))
    assert result.code != 2, result.err


# --- 15. Removing a capability gate is a weakening nobody sees ------------------------------


# policies/capabilities.yaml replaces the packaged gates. A pull request that deletes
# vllm-sm120-kernels and activates a vLLM 0.8.5 lane on the Blackwell card (which stops at
# start: "no kernel image is available") gets no runtime-capability block and, even with
# --base, no policy-weakened finding: exit 10 on the validation-evidence warning the lane
# would have anyway. The README promises "whatever the change loosens" is shown.
def test_removing_a_capability_gate_is_reported_as_weakening(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    caps = "policies/capabilities.yaml"
    original = (ROOT / caps).read_text()
    start = original.index("  - id: vllm-sm120-kernels")
    end = original.index("  - id: blackwell-driver-floor")
    lane = "lanes/vllm-rollback.yaml"
    edits = (
        PARK_FAST,
        replace(lane, "active: false", "active: true"),
        replace(lane, "vllm-openai:v0.12.0@", "vllm-openai:v0.8.5@"),
        replace(lane, "engineVersion: 0.12.0", "engineVersion: 0.8.5"),
        replace(caps, original[start:end], ""),
    )
    _repo, findings = run(Case("gate-removed", edits=edits, base=True), tmp_path)
    weakened = [f for f in findings if f.rule == "policy-weakened"]
    gated = [f for f in blocks(findings) if f.rule == "runtime-capability"]
    assert weakened or gated, shown(findings)


# --- False block: a suspended Job runs no pod ------------------------------------------------

# batch/v1 Job `suspend: true` creates no pods until it is resumed (a CronJob's suspend is
# already honoured, and `parallelism: 0` passes); a parked GPU Job beside the active lane
# is blocked as if it held the card.
SUSPENDED_JOB = f"""\
apiVersion: batch/v1
kind: Job
metadata: {{name: eval-once, namespace: vllm}}
spec:
  suspend: true
  template:
{indent(GPU_JOB_POD, 4)}"""


def test_a_suspended_gpu_job_does_not_claim_the_card(tmp_path: Path) -> None:
    edits = (write("manifests/job.yaml", SUSPENDED_JOB),)
    _repo, findings = run(Case("suspended-job", edits=edits), tmp_path)
    assert not blocks(findings), shown(findings)
