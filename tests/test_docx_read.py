"""The .docx reader's control route: where controls sit, what they hold, and bad input.

Documents are rendered by apdocs and then edited with lxml the way Word or LibreOffice
edits them (controls moved to other levels, tags lost, placeholder showing, dropdown
display text, date pickers, paragraphs spilled out of a control).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from apdocs.api import render_form
from apdocs.errors import ParseError
from apdocs.formats.docx.read import read_docx
from apdocs.forms import load_form
from tests.docx_edit import edit_document, edit_part

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A4 = load_form("appendix4")


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def control(root, slot_id: str):
    tag = A4.slot(slot_id).tag(A4) if slot_id in {s.id for s in A4.slots()} else None
    for sdt in root.iter(w("sdt")):
        t = sdt.find(f"{w('sdtPr')}/{w('tag')}")
        if t is not None and t.get(w("val")) == tag:
            return sdt
    raise AssertionError(slot_id)


def para(*lines: str):
    p = etree.Element(w("p"))
    for i, line in enumerate(lines):
        r = etree.SubElement(p, w("r"))
        if i:
            etree.SubElement(r, w("br"))
        etree.SubElement(r, w("t")).text = line
    return p


def wrap(el, slot_id: str) -> None:
    """Put ``el`` inside a new control for the slot, where ``el`` was."""
    sdt = slot_sdt(slot_id)
    el.addprevious(sdt)
    sdt.find(w("sdtContent")).append(el)


def slot_sdt(slot_id: str, *content):
    """A block/row/cell-level control for a slot, as Word writes one."""
    sdt = etree.Element(w("sdt"))
    pr = etree.SubElement(sdt, w("sdtPr"))
    etree.SubElement(pr, w("alias"), {w("val"): A4.slot(slot_id).title})
    etree.SubElement(pr, w("tag"), {w("val"): A4.slot(slot_id).tag(A4)})
    c = etree.SubElement(sdt, w("sdtContent"))
    for x in content:
        c.append(x)
    return sdt


def drop_control(root, slot_id: str):
    """Remove a slot's run-level control; return the paragraph and cell it was in."""
    sdt = control(root, slot_id)
    p = sdt.getparent()
    p.remove(sdt)
    return p, p.getparent()


def test_controls_in_all_five_places():
    data = render_form("appendix4", "docx", {"q5": "Inline, as rendered"})

    def move(root):
        body = root.find(w("body"))
        # body level: a block control holding two paragraphs
        drop_control(root, "q1")
        body.insert(0, slot_sdt("q1", para("Body level"), para("second paragraph")))
        # cell level: a control wrapping the whole answer cell
        p2, tc2 = drop_control(root, "q2")
        p2.append(para("Cell level")[0])
        wrap(tc2, "q2")
        # row level: a control wrapping the answer row
        p3, tc3 = drop_control(root, "q3")
        p3.append(para("Row level")[0])
        wrap(tc3.getparent(), "q3")
        # around a table: a control wrapping a small table holding the answer
        drop_control(root, "q4")
        tbl = etree.Element(w("tbl"))
        tc = etree.SubElement(etree.SubElement(tbl, w("tr")), w("tc"))
        tc.append(para("Around a table", "with a line break"))
        body.insert(1, slot_sdt("q4", tbl))

    rec = read_docx(edit_document(data, move), path="five.docx")
    assert rec.answers["q1"] == "Body level\nsecond paragraph"
    assert rec.answers["q2"] == "Cell level"
    assert rec.answers["q3"] == "Row level"
    assert rec.answers["q4"] == "Around a table\nwith a line break"
    assert rec.answers["q5"] == "Inline, as rendered"
    assert not [n for n in rec.warnings if n.code == "ROUTE_FALLBACK"]


def test_tags_lost_found_by_title_and_libreoffice_spill_merged():
    data = render_form("appendix4", "docx", {"q1": "First paragraph"})

    def libreoffice_like(root):
        for tag in list(root.iter(w("tag"))):
            tag.getparent().remove(tag)
        # LibreOffice writes a control's 2nd+ paragraphs after it, in the same cell
        p = control_by_alias(root, "q1").getparent()
        p.addnext(para("Third paragraph"))
        p.addnext(para(""))

    rec = read_docx(edit_document(data, libreoffice_like), path="lo.docx")
    assert rec.form == "appendix4"
    assert rec.answers["q1"] == "First paragraph\n\nThird paragraph"
    assert any(n.code == "ROUTE_FALLBACK" and "title" in n.message for n in rec.warnings)


def control_by_alias(root, slot_id: str):
    for alias in root.iter(w("alias")):
        if alias.get(w("val")) == A4.slot(slot_id).title:
            return alias.getparent().getparent()
    raise AssertionError(slot_id)


def test_placeholder_date_picker_and_dropdown_display_text():
    data = render_form("appendix4", "docx", {"placement_start": "2020-03-12", "q2": "typed"})

    def tweak(root):
        # the date picker's stored date wins over shown text a person retyped oddly
        sdt = control(root, "placement_start")
        sdt.find(f"{w('sdtPr')}/{w('date')}").set(w("fullDate"), "2020-04-01T00:00:00Z")
        for t in sdt.iter(w("t")):
            t.text = "1st of April-ish"
        # a placeholder showing means blank, whatever the text says
        q2 = control(root, "q2")
        etree.SubElement(q2.find(w("sdtPr")), w("showingPlcHdr"))

    rec = read_docx(edit_document(data, tweak), path="x.docx")
    assert rec.header["placement_start"] == "2020-04-01"
    assert rec.answers["q2"] is None


def test_dropdown_display_text_maps_to_value_and_checkbox_state():
    a3 = load_form("appendix3")
    data = render_form("appendix3", "docx", {"a1.judgement": "Good", "a1.1": True, "a1.2": False})

    def tweak(root):
        tag = a3.slot("a1.judgement").tag(a3)
        sdt = next(s for s in root.iter(w("sdt")) if s.find(f"{w('sdtPr')}/{w('tag')}").get(w("val")) == tag)
        for item in sdt.iter(w("listItem")):
            if item.get(w("value")) == "Good":
                item.set(w("displayText"), "Good (2)")
        for t in sdt.iter(w("t")):
            t.text = "Good (2)"
        # a Word check box (w14) for a1.2: its state is the answer
        tag2 = a3.slot("a1.2").tag(a3)
        sdt2 = next(s for s in root.iter(w("sdt")) if s.find(f"{w('sdtPr')}/{w('tag')}").get(w("val")) == tag2)
        w14 = "http://schemas.microsoft.com/office/word/2010/wordml"
        box = etree.SubElement(sdt2.find(w("sdtPr")), f"{{{w14}}}checkbox")
        etree.SubElement(box, f"{{{w14}}}checked", {f"{{{w14}}}val": "1"})

    rec = read_docx(edit_document(data, tweak), path="a3.docx")
    assert rec.answers["a1"]["judgement"] == "Good"
    assert rec.answers["a1"]["sources"]["a1.1"] is True
    assert rec.answers["a1"]["sources"]["a1.2"] is True


def test_version_mismatch_is_a_warning_and_reference_from_properties():
    data = render_form("appendix4", "docx", {"reference": "VS-2020-0001"})

    def old_version(root):
        for tag in root.iter(w("tag")):
            tag.set(w("val"), tag.get(w("val")).replace(f":{A4.version}:", ":0.9:"))

    # drop the custom properties' version so the tags speak
    old = edit_part(
        edit_document(data, old_version),
        "docProps/custom.xml",
        lambda raw: raw.replace(b'name="apdocs.version"', b'name="other.version"'),
    )
    rec = read_docx(old, path="old.docx")
    assert rec.form_version == "0.9"
    assert any(n.code == "FORM_VERSION" for n in rec.warnings)
    assert rec.reference == "VS-2020-0001"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY_FILE"),
        (b"%PDF-1.7 not a form", "NOT_OOXML"),
        (b"PK\x03\x04 cut short", "TRUNCATED"),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_file(data, code):
    with pytest.raises(ParseError) as info:
        read_docx(data, path="returns/bad.docx")
    assert info.value.code == code
    assert "returns/bad.docx" in str(info.value)


def test_document_part_with_a_dtd_is_refused():
    data = render_form("appendix4", "docx", {})
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            raw = src.read(name)
            if name == "word/document.xml":
                raw = raw.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            dst.writestr(name, raw)
    with pytest.raises(ParseError) as info:
        read_docx(out.getvalue(), path="evil.docx")
    assert info.value.code == "DTD_FORBIDDEN"


# -- our own forms without controls: read by position, guarded by the printed text ----------


def unwrap(root) -> None:
    """Replace every control by its content, as an editor without content controls does."""
    for sdt in list(root.iter(w("sdt"))):
        content = sdt.find(w("sdtContent"))
        for child in reversed(list(content) if content is not None else []):
            sdt.addnext(child)
        sdt.getparent().remove(sdt)


def route_messages(rec) -> list[str]:
    return [n.message for n in rec.warnings if n.code == "ROUTE_FALLBACK"]


def test_unwrapped_form_is_read_by_position_even_where_answers_quote_printed_text():
    questions = A4.questions()
    # Answers that repeat printed wording would end an answer early on the wording route;
    # at its position an answer is the whole cell, whatever it says.
    want = {
        "q1": f"{questions[1].text}\nWe checked this first.",
        "q2": questions[2].text,
        "q3": "Line one\n\nLine three",
        "provider_name": "Sunrise Learning (synthetic)",
    }
    rec = read_docx(edit_document(render_form("appendix4", "docx", want), unwrap), path="unwrapped.docx")
    assert rec.answers["q1"] == want["q1"]
    assert rec.answers["q2"] == want["q2"]
    assert rec.answers["q3"] == want["q3"]
    assert rec.header["provider_name"] == want["provider_name"]
    assert rec.answers["q4"] is None
    assert any("position" in m and "wording" not in m for m in route_messages(rec))


def evidence_row(root, item_text: str):
    for tr in root.iter(w("tr")):
        if "".join(tr.itertext()).startswith(item_text):
            return tr
    raise AssertionError(item_text)


def test_rows_whose_printed_text_moved_or_changed_are_read_from_the_wording():
    a2 = load_form("appendix2")
    items = a2.items
    want = {f"{it.id}.seen": True for it in items} | {f"{it.id}.date_seen": "2020-03-12" for it in items}
    want |= {"e2.seen": False, "e2.note": "Awaiting copy", "provider_name": "Synthetic provider"}
    data = render_form("appendix2", "docx", want)

    def hand_edited(root):
        unwrap(root)
        # a school inserted its own row above e1 (every evidence row below moves down one) ...
        first = evidence_row(root, items[0].text)
        extra = etree.fromstring(etree.tostring(first))
        for t in extra.iter(w("t")):
            t.text = ""
        next(extra.iter(w("t"))).text = "Our own extra document"
        first.addprevious(extra)

    rec = read_docx(edit_document(data, hand_edited), path="edited.docx")
    got = {it.id: rec.answers[it.id] for it in items}
    assert got["e1"] == {"seen": True, "date_seen": "2020-03-12", "note": None}
    assert got["e2"] == {"seen": False, "date_seen": "2020-03-12", "note": "Awaiting copy"}
    assert all(got[it.id]["seen"] is True for it in items if it.id != "e2")
    assert rec.header["provider_name"] == "Synthetic provider"
    # the header still sat where we put it; the moved rows were found by their wording
    (message,) = [m for m in route_messages(rec) if "position" in m]
    assert "wording" in message


def test_a_changed_label_sends_only_its_row_to_the_wording_route():
    a2 = load_form("appendix2")
    data = render_form("appendix2", "docx", {"e3.seen": True, "e3.note": "Seen at visit", "e4.seen": False})

    def retyped(root):
        unwrap(root)
        row = evidence_row(root, a2.items[2].text)
        first_text = next(row.iter(w("t")))
        first_text.text = "3) " + first_text.text.upper()  # numbering and case: still the same wording
        row4 = evidence_row(root, a2.items[3].text)
        next(row4.iter(w("t"))).text = "Our health and safety policy (retyped by the school)"

    rec = read_docx(edit_document(data, retyped), path="retyped.docx")
    assert rec.answers["e3"]["seen"] is True
    assert rec.answers["e3"]["note"] == "Seen at visit"
    (message,) = [m for m in route_messages(rec) if "position" in m]
    assert message.endswith(" 3 from the printed wording")  # e4's three places: its label no longer matches


def test_position_is_only_trusted_for_the_version_we_render():
    data = render_form("appendix4", "docx", {"q1": "An answer", "q2": "Another"})
    older = edit_part(
        edit_document(data, unwrap), "docProps/custom.xml", lambda raw: raw.replace(f">{A4.version}<".encode(), b">0.9<")
    )
    rec = read_docx(older, path="older.docx")
    assert rec.form_version == "0.9"
    assert (rec.answers["q1"], rec.answers["q2"]) == ("An answer", "Another")
    assert route_messages(rec) == ["no content controls: answers read from the printed wording"]


def test_one_pass_table_reading_matches_the_careful_walk():
    from apdocs.formats.docx.read_text import _table_one_pass, iter_cells, iter_rows, paragraphs, span, table_cells

    data = render_form("appendix2", "docx", {"e1.note": "tab\there", "e2.note": "two\nlines", "provider_name": "x"})
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    tables = list(root.iter(w("tbl")))

    def careful(tbl):
        return [[(tuple(paragraphs(tc)), span(tc)) for tc in iter_cells(tr)] for tr in iter_rows(tbl)]

    for tbl in tables:
        fast = _table_one_pass(tbl)
        assert fast is not None
        assert [[(c.paragraphs, c.span) for c in row] for row in fast] == careful(tbl)
    assert any("tab\there" in c.text for row in table_cells(tables[1]) for c in row)
    # a tracked deletion in a cell: the one pass stands aside and the careful walk reads it
    cell_run = next(tables[1].iter(w("r")))
    deleted = etree.SubElement(cell_run.getparent(), w("del"))
    etree.SubElement(etree.SubElement(deleted, w("r")), w("delText")).text = "gone"
    moved = etree.SubElement(cell_run.getparent(), w("moveFrom"))
    etree.SubElement(etree.SubElement(moved, w("r")), w("t")).text = "moved away"
    assert _table_one_pass(tables[1]) is None
    read = [[(c.paragraphs, c.span) for c in row] for row in table_cells(tables[1])]
    assert read == careful(tables[1])
    assert not any("moved away" in "".join(p) for row in read for p, _s in row)
