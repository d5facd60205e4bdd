"""An active lane's model is prefetched and verified; the server never downloads at start.

Downloading 20 GB during pod start turns a switch into an outage window, and a
download at run time bypasses the lock. The prefetch Job fetches the locked files and
checks every sha256; the server's init container waits for that verified marker.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.render.plan import model_sums

ID = "model-prefetched"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Lock every file with its sha256 and keep the model in the prefetch set (drop "
    "'prefetch: false'); remove download flags (-hf, --hf-repo, --model-url) and keep "
    "HF_HUB_OFFLINE=1."
)
OPTIONS: Mapping[str, Any] = {}
LANE_SCOPED = True
TARGETS = EVERY_TARGET

# Flags that make a server fetch a model itself instead of loading the verified file.
DOWNLOAD_FLAGS = {
    "-hf",
    "--hf-repo",
    "-hfr",
    "-hff",
    "--hf-file",
    "-mu",
    "--model-url",
    "-dr",
    "--docker-repo",
    "-hfd",
    "--hf-repo-draft",
}
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    for lane in ctx.repo.lanes.values():
        if lane.model is None:
            continue
        parked = not ctx.is_active(lane)
        model = ctx.repo.models[lane.model]
        ident = ctx.lane_object(lane)
        if not model.prefetch:
            yield Hit(
                f"model {model.name} is not prefetched (prefetch: false): the server "
                "cannot start from a verified file",
                model.where("prefetch"),
                ident,
                lane.name,
                note=parked,
            )
        elif model_sums(model) is None or ctx.repo.config.prefetch is None:
            yield Hit(
                f"model {model.name} is not prefetched: not every file has a sha256",
                model.where(),
                ident,
                lane.name,
                note=parked,
            )
        for flag in lane.serve.get("extraArgs", []):
            if flag.split("=", 1)[0] in DOWNLOAD_FLAGS:
                yield Hit(
                    f"extraArgs has {flag}: the server would download at run time",
                    lane.where("serve", "extraArgs"),
                    ident,
                    lane.name,
                    note=parked,
                )
        for name, value in lane.env.items():
            if name in OFFLINE_ENV and lane.engine == "vllm" and value != OFFLINE_ENV[name]:
                yield Hit(
                    f"env {name}={value} lets vLLM download at run time",
                    lane.where("env", name),
                    ident,
                    lane.name,
                    note=parked,
                )
