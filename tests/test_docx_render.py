"""The Word renderer: real content controls, wording from the definitions, properties,
personalisation that survives any text, LibreOffice conversion and golden XML.

Regenerate the golden files after a deliberate layout change with
``APDOCS_UPDATE_GOLDEN=1 python -m pytest tests/test_docx_render.py -k golden``
and review the diff of ``tests/golden/*.document.xml`` before committing.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from apdocs import api
from apdocs.cli import main
from apdocs.formats import get
from apdocs.formats.docx import oxml
from apdocs.formats.docx.render import control_kind
from apdocs.forms import FORM_IDS, load_form, parse_tag
from apdocs.forms.model import FormDefinition
from tests.golden_xml import assert_matches_golden
from tests.office import require

W = oxml.W
GOLDEN = Path(__file__).parent / "golden"
PLACEHOLDERS = {"text": oxml.PLACEHOLDER_TEXT, "dropdown": oxml.PLACEHOLDER_CHOICE, "date": oxml.PLACEHOLDER_DATE}
KIND_ELEMENT = {"text": "text", "dropdown": "dropDownList", "date": "date"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None  # every CRC checks out
        return {n: zf.read(n) for n in zf.namelist()}


def document(data: bytes) -> etree._Element:
    return etree.fromstring(parts(data)["word/document.xml"], _PARSER)


def run_text(el: etree._Element) -> str:
    """Text a person sees inside ``el``: w:t, with w:br as newline and w:tab as tab."""
    out = []
    for node in el.iter(w("t"), w("br"), w("tab")):
        out.append(node.text or "" if node.tag == w("t") else "\n" if node.tag == w("br") else "\t")
    return "".join(out)


def slot_controls(root: etree._Element, form: FormDefinition) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for sdt in root.iter(w("sdt")):
        tag = sdt.find(f"{w('sdtPr')}/{w('tag')}")
        parsed = parse_tag(tag.get(w("val")) if tag is not None else "")
        if parsed:
            assert parsed[:2] == (form.id, form.version)
            found.setdefault(parsed[2], []).append(sdt)
    return found


def paragraph_texts(root: etree._Element) -> list[str]:
    return [run_text(p) for p in root.iter(w("p"))]


def printed_wording(form: FormDefinition) -> list[str]:
    """Every piece of wording the definition says is printed on the form."""
    texts = [form.display_name, form.organisation, form.return_address, *form.intro, *(h.label for h in form.header)]
    for s in form.sections:
        texts.append(s.title)
        for q in s.questions:
            texts += [q.text] + ([q.hint] if q.hint else [])
    texts += [it.text for it in form.items]
    if form.columns:
        texts += list(form.columns.values())
    if form.insurance:
        ins = form.insurance
        texts += [ins["heading"], ins["sole_trader_label"], ins["amount_label"], ins["expiry_label"]]
        texts += [c.text for c in form.covers]
    for a in form.areas:
        texts += [a.title] + [s.text for s in a.sources]
    texts += list(form.labels.values()) if form.areas or form.items else []
    return texts


@pytest.fixture(scope="module", params=FORM_IDS)
def form(request: pytest.FixtureRequest) -> FormDefinition:
    return load_form(request.param)


def personal_values(form: FormDefinition) -> dict[str, object]:
    """Synthetic personalisation (no real names), plus one answer of every kind the form has."""
    values: dict[str, object] = {
        "school_name": "Example Academy (synthetic)",
        "provider_name": "Sample Skills CIC",
        "pupil_reference": "LAC-TEST-0042",
        "reference": "VS-2024-0042",
    }
    per_type: dict[str, int] = {}
    for slot in form.slots():
        if slot.id in values or (slot.group == "header" and slot.type == "text"):
            continue
        per_type[slot.type] = per_type.get(slot.type, 0) + 1
        if per_type[slot.type] > 3:
            continue  # a few of each kind is enough; the rest stay blank
        values[slot.id] = {
            "bool": False,
            "date": "2024-03-05",
            "choice": slot.choices[-1] if slot.choices else "x",
            "number": 12.5,
            "money": 5000000.0,
        }.get(slot.type, f"Answer for {slot.id}\nsecond line")
    return {k: v for k, v in values.items() if k in {s.id for s in form.slots()}}


# -- structure -----------------------------------------------------------------------------


def test_blank_opens_in_python_docx(form: FormDefinition) -> None:
    data = api.render_form(form.id, "docx")
    d = docx.Document(io.BytesIO(data))
    assert d.tables, "the form is laid out in tables"
    assert d.core_properties.title == form.display_name
    section = d.sections[0]
    assert (section.page_width, section.page_height) == (docx.shared.Twips(11906), docx.shared.Twips(16838))  # A4 portrait


def test_every_definition_wording_is_printed(form: FormDefinition) -> None:
    paras = paragraph_texts(document(api.render_form(form.id, "docx")))
    missing = [text for text in printed_wording(form) if not any(text in p for p in paras)]
    assert not missing


def test_every_slot_has_exactly_one_control_of_its_kind(form: FormDefinition) -> None:
    root = document(api.render_form(form.id, "docx"))
    found = slot_controls(root, form)
    slots = form.slots()
    assert set(found) == {s.id for s in slots}
    for slot in slots:
        (sdt,) = found[slot.id]
        pr = sdt.find(w("sdtPr"))
        kind = control_kind(slot)
        assert pr.find(w("alias")).get(w("val")) == slot.title
        assert pr.find(w("tag")).get(w("val")) == slot.tag(form)
        assert pr.find(w("lock")).get(w("val")) == "sdtLocked"
        assert pr.find(w("showingPlcHdr")) is not None
        if not slot.multiline:  # multi-line answers are rich text: no kind element
            assert pr.find(w(KIND_ELEMENT[kind])) is not None
        assert run_text(sdt.find(w("sdtContent"))) == PLACEHOLDERS[kind]
        assert sdt.getparent().tag == w("p"), "run-level control, one per paragraph"
        assert len(sdt.getparent().findall(w("sdt"))) == 1
        if slot.type == "bool":
            assert kind == "dropdown"
            items = [li.get(w("displayText")) for li in pr.iter(w("listItem"))]
            assert items == [oxml.PLACEHOLDER_CHOICE, *form.yes_no]
        elif slot.type == "choice":
            values = [li.get(w("value")) for li in pr.iter(w("listItem"))]
            assert values == ["", *form.judgements]
        elif slot.type == "date":
            date = pr.find(w("date"))
            assert date.get(w("fullDate")) is None
            assert date.find(w("dateFormat")).get(w("val")) == "dd/MM/yyyy"
            assert date.find(w("lid")).get(w("val")) == "en-GB"
            assert date.find(w("storeMappedDataAs")).get(w("val")) == "dateTime"
            assert date.find(w("calendar")).get(w("val")) == "gregorian"
        elif slot.multiline:
            # rich text, so LibreOffice keeps the line breaks (see oxml.control)
            assert pr.find(w("text")) is None
        else:
            assert pr.find(w("text")).get(w("multiLine")) == "1"


def test_printed_wording_is_locked_against_editing(form: FormDefinition) -> None:
    body = document(api.render_form(form.id, "docx")).find(w("body"))
    unlocked = []
    for t in body.iter(w("t")):
        owners = [a for a in t.iterancestors(w("sdt"))]
        assert owners, f"text outside any control: {t.text!r}"
        lock = owners[0].find(f"{w('sdtPr')}/{w('lock')}").get(w("val"))
        tag = owners[0].find(f"{w('sdtPr')}/{w('tag')}").get(w("val"))
        if not (lock == "sdtContentLocked" and tag == oxml.LOCKED_TAG) and not parse_tag(tag):
            unlocked.append(t.text)
    assert not unlocked


def test_column_header_rows_repeat_on_every_page(form: FormDefinition) -> None:
    root = document(api.render_form(form.id, "docx"))
    tables = root.iter(w("tbl"))
    headed = [t for t in tables if t.find(f"{w('tr')}/{w('trPr')}/{w('tblHeader')}") is not None]
    if form.items or form.areas:
        assert len(headed) >= (len(form.areas) or 2)
        first = [run_text(tc) for tc in headed[0].find(w("tr")).iter(w("tc"))]
        expected = (
            [form.columns["evidence"], form.columns["seen"], form.labels["date_seen"], form.labels["note"]]
            if form.items
            else [form.areas[0].title, form.labels["scrutinised"]]
        )
        assert first == expected
    for tbl in root.iter(w("tbl")):
        assert tbl.find(f"{w('tblPr')}/{w('tblLayout')}").get(w("type")) == "fixed"


def test_properties_carry_form_version_and_reference(form: FormDefinition) -> None:
    p = parts(api.render_form(form.id, "docx", {"reference": "VS-9 <&>"}))
    core = etree.fromstring(p["docProps/core.xml"], _PARSER)
    ns = {
        "dc": "http://purl.org/dc/elements/1.1/",
        "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    }
    assert core.findtext("dc:title", namespaces=ns) == form.display_name
    assert form.id in core.findtext("dc:subject", namespaces=ns)
    assert form.version in core.findtext("dc:subject", namespaces=ns)
    assert core.findtext("dc:identifier", namespaces=ns) == "VS-9 <&>"
    custom = etree.fromstring(p["docProps/custom.xml"], _PARSER)
    props = {e.get("name"): e[0].text for e in custom}
    assert props == {"apdocs.form": form.id, "apdocs.version": form.version, "apdocs.reference": "VS-9 <&>"}
    assert b'PartName="/docProps/custom.xml"' in p["[Content_Types].xml"]
    assert b"relationships/custom-properties" in p["_rels/.rels"]
    d = docx.Document(io.BytesIO(api.render_form(form.id, "docx", {"reference": "VS-9"})))
    assert d.core_properties.identifier == "VS-9"


def test_footer_names_form_version_reference_and_pages(form: FormDefinition) -> None:
    p = parts(api.render_form(form.id, "docx", {"reference": "VS-2024-7"}))
    footer = etree.fromstring(p["word/footer1.xml"], _PARSER)
    text = run_text(footer)
    assert form.display_name in text and form.version in text and "VS-2024-7" in text
    instr = [i.text.strip() for i in footer.iter(w("instrText"))]
    assert instr == ["PAGE", "NUMPAGES"]
    blank = run_text(etree.fromstring(parts(api.render_form(form.id, "docx"))["word/footer1.xml"], _PARSER))
    assert "VS-2024-7" not in blank and form.display_name in blank


# -- personalisation -------------------------------------------------------------------------


def test_personalised_values_fill_their_controls(form: FormDefinition) -> None:
    values = personal_values(form)
    root = document(api.render_form(form.id, "docx", values))
    found = slot_controls(root, form)
    for slot in form.slots():
        (sdt,) = found[slot.id]
        pr, content = sdt.find(w("sdtPr")), sdt.find(w("sdtContent"))
        if slot.id not in values:
            assert pr.find(w("showingPlcHdr")) is not None
            continue
        assert pr.find(w("showingPlcHdr")) is None
        shown = run_text(content)
        v = values[slot.id]
        if slot.type == "date":
            assert shown == "05/03/2024"
            assert pr.find(w("date")).get(w("fullDate")) == "2024-03-05T00:00:00Z"
        elif slot.type == "bool":
            assert shown == form.yes_no[1]
        elif slot.type == "money":
            assert float(shown) == v
        elif slot.type == "number":
            assert shown == "12.5"
        else:
            assert shown == v
    # the personalised copy still opens and still has every control
    docx.Document(io.BytesIO(api.render_form(form.id, "docx", values)))
    assert set(found) == {s.id for s in form.slots()}


def test_blank_and_empty_values_render_the_same(form: FormDefinition) -> None:
    blank = parts(api.render_form(form.id, "docx"))
    empty = parts(api.render_form(form.id, "docx", {s.id: None for s in form.slots()} | {"reference": ""}))
    assert blank["word/document.xml"] == empty["word/document.xml"]


def test_dates_accept_date_objects_and_keep_non_dates_as_typed() -> None:
    import datetime as dt

    form = load_form("appendix4")
    root = document(api.render_form("appendix4", "docx", {"placement_start": dt.date(2025, 1, 31), "date_completed": "soon"}))
    found = slot_controls(root, form)
    start = found["placement_start"][0]
    assert start.find(f"{w('sdtPr')}/{w('date')}").get(w("fullDate")) == "2025-01-31T00:00:00Z"
    assert run_text(start) == "31/01/2025"
    later = found["date_completed"][0]
    assert later.find(f"{w('sdtPr')}/{w('date')}").get(w("fullDate")) is None
    assert run_text(later) == "soon"


NASTY = [
    "Tom & Jerry <b>bold</b> \"quoted\" 'single'",
    '=HYPERLINK("http://example.invalid","x")',
    "emoji 🧒🏽📚 and RTL مدرسة and CJK 学校",
    "line one\nline two\n\nline four\twith tab",
    "  leading and trailing spaces  ",
    "]]> <!-- --> <?pi?> &amp; &#x41;",
    "x" * 10_000,
]


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_xml_special_and_unicode_text_survives_in_every_text_slot(form: FormDefinition, text: str) -> None:
    text_slots = [s for s in form.slots() if control_kind(s) == "text"]
    data = api.render_form(form.id, "docx", {s.id: text for s in text_slots})
    root = document(data)  # well-formed, or this raises
    found = slot_controls(root, form)
    for s in text_slots:
        assert run_text(found[s.id][0].find(w("sdtContent"))) == text
    assert etree.fromstring(parts(data)["docProps/custom.xml"], _PARSER)[2][0].text == text


def test_characters_xml_cannot_hold_are_dropped_not_fatal() -> None:
    form = load_form("appendix4")
    data = api.render_form("appendix4", "docx", {"q1": "a\x00b\x0bc\x1fd\ud800e\r\nf\rg", "reference": "R\x01"})
    root = document(data)
    assert run_text(slot_controls(root, form)["q1"][0].find(w("sdtContent"))) == "abcde\nf\ng"
    docx.Document(io.BytesIO(data))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300))
def test_any_text_round_trips_through_the_xml(text: str) -> None:
    form = load_form("appendix3")
    root = document(api.render_form("appendix3", "docx", {"a2.notes": text, "visited_by": text}))
    expected = oxml.clean_text(text) or oxml.PLACEHOLDER_TEXT
    found = slot_controls(root, form)
    assert run_text(found["a2.notes"][0].find(w("sdtContent"))) == expected
    assert run_text(found["visited_by"][0].find(w("sdtContent"))) == expected


def test_rendering_is_pure(form: FormDefinition) -> None:
    compiled = get("docx").compile(form)
    values = personal_values(form)
    first = compiled.render(values)
    compiled.render({"reference": "other"})
    assert compiled.render(values) == first


# -- format object and CLI -------------------------------------------------------------------


def test_format_detects_docx_and_nothing_else() -> None:
    fmt = get("docx")
    assert fmt.name == "docx" and ".docx" in fmt.extensions
    assert fmt.media_type.endswith("wordprocessingml.document")
    assert fmt.detect(api.render_form("appendix2", "docx"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert not fmt.detect(buf.getvalue())
    assert not fmt.detect(b"%PDF-1.7 ...")
    assert not fmt.detect(b"PK\x03\x04 truncated")
    assert not fmt.detect(b"")


def test_cli_blank_writes_a_docx_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "q.docx"
    runner = CliRunner()
    result = runner.invoke(main, ["blank", "appendix4", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert get("docx").detect(out.read_bytes())
    out.write_bytes(b"user's own file")
    again = runner.invoke(main, ["blank", "appendix4", "--format", "docx", "-o", str(out)])
    assert again.exit_code == 3
    assert out.read_bytes() == b"user's own file"


# -- golden XML ------------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_golden_document_xml(form_id: str) -> None:
    assert_matches_golden(parts(api.render_form(form_id, "docx"))["word/document.xml"], f"{form_id}.document.xml")


# -- LibreOffice ---------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_converts_every_form_blank_and_personalised(libreoffice, tmp_path: Path) -> None:
    pdftotext = require("pdftotext")
    files, expect = [], {}
    for form_id in FORM_IDS:
        form = load_form(form_id)
        shortest = min(
            [q.text for q in form.questions()] + [i.text for i in form.items] + [s.text for a in form.areas for s in a.sources],
            key=len,
        )
        for variant, values in (("blank", {}), ("personal", personal_values(form))):
            path = tmp_path / f"{form_id}-{variant}.docx"
            path.write_bytes(api.render_form(form_id, "docx", values))
            files.append(path)
            names = [str(v) for k, v in values.items() if k.endswith("_name")]
            expect[path.stem] = [shortest, form.return_address, form.display_name, *names]
    pdfs = libreoffice.convert(files, "pdf", tmp_path / "pdf")  # one soffice run for all six
    for pdf in pdfs:
        text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        flat = _squash(text)
        for wanted in expect[pdf.stem]:
            assert _squash(wanted) in flat, f"{pdf.name} lacks {wanted!r}"
        if "personal" in pdf.stem:
            assert "VS-2024-0042" in flat  # reference, in header table and footer


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_sees_real_dropdowns_and_date_pickers(libreoffice, tmp_path: Path) -> None:
    """LibreOffice imports every Yes/No and judgement slot as a dropdown and every date slot as a date picker."""
    loext = "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0"
    files = []
    for form_id in FORM_IDS:
        path = tmp_path / f"{form_id}.docx"
        path.write_bytes(api.render_form(form_id, "docx"))
        files.append(path)
    for form_id, odt in zip(FORM_IDS, libreoffice.convert(files, "odt", tmp_path / "odt"), strict=True):
        form = load_form(form_id)
        with zipfile.ZipFile(odt) as zf:
            content = etree.fromstring(zf.read("content.xml"), _PARSER)
        controls = list(content.iter(f"{{{loext}}}content-control"))
        dropdowns = [c for c in controls if c.find(f"{{{loext}}}list-item") is not None]
        dates = [c for c in controls if c.get(f"{{{loext}}}date") == "true"]
        assert len(dropdowns) == sum(control_kind(s) == "dropdown" for s in form.slots())
        assert len(dates) == sum(control_kind(s) == "date" for s in form.slots())
        assert all(c.get(f"{{{loext}}}date-format") == "dd/MM/yyyy" for c in dates)
        for dd in dropdowns:
            shown = [li.get(f"{{{loext}}}display-text") for li in dd.iter(f"{{{loext}}}list-item")]
            assert shown[0] == oxml.PLACEHOLDER_CHOICE and shown[1:] in ([*form.yes_no], [*form.judgements])
