"""The zip directory read from the bytes (``apdocs.formats.zipdir``) against ``zipfile`` itself.

On every zip the tests know - the 600 public office files beside the project, the fuzz seeds,
apdocs' own forms and samples, and zips built here to be awkward - ``plain_entries`` either
declines (None: the reader then asks zipfile) or gives exactly the entries zipfile reads. It must
also NOT decline on what Office and LibreOffice write, or it would be a slower no-op.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from apdocs.api import render_form
from apdocs.errors import ParseError
from apdocs.formats.ooxml import open_package, read_directory
from apdocs.formats.zipdir import ZipEntry, plain_entries
from apdocs.parse import parse
from tests.corpus import require_corpus

ROOT = Path(__file__).resolve().parents[1]


def _zipfile_entries(data: bytes) -> list[ZipEntry] | None:
    """zipfile's reading of the directory, or None when zipfile refuses the bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [ZipEntry.of(i) for i in zf.infolist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, ValueError, EOFError, struct.error):
        return None


def _agrees(data: bytes) -> bool:
    """True when the fast reader gave entries (which must then be zipfile's); False when it declined."""
    plain = plain_entries(data)
    if plain is None:
        return False
    assert plain == _zipfile_entries(data)
    return True


def _corpus() -> list[Path]:
    return sorted(p for p in (require_corpus() / "files").rglob("*") if p.is_file())


def test_real_world_zips_read_as_zipfile_reads_them() -> None:
    zips = [p.read_bytes() for p in _corpus()]
    zips = [d for d in zips if d[:2] == b"PK"]
    read = sum(_agrees(d) for d in zips)
    assert len(zips) > 450
    # other projects' files include comments, Zip64 and damage: those decline; most are plain
    assert read > 0.8 * len(zips), f"only {read} of {len(zips)} zips read without zipfile"


def test_own_forms_samples_and_seeds_are_read_without_zipfile() -> None:
    files = [render_form(f, kind, {}) for f in ("appendix2", "appendix3", "appendix4") for kind in ("docx", "xlsx")]
    files += [p.read_bytes() for p in sorted((ROOT / "samples").rglob("*")) if p.suffix in (".docx", ".xlsx", ".odt", ".ods")]
    files += [p.read_bytes() for p in sorted((ROOT / "benchmarks" / "fuzz_seeds").iterdir())]
    assert len(files) > 12
    assert all(_agrees(d) for d in files)  # every one of these is plain: the fast reader must take it


def _zip(entries: dict[str, bytes], **kw: object) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in entries.items():
            zf.writestr(name, raw)
        if "comment" in kw:
            zf.comment = kw["comment"]  # type: ignore[assignment]
    return buf.getvalue()


def _central(data: bytes) -> int:
    return data.index(b"PK\x01\x02")


def _with_extra(data: bytes, extra: bytes) -> bytes:
    """The zip's first central entry given ``extra`` as its extra field (directory size and offset kept true)."""
    at = _central(data)
    nlen, elen = struct.unpack_from("<HH", data, at + 28)
    assert elen == 0
    patched = data[: at + 30] + struct.pack("<H", len(extra)) + data[at + 32 : at + 46 + nlen] + extra + data[at + 46 + nlen :]
    end = patched.rindex(b"PK\x05\x06")
    size = struct.unpack_from("<L", patched, end + 12)[0]
    return patched[: end + 12] + struct.pack("<L", size + len(extra)) + patched[end + 16 :]


PLAIN = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", "dir/": b""}


def test_a_plain_zip_is_read_with_utf8_and_cp437_names() -> None:
    assert _agrees(_zip(PLAIN))
    utf8 = _zip({"caf\u00e9/\u00fcber.xml": b"<a/>"})  # zipfile sets the UTF-8 flag for it
    assert _agrees(utf8)
    cp437 = bytearray(_zip({"caf_.xml": b"<a/>"}))
    for at in (cp437.index(b"caf_"), cp437.rindex(b"caf_")):
        cp437[at + 3] = 0x82  # "é" in cp437, no UTF-8 flag
    assert plain_entries(bytes(cp437)) is not None
    assert _agrees(bytes(cp437))
    assert plain_entries(bytes(cp437))[0].filename == "caf\u00e9.xml"  # type: ignore[index]


def test_a_harmless_extra_field_is_read_and_a_damaged_one_declines() -> None:
    data = _zip(PLAIN)
    timestamp = struct.pack("<HHB", 0x5455, 5, 1) + b"\x00" * 4  # the extended-timestamp field zip tools add
    assert _agrees(_with_extra(data, timestamp))
    assert plain_entries(_with_extra(data, struct.pack("<HH", 0x5455, 40) + b"\x00" * 4)) is None  # runs past its end
    assert plain_entries(_with_extra(data, struct.pack("<HHQ", 0x0001, 8, 10))) is None  # Zip64 sizes
    assert plain_entries(_with_extra(data, struct.pack("<HHB", 0x7075, 5, 1) + b"\x00" * 4)) is None  # Unicode path


@pytest.mark.parametrize(
    "change",
    [
        "comment",
        "prefix",
        "suffix",
        "nul-in-name",
        "version-too-new",
        "bad-central-signature",
        "directory-offset-lies",
        "cut-short",
        "zip64-locator",
    ],
)
def test_what_is_not_plain_declines_and_zipfile_decides(change: str) -> None:
    data = _zip(PLAIN)
    at = _central(data)
    end = data.rindex(b"PK\x05\x06")
    if change == "comment":
        data = _zip(PLAIN, comment=b"made by a tool")
    elif change == "prefix":
        data = b"MZ stub before the zip" + data  # zipfile shifts every offset: a self-extractor
    elif change == "suffix":
        data += b"\x00"
    elif change == "nul-in-name":
        data = data.replace(b"word/document.xml", b"word/doc\x00ment.xml")
    elif change == "version-too-new":
        data = data[: at + 6] + bytes([64]) + data[at + 7 :]
    elif change == "bad-central-signature":
        data = data[:at] + b"PK\x01\x09" + data[at + 4 :]
    elif change == "directory-offset-lies":
        offset = struct.unpack_from("<L", data, end + 16)[0]
        data = data[: end + 16] + struct.pack("<L", offset + 1) + data[end + 20 :]
    elif change == "cut-short":
        data = data[:at] + data[at + 10 :]
    elif change == "zip64-locator":
        data = data[: end - 20] + b"PK\x06\x07" + data[end - 16 :]
    assert plain_entries(data) is None


def test_zipfiles_refusals_stay_typed_errors() -> None:
    data = _zip(PLAIN)
    at = _central(data)
    too_new = data[: at + 6] + bytes([64]) + data[at + 7 :]
    with pytest.raises(ParseError) as caught:
        read_directory(too_new, "x.docx", "docx")
    assert caught.value.code == "ZIP_UNSUPPORTED"
    with pytest.raises(ParseError) as caught:
        read_directory(data[:at] + b"PK\x01\x09" + data[at + 4 :], "x.docx", "docx")
    assert caught.value.code == "TRUNCATED"


def test_a_package_opened_either_way_is_the_same() -> None:
    """The vetted package from the fast directory equals the one from zipfile's (a comment forces zipfile)."""
    form = render_form("appendix4", "docx", {})
    with zipfile.ZipFile(io.BytesIO(form)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    plain, commented = _zip(parts), _zip(parts, comment=b"x")
    assert plain_entries(plain) is not None and plain_entries(commented) is None
    a, b = open_package(plain, path=None, kind="docx"), open_package(commented, path=None, kind="docx")
    assert a.names == b.names
    assert {n: a.part(n) for n in a.names} == {n: b.part(n) for n in b.names}


def test_fuzzed_returns_read_the_same_with_or_without_the_plain_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzer's damaged returns (zip, XML and value mutations) give the same record or the same
    typed error whether the directory is read from the bytes or by zipfile (3,000 cases agreed
    when this was written; a slice runs here)."""
    from apdocs.formats import ooxml
    from benchmarks.fuzz import make_case

    def outcome(data: bytes) -> object:
        try:
            return parse(bytes(memoryview(data)), path="f.docx").to_dict()
        except ParseError as exc:
            return (exc.code, exc.message)

    plain = 0
    for index in range(300):
        _, data = make_case(index, seed=33)
        fast = outcome(data)
        plain += plain_entries(data) is not None
        with monkeypatch.context() as m:
            m.setattr(ooxml, "plain_entries", lambda _data: None)
            assert outcome(data) == fast, index
    assert plain > 200  # most mutations leave the directory plain: the fast reader was compared
