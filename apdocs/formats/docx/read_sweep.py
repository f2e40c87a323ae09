"""One pass over a document body for the tree route: what may name a content control, and the
cells of every body-level table, from ONE lxml iteration.

When the tree is read (a re-save that dropped the controls' tags, LibreOffice's above all), the
controls are found by walking the whole body (:func:`~apdocs.formats.docx.read_controls.find_controls`)
and then the position route reads the tables, each by a walk of its own
(:func:`~apdocs.formats.docx.read_text.table_cells`). Those walks visit the same nodes again in
C and set up a tag filter each (~3 us a table, with 17 tags); here one iteration with every tag
gives both. Nothing is read differently:

* ``named``: the ``w:tag``/``w:alias`` elements in document order, the very elements
  ``body.iter(w:tag, w:alias)`` gives, for :func:`~apdocs.formats.docx.read_controls.controls_of`;
* ``rows``: for each body-level table (as :func:`~apdocs.formats.docx.read_text.body_level` finds
  them), the rows :func:`~apdocs.formats.docx.read_text._table_one_pass` reads, by the same steps
  over the same nodes; None where that pass declines or this one cannot tell where the table
  ends, and the caller reads that table with ``table_cells`` as before.

A table ends where the first element after it starts (its next sibling, or an ancestor's: a
paragraph or a table, or the body's section properties after the last table); the iteration
yields that element too (else no table is read here: a comment has no tag to find it by).

Once a control tagged by apdocs turns up, the controls are intact and no route will read tables by
position: the tables from then on are left to ``table_cells`` (None), so such returns pay for no
table they do not need.
"""

from __future__ import annotations

from typing import NamedTuple

from lxml import etree

from apdocs.formats.docx.read_text import (
    _FAST_TAGS,
    _PARA_HOMES,
    _TAB_STOPS,
    _TEXT_OF,
    GRID_SPAN,
    TAB,
    TBL,
    TC,
    TR,
    VAL,
    Cell,
    P,
    R,
    T,
    body_level,
    w,
)
from apdocs.forms.model import TAG_PREFIX

TAG, ALIAS = w("tag"), w("alias")
_TAGS = (*_FAST_TAGS, TAG, ALIAS)
_ENDS = frozenset(_TAGS)  # what may follow a table for its end to be seen
_OWN_TAG = TAG_PREFIX + ":"
Rows = list[list[Cell]]


class Swept(NamedTuple):
    named: list[etree._Element]  # w:tag / w:alias elements, in document order
    tables: list[etree._Element]  # the body-level tables
    rows: list[Rows | None]  # each table's rows (None: read it with table_cells)


def sweep(body: etree._Element) -> Swept:
    """The body's control-naming elements and its body-level tables' rows, in one pass."""
    tables = [el for el in body_level(body) if el.tag == TBL]
    ends = [_after(tbl, body) for tbl in tables]
    # What ends a table but is not yielded for its own sake (w:sectPr after the last table) is
    # yielded too, and passed over where it is not an end, as the table's own pass never sees it.
    extra = frozenset(el.tag for el in ends if el is not None and el.tag not in _ENDS)
    if not all(isinstance(tag, str) for tag in extra):  # a comment: no tag to find it by
        return Swept(list(body.iter(TAG, ALIAS)), tables, [None] * len(tables))
    named: list[etree._Element] = []
    out: list[Rows | None] = [None] * len(tables)
    nxt = tables[0] if tables else None  # the next table to enter
    k = 0  # its index
    cur = -1  # the table being read (-1: none)
    end: etree._Element | None = None  # where it ends
    live = False  # the table being read has not been declined
    own = False  # a control tagged by apdocs was seen: no more tables are read
    # _table_one_pass's state and steps, in its words (see there for why each check is made)
    rows: Rows = []
    row: list[Cell] | None = None
    paras: list[str] | None = None
    text: str | None = None
    span = 1
    cell: etree._Element | None = None
    t_, p_, tc_, tr_, r_, text_of, homes = T, P, TC, TR, R, _TEXT_OF, _PARA_HOMES
    new = tuple.__new__
    for node in body.iter(*_TAGS, *extra):
        if cur >= 0 and node is end:  # the first element after the table: it is read
            if live:
                if paras is not None and row is not None:
                    if text is not None:
                        paras.append(text)
                    row.append(new(Cell, (tuple(paras), span)))
                out[cur] = rows
            cur = -1
        tag = node.tag
        if tag == TAG or tag == ALIAS:
            named.append(node)
            if tag == TAG and not own and (node.get(VAL) or "").startswith(_OWN_TAG):
                own, live = True, False  # the table being read is left to table_cells too
            continue
        if cur < 0:
            if node is nxt:
                if not own:
                    cur, end, live = k, ends[k], True
                    rows, row, paras, text, span, cell = [], None, None, None, 1, None
                k += 1
                nxt = tables[k] if k < len(tables) else None
            continue
        if not live:
            continue
        if tag == t_:
            if text is None or (up := node.getparent()) is None or up.tag != r_:
                live = False
                continue
            piece = node.text
            if piece:
                text += piece
        elif tag == p_:
            if paras is None:
                live = False
                continue
            up = node.getparent()
            if up is not cell and (up is None or up.tag not in homes):
                live = False
                continue
            if text is not None:
                paras.append(text)
            text = ""
        elif tag == tc_:
            if row is None:
                live = False
                continue
            if paras is not None:
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
                live = False
                continue
            try:
                span = max(1, int(node.get(VAL, "")))
            except (TypeError, ValueError):
                span = 1
        elif tag in text_of:
            up = node.getparent()
            if tag == TAB and up is not None and up.tag == _TAB_STOPS:
                continue
            if text is None or up is None or up.tag != r_:
                live = False
                continue
            text += text_of[tag]
        elif tag not in extra:
            live = False  # something careful (a nested table, a deletion, a drawing ...)
    if cur >= 0 and live:  # the last table runs to the end of the body
        if paras is not None and row is not None:
            if text is not None:
                paras.append(text)
            row.append(new(Cell, (tuple(paras), span)))
        out[cur] = rows
    return Swept(named, tables, out)


def _after(el: etree._Element, top: etree._Element) -> etree._Element | None:
    """The first node after ``el``'s subtree in document order, up to the end of ``top`` (None)."""
    while el is not top:
        nxt = el.getnext()
        if nxt is not None:
            return nxt
        up = el.getparent()
        if up is None:
            return None
        el = up
    return None
