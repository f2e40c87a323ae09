"""Read a form from its text laid out as paragraphs and tables, whatever the container.

PDF and OpenDocument returns carry no apdocs content controls or defined names, so
they are read the way a Word form without controls is: the document becomes a list
of :class:`~apdocs.formats.docx.read_text.Para` and ``Table`` blocks, the form is
identified by its printed wording and each answer is read beside or beneath its
question (:func:`apdocs.formats.docx.legacy.read_legacy`). One route for every
container, so a PDF is read exactly as its Word original would be without controls.
"""

from __future__ import annotations

import hashlib
import re

from apdocs.errors import Notice, ParseError, UnknownFormError
from apdocs.formats.docx.legacy import flatten, read_legacy
from apdocs.formats.docx.read_text import Block, Cell, Para, Table
from apdocs.formats.docx.read_values import Reader
from apdocs.formats.wording import Matcher, identify, matcher_for
from apdocs.forms.model import FormDefinition, load_form
from apdocs.record import ParsedReturn, SourceInfo, build_answers


def read_blocks(
    blocks: list[Block],
    *,
    data: bytes,
    path: str | None,
    fmt: str,
    route: str,
    notices: list[Notice] | None = None,
    form_hint: str | None = None,
) -> ParsedReturn:
    """A record from ``blocks``; ``route`` says in the ROUTE_FALLBACK warning how the text was got.

    ``form_hint`` is a form id the container itself names (document properties kept by
    the conversion); the wording still has to be found for the answers to be read.
    """
    notices = list(notices or [])
    form_id = form_hint or identify(line.text for line in flatten(blocks))
    if form_id is None:
        raise ParseError(
            "this document is not one of the Virtual School forms (none of their questions or items were found)",
            code="NOT_A_FORM",
            path=path,
        )
    try:
        form = load_form(form_id)
    except UnknownFormError:
        raise ParseError(
            f"the document says it is form {form_id!r}, which apdocs does not know", code="FORM_UNKNOWN", path=path
        ) from None
    reader = Reader()
    result = read_legacy(form, tidy(form, blocks), reader)
    flat = {s.id: result.values.get(s.id) for s in form.slots()}
    notices.append(Notice("ROUTE_FALLBACK", f"{route}: answers read from the printed wording", where=path))
    notices.extend(reader.notices)
    header, answers = build_answers(form, flat)
    return ParsedReturn(
        source=SourceInfo(path, hashlib.sha256(data).hexdigest(), fmt),
        form=form.id,
        form_version=None,
        reference=header.get("reference"),
        header=header,
        answers=answers,
        warnings=tuple(notices),
    )


# -- what a page layout loses, put back before the wording is read ------------------

_NUMBER_CELL = re.compile(r"^\s*(?:q\s*)?\d{1,2}\s*[.)]?\s*$", re.IGNORECASE)
_HINT = frozenset({"hint"})
_QUESTION = frozenset({"question"})


def tidy(form: FormDefinition, blocks: list[Block]) -> list[Block]:
    """Blocks as the wording route expects them.

    * A question number in a cell of its own (Excel's layout: ``2 | question | answer``)
      joins the question's cell; otherwise the answer above would run on into it.
    * A hint printed on the line under its question, where the page layout cannot tell
      that line break from a wrap, is split off again ("...securely? e.g. ...").
    """
    matcher = matcher_for(form)
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Para):
            out.extend(Para(t) for t in _split_hint(matcher, block.text))
            continue
        rows = []
        for row in block.rows:
            cells = list(row)
            if len(cells) > 1 and _NUMBER_CELL.match(cells[0].text) and cells[1].text.strip():
                cells[:2] = [Cell(cells[1].paragraphs, cells[0].span + cells[1].span)]
            rows.append(tuple(Cell(tuple(t for p in c.paragraphs for t in _split_hint(matcher, p)), c.span) for c in cells))
        out.append(Table(tuple(rows)))
    return out


def _split_hint(matcher: Matcher, text: str) -> list[str]:
    found = matcher.match(text, allow=_QUESTION) if text.strip() else []
    if found and found[0].rest:
        rest = found[0].rest
        hint = matcher.match(rest, allow=_HINT)
        if hint and hint[0].anchor.key == found[0].anchor.key:
            return [text[: len(text) - len(rest)].rstrip(), rest]
    return [text]
