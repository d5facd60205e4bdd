"""A tensor-parallel vLLM lane has a /dev/shm big enough for NCCL.

vLLM runs one worker process per GPU; PyTorch and NCCL exchange data between them
through shared memory. A container's /dev/shm is 64 MB unless raised (vLLM's Docker
guide asks for --ipc=host or --shm-size for tensor parallelism), and NCCL's
initialisation then fails in ncclShmOpen ("No space left on device", a bus error or a
segfault) before the first request. Lanes get a memory-backed /dev/shm of `shmSize`
(default 8Gi); below the floor a tensor-parallel lane blocks. The floor is an option,
`minShm` (default 1Gi, the size NCCL's troubleshooting guide recommends for Docker).
Sources: https://docs.vllm.ai/en/latest/serving/deploying_with_docker.html,
https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/troubleshooting.html (Docker,
shared memory), https://github.com/pytorch/tutorials/pull/2475 (ncclShmOpen segfault
at Docker's 64 MB default).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitops_gen.check.engine import CheckContext
from gitops_gen.check.findings import EVERY_TARGET, Hit, Severity
from gitops_gen.specs.engines import tensor_parallel_size
from gitops_gen.specs.quantity import parse_quantity

ID = "tensor-parallel-shm"
SEVERITY = Severity.BLOCK
REMEDIATION = "Raise the lane's shmSize to at least the floor (the default 8Gi is enough)."
OPTIONS: Mapping[str, Any] = {"minShm": "1Gi"}
LANE_SCOPED = True
TARGETS = EVERY_TARGET


def check(ctx: CheckContext, options: Mapping[str, Any]) -> Iterator[Hit]:
    floor = parse_quantity(options["minShm"])
    for lane in ctx.repo.lanes.values():
        if lane.engine != "vllm":
            continue
        ranks = tensor_parallel_size(lane.serve, lane.gpus)
        if ranks <= 1 or parse_quantity(lane.shm_size) >= floor:
            continue
        parked = not ctx.is_active(lane)
        yield Hit(
            f"{'parked lane: ' if parked else ''}tensor parallel over {ranks} GPUs needs "
            f"shared memory for NCCL, but /dev/shm is {lane.shm_size} (floor "
            f"{options['minShm']})",
            lane.where("shmSize") if "shmSize" in lane.doc.data else lane.where("gpus"),
            ctx.lane_object(lane),
            lane.name,
            note=parked,
        )
