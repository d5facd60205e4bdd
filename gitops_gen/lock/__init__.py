"""`gitops-gen lock add PATH`: lock a local GGUF file or Hugging Face snapshot.

Reads what the lock needs from the artifact itself (the GGUF header; a snapshot's
config.json and safetensors headers), streams every file's sha256, and writes the entry
into models.lock.yaml with its comments and layout kept (ruamel.yaml round trip).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError, InputError
from gitops_gen.render.writer import write_file_atomic
from gitops_gen.specs.loader import LOCK_FILE
from gitops_gen.specs.schema import SpecSchemas
from gitops_gen.specs.source import parse_yaml

CHUNK = 8 * 2**20
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$")
_HF_CACHE = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<rev>[0-9a-f]{40})")
_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "float8_e4m3fn": "fp8"}

Progress = Callable[[int], None]


class LockError(GitopsGenError):
    """The artifact cannot be locked (unreadable, not a GGUF, no config.json...)."""


@dataclass
class Artifact:
    """What `lock add` learned about a model, before checksums."""

    format: str
    files: list[Path]
    root: Path  # paths in the lock are relative to this
    quant: str | None = None
    dtype: str | None = None
    architecture: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    weights_bytes: int | None = None  # a snapshot's tensors, when known

    @property
    def size_bytes(self) -> int:
        """What the lock's sizeBytes means: the GGUF file(s), or a snapshot's weights."""
        if self.weights_bytes is not None:
            return self.weights_bytes
        return sum(f.stat().st_size for f in self.files)


def default_name(path: Path) -> str:
    stem = path.name if path.is_dir() else path.name.removesuffix(".gguf")
    split = _SPLIT.match(path.name)
    if split:
        stem = split["stem"]
    name = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return name[:63].rstrip("-") or "model"


def waiting_models(root: Path) -> list[str]:
    """Model names that lanes use and the lock does not hold yet: absent, or an entry
    with no sha256 at all (the placeholder `gitops-gen init` writes)."""
    from gitops_gen.specs.loader import LANES_DIR, spec_files
    from gitops_gen.specs.source import read_yaml

    def data(relpath: str) -> Any:
        try:
            return read_yaml(root, relpath).data
        except GitopsGenError:  # an unreadable file is for render/check to report
            return None

    lock = data(LOCK_FILE) if (root / LOCK_FILE).is_file() else None
    models = lock.get("models") if isinstance(lock, dict) else None
    models = models if isinstance(models, dict) else {}
    wanted: set[str] = set()
    for relpath in spec_files(root, LANES_DIR):
        lane = data(relpath)
        if isinstance(lane, dict) and isinstance(lane.get("model"), str):
            wanted.add(lane["model"])
    return sorted(name for name in wanted if not _has_checksums(models.get(name)))


def _has_checksums(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    files = entry.get("files")
    return bool(entry.get("sha256")) or (
        isinstance(files, list) and any(isinstance(f, dict) and f.get("sha256") for f in files)
    )


def lanes_using(root: Path, name: str) -> list[str]:
    """Lane files whose `model:` is `name`."""
    from gitops_gen.specs.loader import LANES_DIR, spec_files
    from gitops_gen.specs.source import read_yaml

    found = []
    for relpath in spec_files(root, LANES_DIR):
        try:
            lane = read_yaml(root, relpath).data
        except GitopsGenError:
            continue
        if isinstance(lane, dict) and lane.get("model") == name:
            found.append(relpath)
    return found


def source_from_path(path: Path) -> tuple[str, str] | None:
    """A file inside a Hugging Face cache snapshot names its repo and commit."""
    match = _HF_CACHE.search(path.resolve().as_posix())
    if not match:
        return None
    return f"{match['org']}/{match['name']}", match["rev"]


# --- GGUF ----------------------------------------------------------------------------


def describe_gguf(path: Path) -> Artifact:
    try:
        from gguf import GGUFReader, LlamaFileType
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise LockError(f"the gguf package is needed to read GGUF headers: {exc}") from None
    files = _split_files(path)
    readers = []
    for file in files:
        try:
            readers.append(GGUFReader(file))
        except (ValueError, OSError, struct.error) as exc:
            raise LockError(f"{file}: not a readable GGUF file ({exc})") from None
    header = readers[0]

    def value(key: str) -> Any:
        found = header.fields.get(key)
        return None if found is None else found.contents()

    arch_name = value("general.architecture") or "llama"
    layers = int(value(f"{arch_name}.block_count") or 0)
    heads = value(f"{arch_name}.attention.head_count")
    kv = value(f"{arch_name}.attention.head_count_kv")
    notes: list[str] = []
    if isinstance(kv, list):
        # Per-layer head counts: 0 marks a layer without attention (hybrid models).
        attention_layers = sum(1 for k in kv if k)
        kv_heads = max(kv) if kv else 0
    else:
        kv_heads = int(kv if kv is not None else heads or 0)
        attention_layers = layers
        interval = value(f"{arch_name}.full_attention_interval")
        if interval:
            attention_layers = layers // int(interval)
    if isinstance(heads, list):
        heads = max(heads)
    embedding = value(f"{arch_name}.embedding_length")
    head_dim = value(f"{arch_name}.attention.key_length")
    if head_dim is None and embedding and heads:
        head_dim = int(embedding) // int(heads)
        notes.append("headDim derived from embedding_length / head_count")
    architecture: dict[str, Any] = {
        "layers": layers,
        "attentionLayers": attention_layers,
        "kvHeads": int(kv_heads),
        "headDim": int(head_dim or 0),
    }
    window = value(f"{arch_name}.attention.sliding_window")
    if window:
        architecture["slidingWindow"] = int(window)
        pattern = value(f"{arch_name}.attention.sliding_window_pattern")
        if isinstance(pattern, list):
            architecture["slidingWindowLayers"] = sum(1 for p in pattern if p)
        else:
            architecture["slidingWindowLayers"] = attention_layers // 2
            notes.append("slidingWindowLayers assumed to be every other layer; check it")
    context = value(f"{arch_name}.context_length")
    if context:
        architecture["contextLength"] = int(context)
    total = 0
    experts = 0
    for reader in readers:
        for tensor in reader.tensors:
            count = int(tensor.n_elements)
            total += count
            if "_exps" in tensor.name:
                experts += count
    if total:
        architecture["params"] = _billions(total)
    used, count = value(f"{arch_name}.expert_used_count"), value(f"{arch_name}.expert_count")
    if experts and used and count:
        architecture["activeParams"] = _billions(total - experts * (1 - used / count))
    if heads:
        architecture["attentionHeads"] = int(heads)
    if embedding:
        architecture["hiddenSize"] = int(embedding)
    tokens = value("tokenizer.ggml.tokens")
    vocab = value(f"{arch_name}.vocab_size") or (len(tokens) if isinstance(tokens, list) else None)
    if vocab:
        architecture["vocabSize"] = int(vocab)
    quant = None
    file_type = value("general.file_type")
    if file_type is not None:
        try:
            quant = LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
        except ValueError:
            quant = None
    if layers == 0 or not kv_heads or not head_dim:
        raise LockError(f"{path}: the GGUF header lacks block_count, head counts or key_length")
    return Artifact(
        format="gguf",
        files=files,
        root=path.parent,
        quant=quant,
        architecture=architecture,
        notes=notes,
    )


def _billions(count: float) -> float:
    return float(f"{count / 1e9:.4g}")


def _split_files(path: Path) -> list[Path]:
    match = _SPLIT.match(path.name)
    if not match:
        return [path]
    count = int(match["count"])
    files = [
        path.with_name(f"{match['stem']}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)
    ]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise LockError(f"{path}: split GGUF is missing {', '.join(missing)}")
    return files


# --- Hugging Face snapshot ---------------------------------------------------------------


def describe_snapshot(path: Path) -> Artifact:
    config_path = path / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LockError(f"{config_path}: cannot read the model config ({exc})") from None
    text = config.get("text_config", config)  # multimodal models nest the LLM's config
    layers = int(text.get("num_hidden_layers", 0))
    heads = int(text.get("num_attention_heads", 0))
    kv_heads = int(text.get("num_key_value_heads", heads))
    head_dim = text.get("head_dim") or (text.get("hidden_size", 0) // heads if heads else 0)
    layer_types = text.get("layer_types") or []
    attention_layers = (
        sum(1 for t in layer_types if "attention" in t and "linear" not in t) or layers
    )
    architecture: dict[str, Any] = {
        "layers": layers,
        "attentionLayers": attention_layers,
        "kvHeads": kv_heads,
        "headDim": int(head_dim),
    }
    if text.get("sliding_window"):
        architecture["slidingWindow"] = int(text["sliding_window"])
        architecture["slidingWindowLayers"] = sum(1 for t in layer_types if "sliding" in t)
    if text.get("max_position_embeddings"):
        architecture["contextLength"] = int(text["max_position_embeddings"])
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    params = sum(_safetensors_elements(p) for p in files if p.suffix == ".safetensors")
    if params:
        architecture["params"] = _billions(params)
    if heads:
        architecture["attentionHeads"] = heads
    if text.get("hidden_size"):
        architecture["hiddenSize"] = int(text["hidden_size"])
    if text.get("vocab_size"):
        architecture["vocabSize"] = int(text["vocab_size"])
    quantization = (config.get("quantization_config") or {}).get("quant_method")
    dtype = _DTYPES.get(str(config.get("torch_dtype") or text.get("torch_dtype")))
    if not layers or not kv_heads or not head_dim:
        raise LockError(f"{config_path}: lacks num_hidden_layers, head counts or head_dim")
    return Artifact(
        format="safetensors",
        files=files,
        root=path,
        weights_bytes=_snapshot_weights(path, files),
        quant=str(quantization).upper() if quantization else None,
        dtype=dtype,
        architecture=architecture,
    )


def _snapshot_weights(path: Path, files: list[Path]) -> int:
    """Bytes of weights: the index's total_size, else the safetensors files' sizes."""
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            return int(json.loads(index.read_text(encoding="utf-8"))["metadata"]["total_size"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return sum(f.stat().st_size for f in files if f.suffix == ".safetensors")


def _safetensors_elements(path: Path) -> int:
    """Parameters in a safetensors file, from its JSON header (no tensor data read)."""
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100 * 2**20:
                raise ValueError("header too large")
            header = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error) as exc:
        raise LockError(f"{path}: not a readable safetensors file ({exc})") from None
    total = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dim in tensor.get("shape", []):
            count *= int(dim)
        total += count
    return total


# --- checksums and the lock file -------------------------------------------------------


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest()


def lock_entry(
    artifact: Artifact, source: tuple[str, str] | None, progress: Progress | None = None
) -> dict[str, Any]:
    checksums = [(f, sha256_file(f, progress)) for f in artifact.files]
    entry: dict[str, Any] = {"format": artifact.format}
    if artifact.format == "gguf":
        entry["file"] = artifact.files[0].name
    if source is not None:
        entry["source"] = {"hf": source[0], "revision": source[1]}
    else:
        entry["source"] = {"hf": "unknown/unknown"}
    if artifact.format == "gguf" and len(artifact.files) == 1:
        entry["sha256"] = checksums[0][1]
    entry["sizeBytes"] = artifact.size_bytes
    if artifact.quant:
        entry["quant"] = artifact.quant
    if artifact.dtype:
        entry["dtype"] = artifact.dtype
    if len(artifact.files) > 1 or artifact.format == "safetensors":
        entry["files"] = [
            {
                "path": f.relative_to(artifact.root).as_posix(),
                "sha256": digest,
                "sizeBytes": f.stat().st_size,
            }
            for f, digest in checksums
        ]
    entry["architecture"] = artifact.architecture
    return entry


def check_lock_file(root: Path) -> None:
    """Refuse, before any hashing or writing, a models.lock.yaml that is not a valid lock
    (broken YAML, the wrong types): one line per problem with its file:line."""
    from gitops_gen.errors import InputError
    from gitops_gen.specs.schema import SpecSchemas
    from gitops_gen.specs.source import read_yaml

    if not (root / LOCK_FILE).exists():
        return
    doc = read_yaml(root, LOCK_FILE)
    problems = SpecSchemas().problems("models-lock", doc)
    if problems:
        raise InputError(problems)


def write_lock(root: Path, name: str, entry: dict[str, Any]) -> str:
    """Add or replace `name` in models.lock.yaml; comments and layout stay. Returns
    "added" or "updated"."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.representer import RoundTripRepresenter

    class _KeepNull(RoundTripRepresenter):
        """Write `null` as `null` (ruamel leaves it empty), as the lock was written."""

    _KeepNull.add_representer(
        type(None), lambda rep, _data: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    yaml = YAML(typ="rt")
    yaml.Representer = _KeepNull
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    path = root / LOCK_FILE
    old = path.read_text(encoding="utf-8") if path.exists() else None
    data = yaml.load(old) if old else CommentedMap()
    if data is None:
        data = CommentedMap()
    models = data.setdefault("models", CommentedMap())
    verb = "updated" if name in models else "added"

    def flow(mapping: dict[str, Any]) -> CommentedMap:
        found = CommentedMap(mapping)
        found.fa.set_flow_style()
        return found

    node = CommentedMap()
    for key, value in entry.items():
        if key in ("source", "architecture"):
            node[key] = flow(value)
        elif key == "files":
            node[key] = CommentedSeq(flow(f) for f in value)
        else:
            node[key] = value
    models[name] = node
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    problems = SpecSchemas().problems("models-lock", parse_yaml(text, file=LOCK_FILE))
    if problems:
        raise InputError(problems)
    write_file_atomic(path, text)
    return verb


def describe(path: Path) -> Artifact:
    if not path.exists():
        raise LockError(f"{path}: no such file or directory")
    if path.is_dir():
        return describe_snapshot(path)
    if path.suffix == ".gguf":
        return describe_gguf(path)
    raise LockError(f"{path}: expected a .gguf file or a Hugging Face snapshot directory")
