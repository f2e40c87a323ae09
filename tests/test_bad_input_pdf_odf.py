"""Hostile and broken PDF and OpenDocument returns: typed errors, the batch goes on, nothing run or fetched.

The PDFs are written byte by byte (tests/hostile_pdf.py); the OpenDocument files are
zipped here from a minimal content.xml. Neither needs LibreOffice. A loopback listener
proves that nothing tried to fetch; a secret file proves that nothing was read from disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from apdocs.errors import ParseError
from apdocs.formats.pdf import vet
from apdocs.forms import load_form
from apdocs.parse import parse, parse_many
from tests.hostile_pdf import build, stream, text_page_pdf
from tests.test_bad_input import BILLION_LAUGHS, SECRET_MARKER, listener, patch_declared_size, secret  # noqa: F401

FORM = load_form("appendix4")


def form_lines() -> list[str]:
    """Appendix 4 as printed text, each question followed by its answer."""
    lines = [f"{h.label}: Value of {h.id}" for h in FORM.header if h.id != "placement_start"]
    for q in FORM.questions():
        lines += [q.text, f"Answer to {q.id}"]
    return lines


# -- PDFs ------------------------------------------------------------------------------


def test_a_hand_made_text_pdf_is_read():
    rec = parse(text_page_pdf(form_lines()), path="typed.pdf")
    assert rec.form == "appendix4" and rec.source.format == "pdf"
    assert rec.answers == {q.id: f"Answer to {q.id}" for q in FORM.questions()}
    assert rec.header["provider_name"] == "Value of provider_name"


def test_acroform_fields_are_read_at_their_places():
    """A PDF form: the questions are page text, the answers only field values (no text on the page)."""
    ops, fields, lines = [b"BT /F1 10 Tf"], [], []
    y = 800
    for q in FORM.questions():
        ops.append(b"1 0 0 1 50 %d Tm (%s) Tj" % (y, q.text.encode("cp1252", "replace")))
        lines.append(q.id)
        y -= 24
        fields.append((q.id, y))
        y -= 24
    ops.append(b"ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>"
        % b" ".join(b"%d 0 R" % (6 + i) for i in range(len(fields))),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        # a wide page, so that each question fits on one line
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1800 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R"
        b" /Annots [%s] >>" % b" ".join(b"%d 0 R" % (6 + i) for i in range(len(fields))),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        stream(b"\n".join(ops)),
    ]
    for slot, fy in fields:
        objects.append(
            # no /P: a widget need not name its page (it is found from the page's /Annots)
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (%s) /V (Field answer %s) /Rect [50 %d 500 %d] >>"
            % (slot.encode(), slot.encode(), fy - 4, fy + 10)
        )
    # the last field as a parent holding the value, its widget a kid (as PDF editors write split fields)
    last = len(objects)  # the last widget's object number
    objects[last - 1] = objects[last - 1].replace(b"/FT /Tx /T (q15) /V (Field answer q15) ", b"/Parent %d 0 R " % (last + 1))
    objects.append(b"<< /FT /Tx /T (q15) /V (Field answer q15) /Kids [%d 0 R] >>" % last)
    assert b"/Parent" in objects[last - 1] and b"/V" not in objects[last - 1]
    rec = parse(build(objects), path="acroform.pdf")
    assert rec.form == "appendix4"
    assert rec.answers == {q.id: f"Field answer {q.id}" for q in FORM.questions()}
    assert any("form fields" in w.message for w in rec.warnings)


def hostile_pdfs(secret_path: Path, port: int) -> dict[str, tuple[bytes, str]]:
    url = f"http://127.0.0.1:{port}/fetched".encode()
    js = b"app.launchURL('" + url + b"'); this.exportDataObject({cName: 'x'});"
    embedded = b"<< /Type /EmbeddedFile /Length %d >>\nstream\n%s\nendstream" % (len(SECRET_MARKER), SECRET_MARKER.encode())
    bomb = stream(b"\0" * (vet.MAX_STREAM_BYTES + 1024 * 1024), deflate=True)
    deep = b"[" * 200_000 + b"]" * 200_000
    good = text_page_pdf(form_lines())
    startxref = good.rindex(b"startxref")
    return {
        # Readable forms that carry active content: read, the content never run.
        "javascript.pdf": (
            text_page_pdf(
                form_lines(),
                catalog_extra=b"/OpenAction << /S /JavaScript /JS (" + js + b") >> "
                b"/Names << /JavaScript << /Names [(a) << /S /JavaScript /JS (" + js + b") >>] >> >> ",
                page_extra=b"/AA << /O << /S /URI /URI (" + url + b") >> >> ",
            ),
            "",
        ),
        "embedded-file.pdf": (
            text_page_pdf(
                form_lines(),
                catalog_extra=b"/Names << /EmbeddedFiles << /Names [(secret.txt) << /Type /Filespec /F (secret.txt) "
                b"/EF << /F 6 0 R >> >>] >> >> ",
                more=[embedded],
            ),
            "",
        ),
        "launch-and-links.pdf": (
            text_page_pdf(
                form_lines(),
                catalog_extra=b"/OpenAction << /S /Launch /F (" + str(secret_path).encode() + b") >> ",
                page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /A << /S /URI /URI ("
                + url
                + b") >> >>] ",
            ),
            "",
        ),
        "broken-xref.pdf": (good[:startxref] + b"startxref\n99999999\n%%EOF\n", ""),  # pdfminer rebuilds the xref
        # object streams that claim ten million objects, or hold a hundred thousand: never expanded
        "objstm-huge-n.pdf": (text_page_pdf(form_lines(), more=[_object_stream(10_000_000, 2)]), ""),
        "objstm-100k.pdf": (text_page_pdf(form_lines(), more=[_object_stream(100_000, 100_000)]), ""),
        "lying-length.pdf": (text_page_pdf(form_lines(), more=[b"<< /Length 999999999 >>\nstream\nabc\nendstream"]), ""),
        # Broken or hostile beyond reading: typed errors.
        "stream-bomb.pdf": (text_page_pdf(["x"], more=[bomb]), "PDF_BOMB"),
        "deep-nesting.pdf": (text_page_pdf(["x"], catalog_extra=b"/Deep " + deep + b" "), "NOT_A_FORM"),
        "truncated.pdf": (good[: len(good) // 3], "PDF_DAMAGED"),
        "garbage-objects.pdf": (b"%PDF-1.4\n" + bytes(range(256)) * 64, "PDF_DAMAGED"),
        "no-text.pdf": (text_page_pdf([]), "NOT_A_FORM"),
        # a page-sized picture with a scanner's stamp on it: a scan, whatever the line of text says
        "scan-with-stamp.pdf": (_scan_with_stamp(), "SCANNED_IMAGE"),
        # glyphs with no letters behind them (a Type0 font without ToUnicode, as some print drivers write)
        "glyphs-only.pdf": (_glyphs_only(), "PDF_TEXT_UNREADABLE"),
        "not-a-form.pdf": (text_page_pdf(["Dear parent,", "The school trip is on Friday."]), "NOT_A_FORM"),
        "too-long.pdf": (_many_pages(45), "PDF_TOO_LONG"),
        # pdfminer walks every page to count them: 5,000 are refused from the raw bytes first
        "page-bomb.pdf": (_many_pages(5000), "PDF_TOO_LONG"),
        # finding cells is quadratic in the ruling lines: a grid of 4,000 is refused before that
        "ruled-grid.pdf": (text_page_pdf(["x"], drawing=_grid(2000)), "PDF_TOO_LONG"),
    }


def _glyphs_only() -> bytes:
    text = b"BT /F1 12 Tf 50 700 Td <00240025002600270028> Tj 0 -14 Td <0029002A002B> Tj ET"
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Font /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
            stream(text),
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Font "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 >>",
        ]
    )


def _scan_with_stamp() -> bytes:
    gray = b"\x80" * 64
    image = b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 64 >>"
    image += b"\nstream\n" + gray + b"\nendstream"
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q BT /F1 8 Tf 20 10 Td (Scanned with OfficeScan 3000 on 12/03/2020) Tj ET"
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> "
            b"/XObject << /Im1 6 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            stream(content),
            image,
        ]
    )


def _object_stream(declared: int, real: int) -> bytes:
    """An object stream declaring ``declared`` objects and holding ``real`` small ones (deflated)."""
    offsets, objects, pos = [], [], 0
    for i in range(real):
        obj = b"<< /A %d >>" % i
        offsets.append(b"%d %d" % (1000 + i, pos))
        objects.append(obj)
        pos += len(obj) + 1
    header = b" ".join(offsets) + b"\n"
    packed = zlib.compress(header + b"\n".join(objects))
    head = b"<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n" % (declared, len(header), len(packed))
    return head + packed + b"\nendstream"


def _grid(n: int) -> bytes:
    """Content-stream operators drawing n horizontal and n vertical lines."""
    ops = [b"0.1 w"]
    for i in range(n):
        y = 20 + i * 800 / n
        ops.append(b"20 %.2f m 575 %.2f l S" % (y, y))
        x = 20 + i * 555 / n
        ops.append(b"%.2f 20 m %.2f 820 l S" % (x, x))
    return b"\n".join(ops)


def _many_pages(n: int) -> bytes:
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(b"BT /F1 10 Tf 50 780 Td (page) Tj ET"),
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * n
    return build(objects)


@pytest.fixture
def pdf_cases(secret, listener):  # noqa: F811
    return hostile_pdfs(secret, listener.port)


def test_hostile_pdfs_are_read_or_refused_typed_and_nothing_runs(pdf_cases, tmp_path, listener):  # noqa: F811
    folder = tmp_path / "returns"
    folder.mkdir()
    for name, (data, code) in pdf_cases.items():
        path = folder / name
        path.write_bytes(data)
        try:
            rec = parse(path)
        except ParseError as exc:
            assert exc.code == code, (name, exc.code, exc.message)
            assert name in str(exc) and SECRET_MARKER not in str(exc)
        else:
            assert code == "", (name, "was read; expected", code)
            assert rec.answers["q1"] == "Answer to q1", name
            assert SECRET_MARKER not in json.dumps(rec.to_dict()), name
        assert path.read_bytes() == data
    assert sorted(p.name for p in folder.iterdir()) == sorted(pdf_cases), "a file was written beside the returns"
    assert listener.connections() == 0, "something tried to fetch over the network"


def test_a_stream_bomb_is_refused_before_it_is_inflated(pdf_cases):
    data = pdf_cases["stream-bomb.pdf"][0]
    assert len(data) < 200_000  # ~33 MB of zeros, deflated
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as info:
            parse(data, path="bomb.pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "PDF_BOMB"
    assert peak < 8 * 1024 * 1024  # inflated a chunk at a time and stopped at the cap


# -- OpenDocument -----------------------------------------------------------------------

_ODT_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:loext="urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0"'
)


def odt_content(prolog: str = "", extra_cell: str = "") -> bytes:
    """content.xml of a one-table ODT holding Appendix 4 as LibreOffice writes it (controls as loext:content-control)."""
    rows = []
    for q in FORM.questions():
        rows.append(
            f"<table:table-row><table:table-cell><text:p><loext:content-control>{q.text}</loext:content-control></text:p></table:table-cell></table:table-row>"
        )
        rows.append(
            "<table:table-row><table:table-cell><text:p><loext:content-control>"
            f'Answer to {q.id}<text:line-break/>second<text:s text:c="2"/>line{extra_cell}'
            "</loext:content-control></text:p></table:table-cell></table:table-row>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<office:document-content {_ODT_NS}><office:body><office:text>'
        "<text:p>Appendix 4</text:p><table:table>"
        + "".join(rows)
        + "</table:table></office:text></office:body></office:document-content>"
    ).encode()


MANIFEST = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    b'<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
    b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def odf(parts: dict[str, bytes], mimetype: bytes = b"application/vnd.oasis.opendocument.text") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored, first, as ODF requires
        for name, raw in parts.items():
            z.writestr(name, raw)
    return out.getvalue()


def test_a_minimal_odt_is_read_without_libreoffice():
    rec = parse(odf({"content.xml": odt_content(), "META-INF/manifest.xml": MANIFEST}), path="saved.odt")
    assert rec.form == "appendix4" and rec.source.format == "odt"
    assert rec.answers["q1"] == "Answer to q1\nsecond  line"


def hostile_odfs(secret_path: Path, port: int) -> dict[str, tuple[bytes, str]]:
    xxe_file = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret_path}">]>'
    xxe_net = f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]>'
    ok = {"content.xml": odt_content(), "META-INF/manifest.xml": MANIFEST}
    encrypted_manifest = MANIFEST.replace(
        b'media-type="text/xml"/>',
        b'media-type="text/xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AA=="/>'
        b"</manifest:file-entry>",
    )
    huge_row = (
        '<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )
    ods = odt_content().replace(b"<office:text>", b"<office:spreadsheet>").replace(b"</office:text>", b"</office:spreadsheet>")
    ods = ods.replace(b"<table:table>", b"<table:table table:name='Form'>" + huge_row.encode())
    bomb = odf({**ok, "Pictures/zeros.bin": b"\0" * (8 * 1024 * 1024)})
    return {
        "xxe-file.odt": (odf({**ok, "content.xml": odt_content(prolog=xxe_file, extra_cell="&x;")}), "DTD_FORBIDDEN"),
        "xxe-network.odt": (odf({**ok, "content.xml": odt_content(prolog=xxe_net, extra_cell="&x;")}), "DTD_FORBIDDEN"),
        # parts apdocs never parses may carry one (OpenOffice's own Basic libraries do): read, never parsed
        "dtd-in-styles.odt": (odf({**ok, "styles.xml": (xxe_file + "<office:document-styles/>").encode()}), ""),
        "billion-laughs.odt": (
            odf({**ok, "content.xml": BILLION_LAUGHS + odt_content().split(b"?>", 1)[1]}),
            "DTD_FORBIDDEN",
        ),
        "bomb-ratio.odt": (bomb, "ZIP_BOMB"),
        "bomb-lying-header.odt": (
            patch_declared_size(odf({**ok, "content.xml": odt_content() + b" " * 2_000_000}), "content.xml", 100),
            "ZIP_BOMB",
        ),
        "encrypted.odt": (odf({**ok, "META-INF/manifest.xml": encrypted_manifest}), "ENCRYPTED"),
        "repeat-bomb.ods": (odf({"content.xml": ods}, b"application/vnd.oasis.opendocument.spreadsheet"), "TOO_MANY_CELLS"),
        "no-content.odt": (odf({"META-INF/manifest.xml": MANIFEST}), "PART_MISSING"),
        # flat OpenDocument goes to LibreOffice, whose XML import would resolve entities: refused before
        "xxe.fodt": (
            odt_content(prolog=xxe_file, extra_cell="&x;").replace(
                b"<office:document-content ", b'<office:document office:mimetype="application/vnd.oasis.opendocument.text" '
            ),
            "DTD_FORBIDDEN",
        ),
        "xml-invalid.odt": (odf({**ok, "content.xml": odt_content()[:500]}), "XML_INVALID"),
    }


@pytest.fixture
def odf_cases(secret, listener):  # noqa: F811
    return hostile_odfs(secret, listener.port)


def test_hostile_odfs_are_refused_typed(odf_cases, listener):  # noqa: F811
    for name, (data, code) in odf_cases.items():
        if code == "":
            rec = parse(data, path=name)
            assert rec.answers["q1"] == "Answer to q1\nsecond  line" and SECRET_MARKER not in json.dumps(rec.to_dict())
            continue
        with pytest.raises(ParseError) as info:
            parse(data, path=name)
        assert info.value.code == code, (name, info.value.code, info.value.message)
        assert name in str(info.value) and SECRET_MARKER not in str(info.value)
    assert listener.connections() == 0


def test_odf_macros_are_never_read_and_noted():
    macro = b'<?xml version="1.0"?><!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">'
    data = odf({"content.xml": odt_content(), "META-INF/manifest.xml": MANIFEST, "Basic/Standard/Module1.xml": macro + b"<m/>"})
    rec = parse(data, path="with-macro.odt")
    assert rec.answers["q1"] == "Answer to q1\nsecond  line"
    assert "MACROS_IGNORED" in [w.code for w in rec.warnings]


def test_a_repeat_count_bomb_costs_little_memory(odf_cases):
    data = odf_cases["repeat-bomb.ods"][0]
    tracemalloc.start()
    try:
        with pytest.raises(ParseError):
            parse(data, path="repeat.ods")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024  # 17 billion cells declared


def test_a_batch_of_hostile_pdf_and_odf_goes_on(pdf_cases, odf_cases, tmp_path, listener):  # noqa: F811
    folder = tmp_path / "returns"
    folder.mkdir()
    cases = {**pdf_cases, **odf_cases}
    for name, (data, _) in cases.items():
        (folder / name).write_bytes(data)
    good = odf({"content.xml": odt_content(), "META-INF/manifest.xml": MANIFEST})
    (folder / "zz-good.odt").write_bytes(good)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    results = {Path(r.source.path).name: r for r in parse_many([folder])}
    assert set(results) == set(before)
    for name, (data, code) in cases.items():
        r = results[name]
        assert (r.ok and code == "") or (not r.ok and r.error.code == code), (name, r.to_dict())
        assert r.source.sha256 == hashlib.sha256(data).hexdigest()
        assert r.source.format == Path(name).suffix[1:], name
    assert results["zz-good.odt"].ok
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == before
    assert listener.connections() == 0


def test_vet_passes_ordinary_streams():
    raw = zlib.compress(b"BT ET " * 1000)
    vet.vet(b"%PDF-1.4\n1 0 obj << >>\nstream\n" + raw + b"\nendstream\n", path="x.pdf")


def test_an_answer_typed_into_a_table_inside_a_cell_is_kept():
    nested = (
        "<table:table><table:table-row><table:table-cell><text:p>Answer to q1</text:p></table:table-cell>"
        "<table:table-cell><text:p>in a table</text:p></table:table-cell></table:table-row></table:table>"
    )
    content = odt_content().replace(
        b'<loext:content-control>Answer to q1<text:line-break/>second<text:s text:c="2"/>line</loext:content-control></text:p>',
        b"</text:p>" + nested.encode(),
    )
    assert nested.encode() in content
    rec = parse(odf({"content.xml": content, "META-INF/manifest.xml": MANIFEST}), path="nested.odt")
    assert rec.answers["q1"] == "Answer to q1\nin a table"


def test_an_odt_whose_mimetype_is_not_first_is_still_read():
    """The standard puts ``mimetype`` first; odfpy and others may not. Such a file is still OpenDocument."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("content.xml", odt_content())
        z.writestr("META-INF/manifest.xml", MANIFEST)
        z.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
    rec = parse(out.getvalue(), path="odfpy.odt")
    assert rec.source.format == "odt" and rec.answers["q1"] == "Answer to q1\nsecond  line"
