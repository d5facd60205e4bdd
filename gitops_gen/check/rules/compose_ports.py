"""The services a compose host runs together publish different host ports.

`docker compose up` binds each published port on the host; a second service
publishing the same address, port and protocol fails to start ("port is already
allocated"), and so does a service scaled past one replica with a fixed host port. A
hand-written service on the gateway's port (seed 001's app on 127.0.0.1:4000) leaves the
lanes unreachable. A port bound on every address (`0.0.0.0`, `::`, or none given)
overlaps the same port on any one address. Services in a profile (parked lanes) do not
start and do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import COMPOSE_ONLY, Hit, Severity
from gitops_gen.check.inventory import ComposeService, as_list

ID = "compose-ports"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Publish the service on another host port (or address), or leave the port to the "
    "compose network: services reach each other by name without publishing it."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = COMPOSE_ONLY

_ANY = {"", "0.0.0.0", "::"}
# [host-ip:][host-port[-end]:]container-port[-end][/protocol]; an IPv6 address in brackets.
_SHORT = re.compile(
    r"(?:(?:\[(?P<ip6>[^\]]*)\]|(?P<ip>[0-9]+(?:\.[0-9]+){3})):)?"
    r"(?:(?P<low>[0-9]+)(?:-(?P<high>[0-9]+))?:)?"
    r"[0-9]+(?:-[0-9]+)?(?:/(?P<proto>[a-z]+))?\Z"
)


@dataclass(frozen=True)
class Published:
    ip: str
    low: int
    high: int
    protocol: str
    index: int  # in the service's `ports`

    def overlaps(self, other: Published) -> bool:
        same_address = self.ip == other.ip or self.ip in _ANY or other.ip in _ANY
        return (
            same_address
            and self.protocol == other.protocol
            and self.low <= other.high
            and other.low <= self.high
        )

    def __str__(self) -> str:
        ports = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        address = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{address}:{ports}/{self.protocol}" if self.ip else f"{ports}/{self.protocol}"


def published(service: ComposeService) -> list[Published]:
    """The host ports a service binds; a port left to docker (none given) binds none, and
    an entry compose would interpolate or refuse is left to compose-schema."""
    found = []
    for index, entry in enumerate(as_list(service.data.get("ports"))):
        if isinstance(entry, dict):
            port = entry.get("published")
            text = str(port) if isinstance(port, (int, str)) and not isinstance(port, bool) else ""
            match = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", text)
            if match is None:
                continue
            low, high = match.group(1), match.group(2)
            ip = str(entry.get("host_ip") or "")
            protocol = str(entry.get("protocol") or "tcp")
        elif isinstance(entry, (int, str)) and not isinstance(entry, bool):
            short = _SHORT.match(str(entry))
            if short is None or short.group("low") is None:
                continue
            low, high = short.group("low"), short.group("high")
            ip = short.group("ip6") if short.group("ip6") is not None else short.group("ip") or ""
            protocol = short.group("proto") or "tcp"
        else:
            continue
        found.append(Published(ip, int(low), int(high or low), protocol, index))
    return found


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    hosts = sorted({s.host for s in ctx.inventory.services})
    for host in hosts:
        bound: list[tuple[ComposeService, Published]] = []
        for service in ctx.inventory.services_on(host):
            replicas = ctx.service_replicas(service)
            if replicas == 0:
                continue
            ports = published(service)
            for port in ports:
                if replicas > 1:
                    yield Hit(
                        f"runs {replicas} replicas that each publish host port {port}: all "
                        "but the first fail to start",
                        service.where("ports", port.index),
                        service.ident,
                        service.lane,
                    )
                first = next((s for s, p in bound if p.overlaps(port)), None)
                if first is not None and first is not service:
                    yield Hit(
                        f"publishes host port {port}, which {first.name} publishes too: "
                        "compose starts one of them and the other fails ('port is already "
                        "allocated')",
                        service.where("ports", port.index),
                        service.ident,
                        service.lane,
                    )
            bound.extend((service, port) for port in ports)
