"""`apdocs parse FILE|DIR... [--json] [--jobs N]`: read returned forms, report each, go on past bad ones."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click

from apdocs.cli import EXIT_OK, EXIT_SOME_FAILED, jobs_option, main, profile_option
from apdocs.cli.progress import Progress, wanted
from apdocs.parse import iter_files, parse_many
from apdocs.profile import Profile
from apdocs.record import ParsedReturn, ParseFailure
from apdocs.record_scrub import printable_text, strict_json


@main.command("parse")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per file.")
@jobs_option
@profile_option  # taken for uniformity: forms are read by their questions, which no profile changes
def parse_cmd(inputs: tuple[Path, ...], as_json: bool, jobs: int | None, profile: Profile) -> None:
    """Read returned forms (files, or folders walked in name order).

    Exit 0 when every file was read, 1 when any could not be (all are still reported).
    """
    failed = 0
    files = list(iter_files(inputs))  # paths only: counted up front so the bar can show an ETA
    if as_json:
        click.echo("[")
    with Progress(total=len(files), unit="file", label="parse", show=wanted(as_json=as_json) and len(files) > 1) as bar:
        for n, result in enumerate(bar.wrap(parse_many(files, jobs=jobs))):
            failed += not result.ok
            if as_json:
                # Streamed element by element so a large batch never sits in memory twice.
                body = textwrap.indent(strict_json(result.to_dict()), "  ")
                click.echo(("," if n else "") + "\n" * bool(n) + body, nl=False)
            else:
                bar.echo(_line(result))
    if as_json:
        click.echo("\n]")
    if failed:
        click.echo(f"{failed} file(s) could not be read", err=True)
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _line(result: ParsedReturn | ParseFailure) -> str:
    """One line per file: path, form, reference, warnings - or the error code and message.

    A path that is not valid UTF-8 (a lone surrogate from the file system) is shown with U+FFFD,
    so the line can always be printed."""
    if isinstance(result, ParsedReturn):
        line = f"{result.source.path}\t{result.form}\t{result.reference or '-'}\t{len(result.warnings)} warning(s)"
    else:
        line = f"{result.source.path}\tFAILED {result.error.code}\t{result.error.message}"
    return printable_text(line)
