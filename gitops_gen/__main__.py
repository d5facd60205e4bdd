from __future__ import annotations

from gitops_gen.cli import entry

entry()
