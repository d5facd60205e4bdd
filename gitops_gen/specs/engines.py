"""How each engine is launched: command, args, env, port and health endpoint.

Flags are spelled exactly as the servers spell them (llama.cpp `llama-server`,
`vllm serve`, Ollama's environment variables); only settings the lane states are
passed, so the rendered command says what the spec says and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.specs.model import Lane, ModelLock, Node
from gitops_gen.specs.versions import in_range, version_from_image

DEFAULT_PORTS = {"llamacpp": 8080, "vllm": 8000, "ollama": 11434}


@dataclass(frozen=True)
class Launch:
    command: list[str]
    args: list[str]
    env: dict[str, str]
    port: int
    health_path: str
    # Seconds a cold start may take (loading tens of GB from disk) before liveness applies.
    startup_seconds: int
    cache_read_only: bool = True
    post_start: list[str] = field(default_factory=list)
    # Ready only when this command succeeds (instead of the health endpoint).
    ready_command: list[str] = field(default_factory=list)
    # The health check run inside the container where nothing probes from outside
    # (docker compose), with a tool the engine's image ships; empty: none known.
    health_command: list[str] = field(default_factory=list)


def model_path(model: ModelLock, node: Node) -> str:
    """Where the locked model lives inside the container."""
    mount = node.model_cache.mount_path.rstrip("/")
    if model.format == "gguf" and model.file:
        return f"{mount}/gguf/{model.file}"
    return f"{mount}/hf/{model.name}"


def tensor_parallel_size(serve: Mapping[str, Any], gpus: int) -> int:
    """vLLM's --tensor-parallel-size: stated, or one rank per GPU of the lane."""
    return int(serve.get("tensorParallelSize", gpus))


def flash_attn(value: Any) -> str | None:
    """`flashAttn` accepts on/off/auto and YAML booleans; engines want on/off/auto."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _flag(args: list[str], name: str, value: Any) -> None:
    if value is not None:
        args += [name, str(value)]


def _switch(args: list[str], name: str, value: Any) -> None:
    if value:
        args.append(name)


def _llamacpp(lane: Lane, model: ModelLock | None, node: Node) -> Launch:
    serve = lane.serve
    port = serve.get("port", DEFAULT_PORTS["llamacpp"])
    args: list[str] = []
    if model is not None:
        args += ["-m", model_path(model, node)]
    args += ["--alias", lane.served_name]
    _flag(args, "--ctx-size", serve.get("ctxSize"))
    _flag(args, "--cache-type-k", serve.get("cacheTypeK"))
    _flag(args, "--cache-type-v", serve.get("cacheTypeV"))
    _flag(args, "--n-gpu-layers", serve.get("gpuLayers"))
    _flag(args, "--flash-attn", flash_attn(serve.get("flashAttn")))
    _flag(args, "--parallel", serve.get("parallel"))
    _flag(args, "--batch-size", serve.get("batchSize"))
    _flag(args, "--ubatch-size", serve.get("ubatchSize"))
    _flag(args, "--threads", serve.get("threads"))
    _switch(args, "--jinja", serve.get("jinja"))
    args += ["--host", "0.0.0.0", "--port", str(port)]
    _switch(args, "--metrics", serve.get("metrics"))
    args += list(serve.get("extraArgs", []))
    # The server image's entrypoint is llama-server itself; the image ships curl (its
    # own HEALTHCHECK uses it).
    return Launch(
        command=[],
        args=args,
        env={},
        port=port,
        health_path="/health",
        startup_seconds=900,
        health_command=["curl", "--fail", "--silent", f"http://127.0.0.1:{port}/health"],
    )


def _vllm(lane: Lane, model: ModelLock | None, node: Node) -> Launch:
    serve = lane.serve
    port = serve.get("port", DEFAULT_PORTS["vllm"])
    args: list[str] = []
    if model is not None:
        args.append(model_path(model, node))
    args += ["--served-model-name", lane.served_name]
    _flag(args, "--max-model-len", serve.get("maxModelLen"))
    _flag(args, "--gpu-memory-utilization", serve.get("gpuMemoryUtilization"))
    _flag(args, "--kv-cache-dtype", serve.get("kvCacheDtype"))
    _flag(args, "--dtype", serve.get("dtype"))
    _flag(args, "--quantization", serve.get("quantization"))
    tensor_parallel = serve.get("tensorParallelSize", lane.gpus if lane.gpus > 1 else None)
    _flag(args, "--tensor-parallel-size", tensor_parallel)
    _flag(args, "--max-num-seqs", serve.get("maxNumSeqs"))
    _flag(args, "--max-num-batched-tokens", serve.get("maxNumBatchedTokens"))
    _switch(args, "--enable-prefix-caching", serve.get("enablePrefixCaching"))
    _switch(args, "--async-scheduling", serve.get("asyncScheduling"))
    backend = serve.get("attentionBackend")
    flag_backend = backend is not None and attention_backend_is_a_flag(lane)
    if flag_backend:
        _flag(args, "--attention-backend", backend)
    args += ["--host", "0.0.0.0", "--port", str(port)]
    args += list(serve.get("extraArgs", []))
    env = {
        # The model is prefetched and verified; the server must never download.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HOME": "/tmp",
        "VLLM_NO_USAGE_STATS": "1",
    }
    if backend is not None and not flag_backend:
        env["VLLM_ATTENTION_BACKEND"] = str(backend).upper()
    return Launch(
        command=["vllm", "serve"],
        args=args,
        env=env,
        port=port,
        health_path="/health",
        startup_seconds=1800,
        # The image is a Python one; it need not ship curl.
        health_command=["python3", "-c", PYTHON_GET, f"http://127.0.0.1:{port}/health"],
    )


# An HTTP GET that fails on an error status, for images with Python but maybe no curl.
PYTHON_GET = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)"

# vLLM took its attention backend from VLLM_ATTENTION_BACKEND until the
# --attention-backend flag replaced it (vllm-project/vllm#26315, merged 2025-12-05, after
# v0.12.0 was cut: first in 0.13.0). The variable still works, deprecated, through 0.14.x
# and was removed after 0.14.0 shipped (vllm#32812, merged 2026-01-22): the flag from
# 0.13.0, the variable before it (the capability gate
# vllm-attention-backend-variable-removed warns about a hand-set one from 0.15.0).
ATTENTION_BACKEND_FLAG_FROM = "0.13.0"


def attention_backend_is_a_flag(lane: Lane) -> bool:
    version = version_from_image(lane.image, lane.engine) or lane.engine_version
    return version is None or not in_range(version, f"<{ATTENTION_BACKEND_FLAG_FROM}")


# Ollama serves models it has imported; the GGUF is imported once the server answers.
OLLAMA_IMPORT = (
    "until ollama list >/dev/null 2>&1; do sleep 2; done; "
    'printf "FROM %s\\n" "$2" > /tmp/Modelfile && ollama create "$1" -f /tmp/Modelfile'
)


def _ollama(lane: Lane, model: ModelLock | None, node: Node) -> Launch:
    serve = lane.serve
    port = serve.get("port", DEFAULT_PORTS["ollama"])
    mount = node.model_cache.mount_path.rstrip("/")
    env = {
        "HOME": "/tmp",
        "OLLAMA_HOST": f"0.0.0.0:{port}",
        "OLLAMA_MODELS": f"{mount}/ollama",
        "OLLAMA_KEEP_ALIVE": str(serve.get("keepAlive", "-1")),
    }
    fa = flash_attn(serve.get("flashAttn"))
    if fa in ("on", "off"):
        env["OLLAMA_FLASH_ATTENTION"] = "1" if fa == "on" else "0"
    if "kvCacheType" in serve:
        env["OLLAMA_KV_CACHE_TYPE"] = str(serve["kvCacheType"])
    if "ctxSize" in serve:
        env["OLLAMA_CONTEXT_LENGTH"] = str(serve["ctxSize"])
    if "parallel" in serve:
        env["OLLAMA_NUM_PARALLEL"] = str(serve["parallel"])
    post_start: list[str] = []
    ready = ["ollama", "show", lane.served_name] if model is not None else []
    if model is not None:
        post_start = [
            "sh",
            "-c",
            OLLAMA_IMPORT,
            "ollama-import",
            lane.served_name,
            model_path(model, node),
        ]
    return Launch(
        command=["ollama"],
        args=["serve"],
        env=dict(sorted(env.items())),
        port=port,
        health_path="/api/version",
        # The server answers before the model is imported: ready once the model exists,
        # so the gateway never routes to a lane that would answer "model not found".
        ready_command=ready,
        # The image ships no curl; the client asks the server (OLLAMA_HOST).
        health_command=ready or ["ollama", "list"],
        startup_seconds=900,
        cache_read_only=False,
        post_start=post_start,
    )


def _generic(lane: Lane, model: ModelLock | None, node: Node) -> Launch:
    serve = lane.serve
    return Launch(
        command=list(serve.get("command", [])),
        args=list(serve.get("args", [])),
        env={},
        port=int(serve["port"]),
        health_path=serve.get("healthPath", "/"),
        startup_seconds=600,
        cache_read_only=False,
        health_command=list(serve.get("healthCommand", [])),
    )


_ENGINES: Mapping[str, Callable[[Lane, ModelLock | None, Node], Launch]] = {
    "llamacpp": _llamacpp,
    "vllm": _vllm,
    "ollama": _ollama,
    "generic": _generic,
}


# Flags gitops-gen sets from `serve:` keys and checks (fit, gates, placement), with the
# other spellings the servers' parsers accept (llama.cpp common/arg.cpp, vLLM
# engine/arg_utils.py). The last occurrence wins in both parsers, so `serve.extraArgs`
# repeating one would run the lane with a value no rule saw.
MANAGED_FLAGS: Mapping[str, Mapping[str, str]] = {
    "llamacpp": {
        "-m": "model",
        "--model": "model",
        "-a": "servedName",
        "--alias": "servedName",
        "-c": "serve.ctxSize",
        "--ctx-size": "serve.ctxSize",
        "-ctk": "serve.cacheTypeK",
        "--cache-type-k": "serve.cacheTypeK",
        "-ctv": "serve.cacheTypeV",
        "--cache-type-v": "serve.cacheTypeV",
        "-ngl": "serve.gpuLayers",
        "--gpu-layers": "serve.gpuLayers",
        "--n-gpu-layers": "serve.gpuLayers",
        "-fa": "serve.flashAttn",
        "--flash-attn": "serve.flashAttn",
        "-np": "serve.parallel",
        "--parallel": "serve.parallel",
        "-b": "serve.batchSize",
        "--batch-size": "serve.batchSize",
        "-ub": "serve.ubatchSize",
        "--ubatch-size": "serve.ubatchSize",
        "--host": "serve.port",
        "--port": "serve.port",
    },
    "vllm": {
        "--model": "model",
        "--served-model-name": "servedName",
        "--max-model-len": "serve.maxModelLen",
        "--gpu-memory-utilization": "serve.gpuMemoryUtilization",
        "--kv-cache-dtype": "serve.kvCacheDtype",
        "-tp": "serve.tensorParallelSize",
        "--tensor-parallel-size": "serve.tensorParallelSize",
        "-pp": "gpus",
        "--pipeline-parallel-size": "gpus",
        "-dp": "gpus",
        "--data-parallel-size": "gpus",
        "--max-num-seqs": "serve.maxNumSeqs",
        "--max-num-batched-tokens": "serve.maxNumBatchedTokens",
        "--attention-backend": "serve.attentionBackend",
        "--async-scheduling": "serve.asyncScheduling",
        "--no-async-scheduling": "serve.asyncScheduling",
        "--host": "serve.port",
        "--port": "serve.port",
    },
}


# Words that make the server read its flags from a file gitops-gen cannot see, which may
# set any managed flag: vLLM's FlexibleArgumentParser pulls a YAML file's settings in
# when its arguments hold the word `--config` itself.
OPAQUE_FLAGS: Mapping[str, Mapping[str, str]] = {"vllm": {"--config": "a vLLM config file"}}


def opaque_flags_in(lane: Lane) -> list[tuple[int, str, str]]:
    """(index, flag, what it reads) for every such word in `serve.extraArgs`."""
    opaque = OPAQUE_FLAGS.get(lane.engine, {})
    words = enumerate(lane.serve.get("extraArgs") or [])
    return [(index, str(word), opaque[str(word)]) for index, word in words if str(word) in opaque]


def managed_flags_in(lane: Lane) -> list[tuple[int, str, str]]:
    """(index, flag, the key that sets it) for every managed flag in `serve.extraArgs`,
    however the engine's parser lets it be spelled."""
    managed = MANAGED_FLAGS.get(lane.engine, {})
    found = []
    for index, word in enumerate(lane.serve.get("extraArgs") or []):
        flag = str(word).split("=", 1)[0]
        meant = _vllm_spelling(flag, managed) if lane.engine == "vllm" else flag
        if meant in managed:
            found.append((index, flag if flag == meant else f"{flag} ({meant})", managed[meant]))
    return found


def _vllm_spelling(flag: str, managed: Mapping[str, str]) -> str:
    """The option vLLM's parser reads `flag` as: FlexibleArgumentParser turns underscores
    into dashes in a long option's name (up to a `.`: `--a_b.c` is `--a-b.c`), and
    argparse takes an unambiguous prefix of an option (`--max-model` is `--max-model-len`,
    `-t` is `-tp`)."""
    if not flag.startswith("-") or len(flag) < 2 or flag in managed:
        return flag
    if flag.startswith("--"):
        name, dot, _ = flag[2:].partition(".")
        flag = "--" + name.replace("_", "-")
        if flag in managed or dot:
            return flag
    # A single-dash prefix only abbreviates a single-dash option (`-t` is `-tp`).
    longer = [
        o for o in managed if o.startswith(flag) and o.startswith("--") == flag.startswith("--")
    ]
    # An ambiguous prefix stops vLLM at start; reading it as the first is as good.
    return min(longer) if longer else flag


def launch(lane: Lane, model: ModelLock | None, node: Node) -> Launch:
    return _ENGINES[lane.engine](lane, model, node)
