"""Officers' decisions in the tracker: the columns they may edit, written out and read back.

The Findings sheet carries ``Key``, ``Decision`` (accept, chase or blank) and ``Officer note``.
Beside them, a very hidden sheet records what each row's decision and note were when apdocs
wrote the file. Reading the tracker back is a three-way merge: a cell is an officer's edit
only when it differs from what was written, so a stale tracker cannot undo a decision made
from the CLI since it was written, and a finding's row may be sorted or moved freely.

A tracker that cannot be read back with certainty (open in Excel or LibreOffice, corrupt,
or reshaped so the columns cannot be found) is refused, never replaced: replacing it could
lose what an officer typed.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from apdocs.errors import ApdocsError
from apdocs.register.model import TRACKER_DECISIONS, OfficerEdit
from apdocs.reports.sheet_stream import Cell, Sheet, Styles

FINDINGS_SHEET = "Findings"
WRITTEN_SHEET = "apdocs written"  # very hidden: officers never see or edit it
KEY, DECISION, NOTE = "Key", "Decision", "Officer note"
WRITTEN_COLUMNS = (KEY, DECISION, NOTE)


class TrackerUnreadable(ApdocsError):
    """The existing tracker cannot be read back, so it must not be replaced."""

    code = "TRACKER_UNREADABLE"


def write_written_sheet(wb: Workbook, rows: list[tuple[str, str, str]]) -> None:
    """Record each Findings row's (key, decision, note) as written, for the next run's three-way merge.

    ``wb`` is the tracker's write-only workbook: the rows are streamed, unstyled.
    """
    sheet = Sheet(wb, WRITTEN_SHEET, Styles(wb))
    sheet.ws.sheet_state = "veryHidden"
    sheet.append([Cell(name) for name in WRITTEN_COLUMNS])
    for values in rows:
        sheet.append([Cell(value) for value in values])


def lock_files(path: Path) -> list[Path]:
    """The lock files Excel and LibreOffice keep beside a workbook they have open."""
    return [p for p in (path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")) if p.exists()]


@dataclass(frozen=True)
class ReadBack:
    edits: list[OfficerEdit]
    # Who saved the file last, as Excel and LibreOffice record it (docProps/core.xml); None if not recorded.
    edited_by: str | None = None


def read_officer_edits(path: str | Path) -> ReadBack:
    """What officers changed in the tracker at ``path`` since apdocs wrote it (nothing if there is no file).

    Raises :class:`TrackerUnreadable` when the file exists but cannot be read back with certainty.
    """
    target = Path(path)
    if not target.exists():
        return ReadBack([])
    locks = lock_files(target)
    if locks:
        raise TrackerUnreadable(
            f"the tracker is open in a spreadsheet program ({locks[0].name} is beside it); close it, so edits "
            "not yet saved are not lost, then run again",
            path=str(target),
        )
    try:
        # Read-only: the sheets are read as streams, not built in memory (a country's tracker has
        # some 100,000 findings rows).
        wb = load_workbook(target, read_only=True, data_only=False)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise TrackerUnreadable(
            f"the tracker cannot be read back ({type(exc).__name__}); it was left as it is. Move it aside "
            "(keeping it: it may hold officers' decisions) or repair it, then run again",
            path=str(target),
        ) from None
    try:
        edits = _edits(wb, target)
        editor = _text(wb.properties.lastModifiedBy) if edits else ""
        return ReadBack(edits, editor or None)
    finally:
        wb.close()


def _reshaped(target: Path, why: str) -> TrackerUnreadable:
    return TrackerUnreadable(
        f"the tracker's decisions cannot be read back: {why}. It was left as it is; undo that change "
        "(or move the file aside, keeping it), then run again",
        path=str(target),
    )


def _edits(wb: Workbook, target: Path) -> list[OfficerEdit]:
    if WRITTEN_SHEET not in wb.sheetnames:
        if FINDINGS_SHEET in wb.sheetnames and _columns(wb[FINDINGS_SHEET]).get(KEY):
            raise _reshaped(target, f"its hidden sheet {WRITTEN_SHEET!r} is missing")
        return []  # written before the register existed: it has no decisions to read
    if FINDINGS_SHEET not in wb.sheetnames:
        raise _reshaped(target, f"it has no {FINDINGS_SHEET!r} sheet")
    ws = wb[FINDINGS_SHEET]
    cols = _columns(ws)
    missing = [name for name in WRITTEN_COLUMNS if name not in cols]
    if missing:
        raise _reshaped(target, f"the {FINDINGS_SHEET} sheet has no {', '.join(repr(m) for m in missing)} column")
    written: dict[str, tuple[str, str]] = {}
    for key, decision, note in wb[WRITTEN_SHEET].iter_rows(min_row=2, max_col=3, values_only=True):
        if key:
            written[str(key).strip()] = (_text(decision), _text(note))
    edits: dict[str, OfficerEdit] = {}
    last = max(cols[name] for name in WRITTEN_COLUMNS)
    # Row numbers by counting: a read-only sheet yields every row, empty ones too, in order.
    for number, row in enumerate(ws.iter_rows(min_row=2, max_col=last, values_only=True), 2):
        row = (*row, *([None] * (last - len(row))))  # a short row is blank to the right
        key = _text(row[cols[KEY] - 1])
        decision = _text(row[cols[DECISION] - 1]).casefold()
        note = _text(row[cols[NOTE] - 1])
        where = f"{FINDINGS_SHEET} row {number}"
        if not key:
            if decision or note:
                raise _reshaped(target, f"{where} has a decision or note but no key")
            continue
        if decision not in TRACKER_DECISIONS:
            # The value itself is not repeated: it is an officer's free text.
            raise _reshaped(target, f"{where}: Decision must be accept, chase or blank")
        if key not in written:
            # A mistyped or pasted key: whose decision it is cannot be known, so nothing is guessed.
            raise _reshaped(target, f"{where} has a key apdocs did not write ({key})")
        was_decision, was_note = written[key]
        if (decision, note) == (was_decision, was_note):
            continue
        # Only the cells the officer changed count (see OfficerEdit).
        edit = OfficerEdit(key, decision if decision != was_decision else None, note if note != was_note else None)
        if key in edits and edits[key] != edit:
            raise _reshaped(target, f"finding {key} appears on two rows with different decisions or notes")
        edits[key] = edit
    return list(edits.values())


def _columns(ws: Any) -> dict[str, int]:
    """Heading -> column number, from the sheet's first row (officers may move columns)."""
    return {_text(c.value): c.column for c in next(ws.iter_rows(min_row=1, max_row=1), ()) if _text(c.value)}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
