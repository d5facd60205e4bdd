"""The models kept on a node's model disk fit it, when hardware/ gives the disk's size.

The prefetch Jobs download every prefetched model of every lane placed on the node, and
an active lane's model must be there to start. A lock that outgrows the disk does not
fail in review: the download fails at sync with "no space left on device", the server's
init container waits for a verified file that never comes, and the switch becomes an
outage (seed 002: a 197G model disk, 106G of it used). An Ollama lane's model counts
twice: Ollama imports it into its own store on the same disk. Files whose size the lock
does not record are counted as zero, and the message says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.specs.model import ModelLock
from gitops_gen.specs.quantity import parse_quantity

ID = "model-disk-fit"
SEVERITY = Severity.BLOCK
REMEDIATION = (
    "Grow the model disk (and modelCache.size with it), move lanes to another node, or "
    "stop prefetching models no lane on this node needs ('prefetch: false' on a parked "
    "lane's model)."
)
OPTIONS: Mapping[str, Any] = {"warnAt": 0.9}
LANE_SCOPED = False
TARGETS = EVERY_TARGET

GIB = 1024**3


def _on_disk(ctx: CheckContext, node: str) -> tuple[dict[str, ModelLock], dict[str, ModelLock]]:
    """The models of the node's lanes that land on its disk: the prefetched ones, and
    those of active lanes (which must be there to start), by name; and those an Ollama
    lane imports, which Ollama copies into its own store on the same disk (`ollama
    create` at start, kept after the lane is parked)."""
    found: dict[str, ModelLock] = {}
    imported: dict[str, ModelLock] = {}
    for lane in ctx.repo.lanes.values():
        if lane.node != node or lane.model is None:
            continue
        model = ctx.repo.models.get(lane.model)
        if model is not None and (model.prefetch or ctx.is_active(lane)):
            found[model.name] = model
            if lane.engine == "ollama":
                imported[model.name] = model
    return found, imported


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    warn_at = float(options["warnAt"])
    for node in ctx.repo.nodes.values():
        size = node.model_cache.size
        if size is None:
            continue
        capacity = int(parse_quantity(size))
        models, imported = _on_disk(ctx, node.name)
        files = [f for m in (*models.values(), *imported.values()) for f in m.artifact_files()]
        total = sum(f.size_bytes or 0 for f in files)
        unknown = sum(1 for f in files if f.size_bytes is None)
        if total <= capacity * warn_at:
            continue
        names = ", ".join(sorted(models))
        if imported:
            names += f"; Ollama's copies of {', '.join(sorted(imported))}"
        share = total / capacity
        message = (
            f"the models kept on {node.name}'s model disk ({names}) total "
            f"{total / GIB:.1f} GiB, {share:.0%} of modelCache.size {size}"
            + (f" ({unknown} file(s) of unknown size not counted)" if unknown else "")
        )
        if total > capacity:
            message += ": the prefetch runs out of space and the lanes cannot start"
        else:
            message += f", above the warning share of {warn_at:.0%}"
        yield Hit(
            message,
            node.where("modelCache", "size"),
            f"Node/{node.name}",
            severity=Severity.BLOCK if total > capacity else Severity.WARN,
        )
