"""Checkov on every example's rendered/ finds nothing the README does not justify.

Opt-in (Checkov and its dependencies are large): set GITOPS_GEN_CHECKOV to a checkov
executable, e.g. `python -m venv /tmp/ckv && /tmp/ckv/bin/pip install checkov` then
GITOPS_GEN_CHECKOV=/tmp/ckv/bin/checkov. The README's table between
<!-- checkov:start --> and <!-- checkov:end --> lists each check that may fail, with
its one-line reason; anything else fails this test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHECKOV = os.environ.get("GITOPS_GEN_CHECKOV")
REPOS = [ROOT, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]

OPT_IN = pytest.mark.skipif(not CHECKOV, reason="opt-in: set GITOPS_GEN_CHECKOV")


def justified() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("<!-- checkov:start -->") : readme.index("<!-- checkov:end -->")]
    return dict(re.findall(r"^\| `(CKV2?_K8S_\d+)` \| (.+?) \|$", table, re.M))


def test_the_readme_justifies_each_check_in_one_line() -> None:
    reasons = justified()
    assert reasons, "the README lists no Checkov check"
    assert all(reason and "\n" not in reason for reason in reasons.values())


@OPT_IN
@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name if p != ROOT else "root")
def test_checkov_finds_only_what_the_readme_justifies(repo: Path) -> None:
    assert CHECKOV is not None
    done = subprocess.run(
        [CHECKOV, "-d", str(repo / "rendered"), "--framework", "kubernetes", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    data = json.loads(done.stdout) if done.stdout.strip() else []
    reports = data if isinstance(data, list) else [data]
    failed = {
        (f["check_id"], f["resource"])
        for report in reports
        for f in report.get("results", {}).get("failed_checks", [])
    }
    unjustified = sorted(f for f in failed if f[0] not in justified())
    assert unjustified == []
