"""The ORIGINAL 2020 appendices, as schools typed into them, read back without any markers.

Documents are built here with python-docx in the shapes the Virtual School's own
Word files had (one-column question/answer tables, a two-column evidence table,
one table per assessment area) and in the shapes schools reformat them into
(questions as paragraphs, Question | Response tables, separate Yes | No columns).
All printed wording comes from the definitions; some of it is retyped here the way
people retype ("Q1)", straight quotes, collapsed spaces, capitals). Answers are
synthetic. Tracked changes are injected with lxml as Word writes them.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from apdocs.errors import ParseError
from apdocs.formats.docx.read import read_docx
from apdocs.forms import load_form

A2, A3, A4 = load_form("appendix2"), load_form("appendix3"), load_form("appendix4")


def to_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def set_cell(cell, text: str) -> None:
    """Cell text with one paragraph per line."""
    lines = text.split("\n")
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


def question_text(q, style: str = "plain") -> str:
    """How the printed question appears: as in the source, or retyped by a school."""
    text = q.text
    if style == "retyped":
        text = text.replace("’", "'").replace("  ", " ").replace("–", "-")
        return f"Q{q.number}) {text}"
    return f"{q.number}. {text}"


def add_with_hint(paragraph, q) -> None:
    """Question and its hint in one paragraph separated by a line break, as in the source."""
    paragraph.add_run(question_text(q))
    if q.hint:
        paragraph.add_run().add_break()
        paragraph.add_run(q.hint)


def track_insert(paragraph, inserted: str, deleted: str) -> None:
    """Append a tracked insertion and a tracked deletion to a paragraph (accepted: only `inserted` remains)."""
    p = paragraph._p
    ins = etree.SubElement(p, qn("w:ins"), {qn("w:id"): "901", qn("w:author"): "Reviewer", qn("w:date"): "2020-03-12T10:00:00Z"})
    r = etree.SubElement(ins, qn("w:r"))
    t = etree.SubElement(r, qn("w:t"))
    t.text = inserted
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    d = etree.SubElement(p, qn("w:del"), {qn("w:id"): "902", qn("w:author"): "Reviewer", qn("w:date"): "2020-03-12T10:00:00Z"})
    r = etree.SubElement(d, qn("w:r"))
    etree.SubElement(r, qn("w:delText")).text = deleted


A4_ANSWERS = {
    "q1": "We compared three local providers.\nThe panel chose the one with a farm-based curriculum.",
    "q2": "Yes – URN 000000 (synthetic)",
    "q3": None,
    "q4": "Termly QA visits.\nSafeguarding audit in September.",
    "q5": "PEP shared by secure email (egress).",
    "q6": "The DT will follow up any concerns with CAMHS.",
    "q7": "Re-engagement; 12 weeks; progress reviewed at the PEP.",
    "q8": "Maths and English continue at school two mornings a week.",
    "q9": "Entry Level 3 English & maths <functional skills>.",
    "q10": "Half-termly tracking against targets.",
    "q11": "Every six weeks: DT, carer, social worker, provider.",
    "q12": "Weekly phone call; monthly visit.",
    "q13": "Attends tutor time on Fridays.",
    "q14": "Phased return, two days a week from Easter.",
    "q15": "Transition meetings with the college in the summer term.",
}


def expected_a4(answers: dict) -> dict:
    return {q.id: answers.get(q.id) for q in A4.questions()}


def a4_one_column_tables(answers: dict, *, retype: frozenset[str] = frozenset()) -> Document:
    """The original Appendix 4: per section a one-column table, question row then answer row."""
    doc = Document()
    doc.add_paragraph(A4.title)
    doc.add_paragraph(A4.intro[0])
    for section in A4.sections:
        table = doc.add_table(rows=0, cols=1)
        table.add_row().cells[0].text = section.title
        for q in section.questions:
            qcell = table.add_row().cells[0]
            if q.id in retype:
                qcell.paragraphs[0].text = question_text(q, "retyped").upper() if q.id == "q7" else question_text(q, "retyped")
            else:
                add_with_hint(qcell.paragraphs[0], q)
            acell = table.add_row().cells[0]
            if answers.get(q.id):
                set_cell(acell, answers[q.id])
        doc.add_paragraph("")
    return doc


def test_a4_one_column_tables_as_printed():
    rec = read_docx(to_bytes(a4_one_column_tables(A4_ANSWERS)), path="a4.docx")
    assert rec.form == "appendix4"
    assert rec.form_version is None
    assert rec.answers == expected_a4(A4_ANSWERS)
    assert any(n.code == "ROUTE_FALLBACK" for n in rec.warnings)


def test_a4_retyped_questions_still_match():
    doc = a4_one_column_tables(A4_ANSWERS, retype=frozenset({"q1", "q3", "q7", "q9", "q15"}))
    rec = read_docx(to_bytes(doc), path="a4.docx")
    assert rec.answers == expected_a4(A4_ANSWERS)


def test_a4_tracked_changes_and_comment():
    doc = a4_one_column_tables(A4_ANSWERS)
    cells = [c for t in doc.tables for row in t.rows for c in row.cells]
    # the answer cell under question 2 and 5 (row after the question row)
    q2_answer = next(cells[i + 1] for i, c in enumerate(cells) if c.text.startswith("2. "))
    track_insert(q2_answer.paragraphs[0], " Registered in 2019.", " Not registered.")
    q5_answer = next(cells[i + 1] for i, c in enumerate(cells) if c.text.startswith("5. "))
    doc.add_comment(q5_answer.paragraphs[0].runs, text="Check with the DT", author="Reviewer", initials="R")
    # a deleted paragraph mark joins the next paragraph; a deleted row disappears
    q4_answer = next(cells[i + 1] for i, c in enumerate(cells) if c.text.startswith("4. "))
    first = q4_answer.paragraphs[0]._p
    ppr = first.get_or_add_pPr()
    rpr = etree.SubElement(ppr, qn("w:rPr"))
    etree.SubElement(rpr, qn("w:del"), {qn("w:id"): "903", qn("w:author"): "Reviewer"})
    rec = read_docx(to_bytes(doc), path="a4.docx")
    want = expected_a4(A4_ANSWERS)
    want["q2"] = A4_ANSWERS["q2"] + " Registered in 2019."
    want["q4"] = A4_ANSWERS["q4"].replace("\n", "")
    assert rec.answers == want
    with zipfile.ZipFile(io.BytesIO(to_bytes(doc))) as zf:  # the comment really is there, and was ignored
        assert b"Check with the DT" in zf.read("word/comments.xml")


def test_a4_questions_as_paragraphs_with_answers_beneath():
    doc = Document()
    doc.add_paragraph(A4.title)
    doc.add_paragraph(f"{load_form('appendix4').header[2].label}: P-0042")  # Pupil reference: P-0042
    for section in A4.sections:
        doc.add_heading(section.title, level=2)
        for q in section.questions:
            add_with_hint(doc.add_paragraph(), q)
            for line in (A4_ANSWERS.get(q.id) or "").split("\n"):
                if line:
                    doc.add_paragraph(line)
            doc.add_paragraph("")
    rec = read_docx(to_bytes(doc), path="para.docx")
    assert rec.form == "appendix4"
    assert rec.answers == expected_a4(A4_ANSWERS)
    assert rec.header["pupil_reference"] == "P-0042"
    assert rec.header["provider_name"] is None


def test_a4_two_column_question_response_table():
    doc = Document()
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Question"
    table.rows[0].cells[1].text = "Response"
    for q in A4.questions():
        row = table.add_row().cells
        row[0].text = question_text(q, "retyped")
        set_cell(row[1], A4_ANSWERS.get(q.id) or "")
    rec = read_docx(to_bytes(doc), path="two-col.docx")
    assert rec.answers == expected_a4(A4_ANSWERS)


def test_answers_typed_on_the_question_line():
    doc = Document()
    for q in A4.questions():
        doc.add_paragraph(f"{q.text} {'Answered ' + q.id if q.number % 2 else ''}")
    rec = read_docx(to_bytes(doc), path="inline.docx")
    assert rec.answers == {q.id: (f"Answered {q.id}" if q.number % 2 else None) for q in A4.questions()}


# -- Appendix 2 ------------------------------------------------------------------------------

A2_SEEN = {
    "e1": "Y",
    "e2": "Yes – seen 12/03/2020",
    "e3": "No",
    "e4": "yes",
    "e5": "Not seen – awaiting copy",
    "e6": "",
    "e7": "✓",
}


def test_a2_original_two_column_table():
    doc = Document()
    doc.add_paragraph(A2.title)
    doc.add_paragraph(A2.intro[0])
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = A2.columns["evidence"]
    table.rows[0].cells[1].text = A2.columns["seen"]
    for item in A2.items:
        row = table.add_row().cells
        row[0].text = item.text
        row[1].text = A2_SEEN.get(item.id, "")
    rec = read_docx(to_bytes(doc), path="a2.docx")
    assert rec.form == "appendix2"
    got = {k: v for k, v in rec.answers.items() if k != "insurance"}
    want = {it.id: {"seen": None, "date_seen": None, "note": None} for it in A2.items}
    want["e1"]["seen"] = True
    want["e2"].update(seen=True, date_seen="2020-03-12")
    want["e3"]["seen"] = False
    want["e4"]["seen"] = True
    want["e5"].update(seen=False, note="awaiting copy")
    want["e7"]["seen"] = True
    assert got == want
    # the original form has no insurance block: nothing is invented
    assert rec.answers["insurance"]["sole_trader"] is None
    assert all(v is None for c in A2.covers for v in rec.answers["insurance"][c.id].values())


def test_a2_separate_yes_no_columns_with_dates_and_notes():
    doc = Document()
    table = doc.add_table(rows=1, cols=5)
    yes, no = A2.yes_no
    heads = [A2.columns["evidence"], yes, no, A2.labels["date_seen"], A2.labels["note"]]
    for cell, text in zip(table.rows[0].cells, heads, strict=True):
        cell.text = text
    marks = {"e1": ("☒", "☐"), "e2": ("X", ""), "e3": ("☐", "☒"), "e4": ("☐", "☐"), "e5": ("x", "x")}
    dates = {"e1": "12th March 20", "e2": "3/4/2020", "e3": "", "e4": "March 2020"}
    for item in A2.items:
        row = table.add_row().cells
        row[0].text = item.text.replace("’", "'")
        y, n = marks.get(item.id, ("", ""))
        row[1].text, row[2].text = y, n
        row[3].text = dates.get(item.id, "")
        row[4].text = "Copy on file" if item.id == "e1" else ""
    rec = read_docx(to_bytes(doc), path="a2-yes-no.docx")
    a = rec.answers
    assert a["e1"] == {"seen": True, "date_seen": "2020-03-12", "note": "Copy on file"}
    assert a["e2"] == {"seen": True, "date_seen": "2020-04-03", "note": None}
    assert a["e3"] == {"seen": False, "date_seen": None, "note": None}
    # "March 2020" is not a whole date: kept as typed, with a warning
    assert a["e4"] == {"seen": None, "date_seen": "March 2020", "note": None}
    assert a["e5"]["seen"] is None  # both marked: conflict, not a guess
    codes = {(n.code, n.where) for n in rec.warnings}
    assert ("DATE_UNREADABLE", "e4.date_seen") in codes
    assert ("YES_NO_CONFLICT", "e5") in codes
    assert all(a[f"e{i}"] == {"seen": None, "date_seen": None, "note": None} for i in range(6, 26))


# -- Appendix 3 ------------------------------------------------------------------------------


def test_a3_area_tables_with_repeated_source_texts():
    doc = Document()
    doc.add_paragraph(A3.title)
    for line in A3.intro:
        doc.add_paragraph(line)
    ticks = {"a1.1": "✓", "a1.15": "Yes", "a2.5": "X", "a3.2": "No", "a2.7": "yes", "a4.5": "✔"}
    for area in A3.areas:
        table = doc.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text = area.title
        for src in area.sources:
            row = table.add_row().cells
            row[0].text = re.sub(r"\s+", " ", src.text)
            row[1].text = ticks.get(src.id, "")
        doc.add_paragraph("")
    doc.add_paragraph(f"{A3.labels['overall_judgement']}: good")
    rec = read_docx(to_bytes(doc), path="a3.docx")
    assert rec.form == "appendix3"
    for area in A3.areas:
        want = {
            s.id: {"✓": True, "✔": True, "Yes": True, "yes": True, "X": True, "No": False}.get(ticks.get(s.id, ""))
            for s in area.sources
        }
        assert rec.answers[area.id] == {"judgement": None, "notes": None, "sources": want}
    assert rec.answers["overall_judgement"] == "Good"


# -- not a form ----------------------------------------------------------------------------


def test_unrelated_document_is_not_a_form():
    doc = Document()
    doc.add_paragraph("Minutes of the governors' meeting")
    doc.add_paragraph("Interviews with staff")  # one printed source text alone is not a form
    table = doc.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text = "Item"
    table.rows[1].cells[0].text = "Budget"
    with pytest.raises(ParseError) as info:
        read_docx(to_bytes(doc), path="minutes.docx")
    assert info.value.code == "NOT_A_FORM"
    assert "minutes.docx" in str(info.value)
