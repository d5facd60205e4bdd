"""Read the specs as they are at a git revision, without touching the working tree or index.

`git archive` writes the revision's files (only the spec paths) into a temporary
directory, which is loaded like any repo and then removed.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gitops_gen.cache import Cache
from gitops_gen.check.policy import Policy, load_policy
from gitops_gen.errors import GitopsGenError, InputError
from gitops_gen.pipeline import build_repo
from gitops_gen.render import Build
from gitops_gen.render.templating import TemplateRenderer
from gitops_gen.specs.loader import compose_file_paths, load_repo
from gitops_gen.specs.model import Repo
from gitops_gen.specs.schema import SpecSchemas

T = TypeVar("T")

SPEC_PATHS = (
    "gitops-gen.yaml",
    "hardware",
    "lanes",
    "models.lock.yaml",
    "manifests",
    "policies",
    "workflows",
)


class GitError(GitopsGenError):
    """git could not give us the base revision."""


class BaseUnloadable(GitError):
    """The base revision's specs do not load with this gitops-gen (a newer rule, a fixed
    mistake): a pull request that repairs them must still be checkable."""


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {' '.join(args[:2])}: {message[-1] if message else 'failed'}")
    return done.stdout


def load_at(root: Path, ref: str) -> Repo:
    """The specs at `ref`, loaded but not rendered (what diff-aware rules compare)."""
    return _at(root, ref, load_repo)


def policy_at(root: Path, ref: str) -> Policy:
    """policies/ at `ref` (the packaged defaults where it had none): what policy-weakened
    and the PR diff compare."""
    return _at(root, ref, _policy)


def build_at(root: Path, ref: str) -> Build:
    """The repo at `ref`, rendered in memory (not validated): what `diff` compares."""
    return _at(root, ref, lambda base: build_repo(base, validate=False))


def specs_and_policy_at(root: Path, ref: str, cache: Cache | None = None) -> tuple[Repo, Policy]:
    """`load_at` and `policy_at` from one extraction of `ref` (what `check --base` reads).
    The working tree's cache serves the base too: its entries are keyed by content."""
    return _at(root, ref, lambda base: (load_repo(base, cache=cache), _policy(base)))


def build_and_policy_at(
    root: Path, ref: str, cache: Cache | None = None, renderer: TemplateRenderer | None = None
) -> tuple[Build, Policy]:
    """`build_at` and `policy_at` from one extraction of `ref` (what `diff` reads)."""
    return _at(
        root,
        ref,
        lambda base: (
            build_repo(base, validate=False, cache=cache, renderer=renderer),
            _policy(base),
        ),
    )


def _policy(base: Path) -> Policy:
    from gitops_gen.check import rule_options

    return load_policy(base, schemas=SpecSchemas(), rule_options=rule_options())


def _at(root: Path, ref: str, read: Callable[[Path], T]) -> T:
    # The specs may live in a subdirectory of the git repo (a monorepo's deploy/): work
    # from the top, with paths made of the subdirectory's prefix.
    top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip())
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    try:
        _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except GitError:
        raise GitError(f"unknown revision {ref!r}: no such branch, tag or commit") from None
    listed = _git(top, "ls-tree", "--name-only", ref, "--", *(prefix + p for p in SPEC_PATHS))
    present = [line for line in listed.decode().splitlines() if line]
    if not present:
        raise GitError(f"{ref}: no gitops-gen specs under {prefix or './'}")
    archive = _git(top, "archive", "--format=tar", ref, "--", *present)
    with tempfile.TemporaryDirectory(prefix="gitops-gen-base-") as tmp:
        _extract(archive, Path(tmp))
        # Compose hosts name their hand-written compose file in gitops-gen.yaml.
        named = [prefix + p for p in compose_file_paths(Path(tmp) / prefix)]
        listed = _git(top, "ls-tree", "--name-only", ref, "--", *named) if named else b""
        extra = [line for line in listed.decode().splitlines() if line]
        if extra:
            _extract(_git(top, "archive", "--format=tar", ref, "--", *extra), Path(tmp))
        try:
            return read(Path(tmp) / prefix)
        except InputError as exc:
            # The base must have been valid once; say which revision is not.
            raise BaseUnloadable(f"the specs at {ref} do not load: {exc.lines()[0]}") from None


def _extract(archive: bytes, target: Path) -> None:
    """Regular files and directories only, never outside `target` (what git archive makes)."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            path = (target / member.name).resolve()
            if not path.is_relative_to(target.resolve()):
                raise GitError(f"refusing archive member {member.name!r}")
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                path.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                path.write_bytes(source.read() if source is not None else b"")
