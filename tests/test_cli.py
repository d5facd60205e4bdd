"""The command line through the installed entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen import __version__
from gitops_gen.schema import SCHEMA_FILES
from gitops_gen.source import read_yaml
from tests.conftest import ROOT, Result


def test_render_writes_the_tree_then_reports_nothing_to_do(
    example: Path, cli: Callable[..., Result]
) -> None:
    first = cli("render", cwd=example)
    assert first.code == 0, first.err
    assert first.out.startswith(
        "rendered 33 files (27 objects, schema-valid) into rendered/: 33 written"
    )
    second = cli("render", cwd=example)
    assert second.out.endswith("0 written, 0 removed, 33 unchanged.\n")
    assert cli("render", "--check", cwd=example).code == 0


def test_repo_option_points_at_another_directory(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("-C", str(ROOT / "examples" / "h100x2-tp2"), "render", "--check", cwd=tmp_path)
    assert result.code == 0, result.err


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schema_prints_each_kind_as_json_schema(cli: Callable[..., Result], kind: str) -> None:
    result = cli("schema", kind, cwd=ROOT)
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_example_specs_validate_against_the_published_schemas(cli: Callable[..., Result]) -> None:
    import jsonschema

    pairs = [
        ("config", "gitops-gen.yaml"),
        ("node", "hardware/gpu-worker-1.yaml"),
        ("models-lock", "models.lock.yaml"),
        *(("lane", f"lanes/{p.name}") for p in (ROOT / "lanes").iterdir()),
    ]
    for kind, file in pairs:
        schema = json.loads(cli("schema", kind, cwd=ROOT).out)
        jsonschema.Draft202012Validator(schema).validate(read_yaml(ROOT, file).data)


def test_schema_write_exports_every_schema(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("schema", "--write", str(tmp_path / "schemas"), cwd=tmp_path)
    assert result.code == 0
    assert sorted(p.name for p in (tmp_path / "schemas").iterdir()) == sorted(SCHEMA_FILES.values())


def test_unknown_schema_kind_is_a_usage_error(cli: Callable[..., Result]) -> None:
    result = cli("schema", "lanes", cwd=ROOT)
    assert result.code == 2
    assert "'lanes' is not one of" in result.err and "'lane'" in result.err


def test_version(cli: Callable[..., Result]) -> None:
    assert cli("--version", cwd=ROOT).out.strip() == f"gitops-gen, version {__version__}"


def test_not_a_repo_is_invalid_input_without_traceback(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("render", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("gitops-gen.yaml: file not found in .")
    assert "Traceback" not in result.err


def test_unreadable_spec_is_invalid_input(example: Path, cli: Callable[..., Result]) -> None:
    (example / "lanes" / "binary.yaml").write_bytes(b"kind: Lane\nname: \xff\xfe\n")
    result = cli("render", cwd=example)
    assert result.code == 2
    assert result.err.splitlines()[0] == "lanes/binary.yaml:2: file is not valid UTF-8"
