"""No spec string can change the structure of the output: every value is quoted.

Each string field of the example specs is replaced in turn by a hostile payload. The
loader may refuse it (exit 2, a clean message), or the output renders; if it renders,
every output file must parse to the same shape (keys and nesting) as the benign render,
with the payload present only as a scalar value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_gen.errors import InputError
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.source import load_yaml, read_yaml
from tests.conftest import ROOT, copy_repo

PAYLOADS = [
    "x\ninjected: true",
    "x: {injected: true}",
    "{{ 7*7 }}{% raw %}",
    "x # comment\nkind: Secret",
    "\"quoted\": 'x'\n- item",
    "]}\n---\napiVersion: v1\nkind: Secret",
    "\u2028injected: true",
]


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__ if not isinstance(value, str) else "str"


def _string_fields(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _string_fields(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _string_fields(v, (*path, i))]
    return [path] if isinstance(data, str) else []


def _set(data: Any, path: tuple[Any, ...], value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


FREE_TEXT = {
    # Fields the example leaves out but users fill with free text; all reach the output.
    "description": "the default lane",
    "env": {"LLAMA_ARG_LOG_PREFIX": "fast"},
}
FREE_SERVE = {"extraArgs": ["--log-prefix", "fast"]}


def _augmented(target: Path) -> Path:
    import json

    repo = copy_repo(ROOT, target)
    lane = repo / "lanes" / "qwen36-35b-gguf-fast.yaml"
    data = read_yaml(repo, "lanes/qwen36-35b-gguf-fast.yaml").data
    data.update(FREE_TEXT)
    data["serve"].update(FREE_SERVE)
    lane.write_text(json.dumps(data))
    return repo


SPEC_FILES = [
    "gitops-gen.yaml",
    "hardware/gpu-worker-1.yaml",
    "models.lock.yaml",
    *(f"lanes/{p.name}" for p in sorted((ROOT / "lanes").iterdir())),
]


def _fields(root: Path) -> list[tuple[str, tuple[Any, ...]]]:
    return [
        (f, path)
        for f in SPEC_FILES
        for path in _string_fields(read_yaml(root, f).data)
        if path[-1] != "kind"
    ]


def _parsed(files: dict[str, str]) -> dict[str, Any]:
    out = {}
    for name, text in files.items():
        data = load_yaml(text)
        if isinstance(data, dict) and data.get("kind") == "ConfigMap":
            data = {**data, "data": {k: load_yaml(v) for k, v in data["data"].items()}}
        out[name] = data
    return out


@pytest.fixture(scope="module")
def augmented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _augmented(tmp_path_factory.mktemp("augmented"))


@pytest.fixture(scope="module")
def baseline(augmented: Path) -> dict[str, Any]:
    tree = render_repo(load_repo(augmented))
    return {k: _shape(v) for k, v in _parsed(dict(tree.files)).items()}


def _scalars(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [s for v in data.values() for s in _scalars(v)]
    if isinstance(data, list):
        return [s for v in data for s in _scalars(v)]
    return [data]


def test_there_are_many_string_fields_to_attack(augmented: Path) -> None:
    assert len(_fields(augmented)) > 150


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_hostile_strings_never_change_output_structure(
    tmp_path: Path, payload: str, baseline: dict[str, Any], augmented: Path
) -> None:
    import json

    refused, verbatim = 0, set()
    for index, (file, path) in enumerate(_fields(augmented)):
        repo = copy_repo(augmented, tmp_path / f"r{index}")
        data = read_yaml(repo, file).data
        _set(data, path, payload)
        # JSON is YAML: write the edited spec back without any YAML emitter quirks.
        (repo / file).write_text(json.dumps(data))
        try:
            tree = render_repo(load_repo(repo))
        except InputError:
            refused += 1
            continue
        parsed = _parsed(dict(tree.files))
        shapes = {k: _shape(v) for k, v in parsed.items()}
        assert shapes.keys() == baseline.keys(), (file, path)
        for name, shape in shapes.items():
            assert shape == baseline[name], (file, path, name)
        if any(payload in _scalars(doc) for doc in parsed.values()):
            verbatim.add(path)
    # Constrained fields refuse the payload; free-text fields carry it through, verbatim,
    # as one scalar: description (an annotation), env values and extra args.
    assert refused > 0
    assert {
        ("description",),
        ("env", "LLAMA_ARG_LOG_PREFIX"),
        ("serve", "extraArgs", 1),
    } <= verbatim
