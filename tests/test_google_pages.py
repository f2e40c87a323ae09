"""Our .docx forms as Google Docs and Apple Pages export them, read with every answer right.

Neither program can run here, so their exports are simulated from what they are known to
write. Each simulation changes only what that program changes:

* **Google Docs** (File > Download > .docx) keeps the text of our content controls, but not
  the controls themselves: it writes its own ``w:sdt`` wrappers, tagged ``goog_rdk_N`` (the tag
  its exports are known by), with no title, placeholder, dropdown list, date picker or checkbox.
  It wraps whole tables in them as well. Custom document properties (``apdocs.form``,
  ``apdocs.version``) are lost.
* **Apple Pages** (Export To > Word) flattens controls into plain runs: no ``w:sdt`` at all,
  and no custom document properties.

Both lose every marker apdocs writes, so the form must be found from its wording, and each
answer must be read from beside or beneath its question.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from apdocs.api import render_form
from apdocs.forms import FORM_IDS, load_form
from apdocs.parse import parse
from apdocs.record import flatten_answers
from tests.docx_edit import W, edit_document, edit_part, unwrap_controls
from tests.test_office_roundtrip import filled

#: sdtPr children that Google Docs does not write back (everything that makes a control ours)
_GOOGLE_DROPS = {
    "tag",
    "alias",
    "placeholder",
    "showingPlcHdr",
    "dataBinding",
    "lock",
    "dropDownList",
    "comboBox",
    "date",
    "text",
    "richText",
}
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


def _no_custom_properties(data: bytes) -> bytes:
    empty = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>'
    )
    return edit_part(data, "docProps/custom.xml", lambda raw: empty)


def _google_controls(root: etree._Element) -> None:
    n = 0
    for pr in root.iter(f"{{{W}}}sdtPr"):
        for child in list(pr):
            local = etree.QName(child).localname
            if local in _GOOGLE_DROPS or etree.QName(child).namespace == _W14:
                pr.remove(child)
        n += 1
        for old in pr.findall(f"{{{W}}}id"):
            pr.remove(old)
        etree.SubElement(pr, f"{{{W}}}id").set(f"{{{W}}}val", str(-1_000_000 - n))
        etree.SubElement(pr, f"{{{W}}}tag").set(f"{{{W}}}val", f"goog_rdk_{n}")
    body = root.find(f"{{{W}}}body")
    for tbl in list(body.iterchildren(f"{{{W}}}tbl")):
        sdt = etree.Element(f"{{{W}}}sdt")
        n += 1
        pr = etree.SubElement(sdt, f"{{{W}}}sdtPr")
        etree.SubElement(pr, f"{{{W}}}tag").set(f"{{{W}}}val", f"goog_rdk_{n}")
        content = etree.SubElement(sdt, f"{{{W}}}sdtContent")
        tbl.addprevious(sdt)
        content.append(tbl)


def google_docs_export(data: bytes) -> bytes:
    return _no_custom_properties(edit_document(data, _google_controls))


def pages_export(data: bytes) -> bytes:
    return _no_custom_properties(unwrap_controls(data))


@pytest.mark.parametrize("export", [google_docs_export, pages_export], ids=["google-docs", "pages"])
@pytest.mark.parametrize("form_id", FORM_IDS)
def test_exports_are_read_with_every_answer_right(form_id, export):
    form = load_form(form_id)
    original = render_form(form_id, "docx", filled(form_id, multiline=True))
    want_rec = parse(original, path="original.docx")
    want = flatten_answers(form, want_rec.header, want_rec.answers)
    data = export(original)
    assert b"apdocs:" not in data and not re.search(rb"w:alias", data)  # nothing of ours is left to find
    rec = parse(data, path="exported.docx")
    assert rec.form == form_id and rec.source.format == "docx"
    got = flatten_answers(form, rec.header, rec.answers)
    assert {k: (want[k], got.get(k)) for k in want if got.get(k) != want[k]} == {}
    assert any(w.code == "ROUTE_FALLBACK" for w in rec.warnings)
