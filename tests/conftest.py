from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# compose.yaml: the hand-written compose file examples/rtx5090-compose names.
SPEC_ENTRIES = [
    "gitops-gen.yaml",
    "hardware",
    "lanes",
    "models.lock.yaml",
    "policies",
    "manifests",
    "compose.yaml",
    "workflows",
]


def copy_repo(source: Path, target: Path, *, with_rendered: bool = False) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    entries = [*SPEC_ENTRIES, "rendered"] if with_rendered else SPEC_ENTRIES
    for name in entries:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, target / name)
        elif src.exists():
            shutil.copy2(src, target / name)
    return target


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the root example repo (specs only)."""
    return copy_repo(ROOT, tmp_path / "repo")


@pytest.fixture
def example_rendered(tmp_path: Path) -> Path:
    """A private copy of the root example repo with its committed rendered/ tree."""
    return copy_repo(ROOT, tmp_path / "repo", with_rendered=True)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "gitops-gen"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gitops_gen"]


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the installed `gitops-gen` entry point in a subprocess."""

    def run(*args: str, cwd: Path) -> Result:
        proc = subprocess.run(
            [*_console_script(), *args], cwd=cwd, capture_output=True, text=True, timeout=120
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def edit(path: Path, old: str, new: str, *, count: int = 1) -> None:
    """Replace text in a spec file; the test fails loudly if the text is not there."""
    text = path.read_text()
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, count))
