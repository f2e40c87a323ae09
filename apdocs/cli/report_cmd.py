"""`apdocs report`: the QA report (Word, optionally PDF), from the register where one exists.

With a register (``--db``, ``$APDOCS_DB``, or ``apdocs.db`` here), RETURNS are reconciled as a
registered run would (returns read in earlier runs count), and the trend compares the terms of earlier
runs. The report only reads the register: no run is recorded and no finding's status moves. Without
one it is a plain reconcile run.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from apdocs.cli import db_option, fail, jobs_option, main, profile_option, refuse_output_over_input
from apdocs.cli.reconcile_cmd import _as_of
from apdocs.errors import ApdocsError
from apdocs.profile import Profile


@main.command("report")
@click.option(
    "--roster", "roster_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Roster CSV or XLSX."
)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date the date rules are judged at (default: today).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="YAML file overriding thresholds.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Report to write (.docx).")
@click.option("--pdf", is_flag=True, help="Also write a PDF beside it, made by LibreOffice.")
@click.option("--force", is_flag=True, help="Replace a report already there.")
@click.argument("returns", nargs=-1, type=click.Path(path_type=Path))
@db_option
@jobs_option
@profile_option
def report_cmd(
    roster_path: Path,
    as_of: str | None,
    config_path: Path | None,
    output: Path,
    pdf: bool,
    force: bool,
    returns: tuple[Path, ...],
    db: str | None,
    jobs: int | None,
    profile: Profile,
) -> None:
    """Reconcile RETURNS against the roster (as `apdocs reconcile` does) and write the QA report.

    With a register, the trend against earlier terms is added (see `apdocs reconcile --db`).
    """
    from apdocs.parse import iter_files, parse_many
    from apdocs.reconcile import load_config, reconcile
    from apdocs.reports.qa_report import write_report
    from apdocs.reports.registered_run import report_from_register
    from apdocs.roster import load_roster

    day = _as_of(as_of)
    refuse_output_over_input((output, output.with_suffix(".pdf")), (roster_path, *returns))
    try:
        cfg = load_config(config_path, profile=profile)
        roster = load_roster(roster_path)
        ours = {os.path.realpath(output), os.path.realpath(output.with_suffix(".pdf"))}
        files = (f for f in iter_files(returns) if os.path.realpath(f) not in ours)
        records = parse_many(files, jobs=jobs)
        if _has_register(db):
            got = report_from_register(db, roster, records, as_of=day, config=cfg, profile=profile)
            result, history, standing = got.result, got.history, got.standing
        else:
            result, history, standing = reconcile(roster, records, cfg, day, profile=profile), [], None
        paths = write_report(result, output, profile=profile, history=history, standing=standing, pdf=pdf, overwrite=force)
    except ApdocsError as exc:
        fail(exc)
        return
    for p in paths:
        click.echo(str(p))


def _has_register(db: str | None) -> bool:
    """``--db`` or ``$APDOCS_DB`` names one, or the default ``apdocs.db`` is here: never create one just to report."""
    from apdocs.register.db import DB_ENV, DEFAULT_FILE

    return bool(db or os.environ.get(DB_ENV)) or Path(DEFAULT_FILE).is_file()
