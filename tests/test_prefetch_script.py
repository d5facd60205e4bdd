"""The prefetch script itself, run by sh against a local server: it downloads the
locked files, verifies every sha256, writes the marker, refuses a wrong file, and sends
the Hugging Face token read from the mounted Secret file (never from the spec)."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_gen.render.plan import PREFETCH_SCRIPT

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("sh", "curl", "sha256sum", "cmp")),
    reason="needs sh, curl, sha256sum and cmp (the prefetch image's tools)",
)

FILES = {"config.json": b'{"a": 1}\n', "sub/model.safetensors": b"weights" * 1000}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    root = tmp_path / "hub"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()


def _sums(files: dict[str, bytes]) -> str:
    return "\n".join(f"{hashlib.sha256(d).hexdigest()}  {n}" for n, d in sorted(files.items()))


def _run(tmp_path: Path, base: str, sums: str, **env: str) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "models" / "hf" / "m"
    marker = tmp_path / "models" / ".gitops-gen" / "m.sha256sums"
    return subprocess.run(
        ["sh", "-c", PREFETCH_SCRIPT],
        env={
            "PATH": "/usr/bin:/bin",
            "MODEL_FILES": sums,
            "BASE_URL": base,
            "TARGET_DIR": str(target),
            "MARKER": str(marker),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_downloads_verifies_and_marks(tmp_path: Path, server: tuple[str, list[str]]) -> None:
    base, seen = server
    done = _run(tmp_path, base, _sums(FILES))
    assert done.returncode == 0, done.stderr
    for name, data in FILES.items():
        assert (tmp_path / "models/hf/m" / name).read_bytes() == data
    marker = tmp_path / "models/.gitops-gen/m.sha256sums"
    assert marker.read_text() == _sums(FILES) + "\n"
    assert seen == ["", ""]  # no token configured: no header
    again = _run(tmp_path, base, _sums(FILES))
    assert "already verified" in again.stdout and len(seen) == 2


def test_a_file_that_does_not_match_its_lock_is_refused(
    tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, _seen = server
    wrong = _sums({**FILES, "config.json": b"something else"})
    done = _run(tmp_path, base, wrong)
    assert done.returncode != 0
    assert not (tmp_path / "models/hf/m/config.json").exists()
    assert not (tmp_path / "models/.gitops-gen/m.sha256sums").exists()


def test_the_token_is_read_from_the_mounted_secret(
    tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    base, seen = server
    token = tmp_path / "secret" / "HF_TOKEN"
    token.parent.mkdir()
    token.write_text("hf_from_the_secret")
    done = _run(tmp_path, base, _sums(FILES), HF_TOKEN_FILE=str(token))
    assert done.returncode == 0, done.stderr
    assert seen == ["Bearer hf_from_the_secret"] * 2
    assert "hf_from_the_secret" not in done.stdout + done.stderr


def test_the_compose_service_runs_the_same_script_once_compose_unescapes_it() -> None:
    from gitops_gen.render.compose import escape

    assert escape(PREFETCH_SCRIPT).replace("$$", "$") == PREFETCH_SCRIPT
