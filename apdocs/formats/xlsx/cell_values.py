"""Typed slot values from workbook cells, with notices collected.

A cell already has a type (text, number, bool, date serial); text goes through
:mod:`apdocs.values` (the one place typed text is interpreted), numbers and dates are
taken as they are. Notices name the slot, never the value typed.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from apdocs import values as v
from apdocs.errors import Notice
from apdocs.forms.model import FormDefinition, Slot

from .book import Cell
from .cellxml import serial_to_date


class CellReader:
    """Converts cells to slot values; every problem becomes a :class:`Notice`."""

    def __init__(self, *, date1904: bool = False) -> None:
        self.date1904 = date1904
        self.notices: list[Notice] = []
        self._seen_dates: dict[str, str] = {}  # slot id -> date found inside a "seen" answer

    def _note(self, notice: Notice | None) -> None:
        if notice is not None:
            self.notices.append(notice)

    def value(self, slot: Slot, cell: Cell | None) -> Any:
        if cell is None or cell.value is None:
            if cell is not None and cell.formula:
                self._note(Notice("FORMULA_NOT_CALCULATED", "a formula had no calculated value; left blank", where=slot.id))
            return None
        if cell.formula:
            self._note(Notice("FORMULA_CACHED", "a formula was found; its last calculated value was read", where=slot.id))
        if cell.kind == "e":
            self._note(Notice("CELL_ERROR", "the cell shows a spreadsheet error; left blank", where=slot.id))
            return None
        kind = slot.type
        if kind == "date":
            return self._date(slot, cell)
        if kind in ("money", "number") and cell.kind == "n":
            number = float(cell.value)
            if not math.isfinite(number):  # <v>inf</v> or <v>nan</v>: JSON has no such number
                self._note(Notice("NUMBER_NOT_FINITE", "a number was infinite or not a number; left blank", where=slot.id))
                return None
            return number
        if kind == "bool":
            raw: Any = cell.value if cell.kind in ("b", "n") else self._as_text(cell)
            value, iso, notice = v.read_yes_no(raw, where=slot.id)
            self._note(notice)
            if iso:  # "Yes - seen 12/03/2020": kept for the date-seen cell
                self._seen_dates[slot.id] = iso
            return value
        value, notice = v.read_typed(kind, self._as_text(cell), choices=slot.choices, where=slot.id)
        self._note(notice)
        return value

    def _as_text(self, cell: Cell) -> str:
        if cell.kind == "n":
            if cell.date_format:
                day = serial_to_date(cell.value, date1904=self.date1904)
                if day is not None:
                    return day.isoformat()
            number = float(cell.value)
            return str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:.15g}"
        if cell.kind == "b":
            return "TRUE" if cell.value else "FALSE"
        return str(cell.value)

    def _date(self, slot: Slot, cell: Cell) -> str | None:
        if cell.kind == "n":
            day = serial_to_date(float(cell.value), date1904=self.date1904)
            if day is None:
                self._note(Notice("DATE_UNREADABLE", "a date number is outside the calendar; left blank", where=slot.id))
                return None
            return day.isoformat()
        if cell.kind == "d":
            try:
                return dt.date.fromisoformat(str(cell.value)[:10]).isoformat()
            except ValueError:
                pass
        iso, notice = v.read_date(self._as_text(cell), where=slot.id)
        self._note(notice)
        return iso

    def fill_dates_from_seen(self, form: FormDefinition, flat: dict[str, Any]) -> None:
        """ "Yes - seen 12/03/2020" in a Seen cell gives the date seen when that cell is blank."""
        for it in form.items:
            iso = self._seen_dates.get(f"{it.id}.seen")
            if iso and flat.get(f"{it.id}.date_seen") is None:
                flat[f"{it.id}.date_seen"] = iso
