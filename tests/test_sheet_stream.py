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
