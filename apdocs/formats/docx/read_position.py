"""Read apdocs' own forms whose content controls lost their tags: by position.

LibreOffice 7.4 re-saves our forms keeping the document properties (``apdocs.form``,
``apdocs.version``) and the table structure, but drops every ``w:tag``, keeps titles only
on text controls and leaves dropdowns and date pickers untitled; editors without content
controls unwrap them all. Those answers still sit exactly where our renderer put them.

So, once per (form, version), apdocs' own BLANK render is read: where each slot's control
sits (body-level table, row, cell) and which printed text governs it - worked out by the
wording route itself (:class:`~apdocs.formats.docx.legacy.MatchedDoc`) run over the blank,
so both routes agree on what each cell means. A return is then read by going to each
place, checking its guards (the printed texts there must equal ours, normalised, and the
rows must keep their cells) and reading the cell as the wording route would. A slot whose
guards fail is left to the wording route (hand-edited or restructured documents); reading
a few known cells instead of matching every line is what makes this route fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from lxml import etree

from apdocs.formats.docx.legacy import (
    ROW_KINDS,
    VALUE_KINDS,
    MatchedDoc,
    RowNames,
    cell_roles,
    header_roles,
    read_roles,
    read_row,
    row_names,
    slot_for,
    trim_blank,
)
from apdocs.formats.docx.read_controls import find_controls
from apdocs.formats.docx.read_text import TBL, Cell, Table, blocks, body_level, iter_cells, iter_rows, table_cells, w
from apdocs.formats.docx.read_values import Reader
from apdocs.formats.wording import Anchor, Match, line_key
from apdocs.forms.model import FormDefinition, Slot, load_form

Pos = tuple[int, int, int]  # (body-level table, row, cell)
RowKey = tuple[int, int]  # (body-level table, row)
_BODY = w("body")


class CellPlace(NamedTuple):
    """A slot whose answer is one cell's text (header fields, questions, labels)."""

    value: Pos
    rows: tuple[RowKey, ...]  # the rows whose checks must hold (the answer's and its label's)


class RowPlace(NamedTuple):
    """An evidence / source / cover row: several slots read by column, as the wording route reads it."""

    anchor: Anchor
    row: RowKey
    # (cell, role) of the cells read, worked out once from our render's column headings and
    # spans: the row's check keeps its spans, so each cell still starts at the same grid column
    by_cell: tuple[tuple[int, str], ...]
    rows: tuple[RowKey, ...]  # this row and the heading rows above it


class RowCheck(NamedTuple):
    """What a row must look like for places depending on it to be trusted."""

    spans: tuple[int, ...]  # its cells' grid spans (no cell added, removed or merged)
    printed: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]  # (cell, paragraphs, normalised) of its printed cells


@dataclass(frozen=True)
class PositionMap:
    cells: dict[str, CellPlace]
    rows: dict[str, RowPlace]  # slot id -> the row it is read from (shared by the row's slots)
    checks: dict[RowKey, RowCheck]


def normalised(paras: tuple[str, ...]) -> tuple[str, ...]:
    """Printed text as word tokens: case, punctuation, quotes, spacing and "1." numbering do not count."""
    return tuple(t for p in paras for t in line_key(p))


class Grid:
    """The body's tables, each read (in one pass) only when one of its cells is asked for."""

    def __init__(self, body: etree._Element) -> None:
        self.tables = [el for el in body_level(body) if el.tag == TBL]
        self._read: dict[int, list[list[Cell]]] = {}

    def row(self, t: int, r: int) -> list[Cell]:
        rows = self._read.get(t)
        if rows is None:
            rows = self._read[t] = table_cells(self.tables[t]) if t < len(self.tables) else []
        return rows[r] if r < len(rows) else []


# -- the map, from our own blank render --------------------------------------------


@lru_cache(maxsize=16)  # bounded: called only with a definition's own (form, version)
def position_map(form_id: str, version: str) -> PositionMap | None:
    """Where each slot of ``form_id`` sits in apdocs' render of that version (None: not this version)."""
    form = load_form(form_id)
    if form.version != version:
        return None  # only the current layout is rendered; an older return is read by its wording
    from apdocs.formats.docx.render import compile_docx  # the renderer only for this one blank
    from apdocs.formats.ooxml import open_package

    root = open_package(compile_docx(form).render({}), path=None, kind="docx").xml("word/document.xml")
    return _Builder(form, next(root.iterchildren(_BODY))).build()


class _Builder:
    """Works out each slot's place from our blank render, read by the wording route itself."""

    def __init__(self, form: FormDefinition, body: etree._Element) -> None:
        self.form = form
        self.body = body
        self.grid = Grid(body)
        self.doc = MatchedDoc(form, blocks(body), [])
        self.table_block = [i for i, b in enumerate(self.doc.blocks) if isinstance(b, Table)]
        self.tables = [b for b in self.doc.blocks if isinstance(b, Table)]  # body-level table t
        # the area each line is in (a source's text is printed under several areas)
        self.areas: list[str] = []
        self.lines_at: dict[Pos, list[int]] = {}  # (block, row, cell) -> line indices
        area = ""
        for i, (line, hit) in enumerate(zip(self.doc.lines, self.doc.hits, strict=True)):
            if hit is not None and hit.anchor.kind == "area":
                area = hit.anchor.key
            self.areas.append(area)
            self.lines_at.setdefault((line.block, line.row, line.col), []).append(i)
        self.controls: dict[Pos, list[str]] = {}  # cell -> the slots whose controls it holds
        self.printed: dict[RowKey, set[int]] = {}  # row -> its printed cells that guard a place

    def build(self) -> PositionMap:
        pmap = PositionMap({}, {}, {})
        if len(self.table_block) != len(self.grid.tables):
            return pmap  # the two walks disagree: no places, the wording route reads everything
        for t, tbl in enumerate(self.grid.tables):
            for r, tr in enumerate(iter_rows(tbl)):
                for c, tc in enumerate(iter_cells(tr)):
                    found = find_controls(tc)
                    self.controls[(t, r, c)] = [k.slot for k in found if k.by == "tag" and k.form == self.form.id]
        for pos, slots in self.controls.items():
            if len(slots) != 1:
                continue  # a printed cell, or two answers in one cell: the wording route decides
            row_place = self._row_place(pos, slots[0])
            if row_place is not None:
                pmap.rows[slots[0]] = row_place
                continue
            cell_place = self._cell_place(pos, slots[0])
            if cell_place is not None:
                pmap.cells[slots[0]] = cell_place
        places: list[CellPlace | RowPlace] = [*pmap.cells.values(), *pmap.rows.values()]
        used = {key for place in places for key in place.rows}
        for t, r in sorted(used):
            row = self.grid.row(t, r)
            printed = tuple((c, row[c].paragraphs, normalised(row[c].paragraphs)) for c in sorted(self.printed.get((t, r), ())))
            pmap.checks[(t, r)] = RowCheck(tuple(cell.span for cell in row), printed)
        return pmap

    def _guard(self, guards: list[Pos]) -> tuple[RowKey, ...] | None:
        """Use the printed-text cells ``guards`` as a place's guards: the rows to check (None: one holds an answer)."""
        if any(self.controls.get(pos) for pos in guards):
            return None
        for t, r, c in guards:
            self.printed.setdefault((t, r), set()).add(c)
        return tuple(sorted({(t, r) for t, r, _c in guards}))

    def _row_hit(self, b: int, r: int, c: int) -> Match | None:
        hit = next((self.doc.hits[i] for i in self.lines_at.get((b, r, c), ()) if self.doc.hits[i] is not None), None)
        return hit if hit is not None and hit.anchor.kind in ROW_KINDS else None

    def _row_place(self, pos: Pos, slot_id: str) -> RowPlace | None:
        """The slot is read by column from a row the wording route reads as an item/source/cover row."""
        t, r, c = pos
        b = self.table_block[t]
        table = self.tables[t]
        for ac in range(c):
            hit = self._row_hit(b, r, ac)
            if hit is None:
                continue
            roles = header_roles(self.form, self.doc.match, table)[r]
            got: dict[str, Any] = {}
            read_row(self.form, hit.anchor, _right_of(table.rows[r], ac), roles, Reader(), got.__setitem__)
            if slot_id not in got:
                return None
            # the column headings above decide the roles: every row above that is not itself
            # an item/source row must read as ours too
            heads = [hr for hr in range(r) if not any(self._row_hit(b, hr, hc) for hc in range(len(table.rows[hr])))]
            rows = self._guard([(t, r, ac)] + [(t, hr, hc) for hr in heads for hc in range(len(table.rows[hr]))])
            if rows is None:
                return None
            right = _right_of(table.rows[r], ac)
            read = cell_roles(hit.anchor.kind, [col for col, _text in right], roles)
            by_cell = tuple((ac + 1 + n, role) for n, role in enumerate(read) if role)
            return RowPlace(hit.anchor, (t, r), by_cell, rows)
        return None

    def _cell_place(self, pos: Pos, slot_id: str) -> CellPlace | None:
        """The slot is the text following its printed text (label, question): exactly this one cell."""
        t, r, c = pos
        b = self.table_block[t]
        doc = self.doc
        own = self.lines_at.get((b, r, c))
        if not own:
            return None
        j = own[0] - 1
        between: set[Pos] = set()
        while j >= 0:
            line, hit = doc.lines[j], doc.hits[j]
            if line.block != b:
                return None  # the printed text must be in the same table (the route never leaves one)
            if hit is not None and hit.anchor.kind != "hint":
                break
            if hit is None and line.text.strip():
                return None  # unmatched text between label and answer would be read as the answer
            between.add((t, line.row, line.col))
            j -= 1
        if j < 0:
            return None
        hit = doc.hits[j]  # not None: the loop stopped at it
        if hit is None or hit.anchor.kind not in VALUE_KINDS or hit.rest or slot_for(hit.anchor, self.areas[j]) != slot_id:
            return None
        label = (t, doc.lines[j].row, doc.lines[j].col)
        rows = self._guard(sorted(between | {label}))
        return None if rows is None else CellPlace(pos, tuple(sorted({(t, r), *rows})))


def _right_of(row: list[Cell] | tuple[Cell, ...], anchor_cell: int) -> list[tuple[int, str]]:
    """(grid column, text) of the cells right of ``anchor_cell``, as the wording route passes them."""
    out, col = [], 0
    for c, cell in enumerate(row):
        if c > anchor_cell:
            out.append((col, cell.text))
        col += cell.span
    return out


# -- reading a return ---------------------------------------------------------------


def read_by_position(form: FormDefinition, body: etree._Element, wanted: list[str], reader: Reader) -> dict[str, Any]:
    """Values of the ``wanted`` slots found at their place in our layout with the guards holding.

    Slots absent from the result (no place, a check failed) are for the wording route.
    """
    pmap = position_map(form.id, form.version)
    if pmap is None or not (pmap.cells or pmap.rows):
        return {}
    return _read_planned(form, body, _plan(form.id, form.version, tuple(wanted)), reader)


def _read_planned(form: FormDefinition, body: etree._Element, plan: _Plan, reader: Reader) -> dict[str, Any]:
    """The plan's rows checked once each, in one loop, then its steps read (~40 rows, ~100 places a
    return: a method call, a memo look-up and a loop per place add up to a tenth of the route).

    The same values and notices, in the same order, as checking each step's rows as it comes
    (``tests/test_docx_tree_route_fast.py`` holds the two to it): checking a row reads nothing into
    the record and cannot fail, so checking them all first changes nothing but when."""
    tables = [el for el in body_level(body) if el.tag == TBL]
    read: list[list[list[Cell]] | None] = [None] * len(tables)
    failed: set[RowKey] = set()
    rows: dict[RowKey, list[Cell]] = {}
    for (t, r), check in plan.checks:
        if t < len(tables):
            cells = read[t]
            if cells is None:
                cells = read[t] = table_cells(tables[t])
            row = cells[r] if r < len(cells) else []
        else:
            row = []
        rows[(t, r)] = row
        if not _row_holds(row, check):
            failed.add((t, r))
    out: dict[str, Any] = {}
    want = plan.want

    def put(slot_id: str, value: Any) -> None:
        if slot_id in want:  # a row holds other slots too: those already read keep their value
            out[slot_id] = value

    value = reader.value
    for place, slot, names, every in plan.steps:
        if failed and not failed.isdisjoint(place.rows):
            continue
        if isinstance(place, CellPlace):
            assert slot is not None  # a cell place's step names its slot
            t, r, c = place.value
            out[slot.id] = value(slot, _cell_answer(rows[(t, r)][c].paragraphs))
        else:
            row = rows[place.row]
            by_role = {role: "\n".join(row[c].paragraphs) for c, role in place.by_cell}
            read_roles(form, place.anchor, by_role, reader, out.__setitem__ if every else put, names)
    return out


class _Step(NamedTuple):
    place: CellPlace | RowPlace
    slot: Slot | None  # a cell place's slot; None: a row place, which reads all its row's slots
    # a row place's row_names (worked out here once, not per return: ~1 us a row, ~40 rows a return)
    names: RowNames | None = None
    # a row place whose slots are all wanted: its values go straight into the result, without
    # the check of each against ``wanted`` (three calls a row)
    every: bool = False


class _Plan(NamedTuple):
    steps: tuple[_Step, ...]
    want: frozenset[str]
    # each row the steps depend on, once, in the order the steps first need it, with its check
    checks: tuple[tuple[RowKey, RowCheck], ...]


@lru_cache(maxsize=64)
def _plan(form_id: str, version: str, wanted: tuple[str, ...]) -> _Plan:
    """The places to read for ``wanted``, in the order its slots come (a row's at its first slot),
    ``wanted`` as a set and the rows to check: the same for every return a suite re-saved alike,
    so worked out once. A bounded cache: a batch holds a few such lists, hand-edited returns a few more."""
    pmap = position_map(form_id, version)
    assert pmap is not None  # read_by_position asks only for the version it has a map of
    slots = _slots(form_id)
    form = load_form(form_id)
    wanted_set = frozenset(wanted)
    steps: list[_Step] = []
    rows_done: set[RowKey] = set()
    for slot_id in wanted:
        cell = pmap.cells.get(slot_id)
        if cell is not None:
            steps.append(_Step(cell, slots[slot_id]))
            continue
        row = pmap.rows.get(slot_id)
        if row is not None and row.row not in rows_done:
            rows_done.add(row.row)
            names = row_names(form, row.anchor)
            steps.append(_Step(row, None, names, set(names[0]) <= wanted_set))
    needed = dict.fromkeys(key for step in steps for key in step.place.rows)
    return _Plan(tuple(steps), wanted_set, tuple((key, pmap.checks[key]) for key in needed))


def _cell_answer(paras: tuple[str, ...]) -> str:
    """A cell's lines, blank lines at either end dropped (as the wording route trims an answer)."""
    text = "\n".join(paras)
    lines = text.split("\n")
    if lines[0].strip() and lines[-1].strip():
        return text  # nothing to trim: the usual answer
    return "\n".join(trim_blank(lines))


_SPAN = itemgetter(1)  # Cell.span, read in C


def _row_holds(row: list[Cell], check: RowCheck) -> bool:
    """The row keeps its cells, and its printed cells read as ours (exactly, else normalised)."""
    if tuple(map(_SPAN, row)) != check.spans:
        return False
    for c, paras, norm in check.printed:
        got = row[c].paragraphs
        if got != paras and normalised(got) != norm:
            return False
    return True


@cache
def _slots(form_id: str) -> dict[str, Slot]:
    return {s.id: s for s in load_form(form_id).slots()}
