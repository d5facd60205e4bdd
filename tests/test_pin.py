"""`gitops-gen pin` against real registries on loopback.

The reference registry (Debian's `docker-registry`, the CNCF distribution server) is
started per module on 127.0.0.1 with filesystem storage in a temp dir; `skopeo` pushes
a tiny OCI image built here by hand. The token flow (401 -> token -> retry, credentials
from a Docker config.json) is played by a small in-test HTTP server. No traffic leaves
127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.lock import oci
from tests.conftest import Result, _console_script, edit

REGISTRY_BIN = shutil.which("docker-registry") or shutil.which("registry")
SKOPEO = shutil.which("skopeo")
needs_registry = pytest.mark.skipif(
    REGISTRY_BIN is None or SKOPEO is None,
    reason="needs the reference registry and skopeo: apt-get install docker-registry skopeo",
)

INIT_IMAGES = [
    ("lanes/main.yaml", "ghcr.io/ggml-org/llama.cpp:server-cuda"),
    ("gitops-gen.yaml", "nvcr.io/nvidia/k8s-device-plugin:v0.19.2"),
    ("gitops-gen.yaml", "registry.k8s.io/nfd/node-feature-discovery:v0.17.3"),
    ("gitops-gen.yaml", "docker.io/curlimages/curl:8.11.1"),
    ("gitops-gen.yaml", "ghcr.io/berriai/litellm:v1.77.7-stable"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a tiny OCI image, written by hand -----------------------------------------------


def _blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def oci_layout(layout: Path, tag: str, label: str) -> str:
    """An OCI image layout holding one image (an empty layer); returns its manifest digest."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    layer = bytes(1024)  # an empty tar archive: two zero blocks
    layer_ref = _blob(layout, layer)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"test": label}},
        "rootfs": {"type": "layers", "diff_ids": [layer_ref["digest"]]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **_blob(layout, json.dumps(config).encode()),
        },
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_ref}],
    }
    manifest_ref = _blob(layout, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest_ref,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    return str(manifest_ref["digest"])


@dataclass
class Registry:
    host: str
    work: Path
    pushed: dict[str, str] = field(default_factory=dict)

    def push(self, name: str, tag: str, label: str = "one") -> str:
        """Push a fresh image as NAME:TAG; returns the digest the registry serves."""
        layout = Path(tempfile.mkdtemp(dir=self.work)) / "layout"
        expected = oci_layout(layout, tag, label)
        subprocess.run(
            [
                str(SKOPEO),
                "--insecure-policy",
                "copy",
                "--quiet",
                "--preserve-digests",
                "--dest-tls-verify=false",
                f"oci:{layout}:{tag}",
                f"docker://{self.host}/{name}:{tag}",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        # The oracle: what skopeo reads back from the registry, not what pin computes.
        inspected = subprocess.run(
            [
                str(SKOPEO),
                "inspect",
                "--tls-verify=false",
                "--format",
                "{{.Digest}}",
                f"docker://{self.host}/{name}:{tag}",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        assert inspected == expected
        self.pushed[f"{name}:{tag}"] = inspected
        return inspected


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if REGISTRY_BIN is None or SKOPEO is None:
        pytest.skip(
            "needs the reference registry and skopeo: apt-get install docker-registry skopeo"
        )
    work = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = work / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {work / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    proc = subprocess.Popen(
        [REGISTRY_BIN, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"registry did not start: {proc.stderr}") from None
                time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}", work)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def init_repo(cli: Callable[..., Result], tmp_path: Path, registry: Registry) -> Path:
    """`gitops-gen init`, its lane and device plugin images moved to the test registry."""
    repo = tmp_path / "repo"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    for file, image in INIT_IMAGES:
        edit(repo / file, f": {image}", f": {registry.host}/{image.split('/', 1)[1]}")
    assert cli("render", cwd=repo).code == 0
    return repo


def push_init_images(registry: Registry) -> dict[str, str]:
    """Each image of init pushed with distinct content, so each has its own digest."""
    found = {}
    for _file, image in INIT_IMAGES:
        name, tag = image.split("/", 1)[1].rsplit(":", 1)
        found[f"{name}:{tag}"] = registry.push(name, tag, label=name)
    assert len(set(found.values())) == len(found)
    return found


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.split("\n"), after.split("\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


# --- against the reference registry --------------------------------------------------


@needs_registry
def test_pin_writes_every_digest_and_keeps_the_files_as_written(
    registry: Registry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    digests = push_init_images(registry)
    repo = init_repo(cli, tmp_path, registry)
    before = {f: (repo / f).read_text() for f in ("gitops-gen.yaml", "lanes/main.yaml")}
    check = cli("check", "--format", "json", cwd=repo)
    unpinned = [f for f in json.loads(check.out)["findings"] if f["rule"] == "image-digest-pinned"]
    assert len(unpinned) == 5  # all at once, the prefetch and NFD images included

    result = cli("pin", "--insecure-registry", registry.host, cwd=repo)
    assert result.code == 0, result.err
    assert "pin: pinned 5 images in 2 files." in result.out
    assert "stage them with the specs: git add rendered/" in result.out
    lane = changed_lines(before["lanes/main.yaml"], (repo / "lanes/main.yaml").read_text())
    assert lane == [
        (
            f"image: {registry.host}/ggml-org/llama.cpp:server-cuda",
            f"image: {registry.host}/ggml-org/llama.cpp:server-cuda@"
            f"{digests['ggml-org/llama.cpp:server-cuda']}",
        )
    ]
    config = changed_lines(before["gitops-gen.yaml"], (repo / "gitops-gen.yaml").read_text())
    assert [new.strip() for _, new in config] == [
        f"{'nfdImage' if name.startswith('nfd/') else 'image'}: {registry.host}/{name}@{digest}"
        for name, digest in digests.items()
        if not name.startswith("ggml-org")
    ]
    # pin re-rendered: rendered/ is current and nothing is left unpinned
    assert cli("render", "--check", cwd=repo).code == 0
    check = cli("check", "--format", "json", cwd=repo)
    assert not [f for f in json.loads(check.out)["findings"] if f["rule"] == "image-digest-pinned"]

    again = cli("pin", "--insecure-registry", registry.host, cwd=repo)
    assert (again.code, again.out) == (0, "pin: nothing to pin: every image is pinned by digest.\n")


@needs_registry
def test_dry_run_writes_nothing(
    registry: Registry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    digest = registry.push("ggml-org/llama.cpp", "server-cuda", label="dry")
    repo = init_repo(cli, tmp_path, registry)
    lane = (repo / "lanes/main.yaml").read_text()
    result = cli("pin", "--dry-run", f"{registry.host}/ggml-org/llama.cpp", cwd=repo)
    # the scheme also comes from the environment variable, tried here without the option
    assert result.code == 4  # https to a plain-http registry: an environment failure
    assert f"cannot reach {registry.host}" in result.err
    env = {**os.environ, oci.INSECURE_ENV: registry.host}
    proc = subprocess.run(
        [
            *_console_script(),
            "pin",
            "--dry-run",
            f"{registry.host}/ggml-org/llama.cpp",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"would pin  lanes/main.yaml:10 (lane main) {registry.host}/ggml-org/" in proc.stdout
    assert digest[:19] in proc.stdout
    assert "dry run; 1 image in 1 file would change; nothing written." in proc.stdout
    assert (repo / "lanes/main.yaml").read_text() == lane


@needs_registry
def test_pinned_images_stay_unless_refresh_and_a_subset_is_pinned_alone(
    registry: Registry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    first = registry.push("ggml-org/llama.cpp", "server-cuda", label="first")
    repo = init_repo(cli, tmp_path, registry)
    lane_image = f"{registry.host}/ggml-org/llama.cpp:server-cuda"
    result = cli("pin", "--insecure-registry", registry.host, lane_image, cwd=repo)
    assert result.code == 0, result.err
    assert f"{lane_image}@{first}" in (repo / "lanes/main.yaml").read_text()
    # the other images were not asked for: still tags only
    assert f"{registry.host}/curlimages/curl:8.11.1\n" in (repo / "gitops-gen.yaml").read_text()

    second = registry.push("ggml-org/llama.cpp", "server-cuda", label="second")
    assert second != first
    kept = cli("pin", "--insecure-registry", registry.host, lane_image, cwd=repo)
    assert kept.code == 0
    assert "pinned already (--refresh to look it up again)" in kept.out
    assert f"{lane_image}@{first}" in (repo / "lanes/main.yaml").read_text()

    refreshed = cli("pin", "--refresh", "--insecure-registry", registry.host, lane_image, cwd=repo)
    assert refreshed.code == 0, refreshed.err
    text = (repo / "lanes/main.yaml").read_text()
    assert f"{lane_image}@{second}" in text and first not in text
    unchanged = cli("pin", "--refresh", "--insecure-registry", registry.host, lane_image, cwd=repo)
    assert unchanged.code == 0, unchanged.err
    assert unchanged.out.endswith(
        "pin: nothing changed: every tag still names the digest pinned to it.\n"
    )
    assert (repo / "lanes/main.yaml").read_text() == text


@needs_registry
def test_missing_tag_is_an_environment_failure_and_the_rest_is_pinned(
    registry: Registry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    push_init_images(registry)
    repo = init_repo(cli, tmp_path, registry)
    edit(repo / "lanes/main.yaml", "llama.cpp:server-cuda", "llama.cpp:no-such-tag")
    result = cli("pin", "--insecure-registry", registry.host, cwd=repo)
    assert result.code == 4
    assert (
        f"{registry.host}/ggml-org/llama.cpp:no-such-tag: no such tag or repository" in result.err
    )
    assert "1 image could not be looked up" in result.err
    assert "llama.cpp:no-such-tag\n" in (repo / "lanes/main.yaml").read_text()
    assert "curl:8.11.1@sha256:" in (repo / "gitops-gen.yaml").read_text()


def test_unreachable_registry_is_exit_4_and_nothing_changes(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    dead = f"127.0.0.1:{free_port()}"
    edit(repo / "lanes/main.yaml", "ghcr.io/", f"{dead}/")
    before = (repo / "lanes/main.yaml").read_text()
    result = cli("pin", "--insecure-registry", dead, f"{dead}/ggml-org/llama.cpp", cwd=repo)
    assert result.code == 4
    assert f"cannot reach {dead}" in result.err and "Traceback" not in result.err
    assert (repo / "lanes/main.yaml").read_text() == before


def test_an_image_the_specs_do_not_name_is_bad_input(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    result = cli("pin", "docker.io/library/nginx:1", cwd=repo)
    assert result.code == 2
    assert "docker.io/library/nginx:1: not an image of the specs" in result.err
    assert "ghcr.io/ggml-org/llama.cpp:server-cuda" in result.err


# --- the token flow, played by a small server ------------------------------------------

USER, SECRET, TOKEN = "robot", "s3cret-pa55", "tok-123"
BASIC_DIGEST = "sha256:" + "b" * 64  # sent in the header: used as is, not recomputed
MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}'


@dataclass
class TokenRegistry:
    host: str
    seen: list[tuple[str, str, str]]  # (method, path, Authorization)


@pytest.fixture
def token_registry() -> Iterator[TokenRegistry]:
    seen: list[tuple[str, str, str]] = []
    port = free_port()
    host = f"127.0.0.1:{port}"
    basic = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            seen.append((self.command, self.path, auth))
            if self.path.startswith("/token?"):
                ok = auth == basic and "scope=repository%3Ateam%2Fapp%3Apull" in self.path
                body = json.dumps({"token": TOKEN}).encode() if ok else b"{}"
                self._reply(200 if ok else 401, body, {"Content-Type": "application/json"})
            elif self.path == "/v2/team/app/manifests/v1":
                if auth != f"Bearer {TOKEN}":
                    challenge = (
                        f'Bearer realm="http://{host}/token",service="test",'
                        'scope="repository:team/app:pull"'
                    )
                    self._reply(401, b"{}", {"WWW-Authenticate": challenge})
                    return
                assert "application/vnd.oci.image.index.v1+json" in self.headers["Accept"]
                # no Docker-Content-Digest: the client hashes the body
                self._reply(
                    200, MANIFEST, {"Content-Type": "application/vnd.oci.image.index.v1+json"}
                )
            elif self.path == "/v2/team/basic/manifests/v1":
                if auth != basic:
                    self._reply(401, b"{}", {"WWW-Authenticate": 'Basic realm="test"'})
                    return
                self._reply(200, MANIFEST, {"Docker-Content-Digest": BASIC_DIGEST})
            else:
                self._reply(404, b"{}", {})

        do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TokenRegistry(host, seen)
    finally:
        server.shutdown()
        server.server_close()


def _token_repo(cli: Callable[..., Result], tmp_path: Path, host: str) -> Path:
    repo = tmp_path / "repo"
    assert cli("init", str(repo), cwd=tmp_path).code == 0
    edit(repo / "lanes/main.yaml", "ghcr.io/ggml-org/llama.cpp:server-cuda", f"{host}/team/app:v1")
    return repo


def _docker_config(tmp_path: Path, auths: dict[str, Any]) -> Path:
    """A DOCKER_CONFIG folder whose config.json holds `auths`, as `docker login` writes it."""
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"auths": auths}))
    return config_dir


def _pin_with_config(
    repo: Path, host: str, config_dir: Path, image: str = "team/app"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_CONFIG": str(config_dir)}
    return subprocess.run(
        [*_console_script(), "pin", "--insecure-registry", host, f"{host}/{image}"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bearer_token_flow_with_docker_config_credentials(
    token_registry: TokenRegistry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    host = token_registry.host
    repo = _token_repo(cli, tmp_path, host)
    auth = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    config_dir = _docker_config(tmp_path, {f"http://{host}": {"auth": auth}})
    proc = _pin_with_config(repo, host, config_dir)
    assert proc.returncode == 0, proc.stderr
    digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    assert f"image: {host}/team/app:v1@{digest}\n" in (repo / "lanes/main.yaml").read_text()
    # 401 -> token (with the Basic credentials) -> retry with the bearer token
    flow = [(method, path.partition("?")[0], auth) for method, path, auth in token_registry.seen]
    assert flow[:3] == [
        ("HEAD", "/v2/team/app/manifests/v1", ""),
        ("GET", "/token", f"Basic {auth}"),
        ("HEAD", "/v2/team/app/manifests/v1", f"Bearer {TOKEN}"),
    ]
    assert ("GET", "/v2/team/app/manifests/v1", f"Bearer {TOKEN}") in flow
    for secret in (SECRET, auth, TOKEN):
        assert secret not in proc.stdout + proc.stderr


def test_basic_auth_registry_gets_the_docker_config_credentials(
    token_registry: TokenRegistry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    host = token_registry.host
    repo = _token_repo(cli, tmp_path, host)
    edit(repo / "lanes/main.yaml", f"{host}/team/app:v1", f"{host}/team/basic:v1")
    config_dir = _docker_config(tmp_path, {host: {"username": USER, "password": SECRET}})
    proc = _pin_with_config(repo, host, config_dir, "team/basic")
    assert proc.returncode == 0, proc.stderr
    assert f"image: {host}/team/basic:v1@{BASIC_DIGEST}\n" in (repo / "lanes/main.yaml").read_text()
    basic = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    assert ("HEAD", "/v2/team/basic/manifests/v1", basic) in token_registry.seen
    assert SECRET not in proc.stdout + proc.stderr


def test_refused_token_is_exit_4_and_never_prints_the_credentials(
    token_registry: TokenRegistry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    host = token_registry.host
    repo = _token_repo(cli, tmp_path, host)
    wrong = base64.b64encode(f"{USER}:wrong-pa55".encode()).decode()
    config_dir = _docker_config(tmp_path, {host: {"auth": wrong}})
    proc = _pin_with_config(repo, host, config_dir)
    assert proc.returncode == 4
    assert f"the token service of {host} answered 401" in proc.stderr
    for secret in ("wrong-pa55", wrong):
        assert secret not in proc.stdout + proc.stderr
    no_config = _pin_with_config(repo, host, tmp_path / "empty")
    assert no_config.returncode == 4
    assert f"no credentials for {host}: docker login?" in no_config.stderr


# --- names, without a network --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "api"),
    [
        ("nginx", "docker.io", "library/nginx", None, "registry-1.docker.io"),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", "registry-1.docker.io"),
        (
            "curlimages/curl:8.11.1",
            "docker.io",
            "curlimages/curl",
            "8.11.1",
            "registry-1.docker.io",
        ),
        (
            "docker.io/library/busybox:1",
            "docker.io",
            "library/busybox",
            "1",
            "registry-1.docker.io",
        ),
        ("index.docker.io/x/y:2", "docker.io", "x/y", "2", "registry-1.docker.io"),
        (
            "ghcr.io/ggml-org/llama.cpp:server-cuda",
            "ghcr.io",
            "ggml-org/llama.cpp",
            "server-cuda",
            "ghcr.io",
        ),
        ("localhost/app:v1", "localhost", "app", "v1", "localhost"),
        ("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1", "127.0.0.1:5000"),
    ],
)
def test_references_name_their_registry(
    text: str, registry: str, repository: str, tag: str | None, api: str
) -> None:
    ref = oci.parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.api_host) == (registry, repository, tag, api)


@pytest.mark.parametrize("text", ["Upper/Case:1", "ghcr.io/x:bad tag", "x@sha256:short", ""])
def test_bad_references_are_refused(text: str) -> None:
    with pytest.raises(oci.BadReference):
        oci.parse_reference(text)


def test_docker_config_keys_are_normalized(tmp_path: Path) -> None:
    def auth(user: str) -> dict[str, str]:
        return {"auth": base64.b64encode(f"{user}:pw".encode()).decode()}

    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": auth("hub"),
                    "https://ghcr.io": auth("gh"),
                    "registry.example.com:5000": {"username": "plain", "password": "pw"},
                    "nvcr.io": {"auth": ""},
                }
            }
        )
    )
    assert oci.docker_credentials(tmp_path) == {
        "docker.io": ("hub", "pw"),
        "ghcr.io": ("gh", "pw"),
        "registry.example.com:5000": ("plain", "pw"),
    }
    assert oci.docker_credentials(tmp_path / "absent") == {}


@needs_registry
def test_hand_written_manifests_are_pinned_in_place(
    registry: Registry, cli: Callable[..., Result], tmp_path: Path
) -> None:
    digest = registry.push("team/tool", "1.0", label="tool")
    repo = init_repo(cli, tmp_path, registry)
    manifest = (
        "# a hand-written Job; the comment stays\n"
        "apiVersion: batch/v1\n"
        "kind: Job\n"
        "metadata: {name: tool, namespace: llm}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      restartPolicy: Never\n"
        "      initContainers:\n"
        f"        - {{name: a, image: '{registry.host}/team/tool:1.0'}}   # flow style\n"
        "      containers:\n"
        "        - name: b\n"
        f"          image: {registry.host}/team/tool:1.0\n"
    )
    (repo / "manifests").mkdir()
    (repo / "manifests/tool.yaml").write_text(manifest)
    result = cli(
        "pin", "--insecure-registry", registry.host, f"{registry.host}/team/tool", cwd=repo
    )
    assert result.code == 0, result.err
    pinned = f"{registry.host}/team/tool:1.0@{digest}"
    assert (repo / "manifests/tool.yaml").read_text() == manifest.replace(
        f"{registry.host}/team/tool:1.0", pinned
    )
    assert "manifests/tool.yaml:10 (Job/tool)" in result.out
    assert "manifests/tool.yaml:13 (Job/tool)" in result.out
