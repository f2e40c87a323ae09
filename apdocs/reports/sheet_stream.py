"""Streaming worksheets for the tracker: each row written once, styled as it is written.

The tracker of a whole country has hundreds of thousands of rows and millions of cells, too
many to hold as an in-memory openpyxl workbook (~2.4 GB at 15,000 returns). :class:`Sheet`
is an openpyxl write-only worksheet (``Workbook(write_only=True)``): column widths, frozen
panes and print setup are decided before the first row, each row's height before the row,
and the row goes to a temporary file as soon as it is made. openpyxl still writes what is
around the rows (the sheet's head and tail, tables, validations, conditional formats,
drawings, styles, the package); save such a workbook with :func:`save`.

Serialised here instead, as openpyxl would write them:

* each ``<row>``: openpyxl's own write-only path makes, binds and style-hashes two cell
  objects per cell (~10 us a cell; a country's tracker has ~4 million), this about 1 us.
  Inline strings, numbers, dates as serial numbers, the cell style's index;
* comments and their VML shapes, hyperlinks and their relationships: openpyxl holds them
  as objects and builds each part as one tree (~450 MB for the Evidence sheet's 35,000
  comments); here they are small tuples, written 2,000 at a time.

This leans on openpyxl 3.1's writer internals (WorksheetWriter, ExcelWriter): the tracker
tests, the OOXML schema test and the LibreOffice round trips check what comes out.

Text is made safe by :mod:`apdocs.reports.safe`: always an inline *string* (never a
formula), characters XML cannot hold removed, and text a spreadsheet would take for a
formula styled ``quotePrefix`` so editing it keeps it text. A literal ``_xHHHH_`` in text
gets its underscore escaped as ``_x005F_`` (see :func:`_escape`), so it is not decoded.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from copy import copy
from decimal import Decimal
from typing import IO, Any, NamedTuple
from xml.sax.saxutils import quoteattr
from zipfile import ZIP_DEFLATED, ZipFile

from lxml.etree import xmlfile
from openpyxl.comments import Comment
from openpyxl.comments.author import AuthorList
from openpyxl.comments.comment_sheet import CommentSheet
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import Relationship, get_rels_path
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import coordinate_to_tuple, get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import PKG_REL_NS, REL_NS, SHEET_MAIN_NS
from openpyxl.xml.functions import tostring

from apdocs.formats.xlsx.cellxml import x_escaped
from apdocs.reports.safe import looks_like_formula, sheet_text

DEFAULT_WIDTH = 8.43
LINE_HEIGHT = 12.75  # points per line of 10-11 pt text, as the tracker has always reckoned


class Styles:
    """A workbook's cell styles, each made once: ``styles(font=..., fill=...)`` is its index in the workbook.

    Pass module-level style objects (fonts, fills ...): the cache is keyed by their identity.
    """

    def __init__(self, wb: Workbook) -> None:
        self._wb = wb
        self._made: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
        self._quoted: dict[int, int] = {}

    def __call__(
        self,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        alignment: Alignment | None = None,
        border: Border | None = None,
        number_format: str | None = None,
    ) -> int:
        objects = (font, fill, alignment, border)
        key = (*map(id, objects), number_format)
        made = self._made.get(key)
        if made is None:
            wb = self._wb
            style = StyleArray()
            # What openpyxl's cell style setters do: add each part to the workbook's lists.
            if font is not None:
                style.fontId = wb._fonts.add(font)
            if fill is not None:
                style.fillId = wb._fills.add(fill)
            if alignment is not None:
                style.alignmentId = wb._alignments.add(alignment)
            if border is not None:
                style.borderId = wb._borders.add(border)
            if number_format is not None:
                style.numFmtId = _number_format_id(wb, number_format)
            # The objects are kept with the index so their ids stay theirs.
            made = self._made[key] = (wb._cell_styles.add(style), objects)
        return made[0]

    def quoted(self, style: int) -> int:
        """``style`` with quotePrefix set: a cell that keeps its text as text when an officer edits it."""
        if style not in self._quoted:
            array = copy(self._wb._cell_styles[style])
            array.quotePrefix = 1
            self._quoted[style] = self._wb._cell_styles.add(array)
        return self._quoted[style]


def _number_format_id(wb: Workbook, fmt: str) -> int:
    from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE

    if fmt in BUILTIN_FORMATS_REVERSE:
        return int(BUILTIN_FORMATS_REVERSE[fmt])
    return int(wb._number_formats.add(fmt)) + 164  # as openpyxl's NumberFormatDescriptor numbers custom formats


class Cell(NamedTuple):
    value: Any
    style: int = 0
    comment: Comment | None = None
    link: str | None = None


class _RowWriter(WorksheetWriter):
    """openpyxl's sheet writer, given each row as ready-made XML to put between its own parts.

    openpyxl writes a write-only sheet with lxml's incremental writer (``xmlfile``) into a
    named temporary file. Here it is an unnamed one (``tempfile.TemporaryFile``: nothing is
    left behind if the run is killed), which :class:`_Writer` copies into the package; and a
    row's bytes go straight into it once lxml has flushed what it wrote before.
    """

    def __init__(self, ws: Any) -> None:
        super().__init__(ws, out=tempfile.TemporaryFile())

    def get_stream(self) -> Any:
        with xmlfile(self.out) as xf, xf.element("worksheet", xmlns=SHEET_MAIN_NS):
            try:
                while True:
                    el = yield
                    if el is True:
                        yield xf
                    elif el is not None:
                        xf.write(el)
            except GeneratorExit:
                pass

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        xf.flush()  # lxml's own buffer first, so the bytes stay in order
        self.out.write(row[0])

    def write_hyperlinks(self) -> None:
        """The sheet's <hyperlinks>, written as a stream (a country's Placements sheet links
        ~15,000 returns, which openpyxl would hold as objects and trees). Their relationships,
        ``link1``, ``link2`` ..., are written with the sheet's others by :class:`_Writer`."""
        links: list[tuple[str, str]] = self.ws._links
        if not links:
            return
        xf = self.xf.send(True)
        xf.flush()
        self.out.write(f'<hyperlinks xmlns:r="{REL_NS}">'.encode())
        for i in range(0, len(links), _CHUNK):
            chunk = enumerate(links[i : i + _CHUNK], i + 1)
            self.out.write("".join(f'<hyperlink ref="{ref}" r:id="link{n}"/>' for n, (ref, _) in chunk).encode())
        self.out.write(b"</hyperlinks>")
        self.xf.send(None)


class _StreamedWorksheet(WriteOnlyWorksheet):
    """A write-only worksheet whose appended rows are ready-made ``<row>`` XML."""

    def _get_writer(self) -> None:
        if self._writer is None:  # type: ignore[has-type]
            writer = _RowWriter(self)
            writer.write_top()
            self._writer = writer

    _links: list[tuple[str, str]]  # (cell, target): see _RowWriter.write_hyperlinks

    def _values_to_row(self, values: Any, row_idx: int) -> Any:
        return values

    def calculate_dimension(self) -> str:
        # Written at the top, before the rows are known: a placeholder the size of any range,
        # put right by _Writer once the sheet is complete. Readers use it (openpyxl's read-only
        # mode reads the whole sheet looking for it when it is missing).
        return _ANY_RANGE

    def _dimension(self) -> str:
        return f"A1:{get_column_letter(max(1, self._max_col))}{max(1, self._max_row)}"


_ANY_RANGE = "A1:XFD1048576"
_DIMENSION = f'<dimension ref="{_ANY_RANGE}"/>'.encode()


class Sheet:
    """One streamed worksheet, fed whole rows in order (row 1 first). Save its workbook with :func:`save`."""

    def __init__(self, wb: Workbook, title: str, styles: Styles, widths: Sequence[float] = ()) -> None:
        self.ws = _StreamedWorksheet(parent=wb, title=title)
        self.ws._links = []
        wb._add_sheet(self.ws)
        self.styles = styles
        self.widths = list(widths)
        for i, w in enumerate(self.widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = w
        self.rows = 0  # written so far
        self._letters: list[str] = []
        self._quoted = styles.quoted

    def cell(self, value: Any, style: int = 0, *, comment: Comment | None = None, link: str | None = None) -> Cell:
        return Cell(value, style, comment, link)

    def append(self, cells: Iterable[Cell | None] = (), height: float | None = None) -> int:
        """Write the next row (cells, or None for an empty cell); returns its row number."""
        r = self.rows = self.rows + 1
        parts = [f'<row r="{r}" ht="{height}" customHeight="1">' if height is not None else f'<row r="{r}">']
        letters = self._letters
        comments, links = [], []
        for col, cell in enumerate(cells):
            if cell is None:
                continue
            value, style = cell.value, cell.style
            if value == "":
                value = None  # an empty cell, as openpyxl writes empty text
            if value is None and not style and cell.comment is None:
                continue
            while len(letters) <= col:
                letters.append(get_column_letter(len(letters) + 1))
            ref = f"{letters[col]}{r}"
            if isinstance(value, str):
                text = sheet_text(value)
                if looks_like_formula(text):
                    style = self._quoted(style)
                s = f' s="{style}"' if style else ""
                parts.append(f'<c r="{ref}"{s} t="inlineStr"><is><t{_space(text)}>{_escape(text)}</t></is></c>')
            elif value is None:
                parts.append(f'<c r="{ref}" s="{style}"/>' if style else f'<c r="{ref}"/>')
            else:
                kind, shown = _number(value)
                s = f' s="{style}"' if style else ""
                parts.append(f'<c r="{ref}"{s} t="{kind}"><v>{shown}</v></c>')
            if cell.comment is not None:
                comment = cell.comment
                comments.append(_Note(ref, comment.author, comment.content, comment.width, comment.height))
            if cell.link is not None:
                links.append((ref, cell.link))
        parts.append("</row>")
        self.ws.append(["".join(parts).encode("utf-8")])
        self.ws._max_row = r
        self.ws._max_col = max(self.ws._max_col, len(letters))
        # After the row: openpyxl's writer, made with the first row, starts these lists afresh.
        self.ws._comments.extend(comments)
        self.ws._links.extend(links)
        return r

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.append()

    def fit_height(self, values: Sequence[Any], wrapped: Iterable[int]) -> float | None:
        """The height a row needs for its wrapped text (``wrapped``: 1-based columns); None for one line.

        openpyxl cannot measure text, and LibreOffice keeps a set row height as it is, so the
        lines are counted from the column widths, as the tracker always has.
        """
        lines = 1
        for col in wrapped:
            text = values[col - 1] if col <= len(values) else None
            if not isinstance(text, str):
                continue
            width = self.widths[col - 1] if col <= len(self.widths) else DEFAULT_WIDTH
            per_line = max(1, int(width * 1.05))
            lines = max(lines, sum(-(-max(1, len(seg)) // per_line) for seg in text.split("\n")))
        return LINE_HEIGHT * lines + 3 if lines > 1 else None


def _fix_dimension(fh: IO[bytes], ref: str) -> None:
    """Overwrite the placeholder <dimension> at the head of a sheet with ``ref``, padded to the same length."""
    fh.seek(0)
    head = fh.read(4096)
    at = head.find(_DIMENSION)
    if at < 0:
        return
    actual = f'<dimension ref="{ref}"'.encode()
    fh.seek(at)
    fh.write(actual + b" " * (len(_DIMENSION) - len(actual) - 2) + b"/>")


class _Note(NamedTuple):
    """A cell comment, as little as it takes to write it (see _Writer._write_comment)."""

    ref: str
    author: str
    text: str
    width: int
    height: int


def save(wb: Workbook, out: IO[bytes] | None = None) -> bytes | None:
    """Write the workbook's package into ``out`` (a binary file), or return it as bytes.

    openpyxl's ``wb.save``, but streamed sheets are copied in from their unnamed temporary
    files and their comments written as streams.
    """
    buf = io.BytesIO() if out is None else out
    wb.properties.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # as openpyxl's save does
    archive = ZipFile(buf, "w", ZIP_DEFLATED, allowZip64=True)
    try:
        _Writer(wb, archive).save()  # closes the archive
    finally:
        for ws in wb.worksheets:  # a failed save still lets go of its temporary files
            writer = getattr(ws, "_writer", None)
            if isinstance(writer, _RowWriter):
                writer.out.close()
    return buf.getvalue() if isinstance(buf, io.BytesIO) and out is None else None


class _Writer(ExcelWriter):
    """openpyxl's package writer, writing a streamed sheet's comments part and its VML shapes as streams.

    openpyxl builds both as whole trees in memory: some 450 MB for the 35,000 dated
    comments of a country's Evidence sheet. The parts written are the ones openpyxl writes.
    """

    def _write_worksheets(self) -> None:
        # openpyxl's ExcelWriter._write_worksheets (3.1), but a streamed sheet's relationships
        # part is written as a stream, its links' relationships with it. Pivot tables: none here.
        for idx, ws in enumerate(self.workbook.worksheets, 1):
            ws._id = idx
            self.write_worksheet(ws)
            if ws._drawing:
                self._write_drawing(ws._drawing)
                for r in ws._rels:
                    if "drawing" in r.Type:
                        r.Target = ws._drawing.path
            if ws._comments:
                self._write_comment(ws)
            if ws.legacy_drawing is not None:
                ws._rels.append(Relationship(type="vmlDrawing", Id="anysvml", Target="/" + ws.legacy_drawing))
            for t in ws._tables.values():
                self._tables.append(t)
                t.id = len(self._tables)
                t._write(self._archive)
                self.manifest.append(t)
                ws._rels.get(t._rel_id).Target = t.path
            if ws._pivots:
                raise NotImplementedError("the tracker has no pivot tables")
            links = getattr(ws, "_links", [])
            if ws._rels or links:
                with self._archive.open(get_rels_path(ws.path)[1:], "w") as part:
                    part.write(f'<Relationships xmlns="{PKG_REL_NS}">'.encode())
                    for rel in ws._rels:
                        part.write(tostring(rel.to_tree()))
                    for i in range(0, len(links), _CHUNK):
                        part.write(
                            "".join(
                                f'<Relationship Id="link{n}" Type="{_HYPERLINK}" Target={quoteattr(target)}'
                                ' TargetMode="External"/>'
                                for n, (_, target) in enumerate(links[i : i + _CHUNK], i + 1)
                            ).encode()
                        )
                    part.write(b"</Relationships>")

    def write_worksheet(self, ws: Any) -> None:
        if not isinstance(ws, _StreamedWorksheet):
            super().write_worksheet(ws)
            return
        # As ExcelWriter.write_worksheet does for a write-only sheet, but copying from a file object.
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        if not ws.closed:
            ws.close()
        writer = ws._writer
        ws._rels = writer._rels
        _fix_dimension(writer.out, ws._dimension())
        writer.out.seek(0)
        with self._archive.open(ws.path[1:], "w") as part:
            shutil.copyfileobj(writer.out, part, 1 << 16)
        writer.out.close()
        self.manifest.append(ws)

    def _write_comment(self, ws: Any) -> None:
        notes = ws._comments
        if not all(isinstance(n, _Note) for n in notes):
            super()._write_comment(ws)
            return
        cs = CommentSheet(authors=AuthorList(), commentList=[])  # for its part name and content type
        self._comments.append(cs)
        cs._id = len(self._comments)
        authors = {a: i for i, a in enumerate(dict.fromkeys(n.author for n in notes))}
        with self._archive.open(cs.path[1:], "w") as fh:
            fh.write(f'<comments xmlns="{SHEET_MAIN_NS}"><authors>'.encode())
            fh.write("".join(f"<author>{_escape(a)}</author>" for a in authors).encode())
            fh.write(b"</authors><commentList>")
            for chunk in _chunks(notes):
                fh.write(
                    "".join(
                        f'<comment ref="{n.ref}" authorId="{authors[n.author]}" shapeId="0"><text>'
                        f"<t{_space(n.text)}>{_escape(sheet_text(n.text))}</t></text></comment>"
                        for n in chunk
                    ).encode()
                )
            fh.write(b"</commentList></comments>")
        self.manifest.append(cs)
        ws.legacy_drawing = f"xl/drawings/commentsDrawing{cs._id}.vml"
        with self._archive.open(ws.legacy_drawing, "w") as fh:
            fh.write(_VML_HEAD)
            for first, chunk in enumerate(_chunks(notes)):
                fh.write("".join(_vml_shape(1026 + first * _CHUNK + i, n) for i, n in enumerate(chunk)).encode())
            fh.write(b"</xml>")
        self.vba_modified.add(ws.legacy_drawing)
        ws._rels.append(Relationship(Id="comments", type=cs._rel_type, Target=cs.path))


_CHUNK = 2000
_HYPERLINK = f"{REL_NS}/hyperlink"
# As openpyxl's ShapeWriter writes them: one shape type, then a hidden note shape per comment.
_VML_HEAD = (
    b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
    b' xmlns:x="urn:schemas-microsoft-com:office:excel">'
    b'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
    b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def _chunks(notes: list[_Note]) -> Iterable[list[_Note]]:
    for i in range(0, len(notes), _CHUNK):
        yield notes[i : i + _CHUNK]


def _vml_shape(idx: int, note: _Note) -> str:
    row, col = coordinate_to_tuple(note.ref)
    style = (
        "position:absolute; margin-left:59.25pt;margin-top:1.5pt;"
        f"width:{note.width}px;height:{note.height}px;z-index:1;visibility:hidden"
    )
    return (
        f'<v:shape id="_x0000_s{idx:04d}" type="#_x0000_t202" style="{style}" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/><v:path o:connecttype="none"/>'
        '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill>'
        f"<x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column></x:ClientData></v:shape>"
    )


def _space(text: str) -> str:
    return ' xml:space="preserve"' if text != text.strip() else ""


def _escape(text: str) -> str:
    """Text as the XML character data of a ``<t>`` (sheet_text has already removed what XML cannot hold).

    A literal ``_xHHHH_`` is an escape to Excel, LibreOffice and apdocs' read-back (``_x0041_``
    is shown as ``A``): its underscore is written ``_x005F_``, as the form renderer does
    (:func:`apdocs.formats.xlsx.cellxml.x_escaped`), so the text comes back as it was typed.
    """
    if "_x" in text:  # rare: the check keeps the other ~4 million cells of a country's tracker fast
        text = x_escaped(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text  # a parser would read a bare CR as LF


def _number(value: Any) -> tuple[str, str]:
    """(cell type, text of <v>) for a value that is not text, as openpyxl writes them."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return "n", repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return "n", repr(to_excel(value))
    raise TypeError(f"a tracker cell cannot hold {type(value).__name__}")
