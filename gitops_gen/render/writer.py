"""Write rendered/ atomically, and tell whether it is current.

The new tree is built beside the old one and swapped in with two renames, so an error
never leaves a half-written rendered/. Files without the gitops-gen header are not
ours: they are carried over untouched and never reported as stale.

With a `TreeMemo` (the cache), a file whose size, mtime and inode are what they were when
it was last found current is not read again, and an unchanged file is hard-linked into
the new tree instead of rewritten, so it keeps its inode and mtime for the next run.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitops_gen.cache import Cache
from gitops_gen.errors import EnvironmentProblem, GitopsGenError
from gitops_gen.render.templating import HEADER_PREFIX, RenderedTree


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


class TreeMemo:
    """What the cache knows of the files under rendered/ (see gitops_gen.cache)."""

    # Seconds: a file changed this recently may change again within the clock's grain
    # and keep its size, so it is not remembered until a later run reads it.
    RACY = 2.0

    def __init__(self, cache: Cache, tree: RenderedTree) -> None:
        self.cache = cache
        self.tree = tree
        # (out_dir, generated, foreign) as write_tree left it: exactly the tree's files,
        # beside the foreign files it found and kept; a scan of that folder needs no walk.
        self.written: tuple[Path, dict[str, str], dict[str, str]] | None = None

    def _content(self, rel: str) -> str:
        """What fixes the file's bytes: the spec file its header names and its object's
        JSON (by digest) make them, for one gitops-gen; else the bytes' own sha256."""
        found = self.tree.digests.get(rel)
        if found is None:
            return "sha256:" + hashlib.sha256(self.tree.files[rel].encode("utf-8")).hexdigest()
        return f"{self.tree.documents[rel][0]}\0{found}"

    def holds(self, rel: str, info: os.stat_result) -> bool:
        """The file (as `info` describes it) holds exactly what the specs render to."""
        seen = self.cache.get("seen", rel)
        if not isinstance(seen, list) or seen[:3] != _identity(info):
            return False
        return rel in self.tree.documents and seen[3:] == [self._content(rel)]

    def held(self, rel: str, info: os.stat_result) -> None:
        """The file (as `info` describes it) was just found to hold what the specs render to."""
        if time.time() - info.st_mtime < self.RACY:
            return
        self.cache.put("seen", rel, [*_identity(info), self._content(rel)])


def _identity(info: os.stat_result) -> list[int]:
    return [info.st_mtime_ns, info.st_size, info.st_ino]


class ForeignFileError(GitopsGenError):
    """A file gitops-gen would write exists and was written by someone else."""


def _is_generated(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(HEADER_PREFIX)) == HEADER_PREFIX.encode()
    except OSError:
        return False


def scan_tree(out_dir: Path, memo: TreeMemo | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Files under out_dir split into (generated, foreign): relative POSIX path -> path.

    Foreign entries are regular files and symbolic links (a linked folder is kept as the
    link); anything else (a FIFO, a socket, a device) cannot be carried over safely."""
    if memo is not None and memo.written is not None and memo.written[0] == out_dir:
        return dict(memo.written[1]), dict(memo.written[2])
    generated, foreign, _ = _scan(out_dir, memo)
    return generated, foreign


def _scan(out_dir: Path, memo: TreeMemo | None) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """scan_tree, and the generated files the memo knows are current (never opened)."""
    generated: dict[str, str] = {}
    foreign: dict[str, str] = {}
    current: set[str] = set()
    if not out_dir.is_dir():
        return generated, foreign, current
    folders = [(os.fspath(out_dir), "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, rel + "/"))
                    continue
                info = entry.stat(follow_symlinks=False)
                mode = info.st_mode
                if memo is not None and stat.S_ISREG(mode) and memo.holds(rel, info):
                    generated[rel] = entry.path
                    current.add(rel)
                    continue
                if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                    raise ForeignFileError(
                        f"{out_dir.name}/{rel}: is not a regular file or link (a FIFO, socket "
                        "or device); gitops-gen cannot carry it over: remove it"
                    )
                is_ours = stat.S_ISREG(mode) and _is_generated(entry.path)
                (generated if is_ours else foreign)[rel] = entry.path
    return generated, foreign, current


def compare_tree(out_dir: Path, files: Mapping[str, str], memo: TreeMemo | None = None) -> TreeDiff:
    generated, foreign, current = _scan(out_dir, memo)
    return _compare(out_dir, files, generated, foreign, current, memo)


def _compare(
    out_dir: Path,
    files: Mapping[str, str],
    generated: Mapping[str, str],
    foreign: Mapping[str, str],
    current: set[str],
    memo: TreeMemo | None,
) -> TreeDiff:
    diff = TreeDiff()
    unchanged = 0
    for rel in files:
        path = generated.get(rel)
        if path is None:
            diff.missing.append(rel)
        elif rel in current:
            unchanged += 1
        elif Path(path).read_bytes() != files[rel].encode("utf-8"):
            diff.stale.append(rel)
        else:
            unchanged += 1
            if memo is not None:
                memo.held(rel, os.stat(path))
    diff.extra.extend(sorted(set(generated) - set(files)))
    _refuse_foreign_collisions(out_dir, files, foreign)
    return TreeDiff(sorted(diff.stale), sorted(diff.missing), diff.extra, unchanged)


def _refuse_foreign_collisions(
    out_dir: Path, files: Mapping[str, str], foreign: Mapping[str, str]
) -> None:
    clash = sorted(set(files) & set(foreign))
    if foreign:
        # A foreign file or link where a rendered file needs a folder: writing there would
        # replace it, or write through the link.
        folders = {folder for rel in files for folder in _folders_of(rel)}
        clash += sorted(rel for rel in foreign if rel in folders)
        # A folder where a rendered file goes, holding files gitops-gen did not write.
        holders = {folder for rel in foreign for folder in _folders_of(rel) if folder in files}
        clash += sorted(f"{folder}/" for folder in holders)
    if clash:
        listed = ", ".join(f"{out_dir.name}/{c}" for c in clash[:5])
        raise ForeignFileError(
            f"{listed}: exists and was not written by gitops-gen; "
            "move it away so gitops-gen can own that path"
        )


def _folders_of(rel: str) -> Iterator[str]:
    """`a/b/c.yaml` -> `a/b`, `a`."""
    while "/" in rel:
        rel = rel.rpartition("/")[0]
        yield rel


def write_tree(out_dir: Path, files: Mapping[str, str], memo: TreeMemo | None = None) -> TreeDiff:
    """Make out_dir hold exactly `files` plus the foreign files it already had."""
    recover_interrupted(out_dir)
    generated, foreign, current = _scan(out_dir, memo)
    diff = _compare(out_dir, files, generated, foreign, current, memo)
    if not diff.clean:
        rewrite = {*diff.stale, *diff.missing}
        if out_dir.is_dir() and not out_dir.is_symlink() and _fits(out_dir, rewrite, diff.extra):
            _write_changes(out_dir, {rel: files[rel] for rel in sorted(rewrite)}, diff.extra)
        else:
            _write_whole(out_dir, files, rewrite, generated, foreign)
    if memo is not None:
        root = os.fspath(out_dir)
        memo.written = (out_dir, {rel: f"{root}/{rel}" for rel in files}, foreign)
    return diff


def _fits(out_dir: Path, rewrite: set[str], removed: list[str]) -> bool:
    """Every file to write lands in real folders of out_dir (or ones still to be made) and
    on no folder, and every folder it changes may be written: else (a foreign link or file
    in the way, a read-only folder) the write builds a whole new tree instead, which
    changes nothing in place."""
    if not os.access(out_dir, os.W_OK):
        return False
    checked: set[str] = set()
    for rel in [*rewrite, *removed]:
        if not _real_folders(out_dir, rel, checked, writable=True):
            return False
        if rel in rewrite and (out_dir / rel).is_dir():
            return False
    return True


def _real_folders(out_dir: Path, rel: str, checked: set[str], *, writable: bool = False) -> bool:
    """The folders of `rel` under out_dir are real folders (not links or files), and may
    be written when `writable`, as far as they exist; `checked` keeps those found so."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        folder = "/".join(parts[:depth])
        if folder in checked:
            continue
        try:
            mode = os.lstat(out_dir / folder).st_mode
        except FileNotFoundError:
            return True
        if not stat.S_ISDIR(mode) or (writable and not os.access(out_dir / folder, os.W_OK)):
            return False
        checked.add(folder)
    return True


_COMMIT = ".{name}.commit-"
_REMOVALS = ".removals"  # beside the files of a commit, where no rendered path can be


def _write_changes(out_dir: Path, changed: Mapping[str, str], removed: list[str]) -> None:
    """Write only what changed, all or nothing: every new file is written into a staging
    folder, which one rename turns into a commit; the commit is then applied (moved into
    rendered/, removals made). A render killed before that rename changed nothing; one
    killed after it is completed by the next render (recover_interrupted)."""
    with _staging(out_dir) as staging:
        made: set[Path] = set()
        for rel, text in changed.items():
            target = staging / rel
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(text.encode("utf-8"))
        (staging / _REMOVALS).write_text(json.dumps(removed), "utf-8")
        commit = Path(
            tempfile.mkdtemp(prefix=_COMMIT.format(name=out_dir.name), dir=out_dir.parent)
        )
        commit.rmdir()
        os.rename(staging, commit)
    try:
        _apply(commit, out_dir)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write {out_dir.name}/: {exc.strerror or type(exc).__name__}; "
            f"the next render finishes what this one started"
        ) from None


def _apply(commit: Path, out_dir: Path) -> None:
    """Move a commit's files into out_dir and make its removals; safe to repeat after it
    was interrupted (what was moved is gone from the commit, a removal is idempotent).

    Nothing here leaves out_dir or goes through a link, whatever the commit holds: a
    commit folder may also arrive from elsewhere (committed to the repository)."""
    removals = json.loads((commit / _REMOVALS).read_text("utf-8"))
    if not isinstance(removals, list):
        raise ValueError("not a list of removals")
    for rel in removals:
        path = _inside(out_dir, rel)
        if path is None:
            raise ValueError(f"not a path inside {out_dir.name}/")
        if path.is_file() and not path.is_symlink() and _is_generated(os.fspath(path)):
            path.unlink()
        folder = path.parent
        while folder != out_dir and _is_empty_folder(folder):
            folder.rmdir()
            folder = folder.parent
    folders = [(commit, out_dir)]
    while folders:
        source, target = folders.pop()
        try:
            if not stat.S_ISDIR(os.lstat(target).st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", os.fspath(target))
        except FileNotFoundError:
            target.mkdir()
        with os.scandir(source) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((Path(entry.path), target / entry.name))
                elif entry.name != _REMOVALS or source != commit:
                    _refuse_replacing_foreign(target / entry.name)
                    os.replace(entry.path, target / entry.name)
    shutil.rmtree(commit, ignore_errors=True)


def _refuse_replacing_foreign(path: Path) -> None:
    """A commit replaces only what gitops-gen wrote: a file or link that appeared there
    since (someone took the file over, say) stops it."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) and _is_generated(os.fspath(path))):
        raise FileExistsError(errno.EEXIST, "not written by gitops-gen", os.fspath(path))


def _inside(out_dir: Path, rel: object) -> Path | None:
    """out_dir/rel, when rel is a plain relative path whose folders under out_dir are real
    folders (not links); else None."""
    if not isinstance(rel, str):
        return None
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return out_dir.joinpath(*parts) if _real_folders(out_dir, rel, set()) else None


def _is_real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_empty_folder(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None and not path.is_symlink()
    except OSError:
        return False


def _write_whole(
    out_dir: Path,
    files: Mapping[str, str],
    rewrite: set[str],
    generated: Mapping[str, str],
    foreign: Mapping[str, str],
) -> None:
    """Build the whole new tree beside the old one and swap it in with two renames."""
    with _staging(out_dir) as staging:
        # mkdtemp makes a private (0700) folder; rendered/ is an ordinary one.
        os.chmod(staging, 0o777 & ~_umask())
        for rel in files:
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel not in rewrite and _link(generated[rel], target):
                continue  # the same bytes, and the same inode and mtime for the memo
            target.write_bytes(files[rel].encode("utf-8"))
        for rel, source in foreign.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
        _swap(staging, out_dir)


@contextlib.contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A new folder beside out_dir to build in. On any error it is removed, out_dir is as
    it was, and an OSError becomes one line about the machine."""
    staging: Path | None = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        yield staging
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


def _link(source: str, target: Path) -> bool:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:  # no hard links here (some network and FUSE file systems): copy
        return False
    return True


def recover_interrupted(out_dir: Path) -> None:
    """Clean up after a render that was killed midway: finish applying a commit, put back
    a tree caught between the two renames of the swap, and remove the staging and retired
    trees left beside it."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    name = glob.escape(out_dir.name)  # a name like `out[1]` is not a pattern
    for commit in _leftovers(parent, f".{name}.commit-*"):
        if not _is_real_folder(out_dir):
            # rendered/ was removed or replaced since: the render that follows writes
            # it whole, and this commit must not land on a later tree.
            _remove(commit)
            continue
        if commit.is_dir() and not commit.is_symlink():
            # One that cannot be finished (something now stands in the way, or it is
            # damaged) is dropped: the render that follows writes every file that is not
            # what the specs render to, whatever this commit held.
            with contextlib.suppress(OSError, ValueError):
                _apply(commit, out_dir)
        _remove(commit)
    retired = [p for p in _leftovers(parent, f".{name}.old-*") if _is_real_folder(p)]
    if not os.path.lexists(out_dir) and retired:
        os.rename(retired.pop(), out_dir)
    for leftover in [
        *_leftovers(parent, f".{name}.old-*"),
        *_leftovers(parent, f".{name}.tmp-*"),
    ]:
        if leftover != out_dir:
            _remove(leftover)


def _leftovers(parent: Path, pattern: str) -> list[Path]:
    """Folders (or links) left beside out_dir, oldest first."""

    def age(path: Path) -> float:
        try:
            return os.lstat(path).st_mtime
        except OSError:
            return 0.0

    return sorted(parent.glob(pattern), key=age)


def _remove(path: Path) -> None:
    """A leftover folder, or a link in its place (never what the link points to)."""
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(OSError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


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
    _remove(retired)  # a linked rendered/ leaves the link here: removed, its target kept
