"""The gateway asks every client for a key, read from a Secret the specs only name.

Without `gateway.masterKeySecret`, LiteLLM serves anyone who reaches it, and the GPU
behind it with it: seed 000 puts a gateway that owns auth in front of the card, seed 004
opens only the VPN and the API gateway. The key itself is never in the specs (there is
no field for it): the Deployment reads it from the Secret, a compose host from its
environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity

ID = "gateway-key"
SEVERITY = Severity.WARN
REMEDIATION = (
    "Create a Secret holding the key and name it: gateway.masterKeySecret: {name: ..., "
    "key: ...} (on a compose host, set LITELLM_MASTER_KEY in the environment or .env)."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = False
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    gateway = ctx.repo.config.gateway
    if gateway is None or gateway.master_key_secret is not None:
        return
    yield Hit(
        f"the {gateway.name} gateway answers requests that carry no key: anyone who reaches "
        "it uses the GPUs behind it",
        gateway.where(),
        f"Deployment/{gateway.name}",
    )
