"""Replies carrying a return as PDF, OpenDocument or RTF: handed to the parser, not skipped or unzipped."""

from __future__ import annotations

from apdocs.mail.extract import read_message
from apdocs.mail.sniff import kind_of
from apdocs.parse import parse
from tests.hostile_pdf import text_page_pdf
from tests.mail_helpers import message
from tests.test_bad_input_pdf_odf import MANIFEST, form_lines, odf, odt_content


def test_pdf_odt_and_rtf_returns_are_found_and_read() -> None:
    pdf = text_page_pdf(form_lines())
    odt = odf({"content.xml": odt_content(), "META-INF/manifest.xml": MANIFEST})
    rtf = b"{\\rtf1\\ansi Provider name: X\\par}"
    assert (kind_of(pdf), kind_of(odt), kind_of(rtf)) == ("pdf", "odf", "rtf")
    msg = message(
        [
            ("Appendix 4 (locked).pdf", pdf, "application/pdf"),
            ("appendix4.odt", odt, "application/vnd.oasis.opendocument.text"),
            ("notes.rtf", rtf, "application/rtf"),
            ("logo.png", b"\x89PNG\r\n\x1a\nxxxx", "image/png"),
        ]
    )
    item = read_message(msg.as_bytes(), "t")
    assert [(f.name, f.kind) for f in item.found] == [
        ("Appendix 4 (locked).pdf", "pdf"),
        ("appendix4.odt", "odf"),  # an OpenDocument zip is a return, not an archive to open
        ("notes.rtf", "rtf"),
    ]
    assert [s.name for s in item.skipped] == ["logo.png"]
    assert parse(item.found[0].data, path="a.pdf").answers["q1"] == "Answer to q1"
    assert parse(item.found[1].data, path="a.odt").answers["q1"] == "Answer to q1\nsecond  line"
