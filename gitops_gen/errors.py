"""One error type per way a run can fail, mapped to exit codes in one place."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

EXIT_PASS = 0
EXIT_STALE = 1
EXIT_INVALID = 2
EXIT_ENVIRONMENT = 4  # the machine, not the input: a full disk, no permission, no git
EXIT_BROKEN_PIPE = 141  # the reader of our output went away (`| head`), as after SIGPIPE
EXIT_WARN = 10
EXIT_BLOCK = 20


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located in a spec file."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class GitopsGenError(Exception):
    """Base of every error the tool reports to a person instead of a traceback."""

    exit_code = EXIT_INVALID

    def lines(self) -> list[str]:
        return [str(self)]


class InputError(GitopsGenError):
    """The specs themselves are invalid: one line per problem, sorted by place."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class UsageProblem(GitopsGenError):
    """A command-line argument is not what the command takes."""


class TemplateError(GitopsGenError):
    """A bug in a packaged template, reported as template:line."""

    exit_code = EXIT_INVALID


class EnvironmentProblem(GitopsGenError):
    """The machine stopped the run (a full disk, a missing permission, a missing tool)."""

    exit_code = EXIT_ENVIRONMENT


def describe_os_error(exc: OSError, root: str | os.PathLike[str] | None = None) -> str:
    """One line for an OSError: what failed, on which path, why; never file content."""
    shown = ""
    if exc.filename is not None:
        shown = os.fsdecode(exc.filename)
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = os.path.relpath(shown, os.fspath(root))
        shown = f" {shown}"
    reason = exc.strerror or type(exc).__name__
    return f"cannot read or write{shown}: {reason}; nothing was changed"
