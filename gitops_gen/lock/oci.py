"""A minimal OCI distribution client: resolve `registry/name:tag` to its manifest digest.

Only what `gitops-gen pin` needs: HEAD (then GET) `/v2/<name>/manifests/<tag>`, the
anonymous or credentialed bearer-token flow, Basic auth, and Docker config credentials.
Nothing here is used by render, check or diff, which never touch the network.
Credentials never appear in messages: errors name the registry, the image and the status.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_gen.errors import EnvironmentProblem, GitopsGenError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
# Keys `docker login` uses for Docker Hub in config.json.
_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", DOCKER_HUB, DOCKER_HUB_API)

# Manifest media types, most specific first: an index (multi-arch) is what a node pulls.
ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
INSECURE_ENV = "GITOPS_GEN_INSECURE_REGISTRIES"
TIMEOUT = 30.0
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")


class RegistryError(EnvironmentProblem):
    """The registry or the network failed us: not the specs' fault (exit 4)."""


class BadReference(GitopsGenError):
    """An image reference that cannot be parsed (exit 2)."""


@dataclass(frozen=True)
class Reference:
    """`registry/repository:tag@digest` split into its parts, Docker Hub names expanded."""

    registry: str  # as written (docker.io for Docker Hub)
    repository: str  # library/curl for `curl`
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry


def parse_reference(text: str) -> Reference:
    name, _, digest = text.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", DOCKER_HUB_API):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not repository or not all(_COMPONENT.match(c) for c in repository.split("/")):
        raise BadReference(f"{text!r} is not an image reference (registry/name:tag)")
    if tag is not None and not _TAG.match(tag):
        raise BadReference(f"{text!r}: {tag!r} is not a valid tag")
    if digest and not _DIGEST.match(digest):
        raise BadReference(f"{text!r}: {digest!r} is not a sha256 digest")
    return Reference(registry, repository, tag, digest or None)


def insecure_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """Registries reached over plain http: --insecure-registry, $GITOPS_GEN_INSECURE_REGISTRIES."""
    from_env = os.environ.get(INSECURE_ENV, "")
    return frozenset(h.strip() for h in [*from_env.split(","), *extra] if h.strip())


def _host_key(key: str) -> str:
    """`https://ghcr.io/v2/` -> `ghcr.io`: config.json keys are written several ways."""
    if "://" in key:
        key = urllib.parse.urlsplit(key).netloc
    return key.split("/")[0]


def docker_credentials(config_dir: Path | None = None) -> dict[str, tuple[str, str]]:
    """host -> (user, secret) from the `auths` of Docker's config.json, if there is one."""
    if config_dir is None:
        env = os.environ.get("DOCKER_CONFIG")
        config_dir = Path(env) if env else Path.home() / ".docker"
    path = config_dir / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{path}: not readable as JSON ({type(exc).__name__})") from None
    found: dict[str, tuple[str, str]] = {}
    auths = data.get("auths") if isinstance(data, dict) else None
    for key, entry in (auths or {}).items():
        if not isinstance(entry, dict):
            continue
        user, secret = entry.get("username"), entry.get("password")
        if entry.get("auth"):
            try:
                user, _, secret = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise RegistryError(
                    f"{path}: auths.{key}.auth is not base64 user:password"
                ) from None
        if user and secret:
            host = _host_key(str(key))
            found[DOCKER_HUB if host in _DOCKER_HUB_KEYS else host] = (str(user), str(secret))
    return found


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="...",scope="..."` -> ("bearer", {realm: ..., ...})."""
    scheme, _, params = header.strip().partition(" ")
    found = dict(re.findall(r'(\w+)="([^"]*)"', params))
    found.update((k, v) for k, v in re.findall(r"(\w+)=([^\",\s]+)", params) if k not in found)
    return scheme.lower(), found


@dataclass
class _Response:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


class _Redirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never carry credentials to another host."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != req.host:
            new.remove_header("Authorization")
        return new


class Client:
    """Resolves tags; remembers one token per (host, repository) for the run."""

    def __init__(
        self,
        *,
        insecure: frozenset[str] = frozenset(),
        credentials: Mapping[str, tuple[str, str]] | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.insecure = insecure
        self.credentials = dict(credentials or {})
        self.timeout = timeout
        self._auth: dict[tuple[str, str], str] = {}
        self._opener = urllib.request.build_opener(_Redirect)

    def _basic(self, ref: Reference) -> str | None:
        found = self.credentials.get(ref.registry)
        if found is None:
            return None
        return "Basic " + base64.b64encode(f"{found[0]}:{found[1]}".encode()).decode("ascii")

    def _request(self, method: str, url: str, headers: Mapping[str, str], what: str) -> _Response:
        request = urllib.request.Request(url, method=method, headers=dict(headers))
        try:
            with self._opener.open(request, timeout=self.timeout) as reply:
                return _Response(reply.status, _lower(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, _lower((exc.headers or {}).items()), exc.read() or b"")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RegistryError(
                f"{what}: cannot reach {urllib.parse.urlsplit(url).netloc} ({reason})"
            ) from None

    def _token(self, ref: Reference, params: Mapping[str, str], what: str) -> str:
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"{what}: {ref.api_host} asks for a token without a realm")
        query = {k: params[k] for k in ("service", "scope") if params.get(k)}
        query.setdefault("scope", f"repository:{ref.repository}:pull")
        url = f"{realm}{'&' if '?' in realm else '?'}{urllib.parse.urlencode(query)}"
        headers = {"User-Agent": "gitops-gen"}
        basic = self._basic(ref)
        if basic:
            headers["Authorization"] = basic
        reply = self._request("GET", url, headers, what)
        if reply.status != 200:
            login = "" if basic else f" (no credentials for {ref.registry}: docker login?)"
            raise RegistryError(
                f"{what}: the token service of {ref.api_host} answered {reply.status}{login}"
            )
        try:
            data: Any = json.loads(reply.body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{what}: the token service of {ref.api_host} sent no token")
        return f"Bearer {token}"

    def _manifest(self, ref: Reference, method: str, what: str) -> _Response:
        scheme = "http" if ref.registry in self.insecure else "https"
        url = f"{scheme}://{ref.api_host}/v2/{ref.repository}/manifests/{ref.tag or 'latest'}"
        headers = {"Accept": ACCEPT, "User-Agent": "gitops-gen"}
        key = (ref.api_host, ref.repository)
        if key in self._auth:
            headers["Authorization"] = self._auth[key]
        reply = self._request(method, url, headers, what)
        if reply.status == 401 and key not in self._auth:
            scheme_name, params = _challenge(reply.headers.get("www-authenticate", ""))
            if scheme_name == "bearer":
                self._auth[key] = self._token(ref, params, what)
            elif scheme_name == "basic" and self._basic(ref):
                self._auth[key] = self._basic(ref) or ""
            else:
                raise RegistryError(
                    f"{what}: {ref.api_host} wants credentials (docker login {ref.registry})"
                )
            return self._manifest(ref, method, what)
        return reply

    def resolve(self, ref: Reference) -> str:
        """The digest of the manifest (or index) `ref`'s tag names."""
        what = f"{ref.registry}/{ref.repository}:{ref.tag or 'latest'}"
        reply = self._manifest(ref, "HEAD", what)
        digest = reply.headers.get("docker-content-digest", "")
        if reply.status == 200 and _DIGEST.match(digest):
            return digest
        # No digest header, or a registry that answers HEAD poorly: GET and hash the body.
        reply = self._manifest(ref, "GET", what)
        if reply.status == 404:
            raise RegistryError(f"{what}: no such tag or repository on {ref.api_host}")
        if reply.status in (401, 403):
            raise RegistryError(f"{what}: {ref.api_host} refused access ({reply.status})")
        if reply.status != 200:
            raise RegistryError(f"{what}: {ref.api_host} answered {reply.status}")
        digest = reply.headers.get("docker-content-digest", "")
        if _DIGEST.match(digest):
            return digest
        return "sha256:" + hashlib.sha256(reply.body).hexdigest()
