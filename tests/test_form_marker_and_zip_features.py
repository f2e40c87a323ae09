"""Issue 9, items 7 and 8, on real rendered files.

7. A Word file whose form property names no known form is identified the way an Excel file
   is: by its control tags, or its wording, with a FORM_PROPERTY_IGNORED warning.
8. Zip features Python's zip module cannot read get a specific code (ZIP_UNSUPPORTED), not
   the READ_FAILED bucket; so do deep nesting (TOO_DEEP) and running out of memory (MEMORY_LIMIT).
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from apdocs import api
from apdocs.errors import ParseError
from apdocs.parse import _typed, parse
from tests.docx_edit import edit_part, unwrap_controls

VALUES = {"q1": "We visited three providers.", "reference": "SYN-H9-7", "provider_name": "Example Provider Ltd"}


def _rename_form(data: bytes, to: str) -> bytes:
    return edit_part(data, "docProps/custom.xml", lambda xml: xml.replace(b">appendix4<", f">{to}<".encode()))


@pytest.mark.parametrize("marker", ["appendix9", "", "Appendix 4 (copy)"])
def test_docx_with_an_unknown_form_property_is_read_by_its_tags(marker):
    data = _rename_form(api.render_form("appendix4", "docx", VALUES), marker)
    assert f">{marker}<".encode() in zipfile.ZipFile(io.BytesIO(data)).read("docProps/custom.xml")
    record = parse(data, path="renamed.docx")
    assert record.form == "appendix4" and record.answers["q1"] == VALUES["q1"]
    codes = [w.code for w in record.warnings]
    assert codes.count("FORM_PROPERTY_IGNORED") == (1 if marker else 0)


def test_docx_with_an_unknown_form_property_and_no_controls_is_read_by_its_wording():
    data = unwrap_controls(_rename_form(api.render_form("appendix4", "docx", VALUES), "appendix9"))
    record = parse(data, path="unwrapped.docx")
    assert record.form == "appendix4" and record.answers["q1"] == VALUES["q1"]
    assert "FORM_PROPERTY_IGNORED" in [w.code for w in record.warnings]


def test_xlsx_with_an_unknown_form_marker_warns_the_same_way():
    data = api.render_form("appendix4", "xlsx", VALUES)
    data = edit_part(data, "docProps/custom.xml", lambda xml: xml.replace(b">appendix4<", b">appendix9<"))
    data = edit_part(data, "xl/worksheets/sheet3.xml", lambda xml: xml.replace(b">appendix4<", b">appendix9<"))
    data = edit_part(data, "docProps/core.xml", lambda xml: xml.replace(b"apdocs:appendix4:", b"apdocs:appendix9:"))
    for part in ("docProps/custom.xml", "xl/worksheets/sheet3.xml", "docProps/core.xml"):
        assert b"appendix9" in zipfile.ZipFile(io.BytesIO(data)).read(part)
    record = parse(data, path="renamed.xlsx")
    assert record.form == "appendix4" and record.answers["q1"] == VALUES["q1"]
    assert "FORM_PROPERTY_IGNORED" in [w.code for w in record.warnings]


def _patch_every_entry(data: bytes, central: int, local: int, fmt: str, value: int) -> bytes:
    """Set one header field of every entry, central directory and local headers both."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offsets = [i.header_offset for i in zf.infolist()]
    for off in offsets:
        struct.pack_into(fmt, buf, off + local, value)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        struct.pack_into(fmt, buf, pos + central, value)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_an_unknown_version_needed_to_extract_is_zip_unsupported(fmt):
    data = _patch_every_entry(api.render_form("appendix4", fmt, VALUES), 6, 4, "<H", 0xFF)  # "version 25.5"
    with pytest.raises(zipfile.BadZipFile.__mro__[1]):  # the zip module itself refuses it
        zipfile.ZipFile(io.BytesIO(data))
    with pytest.raises(ParseError) as exc:
        parse(data, path=f"v255.{fmt}")
    assert exc.value.code == "ZIP_UNSUPPORTED" and exc.value.path == f"v255.{fmt}"


def test_a_compression_method_office_never_writes_is_zip_unsupported():
    data = _patch_every_entry(api.render_form("appendix4", "docx", VALUES), 10, 8, "<H", 12)  # bzip2
    with pytest.raises(ParseError) as exc:
        parse(data, path="bzip2.docx")
    assert exc.value.code == "ZIP_UNSUPPORTED"


def test_python_level_failures_get_their_own_codes():
    # no file makes these on demand within the limits a test should use; the mapping is what is tested
    assert _typed(RecursionError(), "a.docx").code == "TOO_DEEP"
    assert _typed(MemoryError(), "a.docx").code == "MEMORY_LIMIT"
    assert _typed(NotImplementedError(), "a.docx").code == "ZIP_UNSUPPORTED"
    assert _typed(KeyError("x"), "a.docx").code == "READ_FAILED"
