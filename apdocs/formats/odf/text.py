"""OpenDocument content as the paragraphs and tables the wording route reads.

What LibreOffice 7.4+ writes for our forms, observed: Word content controls become
``loext:content-control`` (tag and title dropped), plain fields become
``text:text-input``, dropdowns ``text:drop-down``; all of them are read for the text
they show. Line breaks (``text:line-break``) are kept as "\\n", ``text:s`` as spaces,
``text:tab`` as a tab. Annotations, footnote bodies, tracked-change records (the
deleted text) and drawings add nothing. Spreadsheet rows and cells repeated by a count
are expanded only up to the cells a form can hold (a forged count is a bomb).
"""

from __future__ import annotations

from lxml import etree

from apdocs.errors import ParseError
from apdocs.formats.docx.read_text import Block, Cell, Para, Table
from apdocs.formats.ooxml import MAX_CELLS

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"


def t(name: str) -> str:
    return f"{{{TEXT}}}{name}"


def tb(name: str) -> str:
    return f"{{{TABLE}}}{name}"


P, H, S, TAB, BR = t("p"), t("h"), t("s"), t("tab"), t("line-break")
_SKIP = frozenset(
    {
        f"{{{OFFICE}}}annotation",
        f"{{{OFFICE}}}annotation-end",
        t("note-citation"),
        t("note-body"),
        t("tracked-changes"),
        t("bookmark"),
        t("sequence-decls"),
        t("variable-decls"),
        t("user-field-decls"),
        "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}frame",
        "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}custom-shape",
    }
)
#: Most cells one repeat count may stand for (LibreOffice pads sheets with 1024-column repeats of nothing).
MAX_REPEAT = 1024


def inline(el: etree._Element) -> str:
    out: list[str] = []
    _walk(el, out)
    return "".join(out)


def _walk(el: etree._Element, out: list[str]) -> None:
    if el.text:
        out.append(el.text)
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            pass
        elif tag == S:
            out.append(" " * min(_int(child.get(t("c")), 1), 1000))
        elif tag == TAB:
            out.append("\t")
        elif tag == BR:
            out.append("\n")
        else:
            _walk(child, out)
        if child.tail:
            out.append(child.tail)


def _int(value: str | None, default: int) -> int:
    try:
        return max(int(value or default), 0)
    except ValueError:
        return default


def paragraphs(container: etree._Element) -> list[str]:
    """The paragraphs of a cell or section, nested lists and sections included."""
    out: list[str] = []
    for child in container:
        if child.tag in (P, H):
            out.append(inline(child))
        elif child.tag == tb("table"):
            # a table inside a cell: its cells' paragraphs join the outer cell, row by row
            for row in _iter_rows(child):
                for cell in row.iterchildren(tb("table-cell")):
                    out.extend(paragraphs(cell))
        elif isinstance(child.tag, str) and child.tag not in _SKIP:
            out.extend(paragraphs(child))
    return out


def text_blocks(body: etree._Element) -> list[Block]:
    """office:text as blocks: body paragraphs and tables (nested tables' text joins their cell)."""
    out: list[Block] = []
    for child in body:
        tag = child.tag
        if tag in (P, H):
            out.append(Para(inline(child)))
        elif tag == tb("table"):
            out.append(Table(tuple(_rows(child, limit=MAX_CELLS))))
        elif isinstance(tag, str) and tag not in _SKIP:
            out.extend(text_blocks(child))  # sections, lists, list items
    return out


def _iter_rows(table: etree._Element) -> list[etree._Element]:
    rows: list[etree._Element] = []
    for child in table:
        if child.tag == tb("table-row"):
            rows.append(child)
        elif child.tag in (tb("table-header-rows"), tb("table-rows"), tb("table-row-group")):
            rows.extend(_iter_rows(child))
    return rows


def _rows(table: etree._Element, *, limit: int) -> list[tuple[Cell, ...]]:
    """Rows of cells; repeats expanded, trailing empty cells and rows dropped, at most ``limit`` cells."""
    out: list[tuple[Cell, ...]] = []
    budget = limit
    pending_blank = 0
    for row in _iter_rows(table):
        cells: list[Cell] = []
        for cell in row:
            if cell.tag == tb("covered-table-cell"):
                continue  # under a spanning cell, whose span counts it
            if cell.tag != tb("table-cell"):
                continue
            span = max(_int(cell.get(tb("number-columns-spanned")), 1), 1)
            repeat = min(_int(cell.get(tb("number-columns-repeated")), 1), MAX_REPEAT)
            value = Cell(tuple(_cell_paragraphs(cell)), span)
            cells.extend([value] * repeat)
        while cells and not cells[-1].text.strip():
            cells.pop()
        repeat = min(_int(row.get(tb("number-rows-repeated")), 1), MAX_REPEAT)
        if not cells:
            pending_blank += repeat
            continue
        pending_blank = min(pending_blank, 1)  # a run of empty rows reads as one: nothing in them
        out.extend([()] * pending_blank)
        pending_blank = 0
        budget -= len(cells) * repeat
        if budget < 0:
            raise ParseError(f"the sheets hold more than {limit} cells; no form is that big", code="TOO_MANY_CELLS")
        out.extend([tuple(cells)] * repeat)
    return out


def _cell_paragraphs(cell: etree._Element) -> list[str]:
    return paragraphs(cell)


def hidden_sheet_styles(root: etree._Element) -> frozenset[str]:
    """Names of the table styles that hide a sheet (``table:display="false"``): Calc keeps our
    hidden sheets (the choice lists, the ``_apdocs`` map) hidden this way."""
    out = set()
    for style in root.iter(f"{{{STYLE}}}style"):
        props = style.find(f"{{{STYLE}}}table-properties")
        if style.get(f"{{{STYLE}}}family") == "table" and props is not None and props.get(tb("display")) == "false":
            out.add(style.get(f"{{{STYLE}}}name", ""))
    return frozenset(out)


def sheet_blocks(spreadsheet: etree._Element, *, hidden_styles: frozenset[str] = frozenset()) -> list[Block]:
    """office:spreadsheet as one table per visible sheet.

    Hidden sheets, and any named like ``_apdocs`` (apdocs' own, hidden or not), are left out:
    they hold lists and slot maps, not the form a person filled in.
    """
    out: list[Block] = []
    budget = MAX_CELLS
    for sheet in spreadsheet.iterchildren(tb("table")):
        if sheet.get(tb("style-name"), "") in hidden_styles or sheet.get(tb("name"), "").startswith("_"):
            continue
        rows = _rows(sheet, limit=budget)
        budget -= sum(len(r) for r in rows)
        out.append(Table(tuple(rows)))
    return out
