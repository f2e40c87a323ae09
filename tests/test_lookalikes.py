"""Documents that share lines with our forms without being one: a provider's own policy
checklist, a provider's visit notes, a school's own AP questionnaire. Each must be NOT_A_FORM,
or - when it does keep enough of a form's structure - be read with a FORM_UNCERTAIN warning
that the tracker shows. Every document here is built in the test and is synthetic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from docx import Document

import apdocs
from apdocs.errors import Notice, ParseError
from apdocs.formats.wording import IDENTIFY_SHARE, OWN_KINDS, matcher_for, own_texts
from apdocs.forms import load_form
from apdocs.parse import parse

ROOT = Path(__file__).resolve().parents[1]

# A provider's own checklist: 12 of its lines are Appendix 2 items, word for word.
POLICIES = [
    "Health and Safety Policy",
    "First Aid Policy",
    "Fire Policy",
    "Fire Risk Assessment",
    "Complaints Policy",
    "Data Protection Policy",
    "Behaviour management policy",
    "Anti-bullying policy",
    "E-safety",
    "Whistleblowing Policy",
    "Mobile Phone Usage Policy",
    "Learner Attendance Policy",
    "Equal Opportunities and Diversity Policy",
    "Driving / Trips / Visits Policy",
    "Lone Working Policy",
]
# A provider's notes from a visit by its own trustees: ten Appendix 3 evidence sources.
VISIT_NOTES = [
    "Lesson observation",
    "Learning walks",
    "Interviews with pupils",
    "Interviews with staff",
    "Schemes of work",
    "Lesson plans",
    "Work scrutiny",
    "Destination data",
    "Baseline assessments",
    "Curriculum plans",
    "Restorative justice",
]


def _docx_checklist(title: str, rows: list[str]) -> bytes:
    doc = Document()
    doc.add_heading(title, level=1)
    doc.add_paragraph("Sunnyside Provision Ltd (synthetic). Reviewed annually by the board of trustees.")
    table = doc.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Policy", "In place", "Next review"), strict=True):
        cell.text = text
    for i, text in enumerate(rows):
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = text, "Yes", f"0{1 + i % 9}/09/2025"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _xlsx_checklist(title: str, rows: list[str]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Checklist"
    ws.append([title])
    ws.append(["Item", "In place", "Next review"])
    for i, text in enumerate(rows):
        ws.append([text, "Yes", f"0{1 + i % 9}/09/2025"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _questionnaire(question_ids: list[str], own: list[str]) -> bytes:
    """A school's own AP questionnaire: its own questions, with some of Appendix 4's among them."""
    texts = {q.id: q.text for q in load_form("appendix4").questions()}
    doc = Document()
    doc.add_heading("Alternative provision: our school's placement questionnaire", level=1)
    doc.add_paragraph("School name: Hollybank Primary")
    mixed = [texts[q] for q in question_ids]
    for i, text in enumerate(own):
        mixed.insert(min(2 * i + 1, len(mixed)), text)
    for n, text in enumerate(mixed, start=1):
        doc.add_paragraph(f"{n}. {text}")
        doc.add_paragraph("A synthetic answer written by the school for its own records.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


SCHOOL_OWN_QUESTIONS = [
    "Who is the pupil's key worker at the provision?",
    "What transport arrangements are in place?",
    "How will attendance be reported to the school each day?",
    "What are the provision's opening hours during school holidays?",
]


def _share(form_id: str, lines: list[str]) -> float:
    """Share of a form's own texts the lines hold: what identification used to need (20 %)."""
    form = load_form(form_id)
    matcher = matcher_for(form)
    keys = {a.key for a in own_texts(form)}
    found = {m[0].anchor.key for line in lines if (m := matcher.match(line, allow=OWN_KINDS))}
    return len(found) / len(keys)


LOOKALIKES = {
    "policy-checklist.docx": (lambda: _docx_checklist("Policy checklist 2024/25", POLICIES), "appendix2", POLICIES),
    "policy-checklist.xlsx": (lambda: _xlsx_checklist("Policy checklist 2024/25", POLICIES), "appendix2", POLICIES),
    "visit-notes.docx": (lambda: _docx_checklist("Trustees' visit: evidence looked at", VISIT_NOTES), "appendix3", VISIT_NOTES),
    "visit-notes.xlsx": (lambda: _xlsx_checklist("Trustees' visit: evidence looked at", VISIT_NOTES), "appendix3", VISIT_NOTES),
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_a_document_sharing_a_forms_item_names_is_not_a_form(name):
    build, form_id, lines = LOOKALIKES[name]
    # It is a real look-alike: it shares more than the 20 % of the form's texts that used to be enough.
    assert _share(form_id, lines) >= IDENTIFY_SHARE
    with pytest.raises(ParseError) as info:
        parse(build(), path=name)
    assert info.value.code == "NOT_A_FORM", info.value


def test_a_school_questionnaire_borrowing_questions_out_of_order_is_not_a_form():
    data = _questionnaire(["q12", "q3", "q11", "q7"], SCHOOL_OWN_QUESTIONS)
    with pytest.raises(ParseError) as info:
        parse(data, path="our-questionnaire.docx")
    assert info.value.code == "NOT_A_FORM"


def test_a_questionnaire_keeping_part_of_the_form_in_order_is_read_with_a_warning():
    data = _questionnaire(["q1", "q3", "q7", "q9", "q11", "q12"], SCHOOL_OWN_QUESTIONS)
    record = parse(data, path="partial-appendix4.docx")
    assert record.form == "appendix4"
    [uncertain] = [w for w in record.warnings if w.code == "FORM_UNCERTAIN"]
    assert "6 of its 15" in uncertain.message


def test_the_2020_hand_typed_sample_still_reads_without_doubt():
    record = parse(ROOT / "samples" / "returns" / "riverside-meadowlane-appendix4-2020.docx")
    assert record.form == "appendix4"
    assert not [w for w in record.warnings if w.code == "FORM_UNCERTAIN"]
    assert sum(1 for v in record.answers.values() if v) >= 10


def test_every_bundled_sample_return_reads_without_doubt():
    for result in apdocs.parse_many([ROOT / "samples" / "returns"]):
        assert result.ok, result
        assert not [w for w in result.warnings if w.code == "FORM_UNCERTAIN"], result.source.path


def test_an_uncertain_return_is_a_finding_the_tracker_shows(tmp_path):
    roster = apdocs.load_roster(ROOT / "samples" / "roster.csv")
    record = parse(ROOT / "samples" / "returns" / "hollybank-greenway-appendix4.docx")
    note = Notice("FORM_UNCERTAIN", "recognised as appendix4 from only 5 of its 15 printed texts", where=record.source.path)
    uncertain = dataclasses.replace(record, warnings=(*record.warnings, note))
    result = apdocs.reconcile(roster, [uncertain], apdocs.load_config(), dt.date(2025, 3, 31))
    [finding] = [f for f in result.findings if f.code == "RETURN_FORM_UNCERTAIN"]
    assert finding.severity == "warning" and finding.form == "appendix4" and finding.source == record.source.path

    from apdocs.reports.tracker import write_tracker

    write_tracker(result, tmp_path / "tracker.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "tracker.xlsx", read_only=True)
    shown = {c for row in wb["Findings"].iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert "RETURN_FORM_UNCERTAIN" in shown
