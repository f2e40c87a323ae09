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

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import load_workbook
from openpyxl.packaging.manifest import Manifest
from openpyxl.utils import column_index_from_string
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
from openpyxl.xml.functions import fromstring

from apdocs.errors import ApdocsError
from apdocs.formats.xlsx.book import string_text
from apdocs.formats.xlsx.cellxml import unescape_text
from apdocs.register.model import TRACKER_DECISIONS, OfficerEdit
from apdocs.reports.safe import sheet_text
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
    if not target.is_file():
        # No file, or a device or pipe (``-o /dev/null``): nothing an officer could have typed into.
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
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError) as exc:
        raise _unreadable(target, exc) from None
    try:
        edits = _edits(wb, target)
        editor = _text(wb.properties.lastModifiedBy) if edits else ""
        return ReadBack(edits, editor or None)
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, IndexError, ValueError) as exc:
        # A damaged sheet part, or a shared-string index past the table: read as a stream, such a
        # file fails here rather than at load_workbook.
        raise _unreadable(target, exc) from None
    finally:
        wb.close()


def _unreadable(target: Path, exc: Exception) -> TrackerUnreadable:
    return TrackerUnreadable(
        f"the tracker cannot be read back ({type(exc).__name__}); it was left as it is. Move it aside "
        "(keeping it: it may hold officers' decisions) or repair it, then run again",
        path=str(target),
    )


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
    strings = _shared_strings(wb)
    written: dict[str, tuple[str, str]] = {}
    for _, (key, decision, note) in _values(wb, strings, WRITTEN_SHEET, (1, 2, 3), min_row=2):
        if key:
            written[str(key).strip()] = (_text(decision), _text(note))
    edits: dict[str, OfficerEdit] = {}
    wanted = (cols[KEY], cols[DECISION], cols[NOTE])
    for number, (key_value, decision_value, note_value) in _values(wb, strings, FINDINGS_SHEET, wanted, min_row=2):
        key = _text(key_value)
        decision = _text(decision_value).casefold()
        note = _text(note_value)
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


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _C, _V, _F, _IS, _SI = (f"{_MAIN}{n}" for n in ("row", "c", "v", "f", "is", "si"))
_LETTERS = re.compile(r"[A-Z]+")


def _shared_strings(wb: Any) -> list[str]:
    """The workbook's shared strings (the table Excel and LibreOffice save text in), as typed.

    Read here rather than taken from openpyxl, whose reader decodes no ``_xHHHH_`` escape but
    deletes every ``x005F_``: an officer's ``_x005F_`` (saved as ``_x005F_x005F_``) would come
    back as ``_``, and ``ax005F_b`` as ``ab``. Found as openpyxl finds it (``[Content_Types].xml``).
    """
    archive = wb._archive  # a read-only workbook keeps its zip open
    part = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
    if part is None:
        return []
    strings = []
    with archive.open(part.PartName[1:]) as src:
        for _, si in etree.iterparse(src, events=("end",), tag=_SI, **_SAFE):
            strings.append(string_text(si))
            si.clear()
            while si.getprevious() is not None:
                del si.getparent()[0]
    return strings


def _values(
    wb: Any, strings: list[str], sheet: str, columns: tuple[int, ...], min_row: int = 1
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, the values of ``columns``) for each row of ``sheet`` from ``min_row`` that the sheet holds.

    A country's tracker has ~100,000 findings rows of 16 cells: openpyxl's reader types every
    cell (~20 s). This reads the sheet's XML as a stream, keeps only the cells of ``columns``,
    and gives their values as openpyxl (``data_only=False``) would: text, shared (``strings``:
    see :func:`_shared_strings`) or inline; numbers; booleans; ``=formula`` for a formula. Text
    is given as typed (see :func:`_typed`), not as openpyxl reads it.
    """
    ws = wb[sheet]  # a read-only workbook's sheet: its path
    index = {col: i for i, col in enumerate(columns)}
    last = 0
    with wb._archive.open(ws._worksheet_path) as src:
        for _, row in etree.iterparse(src, events=("end",), tag=_ROW, **_SAFE):
            r = row.get("r")
            number = last = int(r) if r else last + 1
            if number >= min_row:
                values: list[Any] = [None] * len(columns)
                col = 0
                for c in row.iterchildren(_C):
                    ref = c.get("r")
                    col = _column(ref) if ref else col + 1
                    if col in index:
                        values[index[col]] = _cell_value(c, strings)
                yield number, tuple(values)
            row.clear()
            while row.getprevious() is not None:  # what is read is let go
                del row.getparent()[0]


_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def _column(ref: str) -> int:
    letters = _LETTERS.match(ref)
    return column_index_from_string(letters.group()) if letters else 0


def _cell_value(c: Any, strings: list[str]) -> Any:
    f = c.find(_F)
    if f is not None and f.text:
        return "=" + f.text
    kind = c.get("t", "n")
    if kind == "inlineStr":
        inline = c.find(_IS)
        return _typed(string_text(inline)) if inline is not None else None
    v = c.findtext(_V)
    if v is None:
        return None
    if kind == "s":
        return _typed(strings[int(v)])
    if kind == "str":
        return _typed(unescape_text(v))
    if kind == "e":
        return v
    if kind == "b":
        return v.strip() in ("1", "true")
    try:
        number = float(v)
    except ValueError:
        return v
    return int(number) if number.is_integer() and "." not in v and "E" not in v.upper() else number


def _typed(text: str) -> str:
    """Text read back, its escapes decoded, as the tracker can show it: the inverse of the writer.

    apdocs writes a literal ``_xHHHH_`` with its underscore escaped (``_x005F_``), as Excel and
    LibreOffice save it, and :func:`~apdocs.formats.xlsx.book.string_text` decodes the escapes.
    A decoded character a cell cannot hold is made what :func:`~apdocs.reports.safe.sheet_text`
    makes it when writing (``_x0000_`` dropped, a lone ``_xD800_`` U+FFFD): the register never
    stores what the next tracker could not show, nor text that cannot be encoded.
    """
    return sheet_text(text)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
