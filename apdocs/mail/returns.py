"""From the archive to the tracker: parse every archived form once, reconcile, write.

The tracker is rebuilt from the whole archive on every run, never patched, so it is
always consistent with what the archive holds - including after a crash: a run killed
before the tracker was written leaves the old tracker, and the next run writes the new
one from everything archived so far. Duplicate files (the same bytes sent twice) are one
return, because the archive keeps each file once.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from apdocs.mail.archive import Archive
from apdocs.mail.errors import MailError, MessageUnreadable
from apdocs.parse import parse_many
from apdocs.profile import Profile
from apdocs.reconcile import reconcile
from apdocs.reconcile.config import Config
from apdocs.reconcile.engine import Result
from apdocs.record import ParsedReturn, ParseFailure, SourceInfo
from apdocs.roster import Roster

if TYPE_CHECKING:
    from apdocs.reports.registered_run import RegisteredRun


def parse_archive(
    archive: Archive, *, jobs: int | None = 1, on_file: Callable[[ParsedReturn | ParseFailure], None] | None = None
) -> list[ParsedReturn | ParseFailure]:
    """Every archived form, read; a file that cannot be read is a ParseFailure, kept and listed.

    A message that could not be opened at all (a truncated .msg, say) has no files, but it is
    listed too, on every run: ingest reports it only when it first arrives (later runs skip
    archived messages unread), and a reply nobody can read must stay visible in the tracker.
    So is a part that may have held forms but could not be opened (a damaged winmail.dat),
    which carries an error code in the message's skipped list. Parts merely skipped (not a
    form, macOS metadata) are never listed: nobody should chase a school for them.
    """
    records: list[ParsedReturn | ParseFailure] = []
    for record in parse_many([str(f.path) for f in archive.files()], jobs=jobs):
        records.append(record)
        if on_file is not None:
            on_file(record)
    for meta in archive.messages():
        error = meta.get("error")
        if error:
            source = SourceInfo(str(archive.root / meta["stored_as"]), meta["sha256"], meta.get("container") or "eml")
            cause = MessageUnreadable(str(error.get("message") or "message could not be read"), path=source.path)
            records.append(ParseFailure(source, cause))
        for part in meta.get("skipped", []):
            if part.get("code"):
                source = SourceInfo(str(archive.root / meta["stored_as"]), meta["sha256"], meta.get("container") or "eml")
                where = f"{source.path}: {part.get('via', '')}{part.get('name', '')}"
                records.append(ParseFailure(source, MailError(str(part.get("reason") or ""), code=part["code"], path=where)))
    return records


def reconcile_archive(
    archive: Archive,
    roster: Roster,
    *,
    as_of: dt.date,
    config: Config | None = None,
    jobs: int | None = 1,
    on_file: Callable[[ParsedReturn | ParseFailure], None] | None = None,
    profile: Profile | None = None,
) -> Result:
    from apdocs.reconcile import load_config

    cfg = config or load_config(profile=profile)  # the profile's thresholds, unless a config is given
    return reconcile(roster, parse_archive(archive, jobs=jobs, on_file=on_file), cfg, as_of=as_of, profile=profile)


def write_tracker_from_archive(
    archive: Archive,
    roster: Roster,
    tracker: str | Path,
    *,
    as_of: dt.date,
    config: Config | None = None,
    db: str | os.PathLike[str] | None = None,
    jobs: int | None = 1,
    on_file: Callable[[ParsedReturn | ParseFailure], None] | None = None,
    profile: Profile | None = None,
) -> RegisteredRun:
    """Record the run in the register ``db`` and write the tracker from it (see apdocs.reports.registered_run).

    ``jobs`` worker processes read the archived forms (see parse_many); ``on_file`` is told of each.
    """
    from apdocs.reports.registered_run import run_with_register

    records = parse_archive(archive, jobs=jobs, on_file=on_file)
    # atomic: temp, fsync, rename; officers' edits in the old tracker are read back first
    return run_with_register(db, roster, records, as_of=as_of, config=config, tracker=tracker, command="ingest", profile=profile)
