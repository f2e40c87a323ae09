"""`apdocs forms`, `apdocs schema`, `apdocs blank`."""

from __future__ import annotations

from pathlib import Path

import click

from apdocs import api
from apdocs.cli import emit_json, fail, main, profile_option
from apdocs.errors import ApdocsError
from apdocs.forms import FORM_IDS, all_forms, load_form
from apdocs.profile import Profile

FORM_ARG = click.Choice(FORM_IDS)


@main.command("forms")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@profile_option
def forms_cmd(as_json: bool, profile: Profile) -> None:
    """List the forms apdocs knows."""
    rows = [{"id": f.id, "version": f.version, "title": f.title, "name": f.name} for f in all_forms()]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']}\t{r['version']}\t{r['title']}: {r['name']}")


@main.command("schema")
@click.argument("form", type=FORM_ARG)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@profile_option
def schema_cmd(form: str, as_json: bool, profile: Profile) -> None:
    """Print a form's entries in order (id, text, type, section, choices)."""
    f = load_form(form, profile)
    entries = [e.to_dict() for e in f.entries()]
    if as_json:
        emit_json({"form": f.id, "version": f.version, "title": f.title, "name": f.name, "entries": entries})
        return
    for e in entries:
        choices = f"  [{' / '.join(e['choices'])}]" if e["choices"] else ""
        click.echo(f"{e['id']:<36} {e['type']:<9} {e['text']}{choices}")


@main.command("blank")
@click.argument("form", type=FORM_ARG)
@click.option("--format", "fmt", type=click.Choice(["docx", "xlsx"]), default="docx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@profile_option
def blank_cmd(form: str, fmt: str, output: Path, force: bool, profile: Profile) -> None:
    """Write a blank fillable FORM to OUTPUT, worded for the profile's Virtual School."""
    try:
        api.write_form(form, fmt, output, overwrite=force, profile=profile)
    except ApdocsError as exc:
        fail(exc)
    click.echo(str(output))
