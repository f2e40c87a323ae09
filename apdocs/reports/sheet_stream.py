"""Streaming worksheets for the tracker: each row written once, styled as it is written.

The tracker of a whole country has hundreds of thousands of rows, too many to hold as an
in-memory openpyxl workbook (about 1.2 GB at 15,000 returns). :class:`Sheet` wraps an
openpyxl write-only worksheet (``Workbook(write_only=True)``): column widths, frozen panes
and print setup are decided before the first row, each row's height before the row, and
then the row is appended as ``WriteOnlyCell``\\ s and written to disk straight away.

Styles are made once per workbook (:class:`Styles`) and shared by the cells that use them,
so no cell pays for hashing a font or a fill. Every value goes through
:func:`apdocs.reports.safe.set_cell`, so text is never a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from apdocs.reports.safe import set_cell

DEFAULT_WIDTH = 8.43
LINE_HEIGHT = 12.75  # points per line of 10-11 pt text, as _fit_rows has always reckoned


class Styles:
    """A workbook's cell styles, each made once: ``styles(font=..., fill=...)`` is a shared StyleArray.

    Pass module-level style objects (fonts, fills ...): the cache is keyed by their identity.
    """

    def __init__(self, wb: Workbook) -> None:
        self._wb = wb
        self._made: dict[tuple[int, ...] | tuple[Any, ...], tuple[StyleArray, tuple[Any, ...]]] = {}
        self._proto_ws = None

    def __call__(
        self,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        alignment: Alignment | None = None,
        border: Border | None = None,
        number_format: str | None = None,
    ) -> StyleArray:
        objects = (font, fill, alignment, border)
        key = (*map(id, objects), number_format)
        made = self._made.get(key)
        if made is None:
            proto = WriteOnlyCell(_Parent(self._wb))
            if font is not None:
                proto.font = font
            if fill is not None:
                proto.fill = fill
            if alignment is not None:
                proto.alignment = alignment
            if border is not None:
                proto.border = border
            if number_format is not None:
                proto.number_format = number_format
            # The objects are kept with their StyleArray so their ids stay theirs.
            made = self._made[key] = (proto._style, objects)
        return made[0]


class _Parent:
    """What a prototype cell needs of a worksheet: its workbook, where the style lists live."""

    def __init__(self, wb: Workbook) -> None:
        self.parent = wb


class Sheet:
    """One write-only worksheet, fed whole rows in order (row 1 first)."""

    def __init__(self, wb: Workbook, title: str, styles: Styles, widths: Sequence[float]) -> None:
        self.ws = wb.create_sheet(title)
        self.styles = styles
        self.widths = list(widths)
        for i, w in enumerate(self.widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = w
        self.rows = 0  # written so far

    def cell(
        self,
        value: Any,
        style: StyleArray | None = None,
        *,
        comment: Comment | None = None,
        link: str | None = None,
    ) -> WriteOnlyCell:
        c = WriteOnlyCell(self.ws)
        if style is not None:
            c._style = style  # shared: set_cell copies it before changing it
        set_cell(c, value)
        if comment is not None:
            c.comment = comment
        if link is not None:
            c.hyperlink = link
        return c

    def append(self, cells: Iterable[Any] = (), height: float | None = None) -> int:
        """Write the next row (cells, or None for an empty cell); returns its row number."""
        r = self.rows + 1
        if height is not None:
            self.ws.row_dimensions[r].height = height
        self.ws.append(list(cells))
        if height is not None:
            del self.ws.row_dimensions[r]  # written: no need to keep it
        self.rows = r
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
