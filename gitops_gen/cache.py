"""What earlier runs in this checkout proved, keyed by content: `.gitops-gen-cache/`.

Four facts are remembered, each under a digest of everything it depends on:

- `spec`: a spec file's exact text parses (with the line of every key) to this data and
  passes its JSON Schema;
- `render`: a template given these values (the planner's output for one file) renders
  to this JSON text;
- `valid`: an object (its exact JSON) passes the Kubernetes schemas of a version;
- `seen`: a file under rendered/ with a given size, mtime and inode held the bytes of a
  given object (by its JSON's digest, and the spec file its header names) when
  gitops-gen last wrote or read it (what git's index does for the work tree).

So a run still builds the model and plans every lane (cross-lane rules see every
object), but parses, renders, validates, emits and compares only what changed. Nothing here
is needed: a missing, stale, corrupt or foreign cache is ignored and rewritten, and the
folder is safe to delete at any time. It ignores itself in git (its own `.gitignore`),
and it is bound to the folder it was written in, so a cache committed to a repository
(an attempt to make `check` trust objects it never validated) is not read in any clone
of it. `GITOPS_GEN_NO_CACHE=1` turns it off.

The file is one header line (what the cache is valid for), one line with the body's
length and CRC-32, then the body in Python's marshal format, the format of the
interpreter's own bytecode cache: read and written in a few milliseconds where JSON took
a fifth of a second at 5,000 lanes. marshal reads only files this process could have
written: a file whose header names another folder, version or interpreter, or whose body
fails its check (torn, truncated, edited), is never handed to it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import stat
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from gitops_gen import __version__

CACHE_DIR = ".gitops-gen-cache"
FILE = "cache.marshal"
FORMAT = 2
_OLD_FILE = "cache.json"
_SECTIONS = ("spec", "render", "lane", "valid", "seen")
_IGNORE = "# gitops-gen's cache: safe to delete, never committed.\n*\n"
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by gitops-gen.\n"
)


def digest(*parts: str | bytes) -> str:
    """A content key: 128 bits of BLAKE2b over the parts, each ended by a NUL (a text
    part as UTF-8; a bytes part, which may hold NULs, goes last)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _header(folder: os.stat_result) -> bytes:
    """What the cache is valid for: this gitops-gen (its code), this Python (its marshal
    format) and this very folder."""
    return (
        f"gitops-gen-cache {FORMAT} {__version__} {_code_fingerprint()} "
        f"{sys.implementation.cache_tag} {marshal.version} {folder.st_dev} {folder.st_ino}\n"
    ).encode()


def _check(body: bytes) -> bytes:
    return f"{len(body)} {zlib.crc32(body):08x}\n".encode()


_FINGERPRINT: list[str] = []


def _code_fingerprint() -> str:
    """Names, sizes and mtimes of gitops-gen's own files (code, templates, schemas) and the
    Kubernetes schemas' version: an edited checkout or an upgrade starts a new cache."""
    if not _FINGERPRINT:
        package = Path(__file__).resolve().parent
        parts = []
        for path in sorted(package.rglob("*")):
            if path.suffix in (".py", ".j2", ".json", ".yaml"):
                info = path.stat()
                parts.append(f"{path.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}")
        # The Kubernetes schemas are kubernetes-validate's: its install changes with them.
        spec = importlib.util.find_spec("kubernetes_validate")
        if spec is not None and spec.origin is not None:
            info = os.stat(spec.origin)
            parts.append(f"kubernetes-validate:{spec.origin}:{info.st_size}:{info.st_mtime_ns}")
        _FINGERPRINT.append(digest(*parts)[:16])
    return _FINGERPRINT[0]


class Cache:
    """A run's view of the cache: read once when opened, written once by `save`, keeping
    only the entries this run used (a section the run never consulted is kept whole)."""

    def __init__(self, folder: Path | None, old: dict[str, dict[str, Any]]) -> None:
        self.folder = folder  # None: disabled, nothing is read or written
        self._old = old
        self._new: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
        self._touched: set[str] = set()
        self._changed = False

    @classmethod
    def disabled(cls) -> Cache:
        return cls(None, {name: {} for name in _SECTIONS})

    @classmethod
    def open(cls, root: Path) -> Cache:
        if os.environ.get("GITOPS_GEN_NO_CACHE"):
            return cls.disabled()
        folder = root / CACHE_DIR
        empty: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
        try:
            info = folder.lstat()
        except FileNotFoundError:
            return cls(folder, empty)
        except OSError:
            return cls.disabled()
        if not stat.S_ISDIR(info.st_mode):
            return cls.disabled()  # a link or a file where the cache should be: leave it
        try:
            # Never through a link: what the cache reads stays inside the repo.
            fd = os.open(folder / FILE, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as handle:
                if handle.readline() != _header(info):
                    return cls(folder, empty)  # another version, or another folder's cache
                check = handle.readline()
                body = handle.read()
        except OSError:
            return cls(folder, empty)
        # A torn or altered file fails its check before marshal reads a byte of it.
        if check != _check(body):
            return cls(folder, empty)
        try:
            payload = marshal.loads(body)
        except (EOFError, ValueError, TypeError):
            return cls(folder, empty)
        return cls(folder, _sections(payload) or empty)

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def get(self, section: str, key: str) -> Any:
        self._touched.add(section)
        value = self._new[section].get(key)
        if value is None:
            value = self._old[section].get(key)
            if value is not None:
                self._new[section][key] = value
        return value

    def put(self, section: str, key: str, value: Any) -> None:
        if self.folder is None:
            return
        self._touched.add(section)
        if self._old[section].get(key) != value:
            self._changed = True
        self._new[section][key] = value

    def save(self) -> None:
        """Write what this run proved; a cache that cannot be written is simply not kept."""
        if self.folder is None:
            return
        kept = {
            name: self._new[name] if name in self._touched else self._old[name]
            for name in _SECTIONS
        }
        if not self._changed and all(len(kept[n]) == len(self._old[n]) for n in _SECTIONS):
            return
        try:
            self.folder.mkdir(exist_ok=True)
            info = self.folder.lstat()
            if not stat.S_ISDIR(info.st_mode):
                return
            for name, text in ((".gitignore", _IGNORE), ("CACHEDIR.TAG", _TAG)):
                _create(self.folder / name, text)
            body = marshal.dumps(kept)
            fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_header(info))
                    handle.write(_check(body))
                    handle.write(body)
                os.replace(tmp, self.folder / FILE)
                (self.folder / _OLD_FILE).unlink(missing_ok=True)  # the JSON of format 1
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return


def _create(path: Path, text: str) -> None:
    """Write a new file; never through a link (a committed cache folder could hold one
    pointing outside the repo), and never over what is there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0))
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _sections(payload: Any) -> dict[str, dict[str, Any]] | None:
    if not isinstance(payload, dict):
        return None
    found = {name: payload.get(name) for name in _SECTIONS}
    if not all(isinstance(section, dict) for section in found.values()):
        return None
    return found  # type: ignore[return-value]
