"""The compose target: one docker compose host's lanes, prefetch and gateway as compose.yaml.

The same lanes as on Kubernetes, in Docker's terms: a GPU is reserved by device id
(`deploy.resources.reservations.devices`), so two running lanes never get the same
card; a parked lane sits in the `parked` profile, which `docker compose up` leaves
stopped; a lane starts only after its model's prefetch service has downloaded and
verified every locked file. Compose interpolates `$` in every value of the file, so
each string from a spec has its `$` doubled; the only variables left for compose to
fill are the secrets it must never see written down (`${LITELLM_MASTER_KEY}`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_gen.errors import InputError, Problem
from gitops_gen.render.plan import (
    MASTER_KEY_ENV,
    PREFETCH_SCRIPT,
    PlannedFile,
    lane_component,
    model_marker,
    model_sums,
    model_target_dir,
    pinned_workflows,
    plan_gateway_config,
)
from gitops_gen.specs.engines import Launch, launch
from gitops_gen.specs.model import Cluster, Lane, Location, ModelLock, Node, Repo, Resources
from gitops_gen.specs.quantity import parse_quantity

COMPOSE_FILE = "compose.yaml"
GATEWAY_CONFIG = "gateway/litellm.yaml"
PARKED_PROFILE = "parked"
# The label every service gitops-gen renders carries: which lane (or part) it is.
LANE_LABEL = "dev.gitops-gen.lane"
PART_LABEL = "dev.gitops-gen.part"
MODEL_LABEL = "dev.gitops-gen.model"
# Non-root, read-only, no capabilities: the lanes' Kubernetes security context, in compose.
USER = "65532:65532"
HARDENING: Mapping[str, Any] = {
    "user": USER,
    "read_only": True,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
    "tmpfs": ["/tmp"],
}


class Interpolated(str):
    """A value compose must interpolate (a secret from the host's environment or .env)."""


def escape(value: Any) -> Any:
    """Every string with `$` doubled (compose would substitute it), except Interpolated."""
    if isinstance(value, Interpolated):
        return str(value)
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {escape(k): escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    return value


def compose_cpus(quantity: str) -> str:
    """A Kubernetes CPU quantity as compose's `cpus` (cores, a decimal number)."""
    cores = parse_quantity(quantity)
    if cores.denominator == 1:
        return str(int(cores))
    return format(float(cores), ".3f").rstrip("0")


def compose_bytes(quantity: str) -> str:
    """A Kubernetes memory quantity as compose's byte size (Docker's units are binary)."""
    size = parse_quantity(quantity)
    for unit, factor in (("g", 2**30), ("m", 2**20), ("k", 2**10)):
        scaled = size / factor
        if scaled.denominator == 1 and scaled >= 1:
            return f"{int(scaled)}{unit}"
    return f"{math.ceil(size)}b"  # a fraction of a byte (`1.5k` is whole) rounds up


def _seconds(seconds: int) -> str:
    return f"{seconds}s"


def card_slots(node: Node) -> list[int]:
    """Lanes each card of the host runs at once, by device index (hardware/ order)."""
    return [gpu.slots for gpu in node.gpus for _ in range(gpu.count)]


def device_ids(host_lanes: list[Lane], slots: Sequence[int] | None = None) -> dict[str, list[str]]:
    """Lane -> the GPU indexes it reserves. Running lanes take the cards in turn (name
    order), each card holding as many as its slots (1, or its time-slicing replicas), so
    none shares a card it may not; a parked lane is given the first cards, which it gets
    when it becomes the running lane. Ids past the host's cards are kept: the
    single-active rule reports them, compose would not start the lane. Without `slots`,
    every card holds one lane and there are as many as the running lanes need."""
    ids: dict[str, list[str]] = {}
    load: dict[int, int] = {}
    beyond = len(slots) if slots is not None else 0
    for lane in sorted(host_lanes, key=lambda x: x.name):
        if lane.gpus <= 0:
            continue
        if not lane.active:
            ids[lane.name] = [str(i) for i in range(lane.gpus)]
            continue
        chosen: list[int] = []
        index = 0
        while len(chosen) < lane.gpus:
            if slots is not None and index >= len(slots):
                chosen.append(beyond)  # a card the host lacks
                beyond += 1
            elif load.get(index, 0) < (slots[index] if slots is not None else 1):
                chosen.append(index)
            index += 1
        for card in chosen:
            load[card] = load.get(card, 0) + 1
        ids[lane.name] = [str(i) for i in chosen]
    return ids


def _resources(resources: Resources) -> dict[str, Any]:
    """Kubernetes requests and limits as compose reservations and limits."""
    reservations: dict[str, Any] = {
        "cpus": compose_cpus(resources.cpu.request),
        "memory": compose_bytes(resources.memory.request),
    }
    limits: dict[str, Any] = {}
    if resources.cpu.limit is not None:
        limits["cpus"] = compose_cpus(resources.cpu.limit)
    if resources.memory.limit is not None:
        limits["memory"] = compose_bytes(resources.memory.limit)
    return (
        {"limits": limits, "reservations": reservations}
        if limits
        else {"reservations": reservations}
    )


def _healthcheck(run: Launch) -> dict[str, Any] | None:
    if not run.health_command:
        return None
    return {
        "test": ["CMD", *run.health_command],
        "interval": "10s",
        "timeout": "5s",
        "retries": 6,
        "start_period": _seconds(run.startup_seconds),
    }


def _model_volume(node: Node, read_only: bool) -> dict[str, Any]:
    return {
        "type": "bind",
        "source": node.model_cache.host_path or "",  # the loader refuses a claim here
        "target": node.model_cache.mount_path,
        "read_only": read_only,
    }


def prefetch_service_name(model: ModelLock) -> str:
    return f"prefetch-{model.name}"


def _prefetch_service(model: ModelLock, node: Node, repo: Repo) -> dict[str, Any] | None:
    prefetch = repo.config.prefetch
    sums = model_sums(model)
    if sums is None or not model.prefetch or prefetch is None:
        return None
    revision = model.revision or "main"
    environment: dict[str, Any] = {
        "MODEL_FILES": sums,
        "BASE_URL": f"{prefetch.endpoint}/{model.hf_repo}/resolve/{revision}",
        "TARGET_DIR": model_target_dir(model, node),
        "MARKER": model_marker(model, node),
    }
    if prefetch.token_secret:
        # Taken from the host's environment or .env when compose runs, never written here.
        environment["HF_TOKEN"] = Interpolated("${HF_TOKEN:-}")
    return {
        "image": prefetch.image,
        "entrypoint": ["sh", "-c", PREFETCH_SCRIPT],
        "environment": environment,
        "volumes": [_model_volume(node, read_only=False)],
        "restart": "no",
        "labels": {PART_LABEL: "model-prefetch", MODEL_LABEL: model.name},
        **HARDENING,
    }


def _lane_service(
    lane: Lane, repo: Repo, node: Node, ids: Mapping[str, list[str]], prefetched: set[str]
) -> tuple[dict[str, Any], str]:
    """The lane's service, and the base URL the gateway reaches it at."""
    model = repo.models.get(lane.model) if lane.model else None
    run = launch(lane, model, node)
    service: dict[str, Any] = {"image": lane.image}
    if not lane.active:
        service["profiles"] = [PARKED_PROFILE]
    if run.command:
        service["entrypoint"] = list(run.command)
    service["command"] = list(run.args)
    env = {**run.env, **lane.env}
    if env:
        service["environment"] = dict(sorted(env.items()))
    service["expose"] = [str(run.port)]
    service["volumes"] = [_model_volume(node, read_only=run.cache_read_only)]
    service["shm_size"] = compose_bytes(lane.shm_size)
    resources = _resources(lane.resources)
    if lane.name in ids:
        resources.setdefault("reservations", {})["devices"] = [
            {"driver": "nvidia", "device_ids": ids[lane.name], "capabilities": ["gpu"]}
        ]
    service["deploy"] = {"resources": resources}
    health = _healthcheck(run)
    if health is not None:
        service["healthcheck"] = health
    if run.post_start:
        service["post_start"] = [{"command": list(run.post_start)}]
    if model is not None and model.name in prefetched:
        service["depends_on"] = {
            prefetch_service_name(model): {"condition": "service_completed_successfully"}
        }
    service["restart"] = "unless-stopped"
    labels = {
        LANE_LABEL: lane.name,
        PART_LABEL: lane_component(lane),
    }
    if model is not None:
        labels[MODEL_LABEL] = model.name
    service["labels"] = labels
    service.update(HARDENING)
    return service, service_url(lane.name, run.port)


def _workflow_configs(lane: Lane, repo: Repo, service: dict[str, Any]) -> dict[str, Any]:
    """A generic lane's pinned workflows as compose configs mounted where it reads them."""
    pinned = pinned_workflows(lane, repo)
    if lane.workflows is None or pinned is None:
        return {}
    configs: dict[str, Any] = {}
    mounts = []
    for index, (name, text) in enumerate(sorted(pinned.items())):
        key = f"{lane.name}-workflow-{index}"
        configs[key] = {"content": text}
        mounts.append({"source": key, "target": f"{lane.workflows.mount_path}/{name}"})
    service["configs"] = mounts
    return configs


def _claim(services: Mapping[str, Any], name: str, where: Location, what: str) -> None:
    """Two parts of one host may not be the same compose service (a lane named like the
    gateway or like a prefetch service): compose would keep only the last."""
    if name in services:
        raise InputError(
            [
                Problem(
                    where.file,
                    where.line,
                    "name",
                    f"{what} would be compose service {name!r}, which this host already "
                    "renders; rename one of them",
                )
            ]
        )


def service_url(service: str, port: int) -> str:
    """An OpenAI-compatible base URL on the compose network (services resolve by name)."""
    return f"http://{service}:{port}/v1"


def _gateway_service(repo: Repo, cluster: Cluster) -> dict[str, Any]:
    gateway = repo.config.gateway
    assert gateway is not None
    service: dict[str, Any] = {
        "image": gateway.image,
        "command": ["--config", "/etc/litellm/config.yaml", "--port", str(gateway.port)],
        "ports": [f"{cluster.publish_address}:{gateway.port}:{gateway.port}"],
        "configs": [{"source": "litellm-config", "target": "/etc/litellm/config.yaml"}],
    }
    if gateway.master_key_secret is not None:
        # The key lives in the host's environment or .env; compose refuses to start without.
        service["environment"] = {
            MASTER_KEY_ENV: Interpolated(
                f"${{{MASTER_KEY_ENV}:?set {MASTER_KEY_ENV} in the environment or .env}}"
            )
        }
    if gateway.resources is not None:
        service["deploy"] = {"resources": _resources(gateway.resources)}
    service["restart"] = "unless-stopped"
    service["labels"] = {PART_LABEL: "gateway"}
    service.update(HARDENING)
    return service


def plan_compose_host(cluster: Cluster, repo: Repo) -> list[PlannedFile]:
    """rendered/<host>/compose.yaml and, with a gateway, the LiteLLM config it mounts."""
    nodes = [node for node in repo.nodes.values() if node.cluster == cluster.name]
    node = nodes[0] if nodes else None  # the loader allows one machine per compose host
    lanes = [lane for lane in repo.lanes.values() if lane.node == (node.name if node else None)]
    services: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    urls: dict[str, str] = {}  # lane -> where the gateway reaches it
    prefetched: set[str] = set()
    if node is not None:
        for model_name in sorted({lane.model for lane in lanes if lane.model}):
            model = repo.models[model_name]
            prefetch = _prefetch_service(model, node, repo)
            if prefetch is not None:
                services[prefetch_service_name(model)] = prefetch
                prefetched.add(model_name)
        ids = device_ids(lanes, card_slots(node))
        for lane in lanes:
            _claim(services, lane.name, lane.where("name"), f"lane {lane.name}")
            services[lane.name], urls[lane.name] = _lane_service(lane, repo, node, ids, prefetched)
            configs.update(_workflow_configs(lane, repo, services[lane.name]))
    # The file is the host's: its entry in gitops-gen.yaml.
    origin = repo.config.where("clusters", repo.config.clusters.index(cluster))
    files = []
    document: dict[str, Any] = {}
    gateway = repo.config.gateway
    if gateway is not None:
        litellm = plan_gateway_config(lanes, urls, repo)
        _claim(services, gateway.name, gateway.where("name"), "the gateway")
        services[gateway.name] = _gateway_service(repo, cluster)
        configs["litellm-config"] = {"file": f"./{GATEWAY_CONFIG}"}
        files.append(
            PlannedFile(f"{cluster.name}/{GATEWAY_CONFIG}", gateway.where(), litellm, None)
        )
    if configs:
        document["configs"] = dict(sorted(configs.items()))
    document = {"services": services, **document}
    files.append(
        PlannedFile(f"{cluster.name}/{COMPOSE_FILE}", origin, escape(document), None, compose=True)
    )
    return files
