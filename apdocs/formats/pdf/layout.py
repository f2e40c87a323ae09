"""A PDF page's words, with their positions, as the paragraphs and tables of the form.

pdfplumber finds each table from its ruling lines (a form printed from Word or Excel
keeps its cell borders) and gives every word its box. Words are put in the cell
whose box holds their centre; the rest are body lines. Within a cell the lines are
joined back into the text the school typed:

* a line that ends well short of the cell's right edge - with room for the next
  line's first word - ended with a line break the school typed; otherwise the text
  only wrapped there, and the lines are joined with a space;
* a vertical gap of a whole line or more is an empty line (a blank paragraph).

A table that runs on to the next page (same column edges) is joined to its first
part, and a repeated heading row is dropped, so an answer never leaves its table.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apdocs.formats.docx.read_text import Block, Cell, Para, Table

#: Words whose tops differ by less than this share of the font size sit on one line.
SAME_LINE = 0.5
#: A gap between lines of at least this many line heights is one empty line or more.
BLANK_LINE = 0.8
#: Room (points) a word must have had on the line above for the break to count as typed.
#: Office suites wrap a word that overshoots the text edge by a fraction of a point, so
#: a break is only called typed when the word would have fitted with room to spare.
FIT_MARGIN = 1.0
#: Shares of the page height at the top and bottom that hold running headers and footers.
MARGIN_TOP, MARGIN_BOTTOM = 0.08, 0.1
#: Column edges of two table parts closer than this (points) are the same column.
EDGE_SLACK = 2.0


#: Most ruling lines one page may draw: finding cells is quadratic in them, and a form's
#: page draws under a hundred.
MAX_EDGES = 3000


class TooComplex(Exception):
    """A page past the caps: raised before the costly work, typed by the reader."""


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass
class _Line:
    words: list[Word]

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def size(self) -> float:
        return max(w.size for w in self.words) or 10.0

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def lines_of(words: Iterable[Word]) -> list[_Line]:
    """Words grouped into lines, top to bottom, each left to right."""
    out: list[_Line] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        if out and abs(w.top - out[-1].words[0].top) < SAME_LINE * max(w.size, 1.0):
            out[-1].words.append(w)
        else:
            out.append(_Line([w]))
    for line in out:
        line.words.sort(key=lambda w: w.x0)
    return out


def join_lines(lines: Sequence[_Line], right: float, *, spacing: tuple[float, float] = (0.0, 0.0)) -> list[str]:
    """Lines of one cell (or column of text ending at ``right``) as its paragraphs.

    ``spacing`` is (line pitch, space after a paragraph) when paragraphs leave space after
    them (body text usually does, our cells do not): a pitch that large starts a new
    paragraph, and only a gap beyond it counts towards an empty line.
    """
    base, after = spacing
    if not lines:
        return []
    paras: list[str] = [lines[0].text]
    for prev, line in itertools.pairwise(lines):
        height = max(prev.bottom - prev.top, 1.0)
        raw = line.top - prev.top
        pitch, gap = raw - after, line.top - prev.bottom - after
        first = line.words[0]
        fits = prev.x1 + 0.3 * first.size + (first.x1 - first.x0) <= right - FIT_MARGIN
        if gap >= BLANK_LINE * height * 1.4:
            # a whole empty line between: count how many (line pitch ~ 1.15-1.2 x the glyph height)
            blanks = max(1, round(pitch / (height * 1.17)) - 1)
            paras.extend([""] * blanks)
            paras.append(line.text)
        elif fits or (after > 0 and raw > base + after / 2):
            paras.append(line.text)  # a typed break (the word would have fitted above), or a new paragraph
        else:
            paras[-1] = f"{paras[-1]} {line.text}"  # the text wrapped
    return paras


def paragraph_spacing(lines: Sequence[_Line]) -> tuple[float, float]:
    """The space body paragraphs leave between them, from the gaps between lines.

    The smallest line pitch is the one within a paragraph; pitches a little larger (less
    than another line's worth) are paragraph breaks, and their typical excess is the spacing.
    """
    pitches = [b.top - a.top for a, b in itertools.pairwise(lines) if b.top > a.top]
    if len(pitches) < 2:
        return 0.0, 0.0
    base = min(pitches)
    extra = sorted(p - base for p in pitches if base + 1.0 < p < 1.9 * base)
    return base, (extra[len(extra) // 2] if extra else 0.0)


@dataclass
class _Table:
    bbox: tuple[float, float, float, float]
    edges: list[float]  # the cells' left edges (grid columns)
    rows: list[tuple[Cell, ...]]


def page_blocks(page: Any) -> list[tuple[float, Block | _Table]]:
    """(top, block) for each table and body line of a pdfplumber page, top to bottom."""
    words = [
        Word(w["text"], float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]), float(w.get("size") or 10.0))
        for w in page.extract_words(extra_attrs=["size"], keep_blank_chars=False)
    ]
    # words by the height of their centre, so each cell looks only at the words in its rows
    words.sort(key=lambda w: (w.top + w.bottom) / 2)
    mids = [(w.top + w.bottom) / 2 for w in words]
    placed: set[int] = set()
    out: list[tuple[float, Block | _Table]] = []
    for bbox, grid in _grids(page):
        edges = sorted({round(c[0], 1) for row in grid for c in row if c is not None})
        rows: list[tuple[Cell, ...]] = []
        for row in grid:
            cells: list[Cell] = []
            for c in row:
                if c is None:
                    if cells:  # a merged cell: the one to its left spans it
                        cells[-1] = Cell(cells[-1].paragraphs, cells[-1].span + 1)
                    continue
                x0, top, x1, bottom = c
                inside = [
                    i
                    for i in range(bisect.bisect_left(mids, top), bisect.bisect_right(mids, bottom))
                    if i not in placed and x0 <= (words[i].x0 + words[i].x1) / 2 <= x1
                ]
                placed.update(inside)
                lines = lines_of(words[i] for i in inside)
                pad = min((ln.x0 for ln in lines), default=x0) - x0
                cells.append(Cell(tuple(join_lines(lines, x1 - max(pad, 0.0))), 1))
            rows.append(tuple(cells))
        out.append((bbox[1], _Table(bbox, edges, rows)))
    body = lines_of(w for i, w in enumerate(words) if i not in placed)
    right = max((ln.x1 for ln in body), default=0.0)  # the text column's right edge, as far as the page shows it
    tops = sorted(top for top, _ in out)
    spacing = paragraph_spacing(body)
    for run in _runs(body, tops):
        # a run of body lines with no table between: wrapped lines join, typed breaks stay
        y = run[0].top
        for text in join_lines(run, right, spacing=spacing):
            out.append((y, Para(text)))
            y += 0.001  # keep the paragraphs' order when sorted
    out.sort(key=lambda t: t[0])
    return out


def _runs(lines: list[_Line], table_tops: list[float]) -> list[list[_Line]]:
    """Body lines split wherever a table starts between two of them."""
    runs: list[list[_Line]] = []
    for line in lines:
        if runs and not any(runs[-1][-1].top < t < line.top for t in table_tops):
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


Box = tuple[float, float, float, float]


def _grids(page: Any) -> list[tuple[Box, list[list[Box | None]]]]:
    """(bbox, rows of cell boxes) of each table on the page, single-cell boxes included.

    pdfplumber drops a "table" of one cell, but a long answer that Word moves to a page
    of its own is exactly that: a box drawn around the text. Such cells become tables too.
    """
    finder = page.debug_tablefinder(_closing_lines(page))
    out: list[tuple[Box, list[list[Box | None]]]] = []
    for tb in finder.tables:
        out.append((_box(tb.bbox), [[_box(c) if c is not None else None for c in row.cells] for row in tb.rows]))
    taken = [b for b, _ in out]
    for cell in finder.cells:
        box = _box(cell)
        if not any(_within(box, t) for t in taken):
            out.append((box, [[box]]))
            taken.append(box)
    return out


def _box(b: Any) -> Box:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _within(inner: Box, outer: Box) -> bool:
    return outer[0] - 1 <= inner[0] and outer[1] - 1 <= inner[1] and inner[2] <= outer[2] + 1 and inner[3] <= outer[3] + 1


def _closing_lines(page: Any) -> dict[str, Any]:
    """Table settings that close tables cut by a page break.

    A row that runs over a page break has no bottom border on its first page and no top
    border on the next, so its cell would not be found. A horizontal line where the
    vertical rules begin and end closes it again (where a border exists it changes nothing).
    """
    edges = page.edges
    if len(edges) > MAX_EDGES:
        raise TooComplex(f"a page draws {len(edges)} lines (a form's page draws under a hundred; limit {MAX_EDGES})")
    verticals = [e for e in edges if e.get("orientation") == "v" and float(e["bottom"]) - float(e["top"]) > 2]
    if not verticals:
        return {}
    top = min(float(e["top"]) for e in verticals)
    bottom = max(float(e["bottom"]) for e in verticals)
    return {"explicit_horizontal_lines": [top, bottom]}


def document_blocks(pages: Iterable[Any]) -> list[Block]:
    """Every page's blocks in reading order; a table continued over a page break is joined.

    A table continues when the next page's first table has the same column edges and
    nothing but running headers and footers (lines in the page margins) came between.
    """
    blocks: list[Block | _Table] = []
    open_table: _Table | None = None  # the table the next table may continue
    for page in pages:
        height = float(page.height) or 842.0
        for top, block in page_blocks(page):
            if isinstance(block, _Table):
                if open_table is not None and _same_columns(open_table, block):
                    rows = block.rows
                    if rows and open_table.rows and _texts(rows[0]) == _texts(open_table.rows[0]):
                        rows = rows[1:]  # the heading row, repeated on the new page
                    open_table.rows.extend(rows)
                else:
                    blocks.append(block)
                    open_table = block
            else:
                blocks.append(block)
                if MARGIN_TOP * height < top < (1 - MARGIN_BOTTOM) * height:
                    open_table = None  # body text: the table has ended
    return [Table(tuple(b.rows)) if isinstance(b, _Table) else b for b in blocks]


def _texts(row: tuple[Cell, ...]) -> tuple[str, ...]:
    return tuple(c.text for c in row)


def _same_columns(a: _Table, b: _Table) -> bool:
    return len(a.edges) == len(b.edges) and all(abs(x - y) <= EDGE_SLACK for x, y in zip(a.edges, b.edges, strict=True))
