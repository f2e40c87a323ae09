"""Text of WordprocessingML as a person sees it once tracked changes are accepted.

Readers work on lxml elements straight from ``word/document.xml`` (python-docx can
see neither content controls nor tracked insertions, and is ~10x slower). The rules
live here, once, so both routes (controls and plain text) read text the same way:

* tracked changes read as accepted: ``w:ins``/``w:moveTo`` content is in,
  ``w:del``/``w:moveFrom`` content is out (``w:delText`` is never text);
* a paragraph whose mark was deleted merges with the next one; deleted rows vanish;
* ``w:br``/``w:cr`` become ``"\\n"``, ``w:tab`` becomes ``"\\t"``;
* fields contribute their result text (``w:instrText`` is the code, not text);
* comments, drawings/text boxes, property blocks and placeholders' definitions
  contribute nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def w(name: str) -> str:
    return f"{{{W}}}{name}"


P, TBL, TR, TC, SDT, SDT_CONTENT, SDT_PR = w("p"), w("tbl"), w("tr"), w("tc"), w("sdt"), w("sdtContent"), w("sdtPr")
T, TAB, BR, CR = w("t"), w("tab"), w("br"), w("cr")
NO_BREAK_HYPHEN, SOFT_HYPHEN = w("noBreakHyphen"), w("softHyphen")
PPR, RPR, TRPR, DEL, INS = w("pPr"), w("rPr"), w("trPr"), w("del"), w("ins")
CUSTOM_XML, SMART_TAG = w("customXml"), w("smartTag")
R, MOVE_TO, TC_PR, GRID_SPAN, VAL = w("r"), w("moveTo"), w("tcPr"), w("gridSpan"), w("val")

# Subtrees that never contribute visible, accepted text.
_SKIP = frozenset(
    {
        PPR,
        RPR,
        SDT_PR,
        DEL,
        w("moveFrom"),
        w("delText"),
        w("instrText"),
        w("delInstrText"),
        w("tblPr"),
        w("tblGrid"),
        w("trPr"),
        w("tcPr"),
        w("drawing"),
        w("pict"),
        w("object"),
        w("footnoteReference"),
        w("endnoteReference"),
        w("commentReference"),
        f"{{{MC}}}Fallback",
        w("sdtEndPr"),
    }
)


def _collect(el: etree._Element, out: list[str]) -> None:
    for child in el:
        tag = child.tag
        if tag == T:
            if child.text:
                out.append(child.text)
        elif tag in _SKIP or not isinstance(tag, str):
            continue  # comments/processing instructions have a non-str tag
        elif tag == TAB:
            out.append("\t")
        elif tag == BR or tag == CR:
            out.append("\n")
        elif tag == NO_BREAK_HYPHEN:
            out.append("-")
        elif tag == SOFT_HYPHEN:
            continue
        else:
            _collect(child, out)


# Where paragraphs live when they are read (the walk from a paragraph up stops there).
_BLOCK_HOMES = frozenset({w("body"), TC})
# Text elements, and what no text element may sit inside to count (a text element is a leaf).
_TEXT_TAGS = (T, TAB, BR, CR, NO_BREAK_HYPHEN)
_HIDES = _SKIP | {T, TAB, BR, CR, NO_BREAK_HYPHEN, SOFT_HYPHEN}
_TEXT_OF = {TAB: "\t", BR: "\n", CR: "\n", NO_BREAK_HYPHEN: "-"}
#: For readers that walk runs themselves (read_controls' quick walk): subtrees whose text is
#: never read, and the text each empty text element stands for.
HIDDEN_SUBTREES, CHAR_OF = _SKIP, _TEXT_OF


def inline_text(el: etree._Element) -> str:
    """Accepted text of a paragraph or any run-level container (no paragraph breaks)."""
    out: list[str] = []
    for node in el.iterdescendants(_TEXT_TAGS):
        if not _hidden(node, el):
            out.append((node.text or "") if node.tag == T else _TEXT_OF[node.tag])
    return "".join(out)


def para_text(el: etree._Element) -> tuple[str, bool]:
    """(accepted text, whether the paragraph mark is a tracked deletion) of ``el``.

    The same text as the walk in :func:`_collect`, found faster: lxml picks out the text
    elements in C, and each counts unless an element between it and ``el`` is skipped.
    """
    return inline_text(el), mark_deleted(el)


def _hidden(node: etree._Element, top: etree._Element) -> bool:
    """Whether an element between ``node`` (exclusive) and ``top`` (exclusive) hides its text."""
    up = node.getparent()
    while up is not None and up is not top:
        if up.tag in _HIDES:
            return True
        up = up.getparent()
    return False


class TextIndex:
    """Every paragraph's (text, mark deleted) in a body, from ONE pass over it.

    lxml builds a tag filter per ``iter`` call (~2 us), a cost paid per paragraph by
    :func:`para_text`; returns re-saved by an office suite hold hundreds of paragraphs.
    A text element belongs to its nearest paragraph ancestor; a paragraph nested in
    another one (invalid, but then the walk would join their texts) disables the index.
    """

    def __init__(self, body: etree._Element) -> None:
        self._texts: dict[etree._Element, list[str]] = {}
        self._deleted: set[etree._Element] = set()
        self.usable = True
        for node in body.iter(P, DEL, *_TEXT_TAGS):
            tag = node.tag
            if tag == P:
                if self._nested(node):
                    self.usable = False
                    return
                self._texts[node] = []
                continue
            up = node.getparent()
            if tag == DEL:  # p/pPr/rPr/del: the paragraph mark may be deleted
                ppr = up.getparent() if up is not None and up.tag == RPR else None
                p = ppr.getparent() if ppr is not None and ppr.tag == PPR else None
                if p is not None and p.tag == P and mark_deleted(p):
                    self._deleted.add(p)
                continue
            hidden = False
            for up in node.iterancestors():  # to the nearest paragraph
                up_tag = up.tag
                if up_tag == P:
                    if not hidden:
                        self._texts[up].append((node.text or "") if tag == T else _TEXT_OF[tag])
                    break
                if up_tag in _HIDES:
                    hidden = True

    @staticmethod
    def _nested(p: etree._Element) -> bool:
        """A paragraph inside another paragraph, not inside a skipped subtree (text box...)."""
        up = p.getparent()
        while up is not None:
            tag = up.tag
            if tag in _BLOCK_HOMES:
                return False
            if tag in _HIDES:
                return False  # never read: a text box in a drawing, a fallback ...
            if tag == P:
                return True
            up = up.getparent()
        return False

    def para_text(self, p: etree._Element) -> tuple[str, bool]:
        pieces = self._texts.get(p)
        if pieces is None:
            return para_text(p)
        return "".join(pieces), p in self._deleted


def _child(el: etree._Element, tag: str) -> etree._Element | None:
    """First child with ``tag`` (property blocks come first: a plain loop beats lxml's
    ``iterchildren(tag)``, which builds a tag filter per call, and ``find``, ~5x slower still)."""
    for c in el:
        if c.tag == tag:
            return c
    return None


def mark_deleted(p: etree._Element) -> bool:
    """True when the paragraph mark itself is a tracked deletion (merges with the next)."""
    ppr = _child(p, PPR)
    if ppr is None:
        return False
    rpr = _child(ppr, RPR)
    return rpr is not None and _child(rpr, DEL) is not None


def row_deleted(tr: etree._Element) -> bool:
    trpr = _child(tr, TRPR)
    return trpr is not None and _child(trpr, DEL) is not None


def paragraphs(container: etree._Element, index: TextIndex | None = None) -> list[str]:
    """Paragraph texts of a block container (body, cell, sdtContent), in order.

    Content controls and custom-XML wrappers are transparent; nested tables
    contribute their cells' paragraphs (rare in returns, but text must not vanish).
    ``index``: the container's body already read (see :class:`TextIndex`).
    """
    text_of = index.para_text if index is not None else para_text
    out: list[str] = []
    pending = ""  # text of paragraphs whose mark was deleted, waiting to merge
    for el in iter_block_paragraphs(container):
        text, deleted = text_of(el)
        text = pending + text
        if deleted:
            pending = text
            continue
        pending = ""
        out.append(text)
    if pending:
        out.append(pending)
    return out


def iter_block_paragraphs(container: etree._Element) -> Iterator[etree._Element]:
    """Every ``w:p`` in a block container in reading order, through wrappers and tables."""
    for child in container:
        tag = child.tag
        if tag == P:
            yield child
        elif tag == SDT:
            content = _child(child, SDT_CONTENT)
            if content is not None:
                yield from iter_block_paragraphs(content)
        elif tag == TBL:
            for tr in iter_rows(child):
                for tc in iter_cells(tr):
                    yield from iter_block_paragraphs(tc)
        elif tag == TR:  # the content of a row-level control
            if not row_deleted(child):
                for tc in iter_cells(child):
                    yield from iter_block_paragraphs(tc)
        elif tag in (TC, CUSTOM_XML, INS, MOVE_TO):  # TC: the content of a cell-level control
            yield from iter_block_paragraphs(child)


def iter_rows(tbl: etree._Element) -> Iterator[etree._Element]:
    """Rows of a table, through row-level content controls; tracked-deleted rows skipped."""
    for child in tbl:
        if child.tag == TR:
            if not row_deleted(child):
                yield child
        elif child.tag in (SDT, CUSTOM_XML):
            inner = _child(child, SDT_CONTENT) if child.tag == SDT else child
            if inner is not None:
                # a row-level wrapper is itself a tiny table body
                yield from iter_rows(inner)


def iter_cells(tr: etree._Element) -> Iterator[etree._Element]:
    """Cells of a row, through cell-level content controls."""
    for child in tr:
        if child.tag == TC:
            yield child
        elif child.tag in (SDT, CUSTOM_XML):
            inner = _child(child, SDT_CONTENT) if child.tag == SDT else child
            if inner is not None:
                yield from iter_cells(inner)


class Cell(NamedTuple):
    """One table cell's paragraphs, with where it sits (a tuple: hundreds per return)."""

    paragraphs: tuple[str, ...]
    span: int = 1  # gridSpan, so column positions survive merged header cells

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Para:
    text: str


Block = Para | Table


def blocks(body: etree._Element) -> list[Block]:
    """The body as a flat list of paragraphs and top-level tables (wrappers removed)."""
    index = TextIndex(body)
    text_of = index.para_text if index.usable else para_text
    out: list[Block] = []
    pending = ""
    for child in body_level(body):
        if child.tag == P:
            text, deleted = text_of(child)
            text = pending + text
            if deleted:
                pending = text
                continue
            pending = ""
            out.append(Para(text))
        else:
            out.append(_table(child, index if index.usable else None))
    if pending:
        out.append(Para(pending))
    return out


def body_level(container: etree._Element) -> Iterator[etree._Element]:
    """Body-level paragraphs and tables in order, through block-level wrappers (controls, insertions)."""
    for child in container:
        tag = child.tag
        if tag in (P, TBL):
            yield child
        elif tag == SDT:
            content = _child(child, SDT_CONTENT)
            if content is not None:
                yield from body_level(content)
        elif tag in (CUSTOM_XML, INS, MOVE_TO):
            yield from body_level(child)


def span(tc: etree._Element) -> int:
    """A cell's grid span (merged cells keep column positions); 1 when absent or unreadable."""
    tcpr = _child(tc, TC_PR)
    if tcpr is None:
        return 1
    gs = _child(tcpr, GRID_SPAN)
    try:
        return max(1, int(gs.get(VAL, ""))) if gs is not None else 1
    except (TypeError, ValueError):
        return 1


def _table(tbl: etree._Element, index: TextIndex | None) -> Table:
    fast = _table_one_pass(tbl)
    if fast is not None:
        return Table(tuple(tuple(row) for row in fast))
    rows = []
    for tr in iter_rows(tbl):
        rows.append(tuple(Cell(tuple(paragraphs(tc, index)), span(tc)) for tc in iter_cells(tr)))
    return Table(tuple(rows))


# Text in these may be hidden (tracked deletions and moves, drawings' text boxes, fallbacks),
# and a nested table breaks the one-pass reading: such tables are read cell by cell instead.
_CAREFUL = (TBL, DEL, w("moveFrom"), w("drawing"), w("pict"), w("object"), f"{{{MC}}}AlternateContent")
_FAST_TAGS = (TR, TC, P, GRID_SPAN, *_TEXT_TAGS, *_CAREFUL)
_PARA_HOMES = frozenset({TC, SDT_CONTENT, CUSTOM_XML, INS, MOVE_TO})
_TAB_STOPS = w("tabs")


def table_cells(tbl: etree._Element) -> list[list[Cell]]:
    """Rows of :class:`Cell` of a table, as :func:`iter_rows`/:func:`iter_cells`/:func:`paragraphs`
    read them, in ONE pass over the table when nothing in it can hide text (the common case:
    per-cell reading builds a tag filter per paragraph, ~2 us each, over a hundred cells).

    Rows and cells are taken in document order: the schema puts them only in the table, its
    rows and the row/cell-level wrappers the careful walk goes through."""
    rows = _table_one_pass(tbl)
    if rows is not None:
        return rows
    return [[Cell(tuple(paragraphs(tc)), span(tc)) for tc in iter_cells(tr)] for tr in iter_rows(tbl)]


def _table_one_pass(tbl: etree._Element) -> list[list[Cell]] | None:
    """None when the table holds anything the careful walk must judge (see ``_CAREFUL``)."""
    rows: list[list[Cell]] = []
    row: list[Cell] | None = None
    paras: list[str] | None = None  # the current cell's paragraphs, but for the one being read
    # The text of the paragraph being read (None: none yet in this cell), a local string added
    # to in place: no list per paragraph to join at the end (~0.1 us a cell, ~130 cells a return);
    # CPython grows a local string held nowhere else in place, so long paragraphs stay linear.
    text: str | None = None
    span = 1  # the current cell's, its Cell built when the next cell, row or the end comes
    # The loop runs once per text, paragraph and cell (~500 times a table): names it uses are
    # local, as local look-ups are the cheapest.
    t_, p_, tc_, tr_, r_, text_of, homes, hides = T, P, TC, TR, R, _TEXT_OF, _PARA_HOMES, _HIDES
    new = tuple.__new__  # Cell(...) goes through a Python-level __new__; a Cell is a plain tuple
    # The current cell's element, held so that its paragraphs' getparent() returns this same
    # object: lxml builds a Python object per element reached and frees it when nothing holds
    # it, which is a third of this walk's time; and "is" needs no tag string built and hashed.
    cell: etree._Element | None = None
    # The run whose own parent was last found not to hide it (a run inside a property block is
    # hidden from the careful walk): held, as ``cell``, so that its next text's getparent() is it.
    run: etree._Element | None = None
    it = tbl.iter(*_FAST_TAGS)
    next(it)  # the table itself
    # Every node below has a parent (it is inside the table); the walrus checks only tell mypy.
    for node in it:
        tag = node.tag
        if tag == t_:
            if text is None or (up := node.getparent()) is None or up.tag != r_:  # the schema puts text only in runs
                return None
            if up is not run:
                if (home := up.getparent()) is None or home.tag in hides:
                    return None
                run = up
            piece = node.text  # each read of .text builds a new string
            if piece:
                text += piece
        elif tag == p_:
            if paras is None:
                return None
            up = node.getparent()
            if up is not cell and (up is None or up.tag not in homes):  # in the cell itself, or a wrapper in it
                return None
            if text is not None:
                paras.append(text)
            text = ""
        elif tag == tc_:
            if row is None:
                return None
            if paras is not None:  # the cell before, in this row
                if text is not None:
                    paras.append(text)
                row.append(new(Cell, (tuple(paras), span)))
            paras, text, span, cell = [], None, 1, node
        elif tag == tr_:
            if paras is not None and row is not None:
                if text is not None:
                    paras.append(text)
                row.append(new(Cell, (tuple(paras), span)))
            row, paras, text = [], None, None
            rows.append(row)
        elif tag == GRID_SPAN:
            if paras is None or text is not None:
                return None  # a span outside the cell's own properties
            try:
                span = max(1, int(node.get(VAL, "")))
            except (TypeError, ValueError):
                span = 1
        elif tag in text_of:
            up = node.getparent()
            if tag == TAB and up is not None and up.tag == _TAB_STOPS:
                continue  # a tab stop in the paragraph's properties, not a tab character
            if text is None or up is None or up.tag != r_:
                return None
            if up is not run:
                if (home := up.getparent()) is None or home.tag in hides:
                    return None
                run = up
            text += text_of[tag]
        else:
            return None  # something careful (_CAREFUL)
    if paras is not None and row is not None:
        if text is not None:
            paras.append(text)
        row.append(new(Cell, (tuple(paras), span)))
    return rows
