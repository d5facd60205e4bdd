"""networkPolicies: who may open a connection to which pod, worked out from the rendered
NetworkPolicies the way a network plugin applies them (a pod no policy selects admits
everyone; a selected pod admits the union of its policies' ingress rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from tests.conftest import ROOT, copy_repo

CONFIG = "gitops-gen.yaml"


def _pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Deployment and Job pods by object name: their labels and container ports."""
    pods = {}
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            template = obj["spec"]["template"]
            ports = [
                p["containerPort"]
                for c in template["spec"]["containers"]
                for p in c.get("ports", [])
            ]
            pods[obj["metadata"]["name"]] = {
                "labels": template["metadata"]["labels"],
                "ports": ports,
            }
    return pods


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _admitted(objects: list[dict[str, Any]], target: str, port: int) -> list[str] | None:
    """The peers (pod names, or 'namespace X', 'cidr C', 'anyone') that may reach
    `target` on `port`; None when no policy selects it (everyone may)."""
    pods = _pods(objects)
    labels = pods[target]["labels"]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    chosen = [p for p in policies if _selects(p["spec"]["podSelector"], labels)]
    if not chosen:
        return None
    peers: set[str] = set()
    for policy in chosen:
        for rule in policy["spec"]["ingress"]:
            if "ports" in rule and port not in [p["port"] for p in rule["ports"]]:
                continue
            if "from" not in rule:
                peers.add("anyone")
            for source in rule.get("from", []):
                if "podSelector" in source:
                    peers |= {
                        n
                        for n, pod in pods.items()
                        if _selects(source["podSelector"], pod["labels"])
                    }
                elif "namespaceSelector" in source:
                    peers.add(
                        "namespace "
                        + source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    )
                elif "ipBlock" in source:
                    peers.add("cidr " + source["ipBlock"]["cidr"])
    return sorted(peers)


def _objects(repo: Path) -> list[dict[str, Any]]:
    return [dict(o.data) for o in render_repo(load_repo(repo)).objects]


def _enable(tmp_path: Path, line: str, source: Path = ROOT) -> Path:
    """A copy of `source` whose networkPolicies setting is `line` (the examples' own, a
    one-line mapping, is dropped first)."""
    repo = copy_repo(source, tmp_path / "repo")
    config = repo / CONFIG
    kept = [x for x in config.read_text().splitlines(True) if not x.startswith("networkPolicies:")]
    config.write_text("".join(kept) + line)
    return repo


def test_off_unless_asked(tmp_path: Path) -> None:
    assert [o for o in _objects(ROOT) if o["kind"] == "NetworkPolicy"]  # the example asks
    objects = _objects(_enable(tmp_path, ""))
    assert not [o for o in objects if o["kind"] == "NetworkPolicy"]


def test_a_lane_admits_only_the_gateway_on_its_port(tmp_path: Path) -> None:
    objects = _objects(_enable(tmp_path, "networkPolicies: {enabled: true}\n"))
    fast = _pods(objects)["qwen36-35b-gguf-fast"]
    assert _admitted(objects, "qwen36-35b-gguf-fast", fast["ports"][0]) == ["litellm"]
    assert _admitted(objects, "qwen36-35b-gguf-fast", 22) == []  # no other port
    # Lanes do not reach each other, nor does a prefetch Job reach a lane.
    assert "qwen36-27b-deep" not in _admitted(objects, "qwen36-35b-gguf-fast", 8080)
    # The gateway admits its clients, wherever they are, on its port only.
    assert _admitted(objects, "litellm", 4000) == ["anyone"]
    assert _admitted(objects, "litellm", 8080) == []
    # The prefetch Jobs admit nothing.
    jobs = [name for name in _pods(objects) if name.startswith("prefetch-")]
    assert jobs and all(_admitted(objects, job, 80) == [] for job in jobs)


def test_the_scraper_and_the_nodes_when_declared(tmp_path: Path) -> None:
    line = "networkPolicies: {enabled: true, metricsFrom: monitoring, nodeCIDRs: [10.0.0.0/24]}\n"
    objects = _objects(_enable(tmp_path, line))
    assert _admitted(objects, "vllm-rollback", 8000) == [
        "cidr 10.0.0.0/24",
        "litellm",
        "namespace monitoring",
    ]


def test_without_a_gateway_a_lane_admits_its_namespace(tmp_path: Path) -> None:
    repo = _enable(tmp_path, "networkPolicies: {enabled: true}\n")
    config = repo / CONFIG
    text = config.read_text()
    start = text.index("\ngateway:")
    end = (
        text.index("\n# ", start + 1)
        if "\n# " in text[start + 1 :]
        else text.index("\nnetworkPolicies")
    )
    config.write_text(text[:start] + text[end:])
    objects = _objects(repo)
    assert not [o for o in objects if o["metadata"]["name"] == "litellm"]
    lanes = [n for n in _pods(objects) if not n.startswith("prefetch-")]
    assert _admitted(objects, "qwen36-35b-gguf-fast", 8080) == sorted(_pods(objects))
    assert lanes


def test_a_hand_written_pod_is_left_alone(tmp_path: Path) -> None:
    # A hand-written ComfyUI (manifests/) shares the namespace; no policy selects it.
    source = ROOT / "examples" / "lab-48gb-comfyui"
    repo = _enable(tmp_path, "networkPolicies: {enabled: true}\n", source)
    (repo / "manifests").mkdir()
    manifest = (ROOT / "tests" / "data" / "comfyui-deployment.yaml").read_text()
    (repo / "manifests" / "comfyui.yaml").write_text(manifest)
    rendered = _objects(repo)
    manifests = [dict(m.data) for m in load_repo(repo).manifests]
    objects = rendered + manifests
    assert "comfyui-manual" in _pods(objects)
    assert _admitted(objects, "comfyui-manual", 8188) is None
    # The ComfyUI lane serves no gateway alias: its own namespace reaches it.
    assert _admitted(objects, "comfyui", 8188) == sorted(_pods(objects))
