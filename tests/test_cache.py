"""The cache (.gitops-gen-cache/): a warm run gives exactly what a cold one gives, after
any edit; it does less work; and it is never trusted beyond the folder that wrote it."""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.cache import CACHE_DIR, FILE, Cache
from gitops_gen.check import check_repo
from gitops_gen.check.validation import KubeSchemas
from gitops_gen.render.templating import TemplateRenderer
from tests.conftest import ROOT, copy_repo

EXE = [sys.executable, "-m", "gitops_gen"]


def _run(repo: Path, *args: str, cache: bool) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITOPS_GEN_NO_CACHE"}
    if not cache:
        env["GITOPS_GEN_NO_CACHE"] = "1"
    done = subprocess.run(
        [*EXE, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


def _tree(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted((repo / "rendered").rglob("*"))
        if p.is_file()
    }


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: notes, namespace: vllm}
data: {a: b}
"""

# One edit of each input kind, applied in turn to the same repo.
EDITS: list[tuple[str, Callable[[Path], None]]] = [
    ("lane", lambda r: _replace(r / "lanes/qwen36-35b-gguf-fast.yaml", "49152", "32768")),
    ("node", lambda r: _replace(r / "hardware/gpu-worker-1.yaml", 'cpu: "15"', 'cpu: "13"')),
    ("lock", lambda r: _replace(r / "models.lock.yaml", "22012345678", "22012345679")),
    (
        "config",
        lambda r: _replace(r / "gitops-gen.yaml", "targetRevision: main", "targetRevision: prod"),
    ),
    ("policy", lambda r: _replace(r / "policies/policy.yaml", "warnAt: 0.95", "warnAt: 0.5")),
    (
        "manifest",
        lambda r: (r / "manifests").mkdir() or (r / "manifests/notes.yaml").write_text(MANIFEST),
    ),
    (
        "activation",
        lambda r: _replace(r / "lanes/qwen36-27b-deep.yaml", "active: false", "active: true"),
    ),
    (
        "rendered edited by hand",
        lambda r: _replace(next((r / "rendered").rglob("service.yaml")), "port", "port "),
    ),
]


WORKFLOW_FILE = "workflows/comfyui/wan21-t2v-480p.json"


def _repin(repo: Path) -> None:
    """Pin the workflow file as it is now."""
    registry = repo / "workflows/comfyui/registry.yaml"
    sha = hashlib.sha256((repo / WORKFLOW_FILE).read_bytes()).hexdigest()
    lines = [
        f"    sha256: {sha}" if line.startswith("    sha256: ") else line
        for line in registry.read_text().splitlines()
    ]
    registry.write_text("\n".join(lines) + "\n")


# The lab example's generic lane mounts pinned workflows; its lanes also move about.
LAB_EDITS: list[tuple[str, Callable[[Path], None]]] = [
    (
        "workflow file",
        lambda r: (r / WORKFLOW_FILE).write_text((r / WORKFLOW_FILE).read_text() + " "),
    ),
    ("workflow pin", _repin),
    ("workflow beside", lambda r: (r / "workflows/comfyui/new.json").write_text("{}")),
    ("lane lines", lambda r: _replace(r / "lanes/comfyui.yaml", "kind: Lane", "\nkind: Lane")),
    (
        "lane file name",
        lambda r: (r / "lanes/qwen25-32b.yaml").rename(r / "lanes/qwen25-32b-renamed.yaml"),
    ),
    (
        "lane activation",
        lambda r: _replace(r / "lanes/comfyui.yaml", "active: false", "active: true"),
    ),
]


@pytest.mark.parametrize(
    ("example", "edits"),
    [("", EDITS), ("examples/lab-48gb-comfyui", LAB_EDITS)],
    ids=["root", "lab"],
)
def test_warm_runs_match_cold_runs_after_every_kind_of_edit(
    tmp_path: Path, example: str, edits: list[tuple[str, Callable[[Path], None]]]
) -> None:
    warm = copy_repo(ROOT / example, tmp_path / "warm", with_rendered=True)
    cold = copy_repo(ROOT / example, tmp_path / "cold", with_rendered=True)
    assert _run(warm, "pre-commit", cache=True) == _run(cold, "pre-commit", cache=False)
    assert (warm / CACHE_DIR / FILE).is_file()
    assert not (cold / CACHE_DIR).exists()  # GITOPS_GEN_NO_CACHE=1: nothing written
    for name, edit in edits:
        edit(warm)
        edit(cold)
        for command in (["render", "--check"], ["check", "--format", "json"], ["pre-commit"]):
            got = _run(warm, *command, cache=True)
            assert got == _run(cold, *command, cache=False), (name, command)
        assert _tree(warm) == _tree(cold), name


def _check_cached(repo: Path) -> list[Any]:
    """check_repo's findings with the repo's cache, saved afterwards (as the CLI does)."""
    cache = Cache.open(repo)
    findings = check_repo(repo, cache=cache).findings
    cache.save()
    return findings


def _counting(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, label: Callable[..., str]
) -> list[str]:
    """Patch owner.name to record label(its arguments) on every call; the record."""
    done: list[str] = []
    real = getattr(owner, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        done.append(label(*args, **kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return done


# (the step, what does it once per object, what names the object it was done for, what a
# one-lane edit makes it do again)
STEPS = [
    pytest.param(
        KubeSchemas,
        "violations",
        lambda obj: f"{obj['kind']}/{obj['metadata']['name']}",
        ["Deployment/qwen36-35b-gguf-fast"],
        id="validation",
    ),
    pytest.param(
        TemplateRenderer,
        "_render",
        lambda planned: planned.path,
        ["homelab/lanes/qwen36-35b-gguf-fast/deployment.yaml"],
        id="templates",
    ),
]


@pytest.mark.parametrize(("owner", "method", "label", "again"), STEPS)
def test_a_one_lane_edit_redoes_only_what_changed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    owner: type,
    method: str,
    label: Callable[[Any], str],
    again: list[str],
) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    done = _counting(monkeypatch, owner, method, lambda _self, item: label(item))
    first = _check_cached(repo)
    assert len(done) == 44  # every object, cold
    done.clear()
    assert _check_cached(repo) == first
    assert done == []  # warm: nothing done again
    _replace(repo / "lanes/qwen36-35b-gguf-fast.yaml", "49152", "32768")
    _check_cached(repo)
    assert done == again


def test_a_one_lane_edit_parses_only_that_lane(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_gen.specs import loader

    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    parsed = _counting(monkeypatch, loader, "parse_yaml", lambda _text, *, file: file)

    def load() -> Any:
        cache = Cache.open(repo)
        repo_model = loader.load_repo(repo, cache=cache)
        cache.save()
        return repo_model

    cold = load()
    assert len(parsed) == 9  # config, one node, six lanes, the lock
    parsed.clear()
    assert load() == cold
    assert parsed == []
    _replace(repo / "lanes/qwen36-35b-gguf-fast.yaml", "49152", "32768")
    assert load() != cold
    assert parsed == ["lanes/qwen36-35b-gguf-fast.yaml"]


def test_a_cache_is_not_trusted_in_another_folder(tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    cache = Cache.open(here)
    cache.put("valid", "k", 1)
    cache.save()
    assert Cache.open(here).get("valid", "k") == 1
    # A cache committed to a repository arrives in every clone as a new folder: ignored.
    there = tmp_path / "there"
    shutil.copytree(here, there)
    assert Cache.open(there).get("valid", "k") is None


def _torn(body: bytes) -> bytes:
    return body[: len(body) // 2]


def _flipped(body: bytes) -> bytes:
    return body[:-10] + bytes([body[-10] ^ 1]) + body[-9:]


def _foreign(body: bytes) -> bytes:
    """A body that passes its check but is not the cache's shape."""
    other = marshal.dumps({"valid": [1, 2], "sha": 3})
    return f"{len(other)} {zlib.crc32(other):08x}\n".encode() + other


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a header\n{}", b"\xff\xfe", _torn, _flipped, _foreign],
    ids=["empty", "no header", "binary", "torn", "flipped bit", "foreign body"],
)
def test_a_corrupt_cache_is_ignored_and_rewritten(
    tmp_path: Path, garbage: bytes | Callable[[bytes], bytes]
) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    expected = _run(repo, "check", "--format", "json", cache=False)
    assert _run(repo, "check", "--format", "json", cache=True) == expected
    file = repo / CACHE_DIR / FILE
    if callable(garbage):  # the right header, then a body that is not what was written
        header, _, rest = file.read_bytes().partition(b"\n")
        body = rest.partition(b"\n")[2] if garbage is not _foreign else rest
        altered = garbage(body)
        if garbage is not _foreign:
            altered = rest.partition(b"\n")[0] + b"\n" + altered
        file.write_bytes(header + b"\n" + altered)
    else:
        file.write_bytes(garbage)
    assert _run(repo, "check", "--format", "json", cache=True) == expected
    assert _run(repo, "check", "--format", "json", cache=True) == expected


def test_the_cache_folder_ignores_itself_in_git(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    assert _run(repo, "render", cache=True)[0] == 0
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert CACHE_DIR not in status
    assert (repo / CACHE_DIR / "CACHEDIR.TAG").is_file()


def test_a_linked_cache_folder_is_neither_read_nor_written(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / CACHE_DIR).symlink_to(outside)
    assert _run(repo, "pre-commit", cache=True)[0] == 0
    assert list(outside.iterdir()) == []  # no write outside the repo through the link


def test_deleting_the_cache_midway_changes_nothing(tmp_path: Path) -> None:
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    first = _run(repo, "pre-commit", cache=True)
    shutil.rmtree(repo / CACHE_DIR)
    _replace(repo / "lanes/qwen36-35b-gguf-fast.yaml", "49152", "32768")
    edited = _run(repo, "pre-commit", cache=True)
    assert edited[0] == 1 and first[0] == 0
    assert _run(repo, "render", "--check", cache=True)[0] == 0


def test_nothing_is_written_through_a_link_inside_the_cache_folder(tmp_path: Path) -> None:
    # A cache folder committed to a repository may hold links pointing outside it.
    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / CACHE_DIR).mkdir()
    (repo / CACHE_DIR / ".gitignore").symlink_to(outside / "planted")
    (repo / CACHE_DIR / FILE).symlink_to(outside / "cache")
    (outside / "cache").write_text("not read\n")
    assert _run(repo, "pre-commit", cache=True)[0] == 0
    assert sorted(p.name for p in outside.iterdir()) == ["cache"]
    assert (outside / "cache").read_text() == "not read\n"
    assert not (repo / CACHE_DIR / FILE).is_symlink()  # replaced, not followed


def test_a_linked_cache_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    cache = Cache.open(here)
    cache.put("valid", "k", 1)
    cache.save()
    real = here / CACHE_DIR / FILE
    moved = tmp_path / "elsewhere.json"
    real.rename(moved)
    real.symlink_to(moved)  # the right header and entries, but behind a link
    assert Cache.open(here).get("valid", "k") is None


@pytest.mark.parametrize("alter", [_torn, _flipped], ids=["torn", "flipped bit"])
def test_a_body_failing_its_check_never_reaches_marshal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alter: Callable[[bytes], bytes]
) -> None:
    from gitops_gen import cache as cache_module

    cache = Cache.open(tmp_path)
    cache.put("valid", "k", 1)
    cache.save()
    file = tmp_path / CACHE_DIR / FILE
    header, check, body = file.read_bytes().split(b"\n", 2)
    loaded: list[bytes] = []
    real = marshal.loads

    def recording(data: bytes) -> Any:
        loaded.append(data)
        return real(data)

    monkeypatch.setattr(cache_module.marshal, "loads", recording)
    assert Cache.open(tmp_path).get("valid", "k") == 1
    assert loaded == [body]
    loaded.clear()
    file.write_bytes(b"\n".join([header, check, alter(body)]))
    assert Cache.open(tmp_path).get("valid", "k") is None
    assert loaded == []


@pytest.mark.parametrize("garbage", ['{"a": 1}, {', '{"a": 1}, {"b": 2}'], ids=["torn", "two"])
def test_cached_outputs_that_do_not_read_back_are_rendered_again(
    tmp_path: Path, garbage: str
) -> None:
    from gitops_gen.render.templating import render_repo
    from gitops_gen.specs.loader import load_repo

    repo = copy_repo(ROOT, tmp_path / "repo")
    cache = Cache.open(repo)
    model = load_repo(repo, cache=cache)  # its sources known: lane units are used
    cold = render_repo(model, renderer=TemplateRenderer())
    render_repo(model, renderer=TemplateRenderer(cache=cache))
    keys = list(cache._new["render"])
    assert len(keys) == 44
    assert len(cache._new["lane"]) == 6
    for key in keys:
        cache.put("render", key, garbage)
    warm = render_repo(model, renderer=TemplateRenderer(cache=cache))
    assert warm.documents == cold.documents
    assert warm.digests == cold.digests


def test_a_one_lane_edit_plans_only_that_lane(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_gen.render import units

    repo = copy_repo(ROOT, tmp_path / "repo", with_rendered=True)
    planned = _counting(
        monkeypatch, units, "plan_lane_files", lambda lane, _inputs, _base: lane.name
    )
    first = _check_cached(repo)
    assert len(planned) == 6  # every lane, cold
    planned.clear()
    assert _check_cached(repo) == first
    assert planned == []
    _replace(repo / "lanes/qwen36-35b-gguf-fast.yaml", "49152", "32768")
    _check_cached(repo)
    assert planned == ["qwen36-35b-gguf-fast"]
    planned.clear()
    _replace(repo / "hardware/gpu-worker-1.yaml", 'cpu: "15"', 'cpu: "13"')
    _check_cached(repo)
    assert len(planned) == 6  # a node is an input of every lane's plan


def test_the_lane_unit_key_covers_what_a_lane_is_planned_from() -> None:
    # plan_lane_files sees the lane and LaneInputs only; render/units.py keys its files
    # by the sources of exactly these. A new member needs its sources in that key.
    from gitops_gen.render.plan import LaneInputs

    members = {name for name in vars(LaneInputs) if not name.startswith("_")}
    assert members == {"config", "nodes", "models", "workflow_registries", "vendor_of", "gpus_of"}


@pytest.mark.parametrize(
    "entry",
    [
        ("url", (("p", "f", 1, "t"),)),
        ("url", "not a tuple"),
        (1, ()),
        ("url", (("p", "f", "1", "t", "k"),)),
    ],
    ids=["short-item", "items-not-a-tuple", "url-not-text", "line-not-a-number"],
)
def test_a_lane_entry_of_another_shape_is_planned_again(tmp_path: Path, entry: Any) -> None:
    # A cache body that passes its check may still hold what this version does not write.
    from gitops_gen.render.templating import render_repo
    from gitops_gen.specs.loader import load_repo

    repo = copy_repo(ROOT, tmp_path / "repo")
    cold = render_repo(load_repo(repo), renderer=TemplateRenderer())
    cache = Cache.open(repo)
    render_repo(load_repo(repo, cache=cache), renderer=TemplateRenderer(cache=cache))
    for key in list(cache._new["lane"]):
        cache.put("lane", key, entry)
    warm = render_repo(load_repo(repo, cache=cache), renderer=TemplateRenderer(cache=cache))
    assert warm.documents == cold.documents
