"""Read a form that has no content controls: by finding its printed texts.

Two kinds of document arrive this way: the ORIGINAL 2020 appendices that schools
typed into (no markers of any kind), and apdocs' own forms after an editor unwrapped
the controls. Both are read the same way:

1. the document is flattened into lines (body paragraphs and table cells, each split
   at line breaks), remembering which table/row/cell a line sits in;
2. each line is matched against the form's printed texts (read from the definition:
   questions, hints, items, sources, area titles, labels, headings ...);
3. an answer is what follows its anchor up to the next printed text - the rest of
   the anchor's line ("Provider name: Sunrise"), the cells to its right
   (Question | Response), the row(s) beneath (one-column tables) or the paragraphs
   beneath (questions as paragraphs). Inside a table an answer never leaves the table.
   Evidence rows (Appendix 2) and source rows (Appendix 3) are read by column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, NamedTuple

from apdocs import values
from apdocs.errors import Notice
from apdocs.formats.docx.read_text import Block, Para, Table
from apdocs.formats.docx.read_values import Reader, parse_mark
from apdocs.formats.wording import Anchor, Match, check_text_size, matcher_for, tokens
from apdocs.forms.model import FormDefinition, Slot

# Anchor kinds that carry a value read from what follows them.
VALUE_KINDS = frozenset({"question", "header", "label"})
# Kinds read by column from their table row.
ROW_KINDS = frozenset({"item", "source", "cover"})
_COLHEAD = frozenset({"colhead"})
_HINT = frozenset({"hint"})

_MatchFn = Callable[[str, "frozenset[str] | None"], list[Match]]


class Line(NamedTuple):
    """One line of the flattened document (a tuple: a return holds hundreds)."""

    text: str
    block: int
    row: int = -1  # -1: a body paragraph
    col: int = -1


@dataclass
class LegacyResult:
    values: dict[str, Any]
    notices: list[Notice] = field(default_factory=list)
    matched: int = 0  # how many of the form's own texts were found


def flatten(blocks: list[Block]) -> list[Line]:
    """The document's lines; TEXT_TOO_LARGE before any line is split when the text is far
    more than a form's (every wording route starts here)."""
    check_text_size(sum(_text_size(block) for block in blocks))
    out: list[Line] = []
    for b, block in enumerate(blocks):
        if isinstance(block, Para):
            out += [Line(t, b) for t in block.text.split("\n")]
        else:
            for r, row in enumerate(block.rows):
                for c, cell in enumerate(row):
                    for para in cell.paragraphs:
                        out += [Line(t, b, r, c) for t in para.split("\n")]
    return out


def _text_size(block: Block) -> int:
    if isinstance(block, Para):
        return len(block.text)
    return sum(len(p) for row in block.rows for cell in row for p in cell.paragraphs)


# -- reading ------------------------------------------------------------------


class MatchedDoc:
    """The flattened document with each line's best anchor resolved in context."""

    def __init__(self, form: FormDefinition, blocks: list[Block], notices: list[Notice]) -> None:
        self.form = form
        self.blocks = blocks
        self.lines = flatten(blocks)
        self.notices = notices
        self._matcher = matcher_for(form)
        # The same text is matched again (a table's cells for its header rows): once per document.
        self._memo: dict[tuple[str, frozenset[str] | None], list[Match]] = {}
        self.hits: list[Match | None] = []
        area = ""
        for line in self.lines:
            found = self.match(line.text) if line.text.strip() else []
            hit = self._choose(found, area, line)
            if hit is not None and hit.anchor.kind == "area":
                area = hit.anchor.key
            self.hits.append(hit)

    def match(self, text: str, allow: frozenset[str] | None = None) -> list[Match]:
        key = (text, allow)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._matcher.match(text, allow=allow)
        return found

    def _choose(self, found: list[Match], area: str, line: Line) -> Match | None:
        if not found:
            return None
        sources = [m for m in found if m.anchor.kind == "source"]
        if sources and len({m.anchor.key for m in sources}) > 1:
            # the same source text is printed under several areas: the current area decides
            best = sources[0].score
            top = [m for m in sources if m.score == best]
            in_area = [m for m in top if m.anchor.scope == area]
            if in_area:
                return in_area[0]
            if len(top) > 1:
                self.notices.append(
                    Notice("AMBIGUOUS_MATCH", f"a source is printed under several areas; read as {top[0].anchor.key}")
                )
        return found[0]

    def following(self, i: int) -> list[str]:
        """Lines after line ``i`` up to the next printed text (inside a table: within that table)."""
        start = self.lines[i]
        out: list[str] = []
        first = self.hits[i]
        rest = first.rest if first is not None else ""
        if rest and first is not None and first.anchor.kind == "question":
            rest = self._after_hint(rest, first.anchor.key)
        if rest:
            out.append(rest)
        for j in range(i + 1, len(self.lines)):
            line = self.lines[j]
            if start.row >= 0 and (line.block != start.block or line.row < 0):
                break
            hit = self.hits[j]
            if hit is not None and hit.anchor.kind == "hint":
                continue  # a question's printed hint sits between it and the answer
            if hit is not None:
                break
            out.append(line.text)
        return trim_blank(out)

    def _after_hint(self, rest: str, question: str) -> str:
        """What follows a question on its own line, less the question's printed hint or later
        sentence (both "hint" anchors): a school that retypes "Q4) What procedures ...? e.g.
        defined standards ..." in one cell and answers in the next column has answered nothing
        in that cell (the hint is the question's)."""
        for hit in self.match(rest, _HINT):
            if hit.anchor.key == question:
                return hit.rest  # "" when the hint fills the rest of the line
        return rest

    def row_right(self, i: int) -> tuple[Table, int, list[tuple[int, str]]] | None:
        """For a line in a table: (table, row index, [(grid column, text) of cells to its right])."""
        line = self.lines[i]
        if line.row < 0:
            return None
        table = self.blocks[line.block]
        assert isinstance(table, Table)
        row = table.rows[line.row]
        cells, col = [], 0
        for c, cell in enumerate(row):
            if c > line.col:
                cells.append((col, cell.text))
            col += cell.span
        return (table, line.row, cells) if cells else None


def trim_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def header_roles(form: FormDefinition, match: _MatchFn, table: Table) -> list[dict[int, str]]:
    """For each row of ``table``: grid column -> role ("seen", "date_seen", "note", "yes", "no",
    "amount", "expiry", "scrutinised") from the nearest header row above it.

    One pass down the table (a header row governs the rows beneath it until the next one);
    evidence/source rows are never headers.
    """
    yes, no = (tuple(tokens(t)) for t in form.yes_no[:2])
    out: list[dict[int, str]] = []
    current: dict[int, str] = {}
    for row in table.rows:
        out.append(current)
        if any(match(c.text, ROW_KINDS) for c in row if c.text.strip()):
            continue  # an evidence/source row, not a header
        if row and row[0].text.strip() and match(row[0].text, VALUE_KINDS):
            continue  # a label and its answer ("sole trader | No"): its "No" is an answer, not a column heading
        roles: dict[int, str] = {}
        col = 0
        for cell in row:
            toks = tuple(tokens(cell.text))
            if toks == yes:
                roles[col] = "yes"
            elif toks == no:
                roles[col] = "no"
            else:
                hit = match(cell.text, _COLHEAD)
                if hit and not hit[0].rest:
                    # a spanning "Seen Yes / No" above separate Yes | No cells keeps the lower row's split
                    roles.setdefault(col, hit[0].anchor.key)
            col += cell.span
        if roles:
            current = roles
    return out


def read_legacy(form: FormDefinition, blocks: list[Block], reader: Reader) -> LegacyResult:
    """Flat slot values for ``form`` read from a document without controls."""
    notices = reader.notices
    doc = MatchedDoc(form, blocks, notices)
    values: dict[str, Any] = {}
    matched: set[str] = set()
    area = ""
    roles_cache: dict[int, list[dict[int, str]]] = {}

    def roles_for(table: Table, block: int, row: int) -> dict[int, str]:
        if block not in roles_cache:
            roles_cache[block] = header_roles(form, doc.match, table)
        return roles_cache[block][row]

    def put(slot_id: str, value: Any) -> None:
        if value is not None and values.get(slot_id) is None:
            values[slot_id] = value
        else:
            values.setdefault(slot_id, value)

    for i, hit in enumerate(doc.hits):
        if hit is None:
            continue
        a = hit.anchor
        if a.kind == "area":
            area = a.key
            matched.add(a.key)
            continue
        if a.kind in ("question", "item", "source"):
            matched.add(a.key)
        if a.kind in VALUE_KINDS:
            slot_id = slot_for(a, area)
            if slot_id is None:
                continue
            text = "\n".join(doc.following(i))
            put(slot_id, reader.value(_slot(form, slot_id), text))
        elif a.kind in ROW_KINDS:
            right = doc.row_right(i)
            if right is not None:
                table, r, cells = right
                roles = roles_for(table, doc.lines[i].block, r)
                read_row(form, a, cells, roles, reader, put)
            else:
                text = "\n".join(doc.following(i))
                _read_loose(form, a, text, reader, put)
    return LegacyResult(values, notices, len(matched))


@cache
def slot_index(form_id: str, version: str) -> dict[str, Slot]:
    """Slots by id (``FormDefinition.slot`` rebuilds every slot per call: ~100 calls per return)."""
    from apdocs.forms.model import load_form

    return {s.id: s for s in load_form(form_id).slots()}


def _slot(form: FormDefinition, slot_id: str) -> Slot:
    return slot_index(form.id, form.version)[slot_id]


def slot_for(a: Anchor, area: str) -> str | None:
    if a.kind in ("question", "header") or a.key in ("insurance.sole_trader", "overall_judgement"):
        return a.key
    if a.key in ("judgement", "notes"):
        return f"{area}.{a.key}" if area else None
    return None


_DEFAULT_ROLES = {
    "item": ("seen", "date_seen", "note"),
    "source": ("scrutinised",),
    "cover": ("amount", "expiry"),
}


def read_row(
    form: FormDefinition,
    a: Anchor,
    cells: list[tuple[int, str]],
    roles: dict[int, str],
    reader: Reader,
    put: Callable[[str, Any], None],
) -> None:
    """Read an evidence/source/cover row by column."""
    by_role: dict[str, str] = {}
    for role, (_col, text) in zip(cell_roles(a.kind, [col for col, _text in cells], roles), cells, strict=True):
        if role:
            by_role[role] = text
    read_roles(form, a, by_role, reader, put)


def cell_roles(kind: str, cols: list[int], roles: dict[int, str]) -> list[str | None]:
    """The role of each cell right of an item/source/cover anchor, given the grid column each
    starts at: its column heading's, else (no headings at all) the kind's default by position.

    Depends only on the row's layout, so the position route works it out once per form version."""
    defaults = _DEFAULT_ROLES[kind]
    return [roles.get(col) or (defaults[n] if n < len(defaults) and not roles else None) for n, col in enumerate(cols)]


RowNames = tuple[tuple[str, ...], tuple["Slot | None", ...]]


def row_names(form: FormDefinition, a: Anchor) -> RowNames:
    """(slot ids :func:`read_roles` puts for a row of anchor ``a`` in the order it puts them, the
    slots of those it types): the position route works them out once per form version."""
    return _row_names(form.id, form.version, a.kind, a.key)


@lru_cache(maxsize=1024)  # bounded: a form has ~100 row anchors, a process a few forms and versions
def _row_names(form_id: str, version: str, kind: str, key: str) -> RowNames:
    """(slot ids put, their slots) for a row of ``kind``/``key``: the same for every row of an anchor,
    so built once (f-strings and slot look-ups cost ~1 us a row; a return holds up to ~40 rows).
    A slot the form lacks is None: :func:`read_roles` then looks it up as before, and fails as before."""
    if kind == "cover":
        ids: tuple[str, ...] = (f"insurance.{key}.amount", f"insurance.{key}.expiry")
        typed = ids
    elif kind == "source":
        ids, typed = (key,), ()
    else:
        ids = (f"{key}.seen", f"{key}.date_seen", f"{key}.note")
        typed = ids[1:]
    index = slot_index(form_id, version)
    return ids, tuple(index.get(i) for i in typed)


def read_roles(
    form: FormDefinition,
    a: Anchor,
    by_role: dict[str, str],
    reader: Reader,
    put: Callable[[str, Any], None],
    names: RowNames | None = None,
) -> None:
    """Read an evidence/source/cover row from its cells' texts by role (see :func:`cell_roles`);
    ``names``: :func:`row_names` of ``a``, when the caller has them."""
    ids, slots = names if names is not None else _row_names(form.id, form.version, a.kind, a.key)
    if a.kind == "cover":
        amount, expiry = slots
        put(ids[0], reader.value(amount if amount is not None else _slot(form, ids[0]), by_role.get("amount", "")))
        put(ids[1], reader.value(expiry if expiry is not None else _slot(form, ids[1]), by_role.get("expiry", "")))
        return
    flag = _yes_no_columns(by_role, reader, a.key) if "yes" in by_role or "no" in by_role else None
    if a.kind == "source":
        mark = by_role.get("scrutinised", by_role.get("seen", ""))
        put(ids[0], flag if flag is not None else parse_mark(mark, reader, a.key))
        return
    if "seen" in by_role or flag is None:
        seen, date, note = reader.seen_cell(by_role.get("seen", ""), where=a.key)
    else:
        seen, date, note = flag, None, None
    if flag is not None:
        seen = flag
    date_text = by_role.get("date_seen", "")
    if date_text.strip():
        date = reader.value(slots[0] if slots[0] is not None else _slot(form, ids[1]), date_text)
    note_text = by_role.get("note", "")
    if note_text.strip():
        note = reader.value(slots[1] if slots[1] is not None else _slot(form, ids[2]), note_text)
    put(ids[0], seen)
    put(ids[1], date)
    put(ids[2], note)


def _yes_no_columns(by_role: dict[str, str], reader: Reader, where: str) -> bool | None:
    """Separate Yes | No columns marked with ☒/X: which one is marked."""
    if "yes" not in by_role and "no" not in by_role:
        return None
    value, notice = values.read_yes_no_columns(by_role.get("yes", ""), by_role.get("no", ""), where=where)
    reader.notices.extend([notice] if notice else [])
    return value


def _read_loose(form: FormDefinition, a: Anchor, text: str, reader: Reader, put: Callable[[str, Any], None]) -> None:
    """An item or source printed as a paragraph, its answer after it."""
    if a.kind == "item":
        seen, date, note = reader.seen_cell(text, where=a.key)
        put(f"{a.key}.seen", seen)
        put(f"{a.key}.date_seen", date)
        put(f"{a.key}.note", note)
    elif a.kind == "source":
        put(a.key, parse_mark(text, reader, a.key))
