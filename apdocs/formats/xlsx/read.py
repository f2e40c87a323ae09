"""Read a returned xlsx form into a :class:`~apdocs.record.ParsedReturn`.

The package is opened by :func:`apdocs.formats.ooxml.open_package` (zip caps, no DTDs)
and read with lxml; openpyxl never sees a returned file. Steps:

1. identify the form: the ``_apdocs`` sheet, then custom/core document properties,
   then the defined names, then the printed wording (a hand-made copy of the form);
2. find each slot's answer cell: its defined name (``apdocs_q1``); else the slot map on
   the ``_apdocs`` sheet; else the cell right of (or below) the printed question text;
3. turn each cell into the slot's value with :mod:`apdocs.values`, collecting notices.
"""

from __future__ import annotations

import hashlib

from apdocs.errors import Notice, ParseError
from apdocs.formats.ooxml import open_package
from apdocs.formats.wording import identify, line_key, question_parts, same_wording
from apdocs.forms.model import FORM_IDS, FormDefinition, load_form, parse_tag
from apdocs.record import ParsedReturn, SourceInfo, build_answers

from . import names
from .book import Book, Cell, Sheet, split_ref, split_sheet_ref
from .cell_values import CellReader
from .package import M

Where = tuple[str, int, int]  # sheet name, row, column


def read_workbook(data: bytes, *, path: str | None = None) -> ParsedReturn:
    pkg = open_package(data, path=path, kind="xlsx")
    book = Book(pkg)
    if book.root.tag != f"{M}workbook":
        raise ParseError(
            "this is not an Excel workbook (it may be a Word document); it cannot be read as one", code="NOT_A_FORM", path=path
        )
    notices: list[Notice] = list(pkg.notices)
    meta = _meta(book)
    form, version = _identify(book, meta, path, notices)
    if version and version != form.version:
        notices.append(Notice("FORM_VERSION", f"the form is version {version}; read against version {form.version}", where=path))
    cells = _locate(book, form, meta, notices, path)
    reader = CellReader(date1904=book.date1904)
    flat = {slot.id: reader.value(slot, _cell_at(book, cells.get(slot.id))) for slot in form.slots()}
    reader.fill_dates_from_seen(form, flat)
    notices += reader.notices
    header, answers = build_answers(form, flat)
    reference = header.get("reference") or meta.get("reference") or book.custom_properties.get(names.PROP_REFERENCE) or None
    return ParsedReturn(
        source=SourceInfo(path, hashlib.sha256(data).hexdigest(), "xlsx"),
        form=form.id,
        form_version=version or None,
        reference=reference,
        header=header,
        answers=answers,
        warnings=tuple(notices),
    )


# -- identification ----------------------------------------------------------------


def _meta(book: Book) -> dict[str, str]:
    """Key/value rows of the ``_apdocs`` sheet (plus ``map:<slot>`` -> cell rows)."""
    sheet = book.sheet(names.META_SHEET)
    if sheet is None:
        return {}
    rows: dict[int, dict[int, Cell]] = {}
    for (r, c), cell in sheet.cells.items():
        rows.setdefault(r, {})[c] = cell
    out: dict[str, str] = {}
    in_map = False
    for r in sorted(rows):
        key, value = (_text(rows[r].get(1)), _text(rows[r].get(2)))
        if key is None:
            continue
        if (key, value) == names.MAP_HEADER[:2]:
            in_map = True
        elif in_map and value:
            out[f"map:{key}"] = value
        elif not in_map and key not in out:
            out[key] = value or ""
    return out


def _text(cell: Cell | None) -> str | None:
    if cell is None or cell.value is None:
        return None
    if cell.kind == "n" and float(cell.value).is_integer():
        return str(int(cell.value))
    return str(cell.value).strip()


def _identify(book: Book, meta: dict[str, str], path: str | None, notices: list[Notice]) -> tuple[FormDefinition, str | None]:
    """(form, version written in the file) or NOT_A_FORM."""
    props = book.custom_properties
    tag = parse_tag(book.keywords + ":") if book.keywords.count(":") == 2 else None
    markers = (
        (meta.get("form"), meta.get("version")),
        (props.get(names.PROP_FORM), props.get(names.PROP_VERSION)),
        (tag[0], tag[1]) if tag else (None, None),
    )
    for form_id, version in markers:
        if form_id in FORM_IDS:
            return load_form(form_id), version
    found = _form_by_names(book) or _form_by_text(book)
    if found is not None:
        if any(form_id for form_id, _v in markers):
            notices.append(
                Notice("FORM_PROPERTY_IGNORED", f"the form marker names no known form; read as {found.id}", where=path)
            )
        return found, None
    raise ParseError(
        "this workbook is not one of the Virtual School forms (no form marker, named answer cells or form wording found)",
        code="NOT_A_FORM",
        path=path,
    )


def _form_by_names(book: Book) -> FormDefinition | None:
    """The form most of whose body slots have defined names in the workbook."""
    present = set(book.defined_names)
    best, best_score = None, 0.0
    for form in map(load_form, FORM_IDS):
        body = [s.id for s in form.slots() if s.group != "header"]
        score = sum(names.slot_name(s).lower() in present for s in body) / len(body)
        if score > best_score:
            best, best_score = form, score
    return best if best_score >= 0.5 else None


def _form_by_text(book: Book) -> FormDefinition | None:
    """A hand-made copy: the form whose printed questions/items/sources the cells hold, judged
    as the Word reader judges a document (numbering, quotes and spacing retyped)."""
    cells = [c.value for sh in _content_sheets(book) for c in sh.cells.values() if c.kind == "s" and c.value]
    lines = [line for text in cells for line in text.split("\n")]
    form_id = identify(lines)
    return load_form(form_id) if form_id else None


def _content_sheets(book: Book) -> list[Sheet]:
    return [s for s in book.sheets() if s.name not in (names.META_SHEET, names.LISTS_SHEET)]


# -- finding answer cells ---------------------------------------------------------------


def _cell_at(book: Book, where: Where | None) -> Cell | None:
    if where is None:
        return None
    sheet = book.sheet(where[0])
    return sheet.cells.get((where[1], where[2])) if sheet else None


def _resolve(book: Book, text: str | None) -> Where | None:
    found = split_sheet_ref(text or "")
    if found is None or book.sheet(found[0]) is None:
        return None
    rc = split_ref(found[1])
    return (found[0], rc[0], rc[1]) if rc else None


def _locate(book: Book, form: FormDefinition, meta: dict[str, str], notices: list[Notice], path: str | None) -> dict[str, Where]:
    cells: dict[str, Where] = {}
    by_map = by_text = 0
    defined = book.defined_names
    missing: list[str] = []
    for slot in form.slots():
        where = _resolve(book, defined.get(names.slot_name(slot.id).lower()))
        if where is None:
            where = _resolve(book, meta.get(f"map:{slot.id}"))
            by_map += where is not None
        if where is None:
            missing.append(slot.id)
        else:
            cells[slot.id] = where
    if missing:
        found = _find_by_text(book, form, set(missing))
        by_text = len(found)
        cells.update(found)
    if by_map:
        notices.append(
            Notice("ROUTE_FALLBACK", f"{by_map} answer cells found by the form's cell map (names were lost)", where=path)
        )
    if by_text:
        notices.append(Notice("ROUTE_FALLBACK", f"{by_text} answer cells found next to the printed wording", where=path))
    lost = [s for s in missing if s not in cells]
    if lost:
        notices.append(
            Notice(
                "SLOTS_NOT_FOUND",
                f"{len(lost)} answer places could not be found in the workbook",
                where=path,
                context={"slots": lost},
            )
        )
    return cells


def _find_by_text(book: Book, form: FormDefinition, wanted: set[str]) -> dict[str, Where]:
    """Answer cells of ``wanted`` slots next to the printed wording (for hand-edited sheets)."""
    out: dict[str, Where] = {}
    for sheet in _content_sheets(book):
        finder = _TextFinder(sheet)
        lab = form.labels
        for h in form.header:
            _take(out, wanted, h.id, finder.answer(finder.find(h.label, exact=True)))
        for q in form.questions():
            first, *more = question_parts(q.text)
            anchor = finder.find(q.text) or (finder.find(first) if more else None)
            _take(out, wanted, q.id, finder.past(finder.answer(anchor), [*more, q.hint or ""]))
        for it in form.items:
            anchor = finder.find(it.text)
            for n, key in enumerate(("seen", "date_seen", "note"), start=1):
                _take(out, wanted, f"{it.id}.{key}", finder.right(anchor, n))
        if form.insurance:
            _take(
                out, wanted, "insurance.sole_trader", finder.answer(finder.find(form.insurance["sole_trader_label"], exact=True))
            )
            for c in form.covers:
                anchor = finder.find(c.text, exact=True)
                _take(out, wanted, f"insurance.{c.id}.amount", finder.right(anchor, 1))
                _take(out, wanted, f"insurance.{c.id}.expiry", finder.right(anchor, 2))
        starts = [finder.find(a.title, exact=True) for a in form.areas]
        for i, (area, start) in enumerate(zip(form.areas, starts, strict=True)):
            if start is None:
                continue
            # Sources repeat between areas ("Interviews with pupils"): search only this area's rows.
            lo = start[0]
            hi = next((s[0] for s in starts[i + 1 :] if s is not None), 10**7)
            for src in area.sources:
                _take(out, wanted, src.id, finder.answer(finder.find(src.text, exact=True, rows=(lo, hi))))
            _take(out, wanted, f"{area.id}.judgement", finder.answer(finder.find(lab["judgement"], exact=True, rows=(lo, hi))))
            _take(out, wanted, f"{area.id}.notes", finder.answer(finder.find(lab["notes"], exact=True, rows=(lo, hi))))
        if form.areas:
            _take(out, wanted, "overall_judgement", finder.answer(finder.find(lab["overall_judgement"], exact=True)))
    return out


def _take(out: dict[str, Where], wanted: set[str], slot_id: str, where: Where | None) -> None:
    if where is not None and slot_id in wanted and slot_id not in out:
        out[slot_id] = where


class _TextFinder:
    """Finds printed wording in one sheet and the answer cell beside it."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        printed = ((rc, cell.value) for rc, cell in sheet.cells.items() if cell.kind == "s" and cell.value)
        self.texts = sorted((rc, line_key(text)) for rc, text in printed)
        self.last_col = max([c for _r, c in sheet.cells] + [m[3] for m in sheet.merges] + [1])

    def find(self, text: str, *, exact: bool = False, rows: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """The first cell holding the printed ``text`` (``exact``: nothing else; otherwise it may
        go on, e.g. with a hint, or be a slightly retyped long text). "Q1)" numbering, quotes,
        spacing and case do not count."""
        want = line_key(text)
        for (r, c), have in self.texts:
            if rows and not rows[0] <= r < rows[1]:
                continue
            if same_wording(have, want, prefix=not exact):
                return r, c
        return None

    def right(self, anchor: tuple[int, int] | None, n: int) -> Where | None:
        """The ``n``-th cell right of the anchor, stepping over merged ranges."""
        if anchor is None:
            return None
        row, col = anchor
        for _ in range(n):
            col = self.sheet.merge_of(row, col)[3] + 1
        return self.sheet.name, row, col

    def below(self, anchor: tuple[int, int] | None) -> Where | None:
        if anchor is None:
            return None
        _r1, c1, r2, _c2 = self.sheet.merge_of(*anchor)
        return self.sheet.name, r2 + 1, c1

    def past(self, where: Where | None, printed: list[str]) -> Where | None:
        """``where``, or the first cell beyond it that holds none of the question's ``printed``
        texts (its later sentences, its hint): retyped in cells of their own between a question
        and its answer, they belong to the question."""
        keys = [line_key(p) for p in printed if p]
        for _ in range(len(keys)):
            if where is None:
                return None
            cell = self.sheet.cells.get((where[1], where[2]))
            if cell is None or cell.kind != "s":
                return where
            have = line_key(str(cell.value))
            if not any(same_wording(have, k, prefix=True) for k in keys):
                return where
            where = self.answer((where[1], where[2]))
        return where

    def answer(self, anchor: tuple[int, int] | None) -> Where | None:
        """The cell right of the wording; below it when the wording spans the whole row."""
        if anchor is None:
            return None
        if self.sheet.merge_of(*anchor)[3] >= self.last_col:
            return self.below(anchor)
        return self.right(anchor, 1)


__all__ = ["read_workbook"]
