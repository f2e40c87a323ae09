"""Low-level SpreadsheetML value encoding: cell XML, string escaping, date serials.

The renderer writes answer cells straight into the sheet XML (see ``render.py``), so the
rules Excel applies to strings live here, next to their inverse used by the reader:

* characters XML 1.0 cannot carry (``\\x00``-``\\x1f`` bar tab/newline/CR) are written
  as ``_xHHHH_``, and a literal ``_xHHHH_`` in the text gets its underscore escaped as
  ``_x005F_`` (ECMA-376 Part 1, 22.9.2.19 ST_Xstring), so every string survives;
* carriage returns are written as ``&#13;`` because a parser folds a raw CR into LF;
* text is always an inline *string* cell, so ``=SUM(A1)`` typed by a school stays text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from xml.sax.saxutils import escape

_EPOCH_1900 = dt.date(1899, 12, 30)  # serial 61 = 1900-03-01 (Excel keeps Lotus's phantom 1900-02-29)
_EPOCH_1900_EARLY = dt.date(1899, 12, 31)  # serials 1..59
_EPOCH_1904 = dt.date(1904, 1, 1)
_MAX_DATE = dt.date(9999, 12, 31)

# Characters that must be escaped as _xHHHH_: XML-illegal controls, non-characters, lone surrogates.
_ILLEGAL = "\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff"
# What escape_text rewrites, in one left-to-right pass: an illegal character, or an underscore a
# reader would take for the start of an escape - one followed by "xHHHH" and then an underscore
# or an illegal character, whose own escape starts with one. The look-ahead does not consume, so
# in "_x0000_x0000_" both underscores that start an escape are escaped, the shared one included
# (a consuming pattern escaped only the first, and the text came back as "_x0000" + NUL).
_TO_ESCAPE = re.compile(f"_(?=x[0-9A-Fa-f]{{4}}[_{_ILLEGAL}])|[{_ILLEGAL}]")
_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def escape_text(text: str) -> str:
    """``text`` as the content of a SpreadsheetML ``<t>`` element (already XML-escaped)."""
    return escape(x_escaped(text)).replace("\r", "&#13;")


def x_escaped(text: str) -> str:
    """``text`` with the ``_xHHHH_`` escapes of ST_Xstring applied but not yet XML-escaped.

    The inverse is :func:`unescape_text`. For writers that do their own XML escaping (the
    tracker's streamed sheets): text without ``_x`` and without illegal characters is unchanged.
    """
    return _TO_ESCAPE.sub(_escaped, text)


def _escaped(m: re.Match[str]) -> str:
    return f"_x{ord(m.group()):04X}_"  # an underscore becomes _x005F_, as ST_Xstring says


def unescape_text(text: str) -> str:
    """Inverse of the ``_xHHHH_`` part of :func:`escape_text` (the XML parser did the rest)."""
    if "_x" not in text:
        return text
    text = _X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # A character beyond U+FFFF escaped as its UTF-16 pair (_xD83D__xDE00_) is that character.
    # A lone half stays for apdocs.record_scrub to replace with U+FFFD and report (TEXT_INVALID).
    return _PAIR.sub(lambda m: m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le"), text)


def string_cell(ref: str, style: str | None, text: str) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape_text(text)}</t></is></c>'


def number_cell(ref: str, style: str | None, number: float | int) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}><v>{number!r}</v></c>'


def empty_cell(ref: str, style: str | None) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}/>'


def date_to_serial(day: dt.date) -> int | None:
    """Excel 1900-system serial of ``day``; None for days Excel cannot show (before 1900)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if day < dt.date(1900, 1, 1):
        return None
    if day < dt.date(1900, 3, 1):
        return (day - _EPOCH_1900_EARLY).days
    return (day - _EPOCH_1900).days


def serial_to_date(serial: float, *, date1904: bool = False) -> dt.date | None:
    """Date of an Excel serial (time of day dropped); None if out of Excel's range.

    A cell can hold ``inf`` or ``nan`` (``<v>inf</v>`` parses as a float): no day, None."""
    if not math.isfinite(serial):
        return None
    days = int(serial // 1)
    try:
        if date1904:
            day = _EPOCH_1904 + dt.timedelta(days=days)
        elif days < 1:
            return None
        elif days < 60:
            day = _EPOCH_1900_EARLY + dt.timedelta(days=days)
        elif days == 60:
            return dt.date(1900, 2, 28)  # Excel's phantom 1900-02-29; the nearest real day
        else:
            day = _EPOCH_1900 + dt.timedelta(days=days)
    except OverflowError:
        return None
    return day if day <= _MAX_DATE else None
