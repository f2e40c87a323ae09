"""Read the first worksheet of an .xlsx as rows of text (used for the roster).

Goes through the same vetted package opener as returned forms (zip caps, no DTDs,
cell-count cap), so a roster workbook gets the same protection as a school's file.
"""

from __future__ import annotations

from apdocs.formats.ooxml import open_package

from .book import Book, Cell
from .cellxml import serial_to_date


def _text(cell: Cell, date1904: bool) -> str:
    if cell.value is None:
        return ""
    if cell.kind == "b":
        return "y" if cell.value else "n"
    if cell.kind == "n":
        if cell.date_format:
            day = serial_to_date(cell.value, date1904=date1904)
            if day is not None:
                return day.isoformat()
        number = float(cell.value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(cell.value)


def read_rows(data: bytes, *, path: str | None = None) -> list[tuple[int, list[str]]]:
    """(row number, cell texts) for each non-empty row of the first worksheet.

    Dates shown as dates become ``YYYY-MM-DD``, booleans ``y``/``n``, whole numbers lose ``.0``.
    Raises :class:`apdocs.errors.ParseError` (typed, naming ``path``) for a bad package.
    """
    book = Book(open_package(data, path=path, kind="xlsx"))
    sheets = book.sheets(include_hidden=False)
    if not sheets:
        return []
    rows: dict[int, dict[int, str]] = {}
    for (r, c), cell in sheets[0].cells.items():
        text = _text(cell, book.date1904)
        if text:
            rows.setdefault(r, {})[c] = text
    return [(r, [cols.get(i, "") for i in range(1, max(cols) + 1)]) for r, cols in sorted(rows.items())]
