"""Lay a form out as an openpyxl workbook: the template every render starts from.

Built once per form by ``compile``. One visible sheet named after the form
("Appendix 4") carries a title block, the header fields and the form body; a hidden
``Lists`` sheet holds the dropdown values; a very hidden ``_apdocs`` sheet holds
metadata and the slot -> cell map. Every answer cell gets a workbook-level defined
name (:func:`names.slot_name`). All wording comes from the form definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import metadata

from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import absolute_coordinate, get_column_letter, quote_sheetname
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from apdocs.forms.model import FormDefinition, Slot

from . import names

#: Stand-in for the per-render reference in document properties; replaced by ``render``.
REFERENCE_MARK = "APDOCS-REFERENCE-MARK-7f3a"

FONT_NAME = "Arial"
_thin = Side(style="thin", color="808080")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
NAVY = "1F3864"
F_TITLE = Font(name=FONT_NAME, size=14, bold=True, color=NAVY)
F_SUBTITLE = Font(name=FONT_NAME, size=12, bold=True, color=NAVY)
F_BODY = Font(name=FONT_NAME, size=10)
F_LABEL = Font(name=FONT_NAME, size=10, bold=True)
F_HEADING = Font(name=FONT_NAME, size=11, bold=True, color="FFFFFF")
FILL_HEADING = PatternFill("solid", fgColor=NAVY)
FILL_QUESTION = PatternFill("solid", fgColor="E7ECF5")
FILL_ANSWER = PatternFill("solid", fgColor="FFFFFF")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
# Answers all start at the left, whether text, number or date (Excel would right-align numbers).
ANSWER_ALIGN = Alignment(wrap_text=True, vertical="top", horizontal="left")
WRAP_CENTRE = Alignment(wrap_text=True, vertical="center")
LOCKED = Protection(locked=True)
UNLOCKED = Protection(locked=False)

DATE_FORMAT = "dd/mm/yyyy"
MONEY_FORMAT = '"£"#,##0'
NUMBER_FORMAT = "0.##"
TEXT_FORMAT = "@"  # typed text stays text (no formulas, no surprise dates)

LINE_PT = 12.75  # one line of Arial 10
A4_INCHES = (8.27, 11.69)
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.8, "footer": 0.3}  # inches; LibreOffice clips a tighter footer
MIN_ANSWER_PT = 90.0  # room to write a paragraph


@dataclass
class Layout:
    """The built workbook and where things are."""

    workbook: Workbook
    sheet: str
    cells: dict[str, str] = field(default_factory=dict)  # slot id -> "C12"
    meta_reference_cell: str = ""  # cell on the _apdocs sheet holding the reference


def text_lines(text: str, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (an estimate, Arial 10)."""
    per_line = max(1.0, width * 1.15)
    return sum(max(1, math.ceil(len(p) / per_line)) for p in text.split("\n"))


class _Sheet:
    """Row-by-row writer for the visible form sheet."""

    def __init__(self, ws: Worksheet, widths: list[float]) -> None:
        self.ws = ws
        self.widths = widths
        self.last_col = len(widths)
        self.row = 0
        self.keep: list[tuple[int, int]] = []
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w

    def width(self, first: int, last: int) -> float:
        return sum(self.widths[first - 1 : last])

    def next_row(self, height: float | None = None) -> int:
        self.row += 1
        if height:
            self.ws.row_dimensions[self.row].height = height
        return self.row

    def put(
        self,
        row: int,
        first: int,
        last: int,
        value: object = None,
        *,
        font: Font = F_BODY,
        fill: PatternFill | None = None,
        border: bool = True,
        align: Alignment = WRAP_TOP,
        protect: Protection = LOCKED,
        number_format: str | None = None,
    ) -> str:
        """Write ``value`` over columns first..last of ``row`` (merged) and style every cell."""
        for col in range(first, last + 1):
            cell = self.ws.cell(row=row, column=col)
            cell.font = font
            cell.alignment = align
            cell.protection = protect
            if fill:
                cell.fill = fill
            if border:
                cell.border = BORDER
            if number_format:
                cell.number_format = number_format
        anchor = self.ws.cell(row=row, column=first)
        if value is not None:
            anchor.value = value
        if last > first:
            self.ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        return anchor.coordinate

    def keep_together(self, first: int, last: int) -> None:
        """Ask for rows first..last to print on one page (see :meth:`paginate`)."""
        self.keep.append((first, last))

    def height(self, row: int) -> float:
        return self.ws.row_dimensions[row].height or LINE_PT + 2

    def paginate(self, *, title_rows: int) -> None:
        """Put manual page breaks before kept-together blocks that would straddle a page.

        Spreadsheets only break pages between rows, so a heading can end up alone at the
        foot of a page, apart from its rows. Heights are estimated from the column widths
        the same way the fit-to-width scale is (about 7 pixels per character).
        """
        width_pt = sum(w * 7 + 5 for w in self.widths) * 0.75
        scale = min(1.0, (A4_INCHES[0] - MARGINS["left"] - MARGINS["right"]) * 72 / width_pt)
        titles = sum(self.height(r) for r in range(1, title_rows + 1))
        page = (A4_INCHES[1] - MARGINS["top"] - MARGINS["bottom"]) * 72 / scale * 0.97 - titles
        starts = {first: last for first, last in self.keep}
        used, row = 0.0, title_rows + 1
        while row <= self.row:
            last = starts.get(row, row)
            block = sum(self.height(r) for r in range(row, last + 1))
            if used + block > page and used > 0:
                self.ws.row_breaks.append(Break(id=row - 1))
                used = 0.0
            used += block
            row = last + 1

    def fit(self, row: int, texts: list[tuple[str, float]], minimum: float = LINE_PT + 4) -> None:
        """Set ``row``'s height to fit the tallest of (text, width) pairs."""
        lines = max([text_lines(t, w) for t, w in texts] or [1])
        self.ws.row_dimensions[row].height = max(minimum, lines * LINE_PT + 4)


class _Builder:
    def __init__(self, form: FormDefinition, widths: list[float]) -> None:
        self.form = form
        self.wb = Workbook()
        # Column widths are counted in digits of the default font. openpyxl's default is
        # Calibri 11, which LibreOffice replaces with the much wider DejaVu Sans where Calibri
        # is not installed, shrinking the printout to ~70%. Arial (Liberation Sans) is everywhere.
        self.wb._fonts = IndexedList([F_BODY])  # font 0 is the Normal style's font
        ws = self.wb.active
        ws.title = form.title
        self.sheet = _Sheet(ws, widths)
        self.layout = Layout(self.wb, ws.title)
        self.dv_yes_no = DataValidation(type="list", formula1=names.LIST_YES_NO, allow_blank=True)
        self.dv_judgement = DataValidation(type="list", formula1=names.LIST_JUDGEMENT, allow_blank=True)
        # "Any date Excel can show": serial 1 (1900-01-01) to 2958465 (9999-12-31).
        self.dv_date = DataValidation(type="date", operator="between", formula1="1", formula2="2958465", allow_blank=True)
        self.dv_decimal = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        for dv in (self.dv_yes_no, self.dv_judgement, self.dv_date, self.dv_decimal):
            dv.showErrorMessage = True
            ws.add_data_validation(dv)

    # -- answer cells ---------------------------------------------------------------

    def answer(self, slot: Slot, row: int, first: int, last: int | None = None) -> str:
        """Unlocked, validated, named answer cell for ``slot``."""
        last = last or first
        fmt, dv = {
            "date": (DATE_FORMAT, self.dv_date),
            "money": (MONEY_FORMAT, self.dv_decimal),
            "number": (NUMBER_FORMAT, self.dv_decimal),
            "bool": (TEXT_FORMAT, self.dv_yes_no),
            "choice": (TEXT_FORMAT, self.dv_judgement),
        }.get(slot.type, (TEXT_FORMAT, None))
        ref = self.sheet.put(row, first, last, fill=FILL_ANSWER, protect=UNLOCKED, number_format=fmt, align=ANSWER_ALIGN)
        if dv is not None:
            dv.add(ref)
        self.layout.cells[slot.id] = ref
        return ref

    def label(self, row: int, first: int, last: int, text: str | CellRichText | None, *, bold: bool = False) -> str:
        return self.sheet.put(row, first, last, text, font=F_LABEL if bold else F_BODY, fill=FILL_QUESTION)

    def heading(self, row: int, first: int, last: int, text: str) -> None:
        self.sheet.put(row, first, last, text, font=F_HEADING, fill=FILL_HEADING, align=WRAP_CENTRE)

    # -- blocks -------------------------------------------------------------------

    def title_block(self) -> None:
        f, s = self.form, self.sheet
        for text, font, height in (
            (f.organisation, F_TITLE, 22.0),
            (f.display_name, F_SUBTITLE, 18.0),
            (f"{f.chrome['return_to']} {f.return_address}", F_LABEL, 15.0),
        ):
            s.put(s.next_row(height), 1, s.last_col, text, font=font, border=False, align=Alignment(vertical="center"))
        for para in f.intro:
            row = s.next_row()
            s.put(row, 1, s.last_col, para, border=False)
            s.fit(row, [(para, s.width(1, s.last_col))])
        s.next_row(8)

    def header_fields(self) -> None:
        s = self.sheet
        split = 2  # label over columns A:B, value over the rest
        for h in self.form.header:
            row = s.next_row(LINE_PT * 1.5)
            self.label(row, 1, split, h.label, bold=True)
            self.answer(self.form.slot(h.id), row, split + 1, s.last_col)
        s.next_row(8)

    def spacer(self) -> None:
        self.sheet.next_row(8)

    # -- finishing ----------------------------------------------------------------

    def finish(self) -> Layout:
        form, wb, ws = self.form, self.wb, self.sheet.ws
        last_col = get_column_letter(self.sheet.last_col)
        ws.freeze_panes = "A4"  # keep the title block in view
        ws.print_title_rows = "1:3"
        ws.print_area = f"A1:{last_col}{self.sheet.row}"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        for side, inches in MARGINS.items():
            setattr(ws.page_margins, side, inches)
        self.sheet.paginate(title_rows=3)
        for part, text in ((ws.oddFooter.left, f"{form.display_name} ({form.version})"), (ws.oddFooter.right, "&P / &N")):
            part.text, part.font, part.size = text, FONT_NAME, 8
        ws.sheet_view.showGridLines = False
        ws.sheet_view.zoomScale = 100
        _protect(ws)
        _lists_sheet(wb, form)
        self.layout.meta_reference_cell = _meta_sheet(wb, form, self.layout)
        for slot_id, ref in self.layout.cells.items():
            name = names.slot_name(slot_id)
            wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(ws.title)}!{absolute_coordinate(ref)}")
        # Stop people unhiding or deleting the helper sheets; cell protection is per sheet.
        wb.security = WorkbookProtection(lockStructure=True)
        _properties(wb, form)
        return self.layout


def _protect(ws: Worksheet, password: str | None = None) -> None:
    ws.protection.sheet = True
    if password:
        ws.protection.password = password
    # Let people resize rows/columns to fit long answers; everything else stays locked.
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def _lists_sheet(wb: Workbook, form: FormDefinition) -> None:
    ws = wb.create_sheet(names.LISTS_SHEET)
    for col, (name, values) in enumerate(((names.LIST_YES_NO, form.yes_no), (names.LIST_JUDGEMENT, form.judgements)), start=1):
        for row, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
        letter = get_column_letter(col)
        ref = f"{quote_sheetname(ws.title)}!${letter}$1:${letter}${len(values)}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    ws.sheet_state = "hidden"
    _protect(ws)


def _meta_sheet(wb: Workbook, form: FormDefinition, layout: Layout) -> str:
    """Key/value metadata and the slot map; returns the cell that holds the reference."""
    ws = wb.create_sheet(names.META_SHEET)
    rows: list[tuple[str, ...]] = [
        ("form", form.id),
        ("version", form.version),
        ("reference", ""),
        ("tag", names.keywords(form)),
        ("generator", f"apdocs {_apdocs_version()}"),
        (),
        names.MAP_HEADER,
    ]
    sheet_ref = quote_sheetname(layout.sheet)
    for slot_id, ref in layout.cells.items():
        rows.append((slot_id, f"{sheet_ref}!{absolute_coordinate(ref)}", names.slot_name(slot_id)))
    for r in rows:
        ws.append(list(r))
    ws.sheet_state = "veryHidden"
    _protect(ws)
    return "B3"


def _apdocs_version() -> str:
    try:
        return metadata.version("apdocs")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "dev"


def _properties(wb: Workbook, form: FormDefinition) -> None:
    p = wb.properties
    p.creator = form.organisation
    p.title = form.display_name
    p.subject = form.id
    p.keywords = names.keywords(form)
    p.identifier = REFERENCE_MARK
    p.category = form.organisation
    p.version = form.version
    p.language = "en-GB"  # screen readers pick their voice from it
    wb.custom_doc_props.append(StringProperty(name=names.PROP_FORM, value=form.id))
    wb.custom_doc_props.append(StringProperty(name=names.PROP_VERSION, value=form.version))
    wb.custom_doc_props.append(StringProperty(name=names.PROP_REFERENCE, value=REFERENCE_MARK))


# -- the three forms ---------------------------------------------------------------


def _appendix4(form: FormDefinition) -> Layout:
    b = _Builder(form, [6, 50, 52])
    s = b.sheet
    b.title_block()
    b.header_fields()
    for section in form.sections:
        b.heading(s.next_row(LINE_PT * 1.6), 1, 3, section.title)
        s.keep_together(s.row, s.row + 1)  # a heading never ends a page
        for q in section.questions:
            row = s.next_row()
            b.label(row, 1, 1, str(q.number), bold=True)
            text: str | CellRichText = q.text
            if q.hint:
                text = CellRichText(q.text + "\n", TextBlock(InlineFont(rFont=FONT_NAME, sz=9, i=True), q.hint))
            b.label(row, 2, 2, text)
            b.answer(form.slot(q.id), row, 3)
            s.fit(row, [(q.text + "\n" + (q.hint or ""), s.width(2, 2))], minimum=MIN_ANSWER_PT)
        b.spacer()
    return b.finish()


def _appendix2(form: FormDefinition) -> Layout:
    assert form.columns is not None and form.insurance is not None
    b = _Builder(form, [5, 46, 13, 12, 30])
    s, lab, ins = b.sheet, form.labels, form.insurance
    b.title_block()
    b.header_fields()
    row = s.next_row(LINE_PT * 2.4)
    s.keep_together(row, row + 1)
    b.heading(row, 1, 2, form.columns["evidence"])
    b.heading(row, 3, 3, form.columns["seen"])
    b.heading(row, 4, 4, lab["date_seen"])
    b.heading(row, 5, 5, lab["note"])
    for it in form.items:
        row = s.next_row()
        b.label(row, 1, 1, it.id[1:], bold=True)
        b.label(row, 2, 2, it.text)
        b.answer(form.slot(f"{it.id}.seen"), row, 3)
        b.answer(form.slot(f"{it.id}.date_seen"), row, 4)
        b.answer(form.slot(f"{it.id}.note"), row, 5)
        s.fit(row, [(it.text, s.width(2, 2))], minimum=LINE_PT * 2 + 4)
    b.spacer()
    row = s.next_row(LINE_PT * 1.6)
    s.keep_together(row, row + 1 + len(form.covers))
    b.heading(row, 1, 2, ins["heading"])
    b.heading(row, 3, 3, ins["amount_label"])
    b.heading(row, 4, 5, ins["expiry_label"])
    # Sole trader first: the letter exempts sole traders from employer's liability cover.
    row = s.next_row(LINE_PT * 1.6)
    b.label(row, 1, 2, ins["sole_trader_label"], bold=True)
    b.answer(form.slot("insurance.sole_trader"), row, 3)
    b.label(row, 4, 5, None)
    for c in form.covers:
        row = s.next_row(LINE_PT * 1.6)
        b.label(row, 1, 2, c.text)
        b.answer(form.slot(f"insurance.{c.id}.amount"), row, 3)
        b.answer(form.slot(f"insurance.{c.id}.expiry"), row, 4, 5)
    return b.finish()


def _appendix3(form: FormDefinition) -> Layout:
    b = _Builder(form, [7, 62, 24])
    s, lab = b.sheet, form.labels
    b.title_block()
    b.header_fields()
    for area in form.areas:
        row = s.next_row()
        first = row
        b.heading(row, 1, 2, area.title)
        b.heading(row, 3, 3, lab["scrutinised"])
        s.fit(row, [(area.title, s.width(1, 2))], minimum=LINE_PT * 1.6)
        for src in area.sources:
            row = s.next_row()
            b.label(row, 1, 1, src.id, bold=True)
            b.label(row, 2, 2, src.text)
            b.answer(form.slot(src.id), row, 3)
            s.fit(row, [(src.text, s.width(2, 2))], minimum=LINE_PT * 1.3)
        row = s.next_row(LINE_PT * 1.6)
        b.label(row, 1, 2, lab["judgement"], bold=True)
        b.answer(form.slot(f"{area.id}.judgement"), row, 3)
        b.label(s.next_row(LINE_PT * 1.4), 1, 3, lab["notes"], bold=True)
        b.answer(form.slot(f"{area.id}.notes"), s.next_row(MIN_ANSWER_PT), 1, 3)
        s.keep_together(first, s.row)  # an area, its judgement and notes on one page
        b.spacer()
    row = s.next_row(LINE_PT * 1.8)
    b.label(row, 1, 2, lab["overall_judgement"], bold=True)
    b.answer(form.slot("overall_judgement"), row, 3)
    return b.finish()


_BUILDERS = {"appendix2": _appendix2, "appendix3": _appendix3, "appendix4": _appendix4}


def build(form: FormDefinition) -> Layout:
    """The laid-out template workbook for ``form`` (no values filled in)."""
    layout = _BUILDERS[form.id](form)
    missing = {s.id for s in form.slots()} - set(layout.cells)
    if missing:
        raise ValueError(f"{form.id}: layout has no cell for {sorted(missing)}")
    return layout
