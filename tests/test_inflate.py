"""Reading zip parts with zlib-ng (apdocs.formats.inflate) gives what the standard library's zlib gives.

The suite runs with zlib-ng installed (it is a dependency); these tests read the same packages -
whole, damaged, bombs - with each library in turn, and demand the same parts, records and typed
errors, so a machine without a zlib-ng wheel (where inflate falls back to zlib) reads as this one.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path

import pytest

from apdocs.errors import ParseError
from apdocs.formats import inflate, ooxml
from apdocs.parse import parse

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples" / "returns").glob("*.*x"))


def test_zlib_ng_is_what_reads_here() -> None:
    assert inflate.BACKEND == "zlib-ng"  # installed with apdocs: the fallback is the exception


@pytest.fixture(params=["zlib-ng", "zlib"])
def backend(request, monkeypatch):
    """Each test twice: with the library apdocs found, and with the standard library's zlib."""
    if request.param == "zlib":
        monkeypatch.setattr(inflate, "_backend", zlib)
        monkeypatch.setattr(inflate, "crc32", zlib.crc32)
    return request.param


def _outcome(data: bytes, path: str) -> object:
    try:
        return parse(bytes(memoryview(data)), path=path).to_dict()
    except ParseError as exc:
        return exc.code


def _outcomes() -> dict[str, object]:
    out: dict[str, object] = {}
    for p in SAMPLES:
        data = p.read_bytes()
        out[p.name] = _outcome(data, p.name)
        for at in range(60, len(data), max(1, len(data) // 12)):  # a flipped byte at a dozen places
            damaged = data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]
            out[f"{p.name}@{at}"] = _outcome(damaged, p.name)
    return out


def test_samples_and_damaged_copies_read_the_same_with_either(backend: str) -> None:
    got = _outcomes()
    assert len(SAMPLES) >= 8
    assert {"PART_CORRUPT"} <= set(map(str, got.values()))  # the damage reached the inflater
    if backend == "zlib":
        return
    with pytest.MonkeyPatch.context() as mp:  # the same files read with the standard library
        mp.setattr(inflate, "_backend", zlib)
        mp.setattr(inflate, "crc32", zlib.crc32)
        assert _outcomes() == got


def _package(document: bytes, *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("[Content_Types].xml", b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr(
            "_rels/.rels",
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
            b' Target="word/document.xml"/></Relationships>',
        )
        zf.writestr("word/document.xml", document)
    return buf.getvalue()


def test_a_bomb_a_lie_and_a_dtd_are_refused_alike(backend: str) -> None:
    body = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>'
    ok = ooxml.open_package(_package(body), path="x.docx", kind="docx")
    assert ok.part("word/document.xml") == body
    # a part whose header understates its size: inflating past it is ZIP_BOMB, whichever library
    big = _package(body + b" " * 200_000)
    info = zipfile.ZipFile(io.BytesIO(big)).getinfo("word/document.xml")
    lied = bytearray(big)
    for entry in (m.start() for m in re.finditer(b"PK\x01\x02", big)):  # the central directory's entries
        if big[entry + 46 : entry + 46 + len(b"word/document.xml")] == b"word/document.xml":
            lied[entry + 24 : entry + 28] = (info.file_size // 100).to_bytes(4, "little")
    with pytest.raises(ParseError) as caught:
        ooxml.open_package(bytes(lied), path="x.docx", kind="docx").part("word/document.xml")
    assert caught.value.code == "ZIP_BOMB"
    with pytest.raises(ParseError) as caught:
        ooxml.open_package(_package(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + body), path="x.docx", kind="docx")
    assert caught.value.code == "DTD_FORBIDDEN"


def test_inflate_and_crc_agree_on_random_streams() -> None:
    """Whole streams, streams cut short and bounded output: the same bytes from both libraries."""
    import random

    rng = random.Random(12)
    for _ in range(200):
        raw = bytes(rng.choice(b"ab<>/ \n\x00\xff") for _ in range(rng.randrange(0, 5000)))
        c = zlib.compressobj(rng.choice([1, 6, 9]), zlib.DEFLATED, -15)
        stream = c.compress(raw) + c.flush()
        for data, limit in ((stream, 1 << 20), (stream[: len(stream) // 2], 1 << 20), (stream, 512)):
            want = zlib.decompressobj(-15)
            got = inflate.raw_decompressor()
            assert got.decompress(data, limit) == want.decompress(data, limit)
            assert got.unconsumed_tail == want.unconsumed_tail
        assert inflate.crc32(raw) == zlib.crc32(raw)
