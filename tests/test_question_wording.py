"""Issue 9, item 4: a question's printed wording never leaks into its answer.

Schools retype Appendix 4 in their own Word or Excel files. Wherever they put a question's
"e.g. ..." hint - on the question's line, on its own line in the question's cell, in a cell
of its own between question and answer - the hint stays with the question, and the answer
is only what they wrote.
"""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest

from apdocs.formats.wording import question_parts
from apdocs.forms import load_form
from apdocs.parse import parse

FORM = load_form("appendix4")
HINTED = [q for q in FORM.questions() if q.hint]
#: q1's "i.e. ..." and the second sentences of q6, q7 and q9, which a school may put on a line of their own
SPLIT = {q.id: question_parts(q.text) for q in FORM.questions() if len(question_parts(q.text)) > 1}


def answer(number: int) -> str:
    return f"We compared three providers and chose number {number} after a visit."


def _docx(rows: list[list[str]], *, paragraphs: list[str] | None = None) -> bytes:
    doc = docx.Document()
    doc.add_paragraph("Appendix 4")
    for text in paragraphs or []:
        doc.add_paragraph(text)
    if rows:
        table = doc.add_table(rows=0, cols=len(rows[0]))
        for cells in rows:
            for cell, text in zip(table.add_row().cells, cells, strict=True):
                cell.text = text
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = openpyxl.Workbook()
    for r, cells in enumerate(rows, start=1):
        for c, text in enumerate(cells, start=1):
            if text:
                wb.active.cell(r, c, text)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _question(q, hint_joiner: str | None) -> str:
    text = f"Q{q.number}) {q.text}"
    return text + hint_joiner + q.hint if hint_joiner is not None and q.hint else text


LAYOUTS = {
    # the reported case: question and hint on one line in one cell, the answer in the next column
    "docx: hint on the question's line, answer beside": lambda: _docx(
        [[_question(q, " "), answer(q.number)] for q in FORM.questions()]
    ),
    "docx: hint on its own line in the question's cell": lambda: _docx(
        [[_question(q, "\n"), answer(q.number)] for q in FORM.questions()]
    ),
    "docx: hint in a column of its own": lambda: _docx(
        [[_question(q, None), q.hint or "", answer(q.number)] for q in FORM.questions()]
    ),
    "docx: question and hint paragraph, answer paragraph": lambda: _docx(
        [], paragraphs=[t for q in FORM.questions() for t in (_question(q, " "), answer(q.number))]
    ),
    "docx: hint, then the answer, on the question's line": lambda: _docx(
        [], paragraphs=[_question(q, " ") + " " + answer(q.number) for q in FORM.questions()]
    ),
    "xlsx: hint on the question's line, answer beside": lambda: _xlsx(
        [[_question(q, " "), answer(q.number)] for q in FORM.questions()]
    ),
    "xlsx: hint in a column of its own": lambda: _xlsx(
        [
            [_question(q, None), q.hint or "", answer(q.number)] if q.hint else [_question(q, None), answer(q.number)]
            for q in FORM.questions()
        ]
    ),
    # the question's own sentences split over lines or cells: each belongs to the question
    "docx: a question's sentences on lines of their own": lambda: _docx(
        [
            [
                _question(q, None).replace(" i.e.", "\n i.e.").replace("? It", "?\nIt").replace("etc. If", "etc.\nIf"),
                answer(q.number),
            ]
            for q in FORM.questions()
        ]
    ),
    "docx: a question's sentences in columns of their own": lambda: _docx(
        [[f"Q{q.number}) {_parts(q)[0]}", _parts(q)[1], q.hint or "", answer(q.number)] for q in FORM.questions()]
    ),
    "xlsx: a question's sentences in columns of their own": lambda: _xlsx(
        [
            [f"Q{q.number}) {p[0]}", *p[1:], *([q.hint] if q.hint else []), answer(q.number)]
            for q in FORM.questions()
            for p in [question_parts(q.text)]
        ]
    ),
}


def _parts(q) -> list[str]:
    """A question's first sentence and the rest ("" for a one-sentence question)."""
    first, *more = question_parts(q.text)
    return [first, " ".join(more)]


def test_the_split_questions_are_the_ones_the_letter_prints() -> None:
    assert set(SPLIT) == {"q1", "q6", "q7", "q9"}
    assert SPLIT["q1"][1].startswith("i.e. how were decisions made")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_hint_stays_with_the_question(layout):
    assert HINTED, "the form has hinted questions to test with"
    record = parse(LAYOUTS[layout](), path=f"retyped.{layout[:4]}")
    assert record.form == "appendix4"
    assert record.answers == {q.id: answer(q.number) for q in FORM.questions()}
