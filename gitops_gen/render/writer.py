"""Write rendered/ atomically, and tell whether it is current.

The new tree is built beside the old one and swapped in with two renames, so an error
never leaves a half-written rendered/. Files without the gitops-gen header are not
ours: they are carried over untouched and never reported as stale.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitops_gen.errors import EnvironmentProblem, GitopsGenError
from gitops_gen.render.templating import HEADER_PREFIX


@dataclass(frozen=True)
class TreeDiff:
    """How rendered/ on disk differs from what the specs render to."""

    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def clean(self) -> bool:
        return not (self.stale or self.missing or self.extra)


class ForeignFileError(GitopsGenError):
    """A file gitops-gen would write exists and was written by someone else."""


def _is_generated(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(HEADER_PREFIX)) == HEADER_PREFIX.encode()
    except OSError:
        return False


def scan_tree(out_dir: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Files under out_dir split into (generated, foreign), by relative POSIX path.

    Foreign entries are regular files and symbolic links (a linked folder is kept as the
    link); anything else (a FIFO, a socket, a device) cannot be carried over safely."""
    generated: dict[str, Path] = {}
    foreign: dict[str, Path] = {}
    if not out_dir.is_dir():
        return generated, foreign
    for dirpath, dirs, names in os.walk(out_dir):
        linked = [d for d in dirs if (Path(dirpath) / d).is_symlink()]
        for name in linked:
            dirs.remove(name)
        for name in [*names, *linked]:
            path = Path(dirpath) / name
            rel = path.relative_to(out_dir).as_posix()
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise ForeignFileError(
                    f"{out_dir.name}/{rel}: is not a regular file or link (a FIFO, socket or "
                    "device); gitops-gen cannot carry it over: remove it"
                )
            is_ours = stat.S_ISREG(mode) and _is_generated(path)
            (generated if is_ours else foreign)[rel] = path
    return generated, foreign


def compare_tree(out_dir: Path, files: Mapping[str, str]) -> TreeDiff:
    generated, foreign = scan_tree(out_dir)
    return _compare(out_dir, files, generated, foreign)


def _compare(
    out_dir: Path,
    files: Mapping[str, str],
    generated: Mapping[str, Path],
    foreign: Mapping[str, Path],
) -> TreeDiff:
    diff = TreeDiff()
    unchanged = 0
    for rel, text in files.items():
        path = generated.get(rel)
        if path is None:
            diff.missing.append(rel)
        elif path.read_bytes() != text.encode("utf-8"):
            diff.stale.append(rel)
        else:
            unchanged += 1
    diff.extra.extend(sorted(set(generated) - set(files)))
    _refuse_foreign_collisions(out_dir, files, foreign)
    return TreeDiff(sorted(diff.stale), sorted(diff.missing), diff.extra, unchanged)


def _refuse_foreign_collisions(
    out_dir: Path, files: Mapping[str, str], foreign: Mapping[str, Path]
) -> None:
    clash = sorted(set(files) & set(foreign))
    if clash:
        listed = ", ".join(f"{out_dir.name}/{c}" for c in clash[:5])
        raise ForeignFileError(
            f"{listed}: exists and was not written by gitops-gen; "
            "move it away so gitops-gen can own that path"
        )


def write_tree(out_dir: Path, files: Mapping[str, str]) -> TreeDiff:
    """Make out_dir hold exactly `files` plus the foreign files it already had."""
    recover_interrupted(out_dir)
    generated, foreign = scan_tree(out_dir)
    diff = _compare(out_dir, files, generated, foreign)
    if diff.clean:
        return diff
    staging: Path | None = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        # mkdtemp makes a private (0700) folder; rendered/ is an ordinary one.
        os.chmod(staging, 0o777 & ~_umask())
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        for rel, source in foreign.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
        _swap(staging, out_dir)
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise EnvironmentProblem(
            f"cannot write {out_dir.name}/: {exc.strerror or type(exc).__name__}; "
            f"{out_dir.name}/ was left as it was"
        ) from None
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return diff


def recover_interrupted(out_dir: Path) -> None:
    """Clean up after a render that was killed midway: put back a tree caught between the
    two renames of the swap, and remove the staging and retired trees left beside it."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    retired = sorted(parent.glob(f".{out_dir.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not out_dir.exists() and retired:
        os.rename(retired.pop(), out_dir)
    for leftover in [*retired, *parent.glob(f".{out_dir.name}.tmp-*")]:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_file_atomic(path: Path, text: str) -> None:
    """Replace one file in a single rename: readers see the old text or the new, never half.
    The file keeps its mode (mkstemp alone would leave it private)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _swap(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()
    os.rename(out_dir, retired)
    try:
        os.rename(staging, out_dir)
    except BaseException:
        os.rename(retired, out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)
