"""Typed slot values from the text a Word return holds, with notices collected.

Thin layer over :mod:`apdocs.values` (the one place typed text is interpreted) that
knows slot types and collects every notice on one list for the record.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from apdocs import values as v
from apdocs.errors import Notice
from apdocs.forms.model import Slot

# What is left of a legacy "seen" cell once Yes/No and the date are taken out
# ("Yes – seen 12/03/2020" leaves nothing worth keeping as a note).
_FILLER = re.compile(r"^(?:(?:yes|y|no|n|not seen|seen|x)\b|[✓✔☒☑☐])", re.IGNORECASE)


class Reader:
    """Converts typed text to slot values; every problem becomes a :class:`Notice`."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def _note(self, notice: Notice | None) -> None:
        if notice is not None:
            self.notices.append(notice)

    def value(self, slot: Slot, text: Any) -> Any:
        """The value of ``slot`` from typed ``text`` (blank/prompt -> None)."""
        value, notice = v.read_typed(slot.type, text, choices=slot.choices, where=slot.id)
        self._note(notice)
        return value

    def seen_cell(self, text: str, *, where: str) -> tuple[bool | None, str | None, str | None]:
        """(seen, date seen, note) from one legacy "Seen Yes / No" cell, e.g. "Yes – seen 12/03/2020"."""
        if len(text) <= _SHORT:  # "Yes", "No", prompts ...: the same few in every return, read once each
            seen, iso, note, notice = _seen_short(text, where)
        else:
            seen, iso, note, notice = _seen(text, where)
        self._note(notice)
        return seen, iso, note


#: Longest "seen" or tick cell whose reading is remembered (longer ones hold notes, read each time).
_SHORT = 40


def _seen(text: str, where: str) -> tuple[bool | None, str | None, str | None, Notice | None]:
    raw = v.clean_text(text)
    if raw is None:
        return None, None, None, None
    seen, iso, notice = v.read_yes_no(raw, where=where)
    rest = v.without_date(raw)
    rest = _FILLER.sub("", rest.strip()).strip(" \t-–—:;,.")
    rest = _FILLER.sub("", rest).strip(" \t-–—:;,.")
    note = v.clean_text(rest) if (seen is not None and rest) else (raw if seen is None and iso is None else None)
    return seen, iso, note, notice


_seen_short = lru_cache(maxsize=4096)(_seen)


def parse_mark(text: str, reader: Reader, where: str, *, strict: bool = False) -> bool | None:
    """A tick-style answer: ☒/✓/X/Yes -> True, No -> False, ☐/blank -> None.

    ``strict`` is for one cell of a separate Yes | No pair: only "is it marked".
    """
    if strict:
        return v.is_mark(text)
    value, notice = (_mark_short if isinstance(text, str) and len(text) <= _SHORT else _mark)(text, where)
    reader._note(notice)
    return value


def _mark(text: str, where: str) -> tuple[bool | None, Notice | None]:
    raw = v.clean_text(text)
    if raw is None or set(raw) <= v.UNTICKED | {" "}:
        return None, None  # an unticked box alone says nothing either way in a single column
    value, _iso, notice = v.read_yes_no(raw, where=where)
    return value, notice


_mark_short = lru_cache(maxsize=4096)(_mark)
