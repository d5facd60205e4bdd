"""init scaffolds a repo that renders, and whose check lists exactly what to fill in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result


def test_init_renders_and_check_names_what_to_fill_in(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    repo = tmp_path / "new"
    result = cli("init", str(repo), cwd=tmp_path)
    assert result.code == 0, result.err
    assert cli("render", cwd=repo).code == 0
    check = cli("check", "--format", "json", cwd=repo)
    assert check.code == 20
    import json

    rules = {f["rule"] for f in json.loads(check.out)["findings"] if f["severity"] == "block"}
    # the placeholders: images to pin, a model to lock; nothing else blocks
    assert rules == {"image-digest-pinned", "model-locked", "model-prefetched"}
    assert cli("schema", cwd=repo).code == 0


def test_init_never_overwrites(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (tmp_path / "gitops-gen.yaml").write_text("kind: Config\n")
    result = cli("init", str(tmp_path), cwd=tmp_path)
    assert result.code == 2
    assert "init never overwrites" in result.err
    assert (tmp_path / "gitops-gen.yaml").read_text() == "kind: Config\n"
