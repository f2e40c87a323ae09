"""The byte-level reading of apdocs' own controls (``docx.read_scan``) against the lxml tree route.

Every document is read twice (``scan_compare.read_both``): the outcome - the whole record,
warnings and their order included, or the error's code and message - must be the same, and
each test says whether the scan must have read the controls ("engaged") or declined. A scan
that read wrongly fails the equality; one that declined what it should read fails "engaged";
one that read what it should decline fails "declined" (and, where it would read it wrongly,
the equality too).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apdocs.api import render_form
from apdocs.errors import ParseError
from apdocs.formats import ooxml
from apdocs.formats.docx import read_scan
from apdocs.formats.docx.read import read_docx
from apdocs.formats.docx.read_controls import find_controls
from apdocs.formats.docx.read_scan import scan_controls
from apdocs.formats.ooxml import _checked_root_namespace, open_package, parse_xml
from apdocs.forms import FORM_IDS, load_form
from apdocs.record import ParsedReturn, flatten_answers
from tests.corpus import real_world_docx
from tests.docx_edit import edit_part
from tests.scan_compare import Both, read_both
from tests.test_roundtrip import SETTINGS, form_values

ROOT = Path(__file__).resolve().parents[1]
DOC = "word/document.xml"
W = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def check(data: bytes, *, engaged: bool) -> Both:
    both = read_both(data)
    assert both.same(), (both.scanned, both.tree)
    assert both.engaged is engaged, both.scans
    return both


def answers(both: Both, form_id: str = "appendix2") -> dict:
    assert isinstance(both.scanned, ParsedReturn), both.scanned
    return flatten_answers(load_form(form_id), both.scanned.header, both.scanned.answers)


# -- every document the scan must read ---------------------------------------------------------


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_rendered_forms_with_any_answers_read_the_same(form_id):
    @SETTINGS
    @given(form_values(form_id))
    def run(given_values):
        both = check(render_form(form_id, "docx", given_values), engaged=True)
        assert isinstance(both.scanned, ParsedReturn) and both.scanned.form == form_id

    run()


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_blank_and_hostile_answers_read_the_same(form_id):
    form = load_form(form_id)
    hostile = "<w:t>&amp; ]]> \"x\" 'y' =SUM(A1) \t tab\nline 😀 👩\u200d👧 £ — \u200f xml:space"
    for values in ({}, {s.id: hostile for s in form.slots() if s.type == "text"}):
        check(render_form(form_id, "docx", values), engaged=True)


def test_bundled_sample_returns_read_the_same():
    samples = sorted((ROOT / "samples" / "returns").glob("*.docx"))
    assert len(samples) >= 8
    for path in samples:
        data = path.read_bytes()
        tagged = b'w:val="apdocs:' in edit_raw(data)  # all but the 2020 form typed into, read by its wording
        both = check(data, engaged=tagged)
        assert isinstance(both.scanned, ParsedReturn), path.name
    assert sum(b'w:val="apdocs:' in edit_raw(p.read_bytes()) for p in samples) == len(samples) - 1


def test_real_world_files_have_the_same_outcome():
    """Other projects' .docx files (most not forms, some broken): the same record or the same error."""
    for path in real_world_docx():
        both = read_both(path.read_bytes(), path=str(path))
        assert both.same(), (path, both.scanned, both.tree)
        assert both.scans == []  # none holds apdocs' tags: the tree is built at once, as before


# -- documents changed the way other software (or someone hostile) would -----------------------

_VALUES = {
    "provider_name": "Provider & <Co>",
    "e1.seen": True,
    "e1.date_seen": "2020-03-12",
    "e1.note": "First line\nsecond line",
    "e2.note": "Plain note",
}


@pytest.fixture(scope="module")
def form() -> bytes:
    return render_form("appendix2", "docx", _VALUES)


def doc(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """``data`` with its word/document.xml changed (checked to have changed)."""
    out = edit_part(data, DOC, lambda raw: _changed(raw, change))
    return out


def _changed(raw: bytes, change: Callable[[bytes], bytes]) -> bytes:
    new = change(raw)
    assert new != raw, "the edit did not apply"
    return new


def _tag(slot: str) -> bytes:
    return b'<w:tag w:val="apdocs:appendix2:1.0:' + slot.encode() + b'"/>'


def content(slot: str, inner: bytes) -> Callable[[bytes], bytes]:
    """Replace the content (inside w:sdtContent) of the slot's control."""

    def change(raw: bytes) -> bytes:
        at = raw.index(_tag(slot))
        begin = raw.index(b"<w:sdtContent>", at) + len(b"<w:sdtContent>")
        end = raw.index(b"</w:sdtContent>", begin)
        return raw[:begin] + inner + raw[end:]

    return change


def replace(old: bytes, new: bytes, count: int = 1) -> Callable[[bytes], bytes]:
    def change(raw: bytes) -> bytes:
        assert old in raw, old
        return raw.replace(old, new, count)

    return change


def after_control(slot: str, old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Replace ``old`` by ``new`` where it first follows the slot's control's tag."""

    def change(raw: bytes) -> bytes:
        at = raw.index(old, raw.index(_tag(slot)))
        return raw[:at] + new + raw[at + len(old) :]

    return change


def test_the_unchanged_form_is_read_by_the_scan(form):
    both = check(form, engaged=True)
    got = answers(both)
    assert got["provider_name"] == "Provider & <Co>" and got["e1.note"] == "First line\nsecond line"
    assert got["e1.seen"] is True and got["e1.date_seen"] == "2020-03-12"


# Accepted: what Word keeps and writes (rsids, run properties, several runs, breaks ...) and
# XML's own ways of writing the same text, decoded as XML does.
_RUN = b'<w:r w:rsidR="00A1B2C3" w:rsidRPr="00D4E5F6"><w:rPr><w:rStyle w:val="Answer"/><w:b/><w:sz w:val="20"/></w:rPr>'
ACCEPTED = {
    "runs with rsids and properties": content(
        "e1.note", _RUN + b'<w:t xml:space="preserve">one </w:t></w:r><w:r><w:t>two</w:t><w:tab/><w:t>three</w:t></w:r>'
    ),
    "every break and hyphen": content(
        "e1.note",
        b'<w:r><w:t>a</w:t><w:br/><w:t>b</w:t><w:br w:type="page"/><w:cr/><w:t>c</w:t><w:noBreakHyphen/>'
        b"<w:softHyphen/><w:t/><w:t>d</w:t></w:r>",
    ),
    "entities and character references": content(
        "e1.note",
        b"<w:r><w:t>&lt;a&gt; &amp;amp; &quot;q&quot; &apos;s&apos; &#60;&#x3e; &#x1F600; &#128512; &#13;&#9;x</w:t></w:r>",
    ),
    "a literal tab, newline and '>' in text": content("e1.note", b"<w:r><w:t>a\tb\nc > d</w:t></w:r>"),
    "an emptied content": content("e1.note", b""),
    # Word's own additions to what a person typed: none of them text, so the tree reader reads past them
    "a proofing mark": content(
        "e1.note", b'<w:proofErr w:type="spellStart"/><w:r><w:t>speling</w:t></w:r><w:proofErr w:type="spellEnd"/>'
    ),
    "proofing marks between runs": content(
        "e1.note",
        _RUN + b'<w:t xml:space="preserve">Seen by </w:t></w:r><w:proofErr w:type="spellStart"/>'
        b'<w:r w:rsidR="00C0FFEE"><w:t>Ofsted</w:t></w:r><w:proofErr w:type="spellEnd"/><w:proofErr w:type="gramStart"/>'
        b'<w:r><w:t xml:space="preserve"> in 2020</w:t></w:r><w:proofErr w:type="gramEnd"/>',
    ),
    "a bookmark": content("e1.note", b'<w:bookmarkStart w:id="0" w:name="b"/><w:r><w:t>x</w:t></w:r><w:bookmarkEnd w:id="0"/>'),
    "Word's _GoBack bookmark mid-answer": content(
        "e1.note",
        b'<w:r><w:t xml:space="preserve">one </w:t></w:r><w:bookmarkStart w:id="0" w:name="_GoBack"/>'
        b'<w:bookmarkEnd w:id="0"/><w:r><w:t>two</w:t></w:r>',
    ),
    "a bookmark across table columns, name escaped": content(
        "e1.note",
        b'<w:bookmarkStart w:id="7" w:name="a&amp;b&quot;c" w:colFirst="0" w:colLast="1"/><w:r><w:t>x</w:t></w:r>'
        b'<w:bookmarkEnd w:id="7"/>',
    ),
    "a rendered page break": content("e1.note", b"<w:r><w:lastRenderedPageBreak/><w:t>x</w:t></w:r>"),
    "Word's _GoBack bookmark after the answer": after_control(
        "e1.note",
        b"</w:sdt></w:p></w:tc>",
        b'</w:sdt><w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/></w:p></w:tc>',
    ),
    "a bookmark after a one-run answer's paragraph": after_control(
        "e2.note", b"</w:sdt></w:p></w:tc>", b'</w:sdt></w:p><w:bookmarkEnd w:id="3"/></w:tc>'
    ),
    "only marks, no runs": content("e1.note", b'<w:proofErr w:type="spellStart"/><w:proofErr w:type="spellEnd"/>'),
    "an empty content element": content("e2.note", b""),
    "end properties": after_control(
        "e1.note", b"<w:sdtContent>", b"<w:sdtEndPr><w:rPr><w:i/></w:rPr></w:sdtEndPr><w:sdtContent>"
    ),
    "an empty end properties": after_control("e1.note", b"<w:sdtContent>", b"<w:sdtEndPr/><w:sdtContent>"),
    "title and tag escaped": replace(
        b'w:val="Provider name [provider_name]"', b'w:val="Provider&#32;&amp; name [provider_name]"'
    ),
    "whitespace in a title, normalised": replace(
        b'w:val="Provider name [provider_name]"', b'w:val="Provider\tname\n[provider_name]"'
    ),
    "a tag repeated: the last counts": replace(_tag("e2.note"), _tag("e3.note") + _tag("e2.note")),
    "a title naming another slot": replace(b'w:val="Note 2 [e2.note]"', b'w:val="Note 3 [e3.note]"'),
    "a tag lost, the title left": replace(_tag("e2.note"), b""),
    "a placeholder over odd content": after_control("e2.note", b"<w:lock", b"<w:showingPlcHdr/><w:lock"),
    "an empty property block inside one": lambda raw: raw.replace(
        b'<w:sdt><w:sdtPr><w:alias w:val="Note 1',
        b'<w:sdt><w:sdtPr><w:rPr><w:sdt><w:sdtPr/></w:sdt></w:rPr><w:alias w:val="Note 1',
        1,
    ),
    "no XML declaration": replace(b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n", b""),
    "Word's declaration and line end": replace(
        b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n",
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n',
    ),
}


@pytest.mark.parametrize("case", ACCEPTED, ids=list(ACCEPTED))
def test_accepted_variants_are_read_by_the_scan(form, case):
    check(doc(form, ACCEPTED[case]), engaged=True)


def test_decoded_text_is_xml_text(form):
    data = doc(form, ACCEPTED["entities and character references"])
    check(data, engaged=True)
    found = {c.slot: c.text for c in scan_controls(edit_raw(data)) or []}
    assert found["e1.note"] == "<a> &amp; \"q\" 's' <> 😀 😀 \r\tx"  # a referenced CR is kept, not a line end


def test_self_closed_content_is_read_by_the_scan(form):
    data = doc(form, lambda raw: content("e2.note", b"")(raw).replace(b"<w:sdtContent></w:sdtContent>", b"<w:sdtContent/>", 1))
    both = check(data, engaged=True)
    assert answers(both)["e2.note"] is None


def test_each_return_keeps_its_own_picked_dates(form):
    """A date picker's stored date is what counts (not the text shown); the scan reads each
    return's own, though it parses a date picker's properties only once for all dates."""
    seen = set()
    for day in ("2020-03-12", "2021-07-01", "2020-03-12", ""):

        def change(raw: bytes, day: bytes = day.encode()) -> bytes:
            raw = raw.replace(
                b'w:fullDate="2020-03-12T00:00:00Z"', b'w:fullDate="' + (day + b"T00:00:00Z" if day else b"") + b'"'
            )
            return content("e1.date_seen", b"<w:r><w:t>the day we visited</w:t></w:r>")(raw)

        got = answers(check(doc(form, change), engaged=True))["e1.date_seen"]
        assert got == day or not day  # no stored date: the text shown is read (the same both ways)
        seen.add(got)
    assert len(seen) == 3


def test_dates_beyond_the_bound_drop_only_dated_blocks(form, monkeypatch):
    """Date pickers' blocks kept for their dates are bounded apart: past the bound those are
    dropped, the form's other blocks are kept (not parsed again), and every date still reads right."""
    monkeypatch.setattr(read_scan, "MAX_DATED_BLOCKS", 3)
    raw = edit_raw(form)
    assert scan_controls(raw) is not None
    known = read_scan._known_blocks(read_scan._HEAD.match(raw).group(4))  # type: ignore[union-attr]
    others = {k: v for k, v in known.blocks.items() if b"w:fullDate" not in k}
    for n in range(10):
        day = f"2031-01-{n + 1:02d}"
        raw_n = raw.replace(b'w:fullDate="2020-03-12T00:00:00Z"', f'w:fullDate="{day}T00:00:00Z"'.encode())
        found = {c.slot: c.full_date for c in scan_controls(raw_n) or []}
        assert found["e1.date_seen"] == f"{day}T00:00:00Z"
        assert len(known.dated) <= 3 and all(known.blocks[k] is v for k, v in others.items())
    assert sum(b"2031-01-" in k for k in known.blocks) <= 3
    later = doc(form, replace(b'w:fullDate="2020-03-12T00:00:00Z"', b'w:fullDate="2031-01-10T00:00:00Z"'))
    assert answers(check(later, engaged=True))["e1.date_seen"] == "2031-01-10"  # the same as the tree reads


_CHECKBOX = (
    b'<w14:checkbox>%s<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
    b'<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox>'
)


@pytest.mark.parametrize(
    ("state", "want"),
    [
        (b'<w14:checked w14:val="1"/>', True),
        (b'<w14:checked w14:val="true"/>', True),
        (b'<w14:checked w14:val="0"/>', False),
        (b"", False),
    ],
)
def test_checkboxes_are_read_by_the_scan(form, state, want):
    """apdocs renders Yes/No as dropdowns; a Word user may have a checkbox instead (w14)."""

    def change(raw: bytes) -> bytes:
        at = raw.index(_tag("e1.seen"))
        begin = raw.index(b"<w:dropDownList>", at)
        end = raw.index(b"</w:dropDownList>", begin) + len(b"</w:dropDownList>")
        raw = raw[:begin] + _CHECKBOX % state + raw[end:]
        return content("e1.seen", "<w:r><w:t>☐</w:t></w:r>".encode())(raw)

    both = check(doc(form, change), engaged=True)
    assert answers(both)["e1.seen"] is want


def test_combo_box_items_map_display_text_to_value(form):
    change = replace(
        b'<w:listItem w:displayText="Yes" w:value="Yes"/><w:listItem w:displayText="No" w:value="No"/></w:dropDownList>',
        b'<w:listItem w:displayText="Seen it" w:value="Yes"/><w:listItem w:displayText="No"/></w:dropDownList>',
    )

    def combo(raw: bytes) -> bytes:
        raw = change(raw).replace(b"<w:dropDownList>", b"<w:comboBox>", 1).replace(b"</w:dropDownList>", b"</w:comboBox>", 1)
        return content("e1.seen", b"<w:r><w:t>Seen it</w:t></w:r>")(raw)

    both = check(doc(form, combo), engaged=True)
    assert answers(both)["e1.seen"] is True


_YES_NO = b'<w:listItem w:displayText="Yes" w:value="Yes"/><w:listItem w:displayText="No" w:value="No"/>'


def same_controls(data: bytes) -> list:
    """The controls the scan reads from the document part are those the tree reader finds."""
    raw = edit_raw(data)
    scanned = scan_controls(raw)
    assert scanned is not None
    tree = [c._replace(element=None) for c in find_controls(parse_xml(raw, path=None, part=DOC))]
    assert scanned == tree
    return scanned


def _shown(slot: str, text: str) -> Callable[[bytes], bytes]:
    """The slot's control showing ``text`` (its placeholder, if showing, no longer)."""
    fill = content(slot, b'<w:r><w:t xml:space="preserve">' + text.encode() + b"</w:t></w:r>")

    def change(raw: bytes) -> bytes:
        at = raw.index(_tag(slot))
        end = raw.index(b"</w:sdtPr>", at)
        return fill(raw[:at] + raw[at:end].replace(b"<w:showingPlcHdr/>", b"") + raw[end:])

    return change


def _items(slot: str, items: bytes) -> Callable[[bytes], bytes]:
    """The slot's dropdown with ``items`` in place of its Yes and No."""
    return after_control(slot, _YES_NO, items)


def test_dropdown_items_are_read_per_control_and_per_return(form):
    """The scan keeps each dropdown's items' controls with its property block: one control's
    items never answer for another's, nor one return's for the next."""
    swapped = _items("e1.seen", b'<w:listItem w:displayText="Yes" w:value="No"/><w:listItem w:displayText="No" w:value="Yes"/>')
    for _ in range(2):  # the second time from what the first remembered
        data = doc(form, lambda raw: _shown("e2.seen", "Yes")(_shown("e1.seen", "Yes")(swapped(raw))))
        got = answers(check(data, engaged=True))
        assert (got["e1.seen"], got["e2.seen"]) == (False, True)
        same_controls(data)
        got = answers(check(doc(form, lambda raw: _shown("e2.seen", "No")(_shown("e1.seen", "Yes")(raw))), engaged=True))
        assert (got["e1.seen"], got["e2.seen"]) == (True, False)


@pytest.mark.parametrize("shown", [" Yes", "yes", "YES ", "Yes\u00a0", "Yes\u200b", "Ye", "", "Choose an item.", "Oui"])
def test_dropdown_text_that_is_no_item_exactly_reads_the_same(form, shown):
    """Text a dropdown shows that is not one of its items exactly (Word lets a user type over
    a combo box; an editor may change it): read as typed text, as the tree reads it."""
    with_items = doc(form, _shown("e1.seen", shown))
    without = doc(form, lambda raw: _items("e1.seen", b"")(_shown("e1.seen", shown)(raw)))
    for data in (with_items, without):
        check(data, engaged=True)
        want = "" if shown == "Choose an item." else shown  # the prompt item (kept in both), whose value is ""
        assert {c.slot: c.text for c in same_controls(data)}["e1.seen"] == want


def test_a_long_dropdown_reads_the_same(form):
    items = b"".join(b'<w:listItem w:displayText="Item %d" w:value="%s"/>' % (i, b"Yes" if i == 37 else b"No") for i in range(40))
    for shown, want in (("Item 37", True), ("Item 2", False), ("Item 40", None)):
        data = doc(form, lambda raw, s=shown: _shown("e1.seen", s)(_items("e1.seen", items)(raw)))
        assert answers(check(data, engaged=True))["e1.seen"] is want
        same_controls(data)


@pytest.mark.parametrize(
    "run",
    [
        b'<w:t xml:space="preserve">a &amp;lt; b </w:t><w:br/><w:t>&lt;w:br/&gt; &lt;w:t&gt;</w:t><w:br/><w:br/>'
        b"<w:t>\xc3\xa9 &#x1F600;&#10;x</w:t>",
        b"<w:br/>",
        b"<w:t></w:t><w:br/><w:t></w:t>",
        b'<w:t xml:space="preserve">  </w:t><w:br/><w:t xml:space="preserve">\t&#160;line\xe2\x80\x8b two  </w:t><w:br/>',
        b"<w:t>Click or tap here to enter text.</w:t><w:br/>",
    ],
)
def test_lines_in_one_run_are_read_by_the_scan(form, run):
    """apdocs writes several lines as one run of texts and breaks: the scan reads those itself."""
    data = doc(form, content("e1.note", b"<w:r>" + run + b"</w:r>"))
    check(data, engaged=True)
    found = {c.slot: c.text for c in same_controls(data)}
    if run.startswith(b'<w:t xml:space="preserve">a'):
        assert found["e1.note"] == "a &lt; b \n<w:br/> <w:t>\n\né 😀\nx"


def test_a_remembered_head_is_not_taken_for_another(form):
    """The scan remembers the head of documents it read; one that differs anywhere up to its
    body is checked afresh."""
    assert scan_controls(edit_raw(form)) is not None
    cases = ("a default namespace", "a second prefix for the main namespace", "w14 bound elsewhere", "something before the body")
    for case in (*cases, "the main namespace under another prefix"):
        assert scan_controls(edit_raw(doc(form, DECLINED[case]))) is None, case
    assert scan_controls(edit_raw(form)) is not None


# Declined by the scan (the tree reads them, as before): anything it does not fully understand.
_NS_DECL = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_W14_DECL = b'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'


def _prefix(new: bytes) -> Callable[[bytes], bytes]:
    """The main namespace under another prefix (what lxml writes as ns0): the same document."""

    def change(raw: bytes) -> bytes:
        raw = raw.replace(b"<w:", b"<" + new + b":").replace(b"</w:", b"</" + new + b":").replace(b" w:", b" " + new + b":")
        return raw.replace(b"xmlns:" + new + b'="' + W, b"xmlns:" + new + b'="' + W)

    return change


DECLINED = {
    "the main namespace under another prefix": lambda raw: _prefix(b"ns0")(raw.replace(b"xmlns:w=", b"xmlns:ns0=")),
    "w14 bound elsewhere": replace(_W14_DECL, b'xmlns:w14="urn:not-w14"'),
    "a second prefix for the main namespace": replace(_NS_DECL, _NS_DECL + b' xmlns:x="' + W + b'"'),
    "a default namespace": replace(_NS_DECL, _NS_DECL + b' xmlns="urn:default"'),
    "a namespace declared inside the body": replace(b"<w:body><w:p>", b'<w:body><w:p xmlns:foo="urn:foo">'),
    "a comment": replace(b"<w:body>", b"<w:body><!-- [provider_name] -->"),
    "a comment inside an answer": content("e1.note", b"<w:r><!-- note --><w:t>x</w:t></w:r>"),
    "CDATA in an answer": content("e1.note", b"<w:r><w:t><![CDATA[a & <b>]]></w:t></w:r>"),
    "a processing instruction": replace(b"<w:body>", b'<w:body><?mso-application progid="Word.Document"?>'),
    "a carriage return in an answer": content("e1.note", b"<w:r><w:t>one\r\ntwo\rthree</w:t></w:r>"),
    "a reference in a root attribute": replace(b'mc:Ignorable="w14 wp14"', b'mc:Ignorable="w14&#32;wp14"'),
    "a second body": replace(
        b"</w:body></w:document>", b"</w:body><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>"
    ),
    "something before the body": replace(b"><w:body>", b'><w:background w:color="FFFFFF"/><w:body>'),
    "something after the body": replace(b"</w:body></w:document>", b"</w:body><w:background/></w:document>"),
    "a tracked insertion": content(
        "e1.note", b'<w:ins w:id="9" w:author="A" w:date="2020-01-01T00:00:00Z"><w:r><w:t>new</w:t></w:r></w:ins>'
    ),
    "a tracked deletion": content(
        "e1.note",
        b'<w:del w:id="9" w:author="A" w:date="2020-01-01T00:00:00Z"><w:r><w:delText>old</w:delText></w:r></w:del>'
        b"<w:r><w:t>kept</w:t></w:r>",
    ),
    "a moved run": content("e1.note", b'<w:moveFrom w:id="9" w:author="A"><w:r><w:t>gone</w:t></w:r></w:moveFrom>'),
    "a bookmark that is not empty": content(
        "e1.note", b'<w:bookmarkStart w:id="0" w:name="b"><w:t>x</w:t></w:bookmarkStart><w:r><w:t>y</w:t></w:r>'
    ),
    "a proofing mark with a foreign attribute": content(
        "e1.note", b'<w:proofErr w:type="spellStart" xml:lang="en"/><w:r><w:t>x</w:t></w:r>'
    ),
    "a simple field": content("e1.note", b'<w:fldSimple w:instr=" DATE "><w:r><w:t>01/01/2020</w:t></w:r></w:fldSimple>'),
    "a nested control": content(
        "e1.note", b'<w:sdt><w:sdtPr><w:alias w:val="x"/></w:sdtPr><w:sdtContent><w:r><w:t>in</w:t></w:r></w:sdtContent></w:sdt>'
    ),
    "alternate content": content(
        "e1.note",
        b'<w:r><mc:AlternateContent><mc:Choice Requires="w14"><w:t>a</w:t></mc:Choice>'
        b"<mc:Fallback><w:t>b</w:t></mc:Fallback></mc:AlternateContent></w:r>",
    ),
    "a field code in a run": content(
        "e1.note", b'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
    ),
    "a symbol": content("e1.note", b'<w:r><w:sym w:font="Wingdings" w:char="F0FC"/></w:r>'),
    "a drawing": content("e1.note", b"<w:r><w:drawing/><w:t>x</w:t></w:r>"),
    "text with another attribute": content("e1.note", b'<w:r><w:t xml:space="default">x</w:t></w:r>'),
    "nested run properties": content(
        "e1.note", b"<w:r><w:rPr><w:rPrChange><w:rPr><w:b/></w:rPr></w:rPrChange></w:rPr><w:t>x</w:t></w:r>"
    ),
    "spilled paragraphs (LibreOffice)": after_control(
        "e1.note", b"</w:sdt></w:p></w:tc>", b"</w:sdt></w:p><w:p><w:r><w:t>spilled line</w:t></w:r></w:p></w:tc>"
    ),
    "spilled paragraphs after a one-run answer": after_control(
        "e2.note", b"</w:sdt></w:p></w:tc>", b"</w:sdt></w:p><w:p><w:r><w:t>spilled line</w:t></w:r></w:p></w:tc>"
    ),
    "a paragraph after a bookmark after the answer": after_control(
        "e1.note",
        b"</w:sdt></w:p></w:tc>",
        b'</w:sdt></w:p><w:bookmarkEnd w:id="3"/><w:p><w:r><w:t>spilled</w:t></w:r></w:p></w:tc>',
    ),
    "a run after a one-run answer": after_control("e2.note", b"</w:sdt></w:p>", b"</w:sdt><w:r><w:t> after</w:t></w:r></w:p>"),
    "a run after the control": after_control("e1.note", b"</w:sdt></w:p>", b"</w:sdt><w:r><w:t> after</w:t></w:r></w:p>"),
    "a control directly in its cell": after_control("e1.note", b"</w:sdt></w:p></w:tc>", b"</w:sdt></w:p><w:p/></w:tc>"),
    "an attribute on the property block": lambda raw: raw.replace(
        b'<w:sdt><w:sdtPr><w:alias w:val="Note 1', b'<w:sdt><w:sdtPr w:x="1"><w:alias w:val="Note 1', 1
    ),
    "the property block not first in its control": lambda raw: raw.replace(
        b'<w:sdt><w:sdtPr><w:alias w:val="Note 1', b'<w:sdt><w:sdtEndPr/><w:sdtPr><w:alias w:val="Note 1', 1
    ),
    "a property block inside a property block": lambda raw: raw.replace(
        b'<w:sdt><w:sdtPr><w:alias w:val="Note 1',
        b'<w:sdt><w:sdtPr><w:rPr><w:sdt><w:sdtPr><w:alias w:val="x [e3.note]"/></w:sdtPr></w:sdt></w:rPr><w:alias w:val="Note 1',
        1,
    ),
}


@pytest.mark.parametrize("case", DECLINED, ids=list(DECLINED))
def test_what_the_scan_does_not_understand_is_read_from_the_tree(form, case):
    both = check(doc(form, DECLINED[case]), engaged=False)
    assert both.scans == ["declined"]
    assert isinstance(both.scanned, ParsedReturn) and both.scanned.form == "appendix2"


def test_a_spill_the_scan_declined_is_merged_back(form):
    both = check(doc(form, DECLINED["spilled paragraphs (LibreOffice)"]), engaged=False)
    assert answers(both)["e1.note"] == "First line\nsecond line\nspilled line"
    both = check(doc(form, DECLINED["spilled paragraphs after a one-run answer"]), engaged=False)
    assert answers(both)["e2.note"] == "Plain note\nspilled line"


def test_the_same_document_under_another_prefix_reads_the_same(form):
    want = answers(check(form, engaged=True))
    assert answers(check(doc(form, DECLINED["the main namespace under another prefix"]), engaged=False)) == want


# Not even offered to the scan: open_package's check without a tree failed, or could not be sure.
NOT_CHECKED = {
    "another encoding": replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'"),
    "a comment before the root": replace(b"standalone='yes'?>\n", b"standalone='yes'?>\n<!-- c -->"),
    "XML 1.1": replace(b"version='1.0'", b"version='1.1'"),
}


@pytest.mark.parametrize("case", NOT_CHECKED, ids=list(NOT_CHECKED))
def test_parts_the_check_cannot_vouch_for_go_to_the_tree(form, case):
    data = doc(form, NOT_CHECKED[case])
    assert open_package(data, path=None, kind="docx").checked_bytes(DOC) is None
    both = read_both(data)
    assert both.same() and both.scans == []


BROKEN = {
    "malformed outside the controls": (replace(b"</w:tblPr>", b"</w:tblPrX>"), "Opening and ending tag mismatch"),
    "an unbound element prefix": (replace(b"</w:body>", b"<x:foo/></w:body>"), "Namespace prefix x on foo is not defined"),
    "an unbound attribute prefix": (replace(b"<w:body><w:p>", b'<w:body><w:p x:y="1">'), "Namespace prefix x for y on p"),
    "an undefined entity": (content("e1.note", b"<w:r><w:t>&nbsp;</w:t></w:r>"), "Entity 'nbsp' not defined"),
    "a bad character reference": (content("e1.note", b"<w:r><w:t>&#0;</w:t></w:r>"), "xmlParseCharRef"),
    "a duplicate namespaced attribute": (
        replace(_NS_DECL, _NS_DECL + b' xmlns:q="' + W + b'" q:Ignorable="x" mc:Ignorable="y"'),
        "redefined",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_xml_is_xml_invalid_as_before(form, case):
    change, says = BROKEN[case]
    data = doc(form, change)
    both = read_both(data)
    assert both.same() and both.scans == []
    assert isinstance(both.scanned, tuple) and both.scanned[0] == "XML_INVALID", both.scanned
    assert both.scanned[1].startswith("part 'word/document.xml' is damaged XML (") and says in both.scanned[1]
    # the message is the tree parser's own, as before the check without a tree existed
    with pytest.raises(ParseError) as tree_error:
        parse_xml(edit_raw(data), path="scan.docx", part=DOC)
    assert tree_error.value.message == both.scanned[1]


def edit_raw(data: bytes) -> bytes:
    """The document part's bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(DOC)


def test_too_much_text_is_refused_the_same_way(form):
    text = bytes(random.Random(12).choices(b"abcdefghijklmnopqrstuvwxyz ", k=4_000_001))  # no ZIP_BOMB ratio
    data = doc(form, content("e1.note", b"<w:r><w:t>" + text + b"</w:t></w:r>"))
    both = read_both(data)
    assert both.same() and both.scans == ["raised"]
    assert isinstance(both.scanned, tuple) and both.scanned[0] == "TEXT_TOO_LARGE"


def test_scan_declines_bytes_it_was_not_meant_for():
    assert scan_controls(b"") is None
    assert scan_controls(b"<w:document/>") is None
    assert scan_controls(b'<w:document xmlns:w="urn:x"><w:body></w:body></w:document>') is None


# -- the check without a tree, against the tree -------------------------------------------------

_PIECES = [
    b"<",
    b">",
    b"&",
    b";",
    b"&amp;",
    b"&#x0;",
    b'"',
    b"'",
    b"x:",
    b"w:",
    b' xmlns:x="u"',
    b' xmlns=""',
    b"<!--",
    b"-->",
    b"]]>",
    b"<![CDATA[",
    b"<?x?>",
    b"</w:p>",
    b"<w:p>",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\r",
    b" ",
    b"=",
    b"<!DOCTYPE a>",
]


@pytest.fixture(scope="module")
def small_xml() -> bytes:
    return edit_raw(render_form("appendix4", "docx", {"q1": "An answer & more"}))


def test_the_check_without_a_tree_vouches_only_for_what_the_tree_parser_accepts(small_xml):
    """Random damage anywhere in a document: whenever the check says "well-formed, namespace
    so-and-so", the tree parser accepts the part and its root has that namespace; whenever the
    tree parser refuses it, the check does not vouch for it."""

    @SETTINGS
    @given(
        st.lists(st.tuples(st.integers(0, len(small_xml)), st.integers(0, 8), st.sampled_from(_PIECES)), min_size=1, max_size=3)
    )
    def run(edits):
        raw = small_xml
        for at, cut, piece in edits:
            at = min(at, len(raw))
            raw = raw[:at] + piece + raw[at + cut :]
        _check_agrees_with_the_tree(raw)

    run()


@pytest.mark.parametrize(
    "raw",
    [
        b"<a/>",
        b'<?xml version="1.0"?><a xmlns="urn:d"/>',
        b"<?xml version='1.0' encoding='utf-8'?>\n<p:a xmlns:p='urn:p'><b/></p:a>",
        b'<p:a xmlns:p="urn:&amp;"/>',
        b"<x:a/>",
        b"<a><x:b/></a>",
        b'<a b="1" b="2"/>',
        b"<a>",
        b'<p:a xmlns:p="http://purl.oclc.org/ooxml/wordprocessingml/main"/>',
    ],
)
def test_the_check_without_a_tree_agrees_on_small_cases(raw):
    _check_agrees_with_the_tree(raw)


def _check_agrees_with_the_tree(raw: bytes) -> None:
    """The tree-less check never vouches for XML the tree parser refuses, nor names another root namespace."""
    vouched = _checked_root_namespace(raw)
    try:
        root = parse_xml(raw, path=None, part=DOC)
    except ParseError:
        assert vouched is None
        return
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    assert vouched in (None, ns)


def test_a_remembered_root_head_gives_each_part_its_own_namespace(small_xml):
    """The check remembers document heads by their bytes: a part starting with a head met before
    gets that head's namespace, and a head differing anywhere (here the main namespace itself,
    then a damaged root start tag) is read afresh."""
    W = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    strict = small_xml.replace(W, b"http://purl.oclc.org/ooxml/wordprocessingml/main", 1)
    bad = small_xml.replace(b"<w:document ", b"<w:document x='1' x='2' ", 1)
    for raw in (small_xml, strict, small_xml, bad, small_xml[:-10] + b"</w:body></w:document>"):
        _check_agrees_with_the_tree(raw)
    assert _checked_root_namespace(small_xml) == W.decode()
    assert _checked_root_namespace(strict) == "http://purl.oclc.org/ooxml/wordprocessingml/main"
    assert _checked_root_namespace(bad) is None
    assert _checked_root_namespace(small_xml.replace(b"</w:body>", b"</w:bodx>")) is None  # same head, damaged after it


def test_documents_without_our_tags_get_their_tree_at_once(form):
    """A re-save that dropped every tag (LibreOffice) needs the tree for the position route:
    checking it without a tree first would parse it twice."""
    untagged = doc(form, lambda raw: re.sub(rb'<w:tag w:val="apdocs:[^"]*"/>', b"", raw))
    pkg = open_package(untagged, path=None, kind="docx")
    assert pkg.checked_bytes(DOC) is None and DOC in pkg._trees
    both = read_both(untagged)
    assert both.same() and both.scans == []
    assert isinstance(both.scanned, ParsedReturn) and both.scanned.form == "appendix2"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_forms_first_tag_is_where_the_package_looks_for_it(form_id):
    """open_package looks for apdocs' tags in the main part's first KB only (a LibreOffice re-save
    has none, and the search is paid in full there): every form, with long answers, has its first
    one well inside, or its returns would lose the tree-less route."""
    values = {s.id: "A long answer " * 40 for s in load_form(form_id).slots() if s.type == "text"}
    data = render_form(form_id, "docx", values)
    raw = zipfile.ZipFile(io.BytesIO(data)).read(DOC)
    assert 0 < raw.find(ooxml._OWN_TAG) < ooxml._OWN_TAG_WITHIN // 2
    assert open_package(data, path=None, kind="docx").checked_bytes(DOC) is not None


def test_the_reader_builds_no_tree_for_its_own_form(form):
    pkg = open_package(form, path=None, kind="docx")
    assert pkg.checked_bytes(DOC) is not None and DOC not in pkg._trees
    read_docx(form)  # reuses the package just opened (the same bytes object)
    assert DOC not in pkg._trees
