"""Compile a form to an xlsx template once; render personalised workbooks from it fast.

Why patch XML instead of calling openpyxl per render: building and saving a styled,
validated workbook with openpyxl costs tens of milliseconds, and a mail-merge renders
one workbook per pupil and provider. So ``compile`` lays the form out with openpyxl
once, saves it, and cuts each answer cell out of the sheet XML, leaving a "hole"
that remembers the cell's reference and style. ``render`` then only joins strings:
each hole becomes an empty cell or a cell holding the value (inline string, number,
or date serial), and the reference is dropped into the document properties and the
metadata sheet. The zip is rebuilt with fixed timestamps, so equal values give equal
bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from apdocs.errors import ApdocsError
from apdocs.forms.model import FormDefinition, Slot

from . import cellxml, layout, names
from .package import WORKBOOK, WORKBOOK_RELS, M, sheet_parts

_HOLE = re.compile(r"<\?apdocs-hole (\d+)\?>")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
REFERENCE = "reference"


class RenderValueError(ApdocsError):
    code = "VALUE_INVALID"


@dataclass(frozen=True)
class _Hole:
    ref: str
    style: str | None
    slot: Slot | None  # None: the reference cell on the metadata sheet


@dataclass(frozen=True)
class _Part:
    name: str
    pieces: tuple[str, ...]  # text between holes (len(holes) + 1), or between reference marks
    holes: tuple[_Hole, ...] = ()
    reference_marks: bool = False  # pieces are split on layout.REFERENCE_MARK


class CompiledXlsx:
    """A form compiled to an xlsx template. ``render`` does no I/O."""

    def __init__(self, form: FormDefinition, *, password: str | None = None) -> None:
        self.form = form
        built = layout.build(form)
        if password:
            for ws in built.workbook.worksheets:
                ws.protection.password = password
        self.cells = dict(built.cells)
        buf = io.BytesIO()
        built.workbook.save(buf)
        self._parts = _cut(buf.getvalue(), form, built)

    def render(self, values: dict[str, Any] | None = None) -> bytes:
        """The workbook with ``values`` (slot id -> value) filled in; unknown slot ids are ignored."""
        values = values or {}
        reference = _text_or_none(values.get(REFERENCE))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for part in self._parts:
                if part.reference_marks:
                    data = _xml_text(reference or "").join(part.pieces)
                elif part.holes:
                    chunks = [part.pieces[0]]
                    for hole, after in zip(part.holes, part.pieces[1:], strict=True):
                        chunks.append(_cell(hole, values, reference))
                        chunks.append(after)
                    data = "".join(chunks)
                else:
                    data = part.pieces[0]
                info = zipfile.ZipInfo(part.name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
        return out.getvalue()


def _cut(data: bytes, form: FormDefinition, built: layout.Layout) -> tuple[_Part, ...]:
    """Split the saved template into parts, cutting holes where values go."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    wb = etree.fromstring(zin.read(WORKBOOK))
    rels = etree.fromstring(zin.read(WORKBOOK_RELS))
    by_name = {name: part for name, _state, part in sheet_parts(wb, rels)}
    wanted: dict[str, dict[str, Slot | None]] = {
        by_name[built.sheet]: {ref: form.slot(slot_id) for slot_id, ref in built.cells.items()},
        by_name[names.META_SHEET]: {built.meta_reference_cell: None},
    }
    parts = []
    for info in zin.infolist():
        raw = zin.read(info.filename)
        if info.filename in wanted:
            parts.append(_cut_sheet(info.filename, raw, wanted[info.filename]))
        elif info.filename.startswith("docProps/") and layout.REFERENCE_MARK.encode() in raw:
            pieces = tuple(raw.decode("utf-8").split(layout.REFERENCE_MARK))
            parts.append(_Part(info.filename, pieces, reference_marks=True))
        else:
            parts.append(_Part(info.filename, (raw,)))  # type: ignore[arg-type]  # unchanged bytes
    return tuple(parts)


def _cut_sheet(name: str, raw: bytes, wanted: dict[str, Slot | None]) -> _Part:
    root = etree.fromstring(raw)
    holes: list[_Hole] = []
    for c in root.iter(f"{M}c"):
        ref = c.get("r")
        if ref in wanted:
            holes.append(_Hole(ref, c.get("s"), wanted[ref]))
    if len(holes) != len(wanted):
        missing = sorted(set(wanted) - {h.ref for h in holes})
        raise ApdocsError(f"template sheet {name} lacks cells {missing}", code="RENDER_INCOMPLETE")
    by_ref = {h.ref: i for i, h in enumerate(holes)}
    for c in list(root.iter(f"{M}c")):
        ref = c.get("r")
        parent = c.getparent()
        if ref in by_ref and parent is not None:  # a <c> is always inside a <row>
            pi = etree.ProcessingInstruction("apdocs-hole", str(by_ref[ref]))
            pi.tail = c.tail
            parent.replace(c, pi)
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True).decode("utf-8")
    split = _HOLE.split(text)
    pieces, order = split[0::2], [int(i) for i in split[1::2]]
    if order != list(range(len(holes))):
        raise ApdocsError(f"template sheet {name}: holes out of order", code="RENDER_INCOMPLETE")
    return _Part(name, tuple(pieces), tuple(holes))


# -- values -> cell XML ------------------------------------------------------------------


def _cell(hole: _Hole, values: dict[str, Any], reference: str | None) -> str:
    if hole.slot is None:
        return _string_or_empty(hole, reference)
    value = values.get(hole.slot.id)
    try:
        return _slot_cell(hole, hole.slot, value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise RenderValueError(
            f"slot {hole.slot.id} ({hole.slot.type}) cannot hold {type(value).__name__}: {exc}",
            context={"slot": hole.slot.id},
        ) from exc


def _slot_cell(hole: _Hole, slot: Slot, value: Any) -> str:
    if value is None or value == "":
        return cellxml.empty_cell(hole.ref, hole.style)
    if isinstance(value, str):
        text = value
        if slot.type == "date":
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return _string_or_empty(hole, text)  # not ISO: keep what was given, as text
        else:
            return _string_or_empty(hole, text)
    if isinstance(value, bool):
        if slot.type == "bool":
            return _string_or_empty(hole, slot.choices[0] if value else slot.choices[1])
        raise TypeError("a yes/no value in a non-yes/no slot")
    if isinstance(value, dt.date):
        serial = cellxml.date_to_serial(value)
        if slot.type != "date" or serial is None:
            return _string_or_empty(hole, value.isoformat())
        return cellxml.number_cell(hole.ref, hole.style, serial)
    if isinstance(value, int | float | Decimal):
        number = float(value) if isinstance(value, Decimal) else value
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        if slot.type in ("number", "money"):
            return cellxml.number_cell(hole.ref, hole.style, number)
        return _string_or_empty(hole, str(value))
    raise TypeError("unsupported value type")


def _string_or_empty(hole: _Hole, text: str | None) -> str:
    if not text:
        return cellxml.empty_cell(hole.ref, hole.style)
    if len(text) > names.MAX_CELL_CHARS:
        raise ValueError(f"{len(text)} characters; a spreadsheet cell holds at most {names.MAX_CELL_CHARS}")
    return cellxml.string_cell(hole.ref, hole.style, text)


def _text_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _xml_text(text: str) -> str:
    # Document properties are plain XML text; characters XML cannot carry are dropped there
    # (the cell and the metadata sheet keep the exact reference).
    return escape(_XML_ILLEGAL.sub("", text)).replace("\r", "&#13;")


def compile_form(form: FormDefinition, *, password: str | None = None) -> CompiledXlsx:
    """Compile ``form`` once; ``password`` (optional) protects every sheet with it."""
    return CompiledXlsx(form, password=password)
