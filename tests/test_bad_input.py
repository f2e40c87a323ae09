"""Bad returned files: each is refused with a typed error naming the file, and a batch goes on.

Every bad file is built here from a real rendered form (no binary blobs in the repo);
legacy .doc/.xls and a PDF come from the real LibreOffice, the password-protected file
from msoffcrypto-tool (Office's own Agile encryption).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import socket
import struct
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from apdocs import api
from apdocs.cli import main
from apdocs.errors import ParseError
from apdocs.formats import ooxml
from apdocs.formats.convert import soffice
from apdocs.parse import parse, parse_many

W_NS = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_R = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"

# -- building bad files ------------------------------------------------------------------


@pytest.fixture(scope="module")
def good() -> dict[str, bytes]:
    """Real rendered returns with synthetic answers only."""
    values = {"reference": "SYN-0001", "pupil_reference": "P-TEST-01", "q1": "A synthetic answer."}
    return {fmt: api.render_form("appendix4", fmt, values) for fmt in ("docx", "xlsx")}


def rezip(
    data: bytes,
    *,
    replace: dict[str, bytes | Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    stored: tuple[str, ...] = (),
) -> bytes:
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            raw = zin.read(info.filename)
            new = replace.get(info.filename, raw)
            raw = new(raw) if callable(new) else new
            zout.writestr(
                info.filename, raw, compress_type=zipfile.ZIP_STORED if info.filename in stored else zipfile.ZIP_DEFLATED
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns on the duplicate names we add on purpose
            for name, raw in add.items():
                zout.writestr(name.split("#")[0], raw)
    return out.getvalue()


def patch_declared_size(data: bytes, name: str, size: int, *, local: bool = True) -> bytes:
    """Make the zip headers lie about ``name``'s uncompressed size (central directory, and local header)."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos >= 0 and buf[pos : pos + 4] == b"PK\x01\x02":
        n, e, c = struct.unpack_from("<HHH", buf, pos + 28)
        if buf[pos + 46 : pos + 46 + n].decode() == name:
            struct.pack_into("<I", buf, pos + 24, size)
            if local:
                header = struct.unpack_from("<I", buf, pos + 42)[0]
                struct.pack_into("<I", buf, header + 22, size)
        pos += 46 + n + e + c
    return bytes(buf)


def cfb(stream_names: list[str]) -> bytes:
    """A minimal, valid OLE2 compound file whose directory lists ``stream_names``."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<III", header, 44, 1, 1, 0)  # one FAT sector; directory starts at sector 1
    struct.pack_into("<IIII", header, 56, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE)
    struct.pack_into("<I", header, 72, 0)
    struct.pack_into("<109I", header, 76, 0, *([0xFFFFFFFF] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *([0xFFFFFFFF] * 126))
    entries = b""
    for i, name in enumerate(["Root Entry", *stream_names]):
        raw = name.encode("utf-16-le") + b"\0\0"
        entry = bytearray(128)
        entry[: len(raw)] = raw
        struct.pack_into("<HBB", entry, 64, len(raw), 5 if i == 0 else 2, 1)
        entries += bytes(entry)
    return bytes(header) + fat + entries.ljust(512, b"\0")


def with_doctype(xml: bytes, doctype: bytes) -> bytes:
    """Insert a DOCTYPE after the XML declaration, and use its entity in the text."""
    decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    return xml[:decl_end] + b"\n" + doctype + xml[decl_end:]


def docx_with_document(good_docx: bytes, fn: Callable[[bytes], bytes]) -> bytes:
    return rezip(good_docx, replace={"word/document.xml": fn})


def strict(raw: bytes) -> bytes:
    return raw.replace(W_NS, b"http://purl.oclc.org/ooxml/wordprocessingml/main").replace(
        R_NS, b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    )


def macro_enabled(data: bytes, kind: str) -> bytes:
    main = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
    plain, macro = {
        "docx": (
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml",
        ),
        "xlsx": (
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
    }[kind]
    folder = main.split("/")[0]
    rels = f"{folder}/_rels/{main.split('/')[1]}.rels"

    def ctypes(raw: bytes) -> bytes:
        raw = raw.replace(plain, macro)
        return raw.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')

    def add_rel(raw: bytes) -> bytes:
        rel = (
            b'<Relationship Id="rIdVba1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
            b' Target="vbaProject.bin"/>'
        )
        return raw.replace(b"</Relationships>", rel + b"</Relationships>")

    vba = cfb(["VBA", "PROJECT"])  # never run, never parsed: only its presence matters
    return rezip(data, replace={"[Content_Types].xml": ctypes, rels: add_rel}, add={f"{folder}/vbaProject.bin": vba})


def too_many_cells(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))[0]
    cols = [chr(65 + i // 26) + chr(65 + i % 26) for i in range(120)]
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in cols) + "</row>" for r in range(1, 1001))

    def fill(raw: bytes) -> bytes:
        return re.sub(
            rb"<sheetData>.*</sheetData>|<sheetData/>", b"<sheetData>" + rows.encode() + b"</sheetData>", raw, flags=re.S
        )

    return rezip(data, replace={sheet: fill})


def forged_dimension(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]

    def forge(raw: bytes) -> bytes:
        if b"<dimension" in raw:
            return re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', raw)
        return re.sub(rb"(<worksheet[^>]*>)", rb'\1<dimension ref="A1:XFD1048576"/>', raw, count=1)

    return rezip(data, replace=dict.fromkeys(sheets, forge))


def encrypted(data: bytes) -> bytes:
    # A test extra: skipped on a bare checkout, but CI must really test encrypted files.
    if os.environ.get("CI"):
        import msoffcrypto
    else:
        msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("synthetic-password", out)
    assert msoffcrypto.olefile.isOleFile(io.BytesIO(out.getvalue()))
    return out.getvalue()


BILLION_LAUGHS = b"""<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""


def _bomb_cases(g: dict[str, bytes]) -> dict[str, bytes]:
    docx = g["docx"]
    big_zeros = b"\0" * (12 * 1024 * 1024)
    many = rezip(docx, add={f"customXml/n{i}.xml": b"<a/>" for i in range(ooxml.MAX_ENTRIES + 1)})
    # The main part, read by every reader, padded after its root (XML allows trailing white space)
    # to 2 MB that its headers call 100 bytes.
    lying = patch_declared_size(
        rezip(docx, replace={"word/document.xml": lambda r: r + b" " * (2 * 1024 * 1024)}), "word/document.xml", 100
    )
    # Five parts each declared just under the per-part cap; together over the total cap.
    forged_total = rezip(docx, add={f"word/media/i{i}.bin": b"x" for i in range(5)})
    for i in range(5):
        forged_total = patch_declared_size(forged_total, f"word/media/i{i}.bin", ooxml.MAX_PART_BYTES - 1, local=False)
    return {
        "bomb-ratio.docx": rezip(docx, add={"word/media/zeros.bin": big_zeros}),
        "bomb-xml-size.docx": rezip(docx, add={"customXml/item9.xml": b"<a>" + b" " * (ooxml.MAX_XML_PART_BYTES + 1) + b"</a>"}),
        "bomb-entries.docx": many,
        "bomb-lying-header.docx": lying,
        "bomb-forged-total.docx": forged_total,
    }


def bad_cases(g: dict[str, bytes], secret: Path, port: int) -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, expected error code)."""
    docx = g["docx"]
    xxe_file = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://' + str(secret).encode() + b'">]>'
    xxe_net = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "http://127.0.0.1:' + str(port).encode() + b'/x">]>'
    dtd_net = b'<!DOCTYPE w:document SYSTEM "http://127.0.0.1:' + str(port).encode() + b'/evil.dtd">'

    def use_entity(raw: bytes) -> bytes:
        return raw.replace(b"A synthetic answer.", b"&xxe;")

    def corrupt_stored(data: bytes) -> bytes:
        stored = rezip(data, stored=("word/document.xml",))
        i = stored.index(b"<w:body>")
        return stored[:i] + b"<w:bodY>" + stored[i + 8 :]  # same length, wrong CRC

    cases = {
        "empty.docx": (b"", "EMPTY_FILE"),
        "truncated.docx": (docx[: len(docx) // 2], "TRUNCATED"),
        "corrupt-part.docx": (corrupt_stored(docx), "PART_CORRUPT"),
        "random.docx": (bytes(range(256)) * 8, "NOT_A_ZIP"),
        # PDF, OpenDocument and legacy files are read whatever their name; these are too broken to be
        "pdf-renamed.docx": (b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n", "PDF_DAMAGED"),
        "html-renamed.docx": (b"<!DOCTYPE html>\n<html><body><p>Saved as web page</p></body></html>", "NOT_OOXML"),
        "odt-renamed.docx": (
            rezip(docx, drop=("[Content_Types].xml",), add={"mimetype": b"application/vnd.oasis.opendocument.text"}),
            "PART_MISSING",  # read as OpenDocument (mimetype need not be first), which has no content.xml
        ),
        # empty OLE2 files: LibreOffice cannot make a document of the first, the second becomes an empty sheet
        "legacy-crafted.doc": (cfb(["WordDocument", "1Table"]), "CONVERSION_FAILED" if soffice() else "CONVERTER_MISSING"),
        "legacy-crafted.xls": (cfb(["Workbook"]), "NOT_A_FORM" if soffice() else "CONVERTER_MISSING"),
        "encrypted-crafted.docx": (cfb(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"]), "ENCRYPTED"),
        "encrypted-real.docx": (encrypted(docx), "ENCRYPTED"),
        "strict.docx": (rezip(docx, replace={"word/document.xml": strict, "_rels/.rels": strict}), "STRICT_OOXML"),
        "xxe-file.docx": (docx_with_document(docx, lambda r: use_entity(with_doctype(r, xxe_file))), "DTD_FORBIDDEN"),
        "xxe-network.docx": (docx_with_document(docx, lambda r: use_entity(with_doctype(r, xxe_net))), "DTD_FORBIDDEN"),
        "dtd-external.docx": (docx_with_document(docx, lambda r: with_doctype(r, dtd_net)), "DTD_FORBIDDEN"),
        "dtd-in-rels.docx": (rezip(docx, replace={"_rels/.rels": lambda r: with_doctype(r, xxe_file)}), "DTD_FORBIDDEN"),
        "dtd-in-content-types.docx": (
            rezip(docx, replace={"[Content_Types].xml": lambda r: with_doctype(r, xxe_net)}),
            "DTD_FORBIDDEN",
        ),
        "dtd-utf16.docx": (
            docx_with_document(
                docx,
                lambda r: with_doctype(r, xxe_file).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
            ),
            "DTD_FORBIDDEN",
        ),
        # Parts the opener itself never parses, but python-docx or a reader would.
        "dtd-in-styles.docx": (rezip(docx, replace={"word/styles.xml": lambda r: with_doctype(r, xxe_file)}), "DTD_FORBIDDEN"),
        "dtd-in-core-props.docx": (
            rezip(docx, replace={"docProps/core.xml": lambda r: with_doctype(r, BILLION_LAUGHS)}),
            "DTD_FORBIDDEN",
        ),
        "billion-laughs.docx": (docx_with_document(docx, lambda r: with_doctype(r, BILLION_LAUGHS)), "DTD_FORBIDDEN"),
        "duplicate.docx": (rezip(docx, add={"word/document.xml#2": b"<w:document/>"}), "DUPLICATE_ENTRY"),
        "duplicate-case.docx": (rezip(docx, add={"WORD/document.xml": b"<w:document/>"}), "DUPLICATE_ENTRY"),
        "part-missing.docx": (rezip(docx, drop=("word/document.xml",)), "PART_MISSING"),
        "xml-invalid.docx": (docx_with_document(docx, lambda r: r[: len(r) // 2]), "XML_INVALID"),
        "too-many-cells.xlsx": (too_many_cells(g["xlsx"]), "TOO_MANY_CELLS"),
    }
    for name, data in _bomb_cases(g).items():
        cases[name] = (data, "ZIP_BOMB")
    return cases


class Listener:
    """A real TCP listener on loopback: proves whether anything tried to fetch from it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


SECRET_MARKER = "SYNTHETIC-SECRET-7f3a"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    p = tmp_path / "secret.txt"
    p.write_text(SECRET_MARKER)
    return p


@pytest.fixture
def cases(good, secret, listener) -> dict[str, tuple[bytes, str]]:
    return bad_cases(good, secret, listener.port)


# -- one file at a time -----------------------------------------------------------------


def test_every_bad_file_is_a_typed_error_naming_the_file(cases, tmp_path, listener):
    for name, (data, code) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ParseError) as info:
            parse(path)
        err = info.value
        assert err.code == code, (name, err.code, err.message)
        assert name in str(err), name
        assert SECRET_MARKER not in json.dumps(err.to_dict()) + str(err)
        assert path.read_bytes() == data, f"{name} was changed"
    assert listener.connections() == 0, "something tried to fetch over the network"


def test_bytes_without_a_path_still_raise_typed_errors(cases):
    data, code = cases["pdf-renamed.docx"]
    with pytest.raises(ParseError) as info:
        parse(data)
    assert info.value.code == code and "PDF" in info.value.message


def test_messages_say_what_the_file_really_is(cases):
    def message(name: str) -> str:
        with pytest.raises(ParseError) as info:
            ooxml.open_package(cases[name][0], path=name, kind="docx")
        return info.value.message

    assert "PDF" in message("pdf-renamed.docx")
    assert "HTML" in message("html-renamed.docx")
    assert "OpenDocument" in message("odt-renamed.docx")
    assert ".doc file" in message("legacy-crafted.doc")
    assert "password" in message("encrypted-real.docx")
    assert "Strict" in message("strict.docx")


def test_legacy_kind_is_told_from_the_directory():
    assert "WordDocument" in ooxml.cfb_stream_names(cfb(["WordDocument"]))
    with pytest.raises(ParseError) as info:
        ooxml.open_package(cfb(["Workbook"]), path="x.xls", kind="xlsx")
    assert info.value.context["legacy"] == ".xls" and "Excel" in info.value.message
    assert "save it as .xlsx" in info.value.message


def test_legacy_hint_follows_the_content_not_the_name():
    with pytest.raises(ParseError) as info:
        ooxml.open_package(cfb(["WordDocument", "1Table"]), path="renamed.xlsx", kind="xlsx")
    assert info.value.context["legacy"] == ".doc"
    assert "Word" in info.value.message and "save it as .docx" in info.value.message


# -- the XML parser itself, were a DTD ever to get past the check ------------------------


def test_safe_parser_neither_reads_files_nor_fetches(secret, listener):
    xml = (
        b'<!DOCTYPE r [<!ENTITY f SYSTEM "file://' + str(secret).encode() + b'">'
        b'<!ENTITY n SYSTEM "http://127.0.0.1:' + str(listener.port).encode() + b'/x">]><r>&f;&n;</r>'
    )
    root = etree.fromstring(xml, parser=ooxml.safe_parser())
    assert SECRET_MARKER not in etree.tostring(root).decode()
    assert SECRET_MARKER not in "".join(root.itertext())
    assert listener.connections() == 0


def test_safe_parser_does_not_expand_billion_laughs():
    try:
        root = etree.fromstring(BILLION_LAUGHS + b"<r>&lol9;</r>", parser=ooxml.safe_parser())
    except etree.XMLSyntaxError as exc:  # libxml2's amplification guard may refuse outright
        assert "amplification" in str(exc).lower() or "entity" in str(exc).lower()
    else:
        assert len(etree.tostring(root)) < 10_000


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be"])
def test_doctype_is_seen_in_any_encoding(encoding):
    xml = '<?xml version="1.0"?>\n<!doctype r [<!ENTITY e "x">]><r>&e;</r>'
    assert ooxml.has_doctype(xml.encode(encoding))
    assert not ooxml.has_doctype('<?xml version="1.0"?><r>no DTD here</r>'.encode(encoding))


def test_parse_xml_refuses_any_doctype():
    with pytest.raises(ParseError) as info:
        ooxml.parse_xml(b'<?xml version="1.0"?><!DOCTYPE r><r/>', path="f.docx", part="word/document.xml")
    assert info.value.code == "DTD_FORBIDDEN" and "word/document.xml" in info.value.message


# -- zip bombs are refused before or while decompressing, never after ----------------------


def test_declared_sizes_are_refused_before_decompressing(good):
    cases = _bomb_cases(good)
    tracemalloc.start()
    try:
        for name in ("bomb-forged-total.docx", "bomb-ratio.docx", "bomb-entries.docx"):
            with pytest.raises(ParseError) as info:
                ooxml.open_package(cases[name], path=name, kind="docx")
            assert info.value.code == "ZIP_BOMB"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused from the central directory: nothing near the declared 5 x 64 MB was allocated.
    assert peak < 32 * 1024 * 1024


def test_a_lying_header_stops_after_one_chunk(good):
    data = _bomb_cases(good)["bomb-lying-header.docx"]
    with pytest.raises(ParseError) as info:
        ooxml.open_package(data, path="lying.docx", kind="docx")
    assert info.value.code == "ZIP_BOMB" and "declares" in info.value.message


def test_a_lying_header_on_a_part_never_read_costs_nothing_until_it_is_read(good):
    """Parts no reader needs are never inflated, so a zip bomb there cannot go off; the
    macro-free copy for the office libraries inflates every part and catches the lie."""
    data = patch_declared_size(
        rezip(good["docx"], add={"word/media/image9.bin": b"\0" * (2 * 1024 * 1024)}), "word/media/image9.bin", 100
    )
    assert parse(data, path="lying-image.docx").answers["q1"] == "A synthetic answer."
    pkg = ooxml.open_package(data, path="lying-image.docx", kind="docx")
    with pytest.raises(ParseError) as info:
        pkg.clean_bytes()
    assert info.value.code == "ZIP_BOMB" and "image9.bin" in info.value.message


def test_dtd_is_found_in_a_part_never_read_however_long_its_prolog(good):
    """Unread parts are inflated only to their root element: a DOCTYPE behind a prolog longer
    than the first chunk (a long comment, several PIs) is still found, as is one in UTF-16."""
    comment = b"<!--" + b"x" * (5 * ooxml.PROLOG_CHUNK) + b"-->"
    pi = b'<?mso-application progid="Word.Document"?>\r\n' * 200

    def styles_with(prolog: bytes) -> bytes:
        return rezip(good["docx"], replace={"word/styles.xml": lambda r: r.replace(b"?>", b"?>" + prolog, 1)})

    doctype = b"<!DOCTYPE w:styles [<!ENTITY x 'y'>]>"
    for label, data in {
        "after a long comment": styles_with(comment + doctype),
        "after many PIs": styles_with(pi + doctype),
        "stored, not deflated": rezip(styles_with(doctype), stored=("word/styles.xml",)),
    }.items():
        with pytest.raises(ParseError) as info:
            parse(data, path="styles.docx")
        assert info.value.code == "DTD_FORBIDDEN" and "styles.xml" in info.value.message, label
    styles16 = (b'<?xml version="1.0" encoding="UTF-16"?>' + doctype + b"<w:styles/>").decode().encode("utf-16")
    utf16 = rezip(good["docx"], replace={"word/styles.xml": styles16})
    with pytest.raises(ParseError) as info:
        parse(utf16, path="styles16.docx")
    assert info.value.code == "DTD_FORBIDDEN", "UTF-16"
    # ... and the same long prolog without a DOCTYPE is read as usual
    assert parse(styles_with(comment + pi), path="ok.docx").answers["q1"] == "A synthetic answer."


# -- macro-enabled: data read, macros never ------------------------------------------------


def test_docm_is_read_with_a_notice(good, tmp_path):
    path = tmp_path / "return.docm"
    data = macro_enabled(good["docx"], "docx")
    path.write_bytes(data)
    pkg = ooxml.open_package(data, path=str(path), kind="docx")
    assert pkg.macro_enabled
    clean = pkg.clean_bytes()
    with zipfile.ZipFile(io.BytesIO(clean)) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()]
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
        assert b"vbaProject" not in z.read("word/_rels/document.xml.rels")
    record = parse(path)
    assert record.form == "appendix4" and record.source.format == "docx"
    assert record.answers["q1"] == "A synthetic answer."
    assert "MACROS_IGNORED" in [w.code for w in record.warnings]
    assert record.source.sha256 == hashlib.sha256(data).hexdigest()  # the file as sent, not the macro-free copy read
    assert path.read_bytes() == data


def test_xlsm_is_vetted_with_a_notice(good, tmp_path):
    data = macro_enabled(good["xlsx"], "xlsx")
    pkg = ooxml.open_package(data, path="return.xlsm", kind="xlsx")
    assert pkg.macro_enabled and [n.code for n in pkg.notices] == ["MACROS_IGNORED"]
    record = parse(data, path="return.xlsm")
    assert record.source.format == "xlsx" and "MACROS_IGNORED" in [w.code for w in record.warnings]
    assert record.source.sha256 == hashlib.sha256(data).hexdigest()
    assert record.answers["q1"] == "A synthetic answer."


# -- spreadsheets that try to make a reader allocate -------------------------------------------


def test_forged_dimension_is_bounded(good):
    data = forged_dimension(good["xlsx"])
    tracemalloc.start()
    try:
        record = parse(data, path="forged.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record.form == "appendix4" and record.answers["q1"] == "A synthetic answer."
    # 16384 x 1048576 cells were declared; a reader that allocated by dimension would need terabytes.
    assert peak < 64 * 1024 * 1024


# -- a batch goes on past every bad file -----------------------------------------------------


def test_batch_goes_on_and_leaves_files_untouched(cases, good, tmp_path, listener):
    folder = tmp_path / "returns"
    folder.mkdir()
    for name, (data, _) in cases.items():
        (folder / name).write_bytes(data)
    (folder / "good-1.docx").write_bytes(good["docx"])
    (folder / "zz-good-2.docx").write_bytes(good["docx"])
    (folder / "~$good-1.docx").write_bytes(b"lock file")  # Office owner file: skipped
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    results = list(parse_many([folder]))
    by_name = {Path(r.source.path).name: r for r in results}
    assert [Path(r.source.path).name for r in results] == sorted(by_name)  # walked in sorted order
    assert "~$good-1.docx" not in by_name
    for name, (data, code) in cases.items():
        r = by_name[name]
        assert not r.ok and r.error.code == code, (name, r.error.to_dict())
        assert r.source.sha256 == (hashlib.sha256(data).hexdigest() if data else "")
    for name in ("good-1.docx", "zz-good-2.docx"):
        assert by_name[name].ok, by_name[name].to_dict()
        assert by_name[name].reference == "SYN-0001"

    result = CliRunner().invoke(main, ["parse", "--json", str(folder)])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert len(rows) == len(cases) + 2
    assert sum("error" in r for r in rows) == len(cases)
    assert SECRET_MARKER not in result.output

    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert after == before, "files were changed, added or removed"
    assert listener.connections() == 0


# -- the real thing: what LibreOffice writes when asked for old formats ------------------------


@pytest.mark.libreoffice
def test_real_legacy_and_pdf_files_from_libreoffice(libreoffice, good, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "form.docx").write_bytes(good["docx"])
    (src / "sheet.xlsx").write_bytes(good["xlsx"])
    out = tmp_path / "out"
    doc = libreoffice.convert([src / "form.docx"], "doc", out)[0]
    xls = libreoffice.convert([src / "sheet.xlsx"], "xls", out)[0]
    pdf = libreoffice.convert([src / "form.docx"], "pdf", out)[0]
    # Renamed as schools do: the name says .docx/.xlsx, the bytes say otherwise.
    renamed = {doc: "old-word.docx", xls: "old-excel.xlsx", pdf: "printed.docx"}
    for f, new in renamed.items():
        f.rename(out / new)
    results = {Path(r.source.path).name: r for r in parse_many([out])}
    # read for what they are (converted, or from the PDF's text), whatever the name says
    for name, fmt in (("old-word.docx", "doc"), ("old-excel.xlsx", "xls"), ("printed.docx", "pdf")):
        r = results[name]
        assert r.ok, (name, r.to_dict())
        assert r.source.format == fmt and r.reference == "SYN-0001" and r.answers["q1"] == "A synthetic answer.", name
