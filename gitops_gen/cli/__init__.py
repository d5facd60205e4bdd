"""The command line: thin click commands over plain functions that return exit codes.

One module per command group; each registers its commands on the group in `app`.
"""

from __future__ import annotations

from gitops_gen.cli import check, hook, init, lanes, lock, pr, render
from gitops_gen.cli.app import entry, hoist_repo_option, main

__all__ = [
    "check",
    "entry",
    "hoist_repo_option",
    "hook",
    "init",
    "lanes",
    "lock",
    "main",
    "pr",
    "render",
]
