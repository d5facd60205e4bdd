"""One error type per way a run can fail, mapped to exit codes in one place."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_PASS = 0
EXIT_STALE = 1
EXIT_INVALID = 2
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


class TemplateError(GitopsGenError):
    """A bug in a packaged template, reported as template:line."""

    exit_code = EXIT_INVALID
