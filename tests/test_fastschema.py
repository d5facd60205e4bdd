"""The compiled fast path must answer exactly as jsonschema does, on valid and broken data."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import jsonschema
import pytest

from gitops_gen.check.validation import KubeSchemas
from gitops_gen.render.templating import render_repo
from gitops_gen.specs.fastschema import Unsupported, compile_local, format_checker
from gitops_gen.specs.loader import load_repo
from gitops_gen.specs.quantity import quantity_format
from gitops_gen.specs.schema import FORMATS, SCHEMA_FILES, schema_text
from gitops_gen.specs.source import read_yaml
from tests.conftest import ROOT

POOL: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2.5,
    65536,
    "",
    "x",
    "Invalid Name",
    "8Gi",
    "on",
    # quantities and enum values the API server refuses, and ones it takes
    "64 GiB",
    "eight",
    "32GB ",
    "32Gi\n",
    "1e3",
    "500m",
    "Sometimes",
    "IfNotPresent",
    "Never",
    [],
    [1],
    ["a"],
    {},
    {"x": 1},
    {"name": "n"},
]
SPEC_DOCS = [
    ("config", "gitops-gen.yaml"),
    ("node", "hardware/gpu-worker-1.yaml"),
    ("models-lock", "models.lock.yaml"),
    *(("lane", f"lanes/{p.name}") for p in sorted((ROOT / "lanes").iterdir())),
]


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        found += [p for k, v in data.items() for p in _paths(v, (*path, k))]
    elif isinstance(data, list):
        found += [p for i, v in enumerate(data) for p in _paths(v, (*path, i))]
    return found


def _mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    path = rng.choice(_paths(data)[1:])
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    action = rng.randrange(3)
    if action == 0 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == 1 and isinstance(parent, dict):
        parent[rng.choice(["extra", "Name", "ctxsize", path[-1] + "x"])] = rng.choice(POOL)
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(POOL))
    return data


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_every_spec_schema_compiles(kind: str) -> None:
    compile_local(json.loads(schema_text(kind)))


@pytest.mark.parametrize(("kind", "file"), SPEC_DOCS, ids=[f for _k, f in SPEC_DOCS])
def test_spec_fast_path_agrees_with_jsonschema(kind: str, file: str) -> None:
    schema = json.loads(schema_text(kind))
    fast = compile_local(schema, FORMATS)
    reference = jsonschema.Draft202012Validator(schema, format_checker=format_checker(FORMATS))
    data = read_yaml(ROOT, file).data
    assert fast(data) and reference.is_valid(data)
    rng = random.Random(file)
    invalid = 0
    for _ in range(300):
        mutated = _mutate(data, rng)
        expected = reference.is_valid(mutated)
        assert fast(mutated) == expected, json.dumps(mutated)[:400]
        invalid += not expected
    assert invalid > 50  # the mutations really exercise the failing side


def test_kubernetes_fast_path_agrees_with_jsonschema() -> None:
    schemas = KubeSchemas("1.35")
    objects = [dict(o.data) for o in render_repo(load_repo(ROOT)).objects]
    kinds = {(o["apiVersion"], o["kind"]) for o in objects}
    rng = random.Random(7)
    for obj in objects:
        validator = schemas.validator(obj["apiVersion"], obj["kind"])
        fast = schemas.fast(obj["apiVersion"], obj["kind"])
        assert fast is not None, obj["kind"]
        assert fast(obj) and validator.is_valid(obj)
        for _ in range(60):
            mutated = _mutate(obj, rng)
            assert fast(mutated) == validator.is_valid(mutated), (obj["kind"], mutated)
    assert len(kinds) >= 7


def test_api_refused_values_fail_both_paths_wherever_they_land() -> None:
    """The issue-8 examples, put in every string field of one object of each rendered kind
    in turn: the compiled predicate and jsonschema agree each time, and the quantity and
    enum fields among them (the fields the API server checks) all fail."""
    values = ["64 GiB", "eight", "32GB ", "Sometimes"]
    schemas = KubeSchemas("1.35")
    kinds = {o.data["kind"]: dict(o.data) for o in render_repo(load_repo(ROOT)).objects}
    refused = 0
    for n, (obj, path) in enumerate((o, p) for o in kinds.values() for p in _paths(o)[1:]):
        validator = schemas.validator(obj["apiVersion"], obj["kind"])
        fast = schemas.fast(obj["apiVersion"], obj["kind"])
        assert fast is not None
        mutated = copy.deepcopy(obj)
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if not isinstance(parent[path[-1]], str):
            continue
        parent[path[-1]] = values[n % len(values)]
        expected = validator.is_valid(mutated)
        assert fast(mutated) == expected, (obj["kind"], path)
        refused += not expected
        if path[-1] in ("cpu", "memory", "imagePullPolicy", "protocol", "restartPolicy"):
            assert not expected, (obj["kind"], path)
    assert refused >= 10


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("32Gi", True),
        (1.5, True),
        (float("inf"), False),
        ("64 GiB", False),
        (None, True),  # formats judge strings and numbers only
        ({"a": 1}, True),
    ],
)
def test_asserted_formats_answer_as_jsonschema_does(value: Any, valid: bool) -> None:
    schema = {"format": "quantity"}
    fast = compile_local(schema, {"quantity": quantity_format})
    reference = jsonschema.Draft202012Validator(
        schema, format_checker=format_checker({"quantity": quantity_format})
    )
    assert fast(value) == reference.is_valid(value) == valid
    assert compile_local(schema)(value)  # not asserted: an annotation, as by default


def test_unknown_keywords_are_refused_not_ignored() -> None:
    with pytest.raises(Unsupported):
        compile_local({"type": "array", "contains": {"type": "string"}})
    with pytest.raises(Unsupported):
        compile_local(
            {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False}
        )


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "integer"}, [1, 2.0], [True, 1.5, "1"]),
        ({"enum": [1, "a"]}, [1, "a", 1.0], [True, "b"]),
        ({"enum": ["a", "b"]}, ["a", "b"], ["c", None, 1, True, ["a"]]),
        ({"type": "boolean"}, [True, False], [0, 1, None, "true"]),
        ({"type": ["integer", "string"]}, [1, 2.0, "x"], [True, 1.5, None]),
        ({"type": ["string", "null"]}, ["x", None], [1, False, []]),
        ({"type": ["boolean", "object"]}, [True, {}], [0, 1, None, []]),
        ({"const": False}, [False], [0, None]),
        ({"uniqueItems": True}, [[1, True], [[1], [2]]], [[1, 1.0], [{"a": 1}, {"a": 1}]]),
        ({"oneOf": [{"type": "string"}, {"minLength": 2}]}, ["x", 5], ["xy"]),
        (
            {"if": {"const": 1}, "then": {"type": "integer"}, "else": {"type": "string"}},
            [1, "s"],
            [2],
        ),
        ({"pattern": "b"}, ["abc", 5], ["ac"]),
        ({"exclusiveMinimum": 0}, [0.1, "x"], [0, -1]),
    ],
)
def test_keyword_semantics_match_jsonschema(schema: dict, good: list, bad: list) -> None:
    fast = compile_local(schema)
    reference = jsonschema.Draft202012Validator(schema)
    for value in good:
        assert fast(value) and reference.is_valid(value), value
    for value in bad:
        assert not fast(value) and not reference.is_valid(value), value
