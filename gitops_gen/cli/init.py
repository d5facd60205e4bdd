"""`init`: a new gitops-gen repo from the packaged starter files."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen.cli.app import main, run
from gitops_gen.cli.render import render_command
from gitops_gen.errors import EXIT_PASS, GitopsGenError


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init_cmd(directory: Path) -> None:
    """Scaffold a gitops-gen repo in DIRECTORY: a node, a lane, a lock, policies, hooks."""
    run(lambda: init_command(directory))


INIT_FILES = (
    "gitops-gen.yaml",
    "hardware/gpu-node-1.yaml",
    "lanes/main.yaml",
    "models.lock.yaml",
    "policies/policy.yaml",
    "policies/waivers.yaml",
    ".pre-commit-config.yaml",
)


def init_command(directory: Path) -> int:
    from importlib import resources

    if (directory / "gitops-gen.yaml").exists():
        raise GitopsGenError(
            f"{directory / 'gitops-gen.yaml'} exists: this is a gitops-gen repo "
            "already; init never overwrites"
        )
    source = resources.files("gitops_gen").joinpath("defaults")
    files = {rel: source.joinpath("init", rel).read_text("utf-8") for rel in INIT_FILES}
    files["policies/capabilities.yaml"] = source.joinpath("capabilities.yaml").read_text("utf-8")
    files["policies/known-broken.yaml"] = source.joinpath("known-broken.yaml").read_text("utf-8")
    clashes = [rel for rel in files if (directory / rel).exists()]
    if clashes:
        raise GitopsGenError(f"{', '.join(clashes)} exist in {directory}; init never overwrites")
    for rel, text in sorted(files.items()):
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    render_command(directory, check=False, name_files=False)
    click.echo(
        "next: describe your node in hardware/, then\n"
        "  gitops-gen lock add PATH   (your GGUF file or Hugging Face snapshot)\n"
        "  gitops-gen pin             (image digests, from their registries)\n"
        "  gitops-gen render && gitops-gen check"
    )
    return EXIT_PASS
