"""Keep typed text as text in spreadsheets: no formula injection.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return can be
taken for a formula by Excel or LibreOffice (or by a CSV import). Everything a school
typed, and all roster text, goes through here on its way out:

* xlsx: the cell is written as an inline *string* (openpyxl ``data_type = "s"``, never
  ``"f"``) and styled with ``quotePrefix`` so that editing the cell in Excel keeps it
  text. The characters themselves are unchanged: a literal ``_xHHHH_``, which Excel would
  decode, is written with its underscore escaped (``_x005F_``), as Excel itself saves it.
* CSV: a CSV cell has no type, so hostile text gets a leading apostrophe ``'`` (the
  OWASP recommendation), which spreadsheet programs show as text.
"""

from __future__ import annotations

import re
from typing import Any

from apdocs.formats.xlsx.cellxml import x_escaped
from apdocs.record_scrub import printable_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them): controls but tab, LF and CR; U+FFFE, U+FFFF.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_cell(value: Any) -> str:
    """A value for a CSV cell; hostile text is prefixed with an apostrophe."""
    if value is None:
        return ""
    text = printable_text(str(value))  # a file name that is not UTF-8 carries lone surrogates
    return "'" + text if looks_like_formula(text) else text


def sheet_text(text: str) -> str:
    """``text`` as a spreadsheet cell can hold it: without characters XML cannot hold, lone surrogates as U+FFFD."""
    return _ILLEGAL.sub("", printable_text(text))


def set_cell(cell: Any, value: Any) -> Any:
    """Write ``value`` into an openpyxl cell; any text is stored as a string, never a formula.

    (The tracker's streamed sheets do the same in :mod:`apdocs.reports.sheet_stream`: an inline
    string, ``_x005F_`` for the underscore of a literal ``_xHHHH_``, and ``quotePrefix`` when it
    looks like a formula.)
    """
    if isinstance(value, str):
        value = sheet_text(value)
        # openpyxl writes text as it is, so a literal _xHHHH_ would be read as an escape (_x0041_
        # shown as "A"): its underscore is stored escaped (_x005F_), as Excel itself saves it.
        cell.value = x_escaped(value) if "_x" in value else value
        cell.data_type = "s"  # openpyxl would otherwise make "=..." a formula
        if looks_like_formula(value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell
