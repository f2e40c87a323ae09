"""The tracker workbook: formula injection, atomic replacement, and what LibreOffice shows."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from apdocs.forms import load_form
from apdocs.reconcile import reconcile
from apdocs.record import ParsedReturn, SourceInfo, build_answers
from apdocs.reports.letters import write_feedback_letters
from apdocs.reports.safe import csv_cell, looks_like_formula
from apdocs.reports.tracker import build_tracker, findings_csv, write_tracker
from apdocs.roster import Placement, Provider, Roster, School
from tests.office import require

HOSTILE = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(1)", "\t=cmd", "\r=cmd", '=HYPERLINK("http://example.invalid","x")']


def hostile_result():
    school = School("=EVIL()+School", "120001", "a@b.example", "")
    provider = Provider('+HYPERLINK("http://example.invalid")', "", "unregistered", False, 25, 9)
    place = Placement(2, school, "@LAC-0001", provider, "school", 20, dt.date(2024, 9, 1), False, False)
    form = load_form("appendix4")
    values = {q.id: HOSTILE[i % len(HOSTILE)] for i, q in enumerate(form.questions())}
    values |= {"school_name": school.name, "provider_name": provider.name, "pupil_reference": "@LAC-0001"}
    header, answers = build_answers(form, values)
    stray = dict(header, provider_name="-1+2 Tutors", pupil_reference="=A1")
    records = [
        ParsedReturn(SourceInfo("/tmp/=x.docx", "0" * 64, "docx"), "appendix4", "1.0", None, header, answers),
        ParsedReturn(SourceInfo("/tmp/@y.docx", "0" * 64, "docx"), "appendix4", "1.0", None, stray, answers),
    ]
    return reconcile(Roster((place,)), records, as_of=dt.date(2025, 3, 31))


def test_formula_triggers() -> None:
    assert all(looks_like_formula(t) for t in HOSTILE)
    assert not looks_like_formula("LAC-0001") and not looks_like_formula("Hollybank = good")
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("fine") == "fine" and csv_cell(None) == ""


def test_hostile_text_is_never_a_formula_in_xlsx(tmp_path: Path) -> None:
    result = hostile_result()
    assert any(f.message.endswith("'=1+1'.") for f in result.findings)  # typed text reached the findings
    path = write_tracker(result, tmp_path / "tracker.xlsx")
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 5
        for name in sheets:
            xml = z.read(name)
            assert b"<f>" not in xml and b"<f " not in xml, name
    wb = openpyxl.load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and looks_like_formula(c.value):
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    seen += 1
    assert seen >= 6  # school, provider, pupil on several sheets, and the stray return's names


def test_hostile_text_is_apostrophe_prefixed_in_csv() -> None:
    text = findings_csv(hostile_result()).decode("utf-8-sig")
    assert "'=EVIL()+School" in text and "'@LAC-0001" in text and "'-1+2 Tutors" in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not looks_like_formula(cell.strip('"')), line


def test_tracker_is_replaced_atomically_without_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(b"previous tracker")
    write_tracker(hostile_result(), path)
    assert zipfile.is_zipfile(path)
    assert [p.name for p in tmp_path.iterdir()] == ["tracker.xlsx"]


def test_build_does_no_io_and_is_deterministic_in_content() -> None:
    a = openpyxl.load_workbook(io.BytesIO(build_tracker(hostile_result())))
    b = openpyxl.load_workbook(io.BytesIO(build_tracker(hostile_result())))
    for ws in a.worksheets:
        assert [[c.value for c in r] for r in ws.iter_rows()] == [[c.value for c in r] for r in b[ws.title].iter_rows()]


@pytest.mark.libreoffice
def test_libreoffice_shows_hostile_text_literally_and_letters_render(libreoffice, tmp_path: Path) -> None:
    """LibreOffice opens the tracker and a feedback letter (one soffice call) and shows typed text as typed."""
    require("pdftotext")
    result = hostile_result()
    tracker = write_tracker(result, tmp_path / "tracker.xlsx")
    letters = write_feedback_letters(result, tmp_path / "letters")
    pdfs = libreoffice.convert([tracker, *letters], "pdf", tmp_path / "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdfs[0]), "-"], capture_output=True, text=True, check=True).stdout
    assert "=EVIL()+School" in text  # evaluated, it would be an error value
    flat = " ".join(text.split())
    assert "'=1+1'" in flat and "UNREGISTERED_FULL_TIME_PROVIDER" in flat
    letter = subprocess.run(["pdftotext", str(pdfs[1]), "-"], capture_output=True, text=True, check=True).stdout
    assert "=EVIL()+School" in letter and "{{" not in letter and "{%" not in letter
    assert "Question 1 is answered" in " ".join(letter.split())
    shutil.rmtree(tmp_path / "pdf")


def test_placements_sheet_shows_the_pupils_school_hours_as_a_number() -> None:
    base = hostile_result().placements[0].placement
    split = replace(base, school_hours_per_week=6.5)
    second = replace(split, line=3, provider=replace(base.provider, name="Forge Farm Skills"), hours_per_week=6)
    other = replace(base, line=4, pupil_reference="LAC-0002")
    result = reconcile(Roster((split, second, other)), [], as_of=dt.date(2025, 3, 31))
    ws = openpyxl.load_workbook(io.BytesIO(build_tracker(result)))["Placements"]
    header = [c.value for c in ws[1]]
    col = header.index("School hours / week") + 1
    assert header[col - 2] == "Hours / week" and ws.cell(row=1, column=col).comment is not None
    cells = {(ws.cell(row=r, column=2).value, ws.cell(row=r, column=3).value): ws.cell(row=r, column=col) for r in (2, 3, 4)}
    assert cells["@LAC-0001", base.provider.name].value == 6.5 and cells["@LAC-0001", "Forge Farm Skills"].value == 6.5
    assert all(c.data_type == "n" for c in cells.values())
    assert cells["LAC-0002", base.provider.name].value is None  # none recorded: blank, not a made-up 0
    assert ws.cell(row=2, column=header.index("Start") + 1).number_format == "yyyy-mm-dd"
    assert ws.cell(row=2, column=header.index("RAG") + 1).value in ("RED", "AMBER", "GREEN")


def test_evidence_key_states_the_configured_staleness(tmp_path: Path) -> None:
    from apdocs.reconcile import load_config

    place = hostile_result().placements[0].placement
    result = reconcile(Roster((place,)), [], load_config(evidence_stale_months=6), dt.date(2025, 3, 31))
    wb = openpyxl.load_workbook(io.BytesIO(build_tracker(result)))
    key = [c.value for row in wb["Evidence"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("within 6 months" in v for v in key) and not any("12 months" in v for v in key)
