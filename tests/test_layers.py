"""The package's folders are the pipeline's stages, and imports only point down them.

errors, cache -> specs -> render -> check -> pipeline -> pr / lock / switch -> cli; `fit` only reads
specs. A module may import its own stage or a lower one, never a higher one and never a
sibling at its level, so a stage can be read (and tested) with only what lies below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gitops_gen"

# Stage of each top-level module or sub-package of gitops_gen; lower imports nothing higher.
STAGES = {
    "errors": 0,
    "cache": 0,
    "specs": 1,
    "fit": 2,
    "render": 2,
    "check": 3,
    "pipeline": 4,
    "pr": 5,
    "lock": 5,
    "switch": 5,
    "cli": 6,
    "__main__": 7,
}


def stage_of(module: str) -> str:
    """gitops_gen.check.rules.vram_fit -> check."""
    return module.split(".")[1] if module.count(".") else "__init__"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gitops_gen":
                # `from gitops_gen import __version__` reads the root, not a stage
                found.update(f"gitops_gen.{a.name}" for a in node.names if a.name in STAGES)
            elif node.module.startswith("gitops_gen."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("gitops_gen."))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def upward_imports() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = stage_of(module_name(path))
        if own == "__init__":
            continue  # gitops_gen/__init__.py holds only the version
        for target in sorted(imports_of(path)):
            other = stage_of(target)
            if other == "__init__":
                continue  # `from gitops_gen import __version__`
            if other != own and STAGES[other] >= STAGES[own]:
                bad.append(f"{module_name(path)} imports {target}")
    return bad


def test_every_top_level_module_has_a_stage() -> None:
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    code = {
        n
        for n in names
        if (PACKAGE / f"{n}.py").is_file() or (PACKAGE / n / "__init__.py").exists()
    }
    assert code - {"__init__"} == set(STAGES)


def test_imports_only_point_down_the_stages() -> None:
    assert upward_imports() == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from gitops_gen.check.findings import Finding\nimport gitops_gen.cli\n")
    assert imports_of(source) == {"gitops_gen.check.findings", "gitops_gen.cli"}
    assert stage_of("gitops_gen.check.rules.vram_fit") == "check"
    assert STAGES["check"] > STAGES["render"]
