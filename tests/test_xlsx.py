"""Excel format: the rendered workbook's structure, and reading returns back (no LibreOffice here).

Form wording is never retyped: it comes from ``load_form``. Filled workbooks are made
the way a school would make them, with openpyxl writing into the answer cells.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.workbook.defined_name import DefinedName

from apdocs import values
from apdocs.api import render_form
from apdocs.errors import ApdocsError, ParseError
from apdocs.formats import get as get_format
from apdocs.formats.xlsx import FORMAT, cellxml, compile_form, slot_name
from apdocs.forms import FORM_IDS, load_form
from apdocs.record import build_answers
from tests.golden_xml import assert_matches_golden

FORMS = list(FORM_IDS)


def blank(form_id: str, values_: dict[str, Any] | None = None) -> bytes:
    return render_form(form_id, "xlsx", values_ or {})


def open_wb(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def answer_cell(wb: openpyxl.Workbook, slot_id: str):
    """The answer cell of ``slot_id`` through its workbook-level defined name."""
    sheet, ref = next(iter(wb.defined_names[slot_name(slot_id)].destinations))
    return wb[sheet][ref.replace("$", "")]


def text_cells(wb: openpyxl.Workbook, form_id: str) -> dict[str, Any]:
    ws = wb[load_form(form_id).title]
    return {str(c.value): c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


# -- what a school types: one sample per form (synthetic; no real names) ------------------------

SAMPLE_HEADER = {
    "provider_name": "Sample Provider Ltd",
    "school_name": "Example Academy",
    "completed_by_name": "A. Teacher",
    "completed_by_role": "Designated teacher",
    "date_completed": dt.date(2024, 10, 7),
    "reference": "VS-2024-0042",
}


def school_sample(form_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the school types, keyed by slot; the flat values the reader should give back)."""
    form = load_form(form_id)
    typed: dict[str, Any] = {k: v for k, v in SAMPLE_HEADER.items() if k in {h.id for h in form.header}}
    expect: dict[str, Any] = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in typed.items()}
    if form_id == "appendix4":
        typed |= {"pupil_reference": "P-000123", "placement_start": dt.date(2024, 9, 2), "hours_per_week": 12.5}
        expect |= {"pupil_reference": "P-000123", "placement_start": "2024-09-02", "hours_per_week": 12.5}
        for q in form.questions():
            typed[q.id] = f"Answer to {q.id}.\nSecond line & <more>."
            expect[q.id] = typed[q.id]
        typed["q2"] = "=Yes, registered (URN 123456)"  # looks like a formula; must stay text
        expect["q2"] = typed["q2"]
    elif form_id == "appendix2":
        for i, it in enumerate(form.items):
            typed[f"{it.id}.seen"] = ["Y", "No", "Yes", None][i % 4]
            expect[f"{it.id}.seen"] = [True, False, True, None][i % 4]
            if i % 4 != 3:
                typed[f"{it.id}.date_seen"] = dt.date(2024, 9, 1) + dt.timedelta(days=i)
                expect[f"{it.id}.date_seen"] = typed[f"{it.id}.date_seen"].isoformat()
        typed["e3.note"] = expect["e3.note"] = "Copy requested"
        typed["insurance.sole_trader"], expect["insurance.sole_trader"] = "No", False
        typed["insurance.employers_liability.amount"] = expect["insurance.employers_liability.amount"] = 10000000.0
        typed["insurance.employers_liability.expiry"] = dt.date(2025, 3, 31)
        expect["insurance.employers_liability.expiry"] = "2025-03-31"
        typed["insurance.public_liability.amount"] = "£10m"
        expect["insurance.public_liability.amount"] = 10000000.0
    else:
        typed |= {"visit_date": dt.date(2024, 11, 5), "visited_by": "B. Officer"}
        expect |= {"visit_date": "2024-11-05", "visited_by": "B. Officer"}
        for a in form.areas:
            for j, src in enumerate(a.sources):
                typed[src.id] = ["Yes", "N", None][j % 3]
                expect[src.id] = [True, False, None][j % 3]
            typed[f"{a.id}.judgement"] = expect[f"{a.id}.judgement"] = "Good"
            typed[f"{a.id}.notes"] = expect[f"{a.id}.notes"] = f"Notes for {a.id}: observed two lessons."
        typed["a2.judgement"], expect["a2.judgement"] = "requires improvement", "Requires improvement"
        typed["overall_judgement"] = expect["overall_judgement"] = "Good"
    return typed, expect


def fill_like_a_school(data: bytes, typed: dict[str, Any]) -> bytes:
    """Type ``typed`` into the answer cells with openpyxl and save, as a school's Excel would."""
    wb = open_wb(data)
    for slot_id, value in typed.items():
        if value is not None:
            cell = answer_cell(wb, slot_id)
            cell.value = value
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # Excel keeps "=..." typed into a Text-formatted cell as text
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def expected_record(form_id: str, expect: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return build_answers(load_form(form_id), expect)


# -- the blank form ------------------------------------------------------------------------------


def test_registry_offers_xlsx():
    fmt = get_format("xlsx")
    assert fmt is FORMAT and ".xlsx" in fmt.extensions
    assert fmt.detect(blank("appendix4"))
    assert not fmt.detect(b"%PDF-1.7 not a workbook")


def test_slot_name_mapping():
    assert slot_name("q1") == "apdocs_q1"
    assert slot_name("e1.seen") == "apdocs_e1_seen"
    assert slot_name("a1.1") == "apdocs_a1_1"
    assert slot_name("insurance.employers_liability.amount") == "apdocs_insurance_employers_liability_amount"


@pytest.mark.parametrize("form_id", FORMS)
def test_blank_protection_and_locking(form_id):
    form = load_form(form_id)
    wb = open_wb(blank(form_id))
    ws = wb[form.title]
    assert ws.protection.sheet is True
    assert wb.security is not None and wb.security.lockStructure
    for slot in form.slots():
        cell = answer_cell(wb, slot.id)
        assert cell.parent.title == form.title
        assert cell.protection.locked is False, slot.id
    cells = text_cells(wb, form_id)
    printed = [q.text for q in form.questions()] + [i.text for i in form.items] + [s.text for a in form.areas for s in a.sources]
    printed += [h.label for h in form.header]
    for text in printed:
        # a question with a hint shares its cell with the hint (rich text)
        cell = cells.get(text) or next(c for v, c in cells.items() if v.startswith(text))
        assert cell.protection.locked is True, text


@pytest.mark.parametrize("form_id", FORMS)
def test_blank_validations_come_from_named_ranges(form_id):
    form = load_form(form_id)
    wb = open_wb(blank(form_id))
    ws = wb[form.title]
    by_cell: dict[str, Any] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                for c in row:
                    by_cell[c.coordinate] = dv
    lists = wb["Lists"]
    assert lists.sheet_state == "hidden"
    for slot in form.slots():
        cell = answer_cell(wb, slot.id)
        dv = by_cell.get(cell.coordinate)
        if slot.type in ("bool", "choice"):
            assert dv is not None and dv.type == "list", slot.id
            assert not dv.formula1.startswith('"'), "lists must come from a range, not be inline"
            sheet, ref = next(iter(wb.defined_names[dv.formula1].destinations))
            assert sheet == "Lists"
            listed = [c.value for row in lists[ref.replace("$", "")] for c in row]
            assert tuple(listed) == slot.choices
        elif slot.type == "date":
            assert dv is not None and dv.type == "date", slot.id
            assert cell.number_format == "dd/mm/yyyy"
        elif slot.type in ("money", "number"):
            assert dv is not None and dv.type == "decimal", slot.id
        else:
            assert dv is None, slot.id
            assert cell.number_format == "@", "free text cells are text, so typed '=...' stays text"


@pytest.mark.parametrize("form_id", FORMS)
def test_blank_names_properties_and_metadata(form_id):
    form = load_form(form_id)
    data = blank(form_id, {"reference": "VS-1 <&>"})
    wb = open_wb(data)
    for slot in form.slots():
        assert slot_name(slot.id) in wb.defined_names, slot.id
    p = wb.properties
    assert p.title == form.display_name
    assert p.subject == form.id
    assert p.keywords == f"apdocs:{form.id}:{form.version}"
    assert p.identifier == "VS-1 <&>"
    custom = {prop.name: prop.value for prop in wb.custom_doc_props.props}
    assert custom == {"apdocs.form": form.id, "apdocs.version": form.version, "apdocs.reference": "VS-1 <&>"}
    meta = wb["_apdocs"]
    assert meta.sheet_state == "veryHidden"
    rows = [r for r in meta.iter_rows(values_only=True)]
    split = rows.index(("slot", "cell", "name"))
    kv = {r[0]: r[1] for r in rows[:split] if r[0]}
    assert kv["form"] == form.id and kv["version"] == form.version and kv["reference"] == "VS-1 <&>"
    slot_map = {r[0]: (r[1], r[2]) for r in rows[split + 1 :]}
    for slot in form.slots():
        sheet, ref = next(iter(wb.defined_names[slot_name(slot.id)].destinations))
        assert slot_map[slot.id] == (f"'{sheet}'!{ref}", slot_name(slot.id))


@pytest.mark.parametrize("form_id", FORMS)
def test_blank_layout_and_print_setup(form_id):
    form = load_form(form_id)
    ws = open_wb(blank(form_id))[form.title]
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$1:$3"
    top = [ws.cell(row=r, column=1).value for r in (1, 2, 3)]
    assert top == [form.organisation, form.display_name, f"{form.chrome['return_to']} {form.return_address}"]
    for q in form.questions():
        cell = answer_cell(ws.parent, q.id)
        assert cell.alignment.wrap_text
        assert ws.row_dimensions[cell.row].height >= 60


def test_render_is_deterministic_and_personalised():
    a = blank("appendix4", {"school_name": "Example Academy", "reference": "R1"})
    assert a == blank("appendix4", {"school_name": "Example Academy", "reference": "R1"})
    assert a != blank("appendix4", {"school_name": "Example Academy", "reference": "R2"})


def test_formula_looking_text_is_stored_as_a_string():
    data = blank("appendix4", {"q1": '=HYPERLINK("http://example.invalid","x")', "q3": "=1+1", "reference": "=cmd|' /C calc'!A0"})
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet
    wb = open_wb(data)
    assert answer_cell(wb, "q1").data_type == "s"
    assert answer_cell(wb, "q3").value == "=1+1"
    rec = FORMAT.read(data)
    assert rec.answers["q1"] == '=HYPERLINK("http://example.invalid","x")'
    assert rec.answers["q3"] == "=1+1"
    assert rec.reference == "=cmd|' /C calc'!A0"


def test_render_typed_values_and_dates():
    data = blank(
        "appendix2",
        {"e1.seen": True, "e2.seen": False, "e1.date_seen": "2024-09-02", "e2.date_seen": dt.date(2024, 2, 29),
         "insurance.employers_liability.amount": 5_000_000, "e3.date_seen": "next week"},
    )  # fmt: skip
    wb = open_wb(data)
    assert answer_cell(wb, "e1.seen").value == "Yes" and answer_cell(wb, "e2.seen").value == "No"
    assert answer_cell(wb, "e1.date_seen").value == dt.datetime(2024, 9, 2)  # a real Excel date
    assert answer_cell(wb, "e2.date_seen").is_date
    assert answer_cell(wb, "insurance.employers_liability.amount").value == 5_000_000
    assert answer_cell(wb, "e3.date_seen").value == "next week"  # not a date: kept as text, not lost


@pytest.mark.parametrize("bad", [float("nan"), "x" * 32768, object()])
def test_render_refuses_values_a_cell_cannot_hold(bad):
    with pytest.raises(ApdocsError) as err:
        blank("appendix2", {"insurance.employers_liability.amount": bad} if not isinstance(bad, str) else {"e1.note": bad})
    assert err.value.code == "VALUE_INVALID"


def test_password_protects_every_sheet():
    data = compile_form(load_form("appendix4"), password="s3cret").render({})
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<sheetProtection[^>]*password="[0-9A-F]{4}"', sheet)
    assert 'password="' not in zipfile.ZipFile(io.BytesIO(blank("appendix4"))).read("xl/worksheets/sheet1.xml").decode()


# -- reading returns -----------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", FORMS)
def test_filled_by_a_school_reads_back(form_id):
    typed, expect = school_sample(form_id)
    data = fill_like_a_school(blank(form_id, {"reference": typed["reference"]}), typed)
    rec = FORMAT.read(data, path=f"{form_id}.xlsx")
    header, answers = expected_record(form_id, expect)
    assert rec.form == form_id and rec.form_version == "1.0"
    assert rec.reference == "VS-2024-0042"
    assert rec.header == header
    assert rec.answers == answers
    assert rec.source.format == "xlsx" and rec.source.path == f"{form_id}.xlsx"
    assert [w.code for w in rec.warnings] == []


def test_blank_reads_back_empty():
    rec = FORMAT.read(blank("appendix3"))
    assert rec.form == "appendix3"
    assert all(v is None for v in rec.header.values())
    assert rec.answers["a1"]["sources"]["a1.1"] is None and rec.answers["overall_judgement"] is None


def _strip_names(data: bytes) -> bytes:
    wb = open_wb(data)
    for name in [n for n in wb.defined_names if n.startswith("apdocs_")]:
        del wb.defined_names[name]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_falls_back_to_the_slot_map_when_names_are_lost():
    typed, expect = school_sample("appendix2")
    data = _strip_names(fill_like_a_school(blank("appendix2"), typed))
    rec = FORMAT.read(data)
    assert (rec.header, rec.answers) == expected_record("appendix2", expect)
    assert any(w.code == "ROUTE_FALLBACK" and "map" in w.message for w in rec.warnings)


@pytest.mark.parametrize("form_id", FORMS)
def test_hand_edited_copy_is_read_by_its_wording(form_id):
    """Names and the metadata sheet gone (copied into a fresh workbook): answers found by the printed text."""
    typed, expect = school_sample(form_id)
    filled = open_wb(fill_like_a_school(blank(form_id), typed))
    src = filled[load_form(form_id).title]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Copied"
    for row in src.iter_rows():
        for c in row:
            if c.value is not None:
                ws[c.coordinate] = str(c.value) if hasattr(c.value, "as_list") else c.value
                ws[c.coordinate].data_type = c.data_type
    for rng in src.merged_cells.ranges:
        ws.merge_cells(str(rng))
    buf = io.BytesIO()
    wb.save(buf)
    rec = FORMAT.read(buf.getvalue())
    assert rec.form == form_id
    assert (rec.header, rec.answers) == expected_record(form_id, expect)
    assert any(w.code == "ROUTE_FALLBACK" for w in rec.warnings)


def test_a_hand_made_workbook_with_retyped_questions_is_read_like_a_word_one():
    """No names, no _apdocs sheet, no properties: questions retyped "Q1) ..." in column A, answers in B.

    The Excel reader recognises the form and its questions as the Word reader does."""
    form = load_form("appendix4")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "Questionnaire - our copy"
    want = {}
    for n, q in enumerate(form.questions(), start=1):
        # retyped: numbered, straight quotes, doubled spaces, a different case for one of them
        typed = f"Q{n})  " + q.text.replace("\u2019", "'").replace("\u2018", "'").replace(" ", "  ", 1)
        ws.cell(row=n + 1, column=1, value=typed.upper() if n == 3 else typed)
        if n != 7:  # one left blank
            want[q.id] = f"Synthetic answer {n}" + ("\nsecond line" if n == 2 else "")
            ws.cell(row=n + 1, column=2, value=want[q.id])
    buf = io.BytesIO()
    wb.save(buf)
    rec = FORMAT.read(buf.getvalue(), path="hand-made.xlsx")
    assert rec.form == "appendix4"
    assert rec.answers == {q.id: want.get(q.id) for q in form.questions()}
    assert any(w.code == "ROUTE_FALLBACK" and "wording" in w.message for w in rec.warnings)


def test_an_unrelated_workbook_is_not_a_form():
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Budget 2024"
    wb.active["B2"] = 1234
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ParseError) as err:
        FORMAT.read(buf.getvalue(), path="budget.xlsx")
    assert err.value.code == "NOT_A_FORM" and err.value.path == "budget.xlsx"


def test_a_word_file_is_refused_with_a_typed_error():
    with pytest.raises(ParseError) as err:
        FORMAT.read(b"%PDF-1.4\n...", path="scan.xlsx")
    assert err.value.path == "scan.xlsx" and err.value.code == "NOT_OOXML"


def test_a_word_document_is_not_read_as_a_workbook():
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    with pytest.raises(ParseError) as err:
        FORMAT.read(buf.getvalue(), path="form.docx")
    assert err.value.code == "NOT_A_FORM" and "Word" in err.value.message


def test_1904_date_system_is_respected():
    typed, expect = school_sample("appendix2")
    wb = open_wb(fill_like_a_school(blank("appendix2"), {}))
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for slot_id, value in typed.items():
        if value is not None:
            answer_cell(wb, slot_id).value = value
    buf = io.BytesIO()
    wb.save(buf)
    assert b'date1904="1"' in zipfile.ZipFile(buf).read("xl/workbook.xml")
    rec = FORMAT.read(buf.getvalue())
    assert rec.answers["e1"]["date_seen"] == "2024-09-01"
    assert (rec.header, rec.answers) == expected_record("appendix2", expect)


def _replace_cell(data: bytes, part: str, ref: str, cell_xml: str) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            raw = zin.read(info.filename)
            if info.filename == part:
                raw, n = re.subn(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)'.encode(), cell_xml.encode(), raw)
                assert n == 1
            zout.writestr(info, raw)
    return out.getvalue()


def test_formula_cached_value_is_read_never_evaluated():
    data = blank("appendix4")
    ref = answer_cell(open_wb(data), "q5").coordinate
    data = _replace_cell(
        data, "xl/worksheets/sheet1.xml", ref, f'<c r="{ref}" t="str"><f>UPPER("no")</f><v>cached answer</v></c>'
    )
    rec = FORMAT.read(data)
    assert rec.answers["q5"] == "cached answer"
    assert [w.code for w in rec.warnings] == ["FORMULA_CACHED"]
    assert rec.warnings[0].where == "q5"


def test_a_formula_without_a_cached_value_is_blank_with_a_notice():
    wb = open_wb(blank("appendix4"))
    answer_cell(wb, "q4").value = "=A1&A2"  # openpyxl writes a formula with no calculated value
    buf = io.BytesIO()
    wb.save(buf)
    rec = FORMAT.read(buf.getvalue())
    assert rec.answers["q4"] is None
    assert [(w.code, w.where) for w in rec.warnings] == [("FORMULA_NOT_CALCULATED", "q4")]


def test_unreadable_values_are_kept_with_notices_naming_the_slot():
    data = blank("appendix3", {"a1.1": "perhaps", "a1.judgement": "Fine", "visit_date": "soon", "a1.notes": "secret words"})
    rec = FORMAT.read(data)
    codes = {(w.code, w.where) for w in rec.warnings}
    assert {("YES_NO_UNCLEAR", "a1.1"), ("CHOICE_UNREADABLE", "a1.judgement"), ("DATE_UNREADABLE", "visit_date")} <= codes
    assert all("perhaps" not in w.message and "soon" not in w.message for w in rec.warnings)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_round_trips_through_a_cell(text):
    rec = FORMAT.read(blank("appendix4", {"q7": text}))
    # CRLF, lone CR and LF are all one line break once read (values.clean_text)
    assert rec.answers["q7"] == values.clean_text(text)


def _cell_round_trip(text: str) -> str:
    """``text`` written as a string cell, parsed as XML and unescaped, as the reader does."""
    from lxml import etree

    xml = cellxml.string_cell("A1", None, text)
    el = etree.fromstring(f'<x xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{xml}</x>')
    return cellxml.unescape_text(el.findtext(".//{*}t"))


@given(st.text())
def test_cell_string_escaping_is_lossless(text):
    assert _cell_round_trip(text) == text


@settings(max_examples=500)
@given(st.text(alphabet="_x0aF\x00\x01\r-", max_size=40))
def test_cell_string_escaping_is_lossless_where_escapes_touch(text):
    """Text made of little but escape-shaped pieces: "_x0000_x0000_" (two literal escapes sharing
    an underscore), "_x0000" + NUL (a literal run finished by a control's escape) and the like."""
    assert _cell_round_trip(text) == text


@pytest.mark.parametrize("text", ["_x0000_x0000_", "_x0000\x00", "\x00x0000_", "_x0041__x0042_", "__x005F_", "_x00aF_\x01_"])
def test_escape_shaped_text_survives_a_cell(text):
    assert _cell_round_trip(text) == text


@pytest.mark.parametrize("day", [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2024, 2, 29)])
def test_date_serials_round_trip(day):
    assert cellxml.serial_to_date(cellxml.date_to_serial(day)) == day


def test_known_date_serials():
    assert cellxml.date_to_serial(dt.date(1900, 3, 1)) == 61
    assert cellxml.date_to_serial(dt.date(2024, 9, 2)) == 45537
    assert cellxml.serial_to_date(0, date1904=True) == dt.date(1904, 1, 1)


def test_defined_names_pointing_elsewhere_fall_back():
    """A name whose sheet no longer exists does not stop the reader: the slot map answers."""
    typed, expect = school_sample("appendix4")
    wb = open_wb(fill_like_a_school(blank("appendix4"), typed))
    wb.defined_names["apdocs_q1"] = DefinedName("apdocs_q1", attr_text="'Gone'!$C$1")
    buf = io.BytesIO()
    wb.save(buf)
    rec = FORMAT.read(buf.getvalue())
    assert rec.answers["q1"] == expect["q1"]


# -- golden XML ------------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_golden_workbook_and_form_sheet_xml(form_id):
    """Defined names, validations, protection and layout, compared XML-aware with tests/golden/."""
    with zipfile.ZipFile(io.BytesIO(blank(form_id))) as zf:
        assert_matches_golden(zf.read("xl/workbook.xml"), f"{form_id}.workbook.xml")
        assert_matches_golden(zf.read("xl/worksheets/sheet1.xml"), f"{form_id}.sheet1.xml")
