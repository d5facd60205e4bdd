from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.cases import (
    COMPOSE_ACTIVE,
    COMPOSE_FILE,
    COMPOSE_REPO,
    CONFIG,
    FAST,
    SIDECAR,
    api,
    expect,
    replace,
    sidecar,
)
from tests.rules.harness import Case, assert_case

RULE = "image-digest-pinned"
DIGEST = "@sha256:72b1b5b494391913c288889b90c54c6fdfa0e635f26b6ef55535816df0d1e82d"
CASES = [
    Case("every-image-pinned"),
    Case(
        "lane-image-tag-only",
        edits=(replace(FAST, DIGEST, ""),),
        expect=(expect("block", FAST, "image: ghcr.io/ggml-org"),),
    ),
    Case(
        "short-digest-is-not-a-pin",
        edits=(replace(FAST, DIGEST, "@sha256:72b1b5b4"),),
        expect=(expect("block", FAST, "image: ghcr.io/ggml-org"),),
    ),
    Case(
        "prefetch-image-once-for-all-its-uses",
        edits=(
            replace(
                CONFIG,
                "@sha256:e4e98a5b88ee259ce128bfa06c5a0cc04e409f7bf892f03e1e77b909944bdf6e",
                "",
            ),
        ),
        expect=(expect("block", CONFIG, "curlimages"),),
    ),
    Case(
        "device-plugin-image",
        edits=(
            replace(
                CONFIG,
                "@sha256:953375db906d1c42c60adbf8d65021c7553a326497ec6fd9d526aa26bad1a46c",
                "",
            ),
        ),
        expect=(expect("block", CONFIG, "k8s-device-plugin:v0.19.2"),),
    ),
    Case(
        "amd-device-plugin-image",
        repo="mixed-nvidia-amd",
        edits=(
            replace(
                CONFIG,
                "@sha256:3b58ccc494d785f5a7a3970cd386e14ce2dd17b07c268a1c98db14ec98d863d1",
                "",
            ),
        ),
        expect=(expect("block", CONFIG, "rocm/k8s-device-plugin:1.31.0.9"),),
    ),
    Case(
        "every-unpinned-image-in-one-run",
        edits=(
            replace(FAST, DIGEST, ""),
            replace(
                CONFIG,
                "@sha256:953375db906d1c42c60adbf8d65021c7553a326497ec6fd9d526aa26bad1a46c",
                "",
            ),
            replace(
                CONFIG,
                "@sha256:e4e98a5b88ee259ce128bfa06c5a0cc04e409f7bf892f03e1e77b909944bdf6e",
                "",
            ),
            replace(
                CONFIG,
                "@sha256:927220c9e9376e0b579347566443a45b1fb2c8cfd5141a1a486635a9c816e618",
                "",
            ),
        ),
        expect=(
            expect("block", FAST, "image: ghcr.io/ggml-org"),
            expect("block", CONFIG, "k8s-device-plugin:v0.19.2"),
            expect("block", CONFIG, "curlimages"),
            expect("block", CONFIG, "berriai/litellm"),
        ),
    ),
    Case(
        "handwritten-image",
        edits=(sidecar(("tool:1.0@sha256:" + "a" * 64, "tool:latest")),),
        expect=(expect("block", SIDECAR, "tool:latest"),),
    ),
]


CASES += [
    Case("compose-every-image-pinned", repo=COMPOSE_REPO),
    Case(
        "compose-a-hand-written-service-by-tag",
        repo=COMPOSE_REPO,
        edits=(replace(COMPOSE_FILE, "pgvector:pg17@sha256:", "pgvector:pg17@sha257:"),),
        expect=(expect("block", COMPOSE_FILE, "pgvector:pg17"),),
    ),
    Case(
        # A service built on the host pulls nothing; its image is the build's name.
        "compose-a-built-service-names-its-image",
        repo=COMPOSE_REPO,
        edits=(api("    image: local/api:dev\n"),),
    ),
    Case(
        "compose-a-lane-by-tag",
        repo=COMPOSE_REPO,
        edits=(
            replace(
                COMPOSE_ACTIVE,
                "vllm-openai:v0.12.0@sha256:613a95a50d344dd4aa5a7298afd04c83ed959f26c8e5a68cb60057aa982d1487",
                "vllm-openai:v0.12.0",
            ),
        ),
        expect=(expect("block", COMPOSE_ACTIVE, "vllm-openai:v0.12.0"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, tmp_path: Path) -> None:
    assert_case(RULE, case, tmp_path)
