"""Specs: the repo's files read with the line of every key, validated and typed."""

from __future__ import annotations

from gitops_gen.specs.loader import load_repo

__all__ = ["load_repo"]
