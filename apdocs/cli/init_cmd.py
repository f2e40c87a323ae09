"""`apdocs init [DIR]`: a commented profile to start a new Virtual School from."""

from __future__ import annotations

from pathlib import Path

import click

from apdocs.cli import fail, main
from apdocs.errors import ApdocsError
from apdocs.profile import PROFILE_ENV, init_profile


@main.command("init")
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
def init_cmd(folder: Path) -> None:
    """Write FOLDER/apdocs-profile.yaml (default: here), a commented profile to edit; an existing one is kept."""
    try:
        path = init_profile(folder)
    except ApdocsError as exc:
        fail(exc)
        return
    click.echo(str(path))
    click.echo(f"edit it, then pass --profile {path} to any command (or set ${PROFILE_ENV})", err=True)
