"""The tracker's streamed rows: what openpyxl reads back is what was written."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font

from apdocs.reports.sheet_stream import Sheet, Styles, save

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def test_values_styles_comments_and_links_read_back() -> None:
    wb = Workbook(write_only=True)
    styles = Styles(wb)
    sheet = Sheet(wb, "S", styles, [10, 20])
    sheet.ws.freeze_panes = "B2"
    bold, dated = styles(font=BOLD, alignment=WRAP), styles(number_format="yyyy-mm-dd")
    assert styles(font=BOLD, alignment=WRAP) == bold  # made once
    texts = ["a & b <c> \"d\" 'e'", "  spaced  ", "line\r\nbreak", "=1+1", "-2", "café ✓ 𝄞", "bad\x01\x0b\ufffe"]
    sheet.append([sheet.cell(t, bold) for t in texts], height=42)
    sheet.append(
        [
            sheet.cell(dt.date(2025, 3, 31), dated),
            sheet.cell(7),
            sheet.cell(2.5),
            sheet.cell(Decimal("1000000")),
            sheet.cell(True),
            sheet.cell("", bold),
            None,
            sheet.cell("linked", link="returns/x.docx", comment=Comment("a note", "apdocs")),
        ]
    )
    sheet.blank()
    sheet.append([sheet.cell("after a blank row")])
    data = save(wb)
    assert data is not None
    # The sheet's <dimension>, written before its rows were known, is put right afterwards.
    assert openpyxl.load_workbook(io.BytesIO(data), read_only=True)["S"].calculate_dimension() == "A1:H4"
    ws = openpyxl.load_workbook(io.BytesIO(data))["S"]
    row1 = [c.value for c in ws[1][:7]]
    assert row1 == ["a & b <c> \"d\" 'e'", "  spaced  ", "line\r\nbreak", "=1+1", "-2", "café ✓ 𝄞", "bad"]
    assert all(c.data_type == "s" for c in ws[1][:7])  # text, never a formula
    assert ws["D1"].quotePrefix and ws["E1"].quotePrefix and not ws["A1"].quotePrefix
    assert ws["A1"].font.bold and ws["A1"].alignment.wrap_text and ws.row_dimensions[1].height == 42
    assert ws["A2"].value == dt.datetime(2025, 3, 31) and ws["A2"].number_format == "yyyy-mm-dd"
    assert [ws[f"{c}2"].value for c in "BCDE"] == [7, 2.5, 1000000, True]
    assert ws["F2"].value is None and ws["F2"].font.bold  # empty text: an empty, styled cell
    assert ws["H2"].hyperlink.target == "returns/x.docx" and ws["H2"].comment.text == "a note"
    assert ws["A3"].value is None and ws["A4"].value == "after a blank row"
    assert ws.freeze_panes == "B2" and ws.column_dimensions["B"].width == 20


# Text that reads like an xlsx escape (_x0041_ is Excel's for "A"), and how it must be written:
# the underscore that starts an escape as _x005F_, both of the overlapping pair's included.
ESCAPE_LIKE = {
    "_x0041_": "_x005F_x0041_",
    "_x005F_": "_x005F_x005F_",
    "_x005f_x0041_": "_x005F_x005f_x005F_x0041_",
    "_x0000_x0000_": "_x005F_x0000_x005F_x0000_",
    "ax005F_b _x41_": "ax005F_b _x41_",  # not escapes: as they are
}


def _texts(xml: bytes) -> list[str]:
    """The raw text of each <t> in a part, as the file holds it."""
    from lxml import etree

    return [t.text or "" for t in etree.fromstring(xml).iter("{*}t")]


def test_text_that_reads_like_an_xlsx_escape_is_written_escaped_and_reads_back_as_typed() -> None:
    """A pupil reference, message or note with _x0041_ in it: Excel would show it as "A" unless escaped."""
    import zipfile

    from apdocs.formats.xlsx.cellxml import unescape_text

    wb = Workbook(write_only=True)
    sheet = Sheet(wb, "S", Styles(wb))
    typed = list(ESCAPE_LIKE)
    sheet.append([sheet.cell(t, comment=Comment(t, "apdocs")) for t in typed])
    data = save(wb)
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        cells, notes = z.read("xl/worksheets/sheet1.xml"), z.read("xl/comments/comment1.xml")
    assert _texts(cells) == _texts(notes) == list(ESCAPE_LIKE.values())
    # Decoded as Excel, LibreOffice and apdocs' readers decode it: what was typed.
    assert [unescape_text(t) for t in _texts(cells)] == [unescape_text(t) for t in _texts(notes)] == typed


def test_set_cell_escapes_what_openpyxl_would_write_as_it_is(tmp_path) -> None:
    """openpyxl neither escapes nor decodes _xHHHH_: set_cell stores the underscore escaped, as Excel saves it."""
    import zipfile

    from apdocs.formats.xlsx.cellxml import unescape_text
    from apdocs.reports.safe import set_cell

    wb = Workbook()
    typed = list(ESCAPE_LIKE)
    for row, text in enumerate(typed, 1):
        set_cell(wb.active.cell(row=row, column=1), text)
    set_cell(wb.active.cell(row=len(typed) + 1, column=1), "=1+1 _x0041_")
    wb.save(tmp_path / "s.xlsx")
    with zipfile.ZipFile(tmp_path / "s.xlsx") as z:
        written = _texts(z.read("xl/worksheets/sheet1.xml"))
    assert written == [*ESCAPE_LIKE.values(), "=1+1 _x005F_x0041_"]
    assert [unescape_text(t) for t in written] == [*typed, "=1+1 _x0041_"]
    assert openpyxl.load_workbook(tmp_path / "s.xlsx").active.cell(row=len(typed) + 1, column=1).data_type == "s"
