from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.check.inventory import ComposeService
from gitops_gen.check.rules.compose_ports import published
from gitops_gen.specs.model import Location
from tests.rules.cases import COMPOSE_FILE, COMPOSE_REPO, compose_service, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "compose-ports"
# The hand-written api service publishes 127.0.0.1:8080; the rendered gateway (litellm)
# publishes 127.0.0.1:4000.
API_PORT = 'ports: ["127.0.0.1:8080:8080"]'


def api_port(*ports: str) -> dict[str, str]:
    return replace(COMPOSE_FILE, API_PORT, f"ports: [{', '.join(ports)}]")


def _case(name: str, *edits: dict[str, str], blocked: bool = True, at: str = "ports:") -> Case:
    found = (expect("block", COMPOSE_FILE, at),) if blocked else ()
    return Case(name, repo=COMPOSE_REPO, edits=edits, expect=found)


CASES = [
    _case("the-example-publishes-distinct-ports", blocked=False),
    _case("the-gateway-port-taken-by-hand", api_port('"127.0.0.1:4000:8080"')),
    _case("every-address-overlaps-the-gateway", api_port('"4000:8080"')),
    _case("every-ipv4-address-overlaps-the-gateway", api_port('"0.0.0.0:4000:8080"')),
    _case("a-range-over-the-gateway", api_port('"127.0.0.1:3990-4010:3990-4010"')),
    _case(
        "the-long-syntax",
        api_port("{target: 8080, published: 4000, host_ip: 127.0.0.1}"),
    ),
    _case("another-address", api_port('"127.0.0.2:4000:8080"'), blocked=False),
    _case("another-protocol", api_port('"127.0.0.1:4000:8080/udp"'), blocked=False),
    _case("a-port-left-to-docker", api_port('"8080"'), blocked=False),
    _case(
        "a-service-in-a-profile-does-not-start",
        api_port('"127.0.0.1:4000:8080"'),
        replace(COMPOSE_FILE, "    build: ./api\n", "    build: ./api\n    profiles: [dev]\n"),
        blocked=False,
    ),
    _case(
        "replicas-of-a-fixed-port",
        replace(COMPOSE_FILE, "    build: ./api\n", "    build: ./api\n    scale: 2\n"),
    ),
    _case(
        "two-hand-written-services",
        compose_service("web", '    image: nginx:1.27\n    ports: ["127.0.0.1:8080:80"]\n'),
        at='ports: ["127.0.0.1:8080:80"]',
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("8080", []),
        ("8080:80", ["8080/tcp"]),
        ("127.0.0.1:8080:80", ["127.0.0.1:8080/tcp"]),
        ("[::1]:8080:80/udp", ["[::1]:8080/udp"]),
        ("9090-9091:8080-8081", ["9090-9091/tcp"]),
        (8080, []),
        ({"target": 80, "published": "8000-8002"}, ["8000-8002/tcp"]),
        ({"target": 80}, []),
        ("${PORT}:80", []),  # compose interpolates it: not known here
    ],
)
def test_published_ports_as_compose_reads_them(entry: object, expected: list[str]) -> None:
    service = ComposeService("h", "s", {"ports": [entry]}, Location("compose.yaml", 1))
    assert [str(p) for p in published(service)] == expected
