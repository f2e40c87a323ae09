"""From the archive to the tracker: parse every archived form once, reconcile, write.

The tracker is rebuilt from the whole archive on every run, never patched, so it is
always consistent with what the archive holds - including after a crash: a run killed
before the tracker was written leaves the old tracker, and the next run writes the new
one from everything archived so far. Duplicate files (the same bytes sent twice) are one
return, because the archive keeps each file once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from apdocs.mail.archive import Archive
from apdocs.parse import parse_many
from apdocs.reconcile import reconcile
from apdocs.reconcile.config import Config
from apdocs.reconcile.engine import Result
from apdocs.record import ParsedReturn, ParseFailure
from apdocs.roster import Roster


def parse_archive(archive: Archive) -> list[ParsedReturn | ParseFailure]:
    """Every archived form, read; a file that cannot be read is a ParseFailure, kept and listed."""
    return list(parse_many([str(f.path) for f in archive.files()]))


def reconcile_archive(archive: Archive, roster: Roster, *, as_of: dt.date, config: Config | None = None) -> Result:
    return reconcile(roster, parse_archive(archive), config, as_of=as_of)


def write_tracker_from_archive(
    archive: Archive, roster: Roster, tracker: str | Path, *, as_of: dt.date, config: Config | None = None
) -> Result:
    from apdocs.reports.tracker import write_tracker

    result = reconcile_archive(archive, roster, as_of=as_of, config=config)
    write_tracker(result, tracker)  # atomic: temp, fsync, rename
    return result
