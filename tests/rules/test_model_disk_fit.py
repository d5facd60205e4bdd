from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import FAST, NODE, expect, replace
from tests.rules.harness import Case, assert_case

RULE = "model-disk-fit"
# The root example's node declares its 197Gi model disk (seed 002's df); the four
# prefetched models of its lanes total 56.7 GiB (the GGUF fast and longctx share counts once).
SIZE = "size: 197Gi"
CASES = [
    Case("the-locked-models-fit-the-disk"),
    Case("no-size-no-check", edits=(replace(NODE, f"\n  {SIZE}", ""),)),
    Case(
        "a-disk-smaller-than-the-models",
        edits=(replace(NODE, SIZE, "size: 50Gi"),),
        expect=(expect("block", NODE, "size: 50Gi"),),
    ),
    Case(
        "nearly-full-is-a-warning",
        edits=(replace(NODE, SIZE, "size: 60Gi"),),
        expect=(expect("warn", NODE, "size: 60Gi"),),
    ),
    Case(
        # The NVFP4 experiment's 20 GiB are not prefetched while it is parked; once it
        # is the active lane its files must be on the disk, and they no longer fit.
        "an-active-lane-needs-its-model-on-disk-prefetched-or-not",
        edits=(
            replace(NODE, SIZE, "size: 64Gi"),
            replace("lanes/qwen36-nvfp4-experiment.yaml", "active: false", "active: true"),
            replace(FAST, "active: true", "active: false"),
        ),
        expect=(expect("block", NODE, "size: 64Gi"),),
    ),
]

# The lab example's two Ollama lanes: Ollama imports each GGUF into its own store on the
# same disk (77.9 GiB prefetched, 136.1 GiB with both copies).
LAB_NODE = "hardware/phx-ai04.yaml"
LAB_CACHE = "modelCache: {hostPath: /srv/models, mountPath: /models"
CASES += [
    Case(
        "ollama-copies-count",
        repo="lab-48gb-comfyui",
        edits=(replace(LAB_NODE, LAB_CACHE, LAB_CACHE + ", size: 100Gi"),),
        expect=(expect("block", LAB_NODE, "size: 100Gi"),),
    ),
    Case(
        "ollama-copies-fit",
        repo="lab-48gb-comfyui",
        edits=(replace(LAB_NODE, LAB_CACHE, LAB_CACHE + ", size: 160Gi"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_model_disk_fit(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)


def test_the_message_names_the_models_and_the_total(tmp_path: Path) -> None:
    from tests.rules.harness import run

    _, findings = run(Case("m", edits=(replace(NODE, SIZE, "size: 50Gi"),)), tmp_path)
    (finding,) = [f for f in findings if f.rule == RULE]
    # The sizes are models.lock.yaml's sizeBytes; the parked NVFP4 model is not prefetched.
    assert "total 56.7 GiB, 113% of modelCache.size 50Gi" in finding.message
    assert "qwen36-27b-q4-k-m" in finding.message
    assert "qwen36-35b-a3b-nvfp4" not in finding.message
