"""lock add: headers read with the gguf package, checksums streamed, comments kept."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest

from gitops_gen.specs.source import load_yaml
from tests.conftest import Result

REV = "0123456789abcdef0123456789abcdef01234567"


def write_gguf(
    path: Path,
    *,
    kv_heads: Any = 2,
    window: int | None = None,
    tensors: int = 1,
    split: tuple[int, int] | None = None,
) -> Path:
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(4)
    writer.add_context_length(8192)
    writer.add_embedding_length(64)
    writer.add_head_count(8)
    if isinstance(kv_heads, list):
        writer.add_array("llama.attention.head_count_kv", kv_heads)
    else:
        writer.add_head_count_kv(kv_heads)
    writer.add_key_length(16)
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_Q4_K_M))
    if window:
        writer.add_sliding_window(window)
    for i in range(tensors):
        writer.add_tensor(f"blk.{i}.attn_q.weight", np.ones((64, 64), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_safetensors(path: Path, tensors: dict[str, list[int]]) -> None:
    header = {
        name: {"dtype": "BF16", "shape": shape, "data_offsets": [0, 0]}
        for name, shape in tensors.items()
    }
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob)


def _lock(repo: Path) -> dict[str, Any]:
    return load_yaml((repo / "models.lock.yaml").read_text())["models"]


def test_gguf_file_is_locked_from_its_header(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    model = write_gguf(tmp_path / "Tiny-Llama-Q4_K_M.gguf")
    result = cli("lock", "add", str(model), "--source", f"example/tiny@{REV}", cwd=example)
    assert result.code == 0, result.err
    assert result.out.startswith("added tiny-llama-q4-k-m in models.lock.yaml: gguf, 1 file(s)")
    entry = _lock(example)["tiny-llama-q4-k-m"]
    assert entry["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert entry["sizeBytes"] == model.stat().st_size
    assert entry["file"] == "Tiny-Llama-Q4_K_M.gguf"
    assert entry["quant"] == "Q4_K_M"
    assert entry["source"] == {"hf": "example/tiny", "revision": REV}
    assert entry["architecture"] == {
        "layers": 4,
        "attentionLayers": 4,
        "kvHeads": 2,
        "headDim": 16,
        "contextLength": 8192,
        "params": 4.096e-06,
        "attentionHeads": 8,
        "hiddenSize": 64,
    }
    # the locked model passes the checker's lock rule
    assert cli("render", cwd=example).code == 0


def test_lock_keeps_comments_and_every_other_entry(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    before = (example / "models.lock.yaml").read_text()
    model = write_gguf(tmp_path / "tiny.gguf")
    assert (
        cli("lock", "add", str(model), "--name", "tiny", "--source", f"a/b@{REV}", cwd=example).code
        == 0
    )
    after = (example / "models.lock.yaml").read_text()
    assert after.startswith(before)  # comments, quoting, flow style and order all kept
    assert after[len(before) :].startswith("  tiny:\n    format: gguf\n")


def test_refresh_replaces_the_entry_in_place(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    model = write_gguf(tmp_path / "tiny.gguf")
    cli("lock", "add", str(model), "--name", "tiny", "--source", f"a/b@{REV}", cwd=example)
    write_gguf(model, tensors=2)
    result = cli("lock", "add", str(model), "--name", "tiny", "--source", f"a/b@{REV}", cwd=example)
    assert result.out.startswith("updated tiny in models.lock.yaml")
    assert _lock(example)["tiny"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert list(_lock(example)).count("tiny") == 1


def test_hybrid_and_sliding_window_headers(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    model = write_gguf(tmp_path / "hybrid.gguf", kv_heads=[0, 0, 0, 2], window=128)
    result = cli("lock", "add", str(model), "--source", f"a/b@{REV}", cwd=example)
    assert result.code == 0, result.err
    arch = _lock(example)["hybrid"]["architecture"]
    assert (arch["attentionLayers"], arch["kvHeads"], arch["slidingWindow"]) == (1, 2, 128)
    assert "note: slidingWindowLayers assumed to be every other layer; check it" in result.out


def test_split_gguf_locks_every_shard(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    shards = [
        write_gguf(tmp_path / f"Big-00{i}-of-00002.gguf".replace("00", "0000", 1)) for i in (1, 2)
    ]
    result = cli("lock", "add", str(shards[0]), "--source", f"a/b@{REV}", cwd=example)
    assert result.code == 0, result.err
    entry = _lock(example)["big"]
    assert entry["file"] == "Big-00001-of-00002.gguf"
    assert [f["path"] for f in entry["files"]] == [
        "Big-00001-of-00002.gguf",
        "Big-00002-of-00002.gguf",
    ]
    assert "sha256" not in entry
    assert entry["architecture"]["params"] == 8.192e-06  # the tensors of both shards


def test_huggingface_snapshot_from_the_cache_names_its_source(
    example: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    snapshot = tmp_path / "hub" / "models--Qwen--Tiny-AWQ" / "snapshots" / REV
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(
        json.dumps(
            {
                "num_hidden_layers": 6,
                "num_attention_heads": 8,
                "num_key_value_heads": 2,
                "hidden_size": 256,
                "max_position_embeddings": 4096,
                "torch_dtype": "bfloat16",
                "layer_types": ["full_attention", "linear_attention"] * 3,
                "quantization_config": {"quant_method": "awq"},
            }
        )
    )
    write_safetensors(snapshot / "model.safetensors", {"a": [256, 256], "b": [10]})
    (snapshot / "tokenizer.json").write_text("{}")
    result = cli("lock", "add", str(snapshot), "--name", "tiny-awq", cwd=example)
    assert result.code == 0, result.err
    entry = _lock(example)["tiny-awq"]
    assert entry["source"] == {"hf": "Qwen/Tiny-AWQ", "revision": REV}
    assert (entry["format"], entry["dtype"], entry["quant"]) == ("safetensors", "bf16", "AWQ")
    assert [f["path"] for f in entry["files"]] == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    assert entry["architecture"] == {
        "layers": 6,
        "attentionLayers": 3,
        "kvHeads": 2,
        "headDim": 32,
        "contextLength": 4096,
        "params": 6.555e-05,
        "attentionHeads": 8,
        "hiddenSize": 256,
    }


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p.write_bytes(b"not a gguf"), "not a readable GGUF file"),
        (lambda p: None, "no such file or directory"),
    ],
)
def test_unreadable_artifacts_are_refused(
    example: Path,
    cli: Callable[..., Result],
    tmp_path: Path,
    setup: Callable[[Path], None],
    message: str,
) -> None:
    target = tmp_path / "bad.gguf"
    setup(target)
    before = (example / "models.lock.yaml").read_text()
    result = cli("lock", "add", str(target), cwd=example)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err
    assert (example / "models.lock.yaml").read_text() == before


def test_the_model_a_lane_waits_for_names_the_entry(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    repo = tmp_path / "new"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    model = write_gguf(tmp_path / "Tiny-Q4_K_M.gguf")
    result = cli("lock", "add", str(model), "--source", f"a/b@{REV}", cwd=repo)
    assert result.code == 0, result.err
    # the init placeholder main-model (no sha256) is what lanes/main.yaml waits for
    assert result.out.startswith("updated main-model in models.lock.yaml")
    assert "note: named main-model after the model lanes/main.yaml uses (--name to change)" in (
        result.out
    )
    assert list(_lock(repo)) == ["main-model"]
    assert _lock(repo)["main-model"]["file"] == "Tiny-Q4_K_M.gguf"
    # locked now: the next file is named after itself, with a hint that no lane uses it
    other = write_gguf(tmp_path / "Other.gguf")
    again = cli("lock", "add", str(other), "--source", f"a/b@{REV}", cwd=repo)
    assert again.out.startswith("added other in models.lock.yaml")
    assert "note: no lane uses other yet: set 'model: other' in a lane" in again.out


def test_several_waiting_models_need_a_name(cli: Callable[..., Result], tmp_path: Path) -> None:
    repo = tmp_path / "new"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    lane = (repo / "lanes/main.yaml").read_text()
    second = lane.replace("name: main\n", "name: second\n").replace(
        "model: main-model", "model: second-model"
    )
    (repo / "lanes/second.yaml").write_text(second.replace("active: true", "active: false"))
    before = (repo / "models.lock.yaml").read_text()
    model = write_gguf(tmp_path / "tiny.gguf")
    result = cli("lock", "add", str(model), cwd=repo)
    assert result.code == 2
    assert (
        "lanes wait for several models (main-model, second-model); say which one this is, "
        "e.g. --name main-model" in result.err
    )
    assert (repo / "models.lock.yaml").read_text() == before
    named = cli("lock", "add", str(model), "--name", "second-model", cwd=repo)
    assert named.code == 0, named.err
    assert named.out.startswith("added second-model in models.lock.yaml")
