"""The README's console blocks are run, in a scratch copy of the root example, and their
output and exit codes compared: the README cannot drift from the tool.

Each ```console block runs in a fresh copy (specs and rendered/); its `$ ` lines run in
order in bash, and the lines after each are its expected output (stdout and stderr as a
terminal shows them). A line `...` (indented or not) stands for any number of lines. An HTML comment
right above a block can set it up or skip it:
`<!-- readme-test: setup COMMANDS -->` runs COMMANDS first (output not compared);
`<!-- readme-test: skip REASON -->` leaves the block out (it needs a model file, say).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_repo

BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<verb>setup|skip) (?P<arg>.*?) -->\n)?```console\n(?P<body>.*?)```",
    re.S,
)


@dataclass(frozen=True)
class Step:
    command: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class ConsoleBlock:
    line: int
    setup: str | None
    skip: str | None
    steps: tuple[Step, ...]


def console_blocks(text: str) -> list[ConsoleBlock]:
    blocks = []
    for match in BLOCK.finditer(text):
        steps: list[Step] = []
        command: str | None = None
        expected: list[str] = []
        for line in match.group("body").splitlines():
            if line.startswith("$ "):
                if command is not None:
                    steps.append(Step(command, tuple(expected)))
                command, expected = line[2:], []
            else:
                expected.append(line)
        if command is not None:
            steps.append(Step(command, tuple(expected)))
        verb, arg = match.group("verb"), match.group("arg")
        blocks.append(
            ConsoleBlock(
                line=text[: match.start("body")].count("\n"),
                setup=arg if verb == "setup" else None,
                skip=arg if verb == "skip" else None,
                steps=tuple(steps),
            )
        )
    return blocks


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    """Line by line, `...` standing for any number of lines (none included)."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0].rstrip() == head.rstrip() and matches(rest, actual[1:])


BLOCKS = console_blocks((ROOT / "README.md").read_text())
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
# Each example's README runs from the repository root, as it says, against a copy.
EXAMPLE_BLOCKS = [
    (name, block)
    for name in EXAMPLES
    for block in console_blocks((ROOT / "examples" / name / "README.md").read_text())
]


def test_the_readme_has_console_blocks_to_run() -> None:
    runnable = [b for b in BLOCKS if b.skip is None]
    assert len(runnable) >= 10
    assert all(b.steps for b in BLOCKS)


def _shell(command: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "200",
    }
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    return done.stdout


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"README.md:{b.line}")
def test_console_block(block: ConsoleBlock, tmp_path: Path) -> None:
    if block.skip is not None:
        pytest.skip(block.skip)
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    if block.setup is not None:
        _shell(block.setup, repo)
    _run_steps(block, repo, "README.md")


def _run_steps(block: ConsoleBlock, cwd: Path, readme: str) -> None:
    for step in block.steps:
        actual = _shell(step.command, cwd).splitlines()
        assert matches(step.expected, actual), (
            f"{readme}:{block.line}: $ {step.command}\n"
            + "--- expected\n"
            + "\n".join(step.expected)
            + "\n--- actual\n"
            + "\n".join(actual)
        )


def test_every_example_says_which_field_note_it_models_and_what_to_try() -> None:
    for name in EXAMPLES:
        text = (ROOT / "examples" / name / "README.md").read_text()
        assert re.search(r"\(seed 00[0-9]\)", text.splitlines()[0]), name
    assert {name for name, _ in EXAMPLE_BLOCKS} == set(EXAMPLES)


@pytest.mark.parametrize(
    ("name", "block"), EXAMPLE_BLOCKS, ids=lambda v: v if isinstance(v, str) else str(v.line)
)
def test_example_console_block(name: str, block: ConsoleBlock, tmp_path: Path) -> None:
    copy = tmp_path / "gitops-gen"
    copy_repo(ROOT / "examples" / name, copy / "examples" / name, with_rendered=True)
    _run_steps(block, copy, f"examples/{name}/README.md")


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (("a", "...", "d"), ["a", "b", "c", "d"], True),
        (("a", "...", "d"), ["a", "d"], True),
        (("a", "...", "d"), ["a", "b", "c"], False),
        (("a", "b"), ["a", "b", "c"], False),
        (("...",), [], True),
    ],
)
def test_elision_matching(expected: tuple[str, ...], actual: list[str], ok: bool) -> None:
    assert matches(expected, actual) is ok
