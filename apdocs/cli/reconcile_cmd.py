"""`apdocs reconcile`: roster + returned forms -> tracker workbook (and JSON, CSV, feedback letters)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from apdocs.cli import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    db_option,
    emit_json,
    fail,
    jobs_option,
    main,
    profile_option,
    refuse_output_over_input,
)
from apdocs.cli.progress import Progress, wanted
from apdocs.errors import ApdocsError
from apdocs.profile import Profile


def _as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@main.command("reconcile")
@click.option(
    "--roster", "roster_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Roster CSV or XLSX."
)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date the date rules are judged at (default: today).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="YAML file overriding thresholds.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Tracker workbook to write (replaced atomically)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON on stdout.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the findings as CSV.")
@click.option(
    "--letters", "letters_dir", type=click.Path(file_okay=False, path_type=Path), help="Write a feedback letter per school here."
)
@click.option("--template", "template", type=click.Path(dir_okay=False, path_type=Path), help="Feedback letter template (.docx).")
@click.option(
    "--context", "context_path", type=click.Path(dir_okay=False, path_type=Path), help="Letter context YAML (signatory ...)."
)
@click.option("--force", is_flag=True, help="Replace feedback letters already in the --letters folder.")
@jobs_option
@db_option
@click.argument("returns", nargs=-1, type=click.Path(path_type=Path))
@profile_option
def reconcile_cmd(
    roster_path: Path,
    as_of: str | None,
    config_path: Path | None,
    output: Path | None,
    as_json: bool,
    csv_path: Path | None,
    letters_dir: Path | None,
    template: Path | None,
    context_path: Path | None,
    force: bool,
    jobs: int | None,
    db: str | None,
    returns: tuple[Path, ...],
    profile: Profile,
) -> None:
    """Reconcile RETURNS (files or folders) against the roster and the guidance.

    Exit 0 when every return was read, 1 when some could not be (each is listed in the
    tracker as RETURN_UNREADABLE), 3 when nothing could be done (e.g. an invalid roster, or
    an existing tracker whose officers' decisions cannot be read back).

    Writing a tracker (-o), or with --db, the run is recorded in the register: officers'
    decisions are read back from the existing tracker first, and the new tracker shows them.
    """
    from apdocs.fileio import is_backup_of
    from apdocs.parse import iter_files, parse_many
    from apdocs.reconcile import Result, load_config, reconcile
    from apdocs.reports.letters import write_feedback_letters
    from apdocs.reports.registered_run import describe_run, run_to_dict, run_with_register
    from apdocs.reports.tracker import write_findings_csv
    from apdocs.roster import load_roster

    day = _as_of(as_of)
    if not (output or as_json or csv_path or letters_dir):
        raise click.UsageError("nothing to do: give -o TRACKER.xlsx, --json, --csv or --letters")
    refuse_output_over_input((output, csv_path), (roster_path, *returns))
    try:
        cfg = load_config(config_path, profile=profile)  # the profile's thresholds, then --config's
        roster = load_roster(roster_path)
        # Our own outputs may sit inside a RETURNS folder (e.g. -o returns/tracker.xlsx): never read them back.
        ours = {os.path.realpath(p) for p in (output, csv_path) if p is not None}
        # Nor the dated backups of an earlier tracker kept beside it.
        # Paths only, counted for the bar's ETA.
        files = [f for f in iter_files(returns) if os.path.realpath(f) not in ours and not (output and is_backup_of(f, output))]
        # Letters before the tracker: they are the step that can refuse (a letter already there, a
        # template error), and they refuse before writing anything, so a refusal leaves no tracker,
        # and no run recorded in the register, from this run either.
        letters: list[Path] = []

        def write_letters(result: Result) -> None:
            if letters_dir:
                letters.extend(
                    write_feedback_letters(
                        result, letters_dir, template=template, context_path=context_path, overwrite=force, profile=profile
                    )
                )

        run = None
        with Progress(total=len(files), unit="file", label="reconcile", show=wanted(as_json=as_json)) as bar:
            records = bar.wrap(parse_many(files, jobs=jobs))
            if output or db:
                run = run_with_register(
                    db, roster, records, as_of=day, config=cfg, tracker=output, before_commit=write_letters, profile=profile
                )
                result = run.result
            else:
                result = reconcile(roster, records, cfg, day, profile=profile)
                write_letters(result)
        if csv_path:
            write_findings_csv(result, csv_path, run.view if run else None)
    except ApdocsError as exc:
        errors = exc.context.get("errors") if isinstance(exc.context, dict) else None
        if errors:
            # One FILE:LINE: line per problem; the closing error gives only the count, because the
            # exception's own message (kept for library callers) repeats every problem.
            for e in errors:
                click.echo(f"{exc.path or 'roster'}:{e['line']}: {e['message']}", err=True)
            exc = ApdocsError(f"roster has {len(errors)} problem(s), each listed above", code=exc.code, path=exc.path)
        fail(exc)
        return
    if as_json:
        emit_json({**(run_to_dict(run) if run is not None else result.to_dict()), "as_of_given": as_of is not None})
    else:
        counts = ", ".join(f"{n} {sev}" for sev, n in result.counts.items())
        # The date rules (stale evidence, expired cover, overdue visits) all count back from this day.
        click.echo(f"as of {day.isoformat()}" + ("" if as_of else " (today: --as-of was not given)"))
        click.echo(
            f"{len(roster)} placement(s), {result.returns_read} return(s) read, {len(result.failures)} unreadable: {counts}"
        )
        if run is not None:
            click.echo(describe_run(run))
        for path in (output, csv_path, *letters):
            if path:
                click.echo(str(path))
    for f in result.failures:
        click.echo(f"could not read {f.source.path}: {f.error.message} [{f.error.code}]", err=True)
    sys.exit(EXIT_SOME_FAILED if result.failures else EXIT_OK)
