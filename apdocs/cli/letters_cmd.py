"""`apdocs letters`: a covering letter per roster school, plus Appendix 1, from editable templates."""

from __future__ import annotations

from pathlib import Path

import click

from apdocs.cli import fail, main, profile_option
from apdocs.errors import ApdocsError
from apdocs.profile import Profile


@main.command("letters")
@click.option(
    "--roster", "roster_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Roster CSV or XLSX."
)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the letters.")
@click.option(
    "--context", "context_path", type=click.Path(dir_okay=False, path_type=Path), help="Letter context YAML (signatory ...)."
)
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path), help="Covering letter template (.docx).")
@click.option("--appendix1", type=click.Path(dir_okay=False, path_type=Path), help="Appendix 1 template (.docx).")
@click.option("--force", is_flag=True, help="Replace letters already in the folder.")
@profile_option
def letters_cmd(
    roster_path: Path,
    output: Path,
    context_path: Path | None,
    template: Path | None,
    appendix1: Path | None,
    force: bool,
    profile: Profile,
) -> None:
    """Write OUTPUT/covering-letter-<school>.docx for each roster school and OUTPUT/appendix1-guidance.docx."""
    from apdocs.reports.letters import write_covering_letters
    from apdocs.roster import load_roster

    try:
        roster = load_roster(roster_path)
        paths = write_covering_letters(
            roster, output, template=template, appendix1=appendix1, context_path=context_path, overwrite=force, profile=profile
        )
    except ApdocsError as exc:
        fail(exc)
        return
    for p in paths:
        click.echo(str(p))
