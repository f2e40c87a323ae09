"""open_package remembers what it found on a part's exact bytes (``ooxml._Memo``), and must never
let that weaken a check: every test here opens a good package first, so the memo holds its parts,
then one that differs from it where a wrong memo would look past the difference - inside a part
of the same name, size and CRC, in a damaged copy, or in a header that lies about the same bytes.
"""

from __future__ import annotations

import io
import random
import struct
import threading
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apdocs.api import render_form
from apdocs.errors import ParseError
from apdocs.formats import inflate, ooxml
from apdocs.formats.ooxml import open_package
from apdocs.formats.zipdir import ZipEntry

STYLES = "word/styles.xml"


@pytest.fixture(scope="module")
def good() -> bytes:
    values = {"reference": "SYN-0001", "pupil_reference": "P-TEST-01", "q1": "A synthetic answer."}
    return render_form("appendix4", "docx", values)


@pytest.fixture(autouse=True)
def fresh_memos() -> Iterator[None]:
    """Each test starts with this thread's memos empty (the memos are per thread), and without the
    last package opened (open_package gives it back for the very same bytes object)."""
    ooxml._memos.__init__()  # type: ignore[misc]
    ooxml._recent.opened = None
    yield
    ooxml._memos.__init__()  # type: ignore[misc]


def parts_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def build(parts: dict[str, bytes], *, stored: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in parts.items():
            zf.writestr(name, raw, compress_type=zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return out.getvalue()


def replaced(data: bytes, name: str, fn: Callable[[bytes], bytes], **kw: tuple[str, ...]) -> bytes:
    parts = parts_of(data)
    parts[name] = fn(parts[name])
    return build(parts, **kw)


def info_of(data: bytes, name: str) -> ZipEntry:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return ZipEntry.of(zf.getinfo(name))


def stored_bytes(data: bytes, name: str) -> bytes:
    return ooxml._stored_bytes(data, info_of(data, name), None)


def forge_crc(raw: bytes, at: int, target: int) -> bytes:
    """``raw`` with its 4 bytes from ``at`` chosen so that its CRC-32 is ``target``.

    CRC-32 is affine over GF(2): flipping a set of bits changes the CRC by the XOR of what each
    flip does alone. So the 32 bits at ``at`` are solved for, one Gaussian elimination."""
    base = zlib.crc32(raw)
    columns = []  # what flipping each of the 32 bits does to the CRC
    for bit in range(32):
        flipped = bytearray(raw)
        flipped[at + bit // 8] ^= 1 << (bit % 8)
        columns.append(zlib.crc32(bytes(flipped)) ^ base)
    want = base ^ target
    # rows: (effect on the CRC, which bits make it), reduced to one row per pivot bit
    rows: list[tuple[int, int]] = []
    for bit, effect in enumerate(columns):
        combo = 1 << bit
        for pivot_effect, pivot_combo in rows:
            if effect ^ pivot_effect < effect:
                effect, combo = effect ^ pivot_effect, combo ^ pivot_combo
        if effect:
            rows.append((effect, combo))
            rows.sort(reverse=True)
    chosen = 0
    for effect, combo in rows:
        if want ^ effect < want:
            want, chosen = want ^ effect, chosen ^ combo
    assert want == 0, "32 consecutive bits always reach any CRC"
    out = bytearray(raw)
    for bit in range(32):
        if chosen >> bit & 1:
            out[at + bit // 8] ^= 1 << (bit % 8)
    assert zlib.crc32(bytes(out)) == target
    return bytes(out)


def error_of(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as caught:
        open_package(data, path="return.docx", kind="docx")
    return caught.value


class _Spy:
    """Stands in for inflate.raw_decompressor and notes which part each inflation was of."""

    def __init__(self, data: bytes) -> None:
        self.stored = {name: stored_bytes(data, name) for name in parts_of(data)}
        self.inflated: Counter[str] = Counter()  # part -> decompress calls

    def __call__(self) -> _Inflater:
        return _Inflater(self, _REAL_DECOMPRESSOR())


class _Inflater:
    def __init__(self, spy: _Spy, real: Any) -> None:
        self.spy, self.real = spy, real

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        self.spy.inflated.update(n for n, s in self.spy.stored.items() if data and s.endswith(data))
        return self.real.decompress(data, max_length)

    @property
    def unconsumed_tail(self) -> bytes:
        return self.real.unconsumed_tail


_REAL_DECOMPRESSOR = inflate.raw_decompressor


def test_a_part_shared_by_two_returns_is_inflated_once(good: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the memo, shown without timing: a second return of the same form inflates
    none of the parts it shares with the first (not even a prolog), and each other part once."""
    other = render_form("appendix4", "docx", {"reference": "SYN-0002", "q1": "Another synthetic answer."})
    shared = {name for name in parts_of(good) if stored_bytes(good, name) == stored_bytes(other, name)}
    assert {STYLES, "word/theme/theme1.xml", "[Content_Types].xml", "_rels/.rels"} <= shared
    spy = _Spy(other)
    xml_parts = {n for n in spy.stored if ooxml._is_xml_name(n)}
    monkeypatch.setattr(inflate, "raw_decompressor", spy)
    open_package(other, path=None, kind="docx")
    assert shared <= set(spy.inflated)  # nothing remembered yet: every XML part is inflated
    ooxml._memos.__init__()  # type: ignore[misc]
    open_package(good, path=None, kind="docx")
    spy.inflated.clear()
    open_package(other, path=None, kind="docx")
    # each other part inflated in one call: its prolog, or whole when it is read (the main part too)
    assert spy.inflated == dict.fromkeys(xml_parts - shared, 1)


def test_a_dtd_added_inside_a_part_of_the_same_name_size_and_crc_is_refused(good: bytes) -> None:
    """A DTD slipped into a part that matches a remembered one in name, declared size and CRC
    (forged, as anyone can) is still refused: the memo compares the stored bytes themselves."""
    pad = b"<!--" + b"0" * 64 + b"-->"
    plain = replaced(good, STYLES, lambda r: r + pad)
    styles = parts_of(plain)[STYLES]
    dtd = b"<!DOCTYPE w:styles>"
    head = styles.index(b"?>") + 2
    evil = styles[:head] + dtd + styles[head : -len(pad)] + b"<!--" + b"0" * (64 - len(dtd)) + b"-->"
    assert len(evil) == len(styles)
    evil = forge_crc(evil, len(evil) - 3 - 8, zlib.crc32(styles))
    hostile = replaced(plain, STYLES, lambda _r: evil)
    a, b = info_of(plain, STYLES), info_of(hostile, STYLES)
    assert ooxml._memo_key(a) == ooxml._memo_key(b)  # the memo's key cannot tell them apart
    assert stored_bytes(plain, STYLES) != stored_bytes(hostile, STYLES)

    open_package(plain, path=None, kind="docx")
    assert ooxml._memo_key(a) in ooxml._memos.no_dtd.entries
    err = error_of(hostile)
    assert err.code == "DTD_FORBIDDEN" and err.context["part"] == STYLES

    # the same with the part stored uncompressed, where the prolog is read in place
    plain_stored = replaced(good, STYLES, lambda r: r + pad, stored=(STYLES,))
    hostile_stored = replaced(plain_stored, STYLES, lambda _r: evil, stored=(STYLES,))
    open_package(plain_stored, path=None, kind="docx")
    assert error_of(hostile_stored).code == "DTD_FORBIDDEN"


def test_a_damaged_copy_of_a_remembered_part_still_fails_typed(good: bytes) -> None:
    """Same name, declared size and CRC as a part vetted a moment ago, its deflate stream broken
    at the start: PART_CORRUPT, as without the memo."""
    open_package(good, path=None, kind="docx")
    assert ooxml._memo_key(info_of(good, STYLES)) in ooxml._memos.no_dtd.entries
    start = ooxml._stored_bytes(good, info_of(good, STYLES), None)
    at = good.index(start)
    broken = good[:at] + b"\xff" + good[at + 1 :]  # BTYPE 11: a block type deflate does not have
    err = error_of(broken)
    assert err.code == "PART_CORRUPT" and err.context["part"] == STYLES


def test_a_damaged_main_part_after_a_good_one_is_xml_invalid(good: bytes) -> None:
    open_package(good, path=None, kind="docx")
    assert error_of(replaced(good, "word/document.xml", lambda r: r[: len(r) // 2])).code == "XML_INVALID"


def unique_package(n: int, *, parts: int, pad: int = 0, overrides: int = 1) -> bytes:
    """A small valid package whose content types, relationships and ``parts`` XML parts no other
    call makes (``n`` is in each)."""
    override = b'<Override PartName="/custom/p%d-%d.xml" ContentType="application/xml"/>'
    content = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            + b"".join(override % (n, i) for i in range(overrides))
            + b"</Types>"
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="r%d" Type="urn:x-test" Target="custom/p0.xml"/></Relationships>' % n
        ),
    }
    filler = bytes(zlib.crc32(str((n, i)).encode()) % 26 + 65 for i in range(pad))  # compresses poorly
    for i in range(parts):
        content[f"custom/p{i}.xml"] = b'<?xml version="1.0"?><p n="%d-%d">%s</p>' % (n, i, filler)
    return build(content)


def test_the_memo_stays_bounded_in_entries_and_bytes() -> None:
    memo = ooxml._memos.no_dtd
    for n in range(12):
        open_package(unique_package(n, parts=40), path=None, kind="docx")
    assert len(memo.entries) == ooxml.MEMO_ENTRIES  # 480 unique parts seen, the most recent kept
    assert memo.held == sum(size for _stored, _value, size in memo.entries.values())
    ooxml._memos.__init__()  # type: ignore[misc]
    memo = ooxml._memos.no_dtd
    for n in range(8):
        open_package(unique_package(n, parts=8, pad=200_000), path=None, kind="docx")
    assert 0 < memo.held <= ooxml.MEMO_BYTES < 64 * 200_000
    assert len(memo.entries) < 64


def test_the_content_types_and_relationships_memos_stay_bounded() -> None:
    for n in range(100):
        open_package(unique_package(n, parts=1), path=None, kind="docx")
    for memo in (ooxml._memos.types, ooxml._memos.rels):
        assert len(memo.entries) == memo.max_entries < 100
        assert memo.held == sum(size for _stored, _value, size in memo.entries.values()) <= memo.max_bytes
    # content types whose parsed form would be big are not kept, however well they compress
    big = unique_package(100, parts=1, overrides=3_000)
    big_raw = parts_of(big)["[Content_Types].xml"]
    assert len(stored_bytes(big, "[Content_Types].xml")) + len(big_raw) < ooxml.MEMO_PART_BYTES  # fits as bytes alone
    pkg = open_package(big, path=None, kind="docx")
    assert pkg.content_types.of("custom/p100-2999.xml") == "application/xml"
    assert all(value[0] != big_raw for _stored, value, _size in ooxml._memos.types.entries.values())


def test_a_part_too_big_to_remember_is_not_kept() -> None:
    big = unique_package(0, parts=1, pad=2 * ooxml.MEMO_PART_BYTES)
    open_package(big, path=None, kind="docx")
    assert ("custom/p0.xml", zipfile.ZIP_DEFLATED) not in {key[:2] for key in ooxml._memos.no_dtd.entries}


def test_threads_do_not_share_memos(good: bytes) -> None:
    open_package(good, path=None, kind="docx")
    mine = ooxml._memos.no_dtd
    assert mine.entries
    seen: dict[str, object] = {}

    def other_thread() -> None:
        seen["before"] = len(ooxml._memos.no_dtd.entries)
        open_package(good, path=None, kind="docx")
        seen["memo"] = ooxml._memos.no_dtd
        seen["after"] = len(ooxml._memos.no_dtd.entries)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["before"] == 0 and seen["after"] == len(mine.entries)
    assert seen["memo"] is not mine


def _patch_headers(data: bytes, name: str, local: int, central: int, value: int) -> bytes:
    """Write ``value`` (4 bytes) at offset ``local`` of ``name``'s local header and ``central`` of
    its central directory entry: both headers then declare it, the stored bytes unchanged."""
    buf = bytearray(data)
    struct.pack_into("<I", buf, info_of(data, name).header_offset + local, value)
    pos = buf.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if buf[pos + 46 : pos + 46 + n] == name.encode():
            struct.pack_into("<I", buf, pos + central, value)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def patch_crc(data: bytes, name: str, crc: int) -> bytes:
    """Make both headers of ``name`` declare ``crc`` (the stored bytes unchanged)."""
    return _patch_headers(data, name, 14, 16, crc)


def same_size_broken(raw: bytes) -> bytes:
    """The XML with one ">" made "!" after its declaration: damaged, the same length."""
    at = raw.index(b">", raw.index(b"?>") + 2)
    return raw[:at] + b"!" + raw[at + 1 :]


@pytest.mark.parametrize("name", ["[Content_Types].xml", "_rels/.rels"])
def test_a_part_read_whole_is_checked_in_full_unless_its_bytes_are_the_remembered_ones(good: bytes, name: str) -> None:
    """[Content_Types].xml and the package's relationships are remembered read and parsed; a copy
    damaged at the same size (and CRC), ones whose headers lie about the CRC or size of the same
    stored bytes, and one adding a DTD, each still fail as they always did."""
    open_package(good, path=None, kind="docx")
    memo = ooxml._memos.types if name == ooxml.CONTENT_TYPES else ooxml._memos.rels
    assert ooxml._memo_key(info_of(good, name)) in memo.entries

    original = parts_of(good)[name]
    damaged = same_size_broken(original)
    damaged = forge_crc(damaged, len(damaged) - 20, zlib.crc32(original))  # and the same CRC
    broken = replaced(good, name, lambda _r: damaged)
    assert ooxml._memo_key(info_of(broken, name)) == ooxml._memo_key(info_of(good, name))
    err = error_of(broken)
    assert err.code == "XML_INVALID" and err.context["part"] == name

    for lying in (
        patch_crc(good, name, info_of(good, name).CRC ^ 1),
        patch_size(good, name, info_of(good, name).file_size - 1),
        patch_size(good, name, info_of(good, name).file_size + 1),
    ):
        assert stored_bytes(lying, name) == stored_bytes(good, name)
        err = error_of(lying)
        assert err.code == "PART_CORRUPT" and err.context["part"] == name

    err = error_of(replaced(good, name, lambda r: r.replace(b"?>", b"?><!DOCTYPE x>", 1)))
    assert err.code == "DTD_FORBIDDEN" and err.context["part"] == name

    open_package(good, path=None, kind="docx")  # and the good one still opens


def test_what_a_package_hands_out_cannot_change_the_memo(good: bytes) -> None:
    """Packages opened from the memo (the second and third here) share no dict with it or each other."""
    main_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    packages = []
    for _ in range(3):
        pkg = open_package(bytes(bytearray(good)), path=None, kind="docx")
        assert pkg.content_types.defaults["xml"] == "application/xml"
        assert pkg.content_types.of("word/document.xml") == main_type
        assert pkg.main_part() == "word/document.xml"
        packages.append(pkg)
        pkg.content_types.defaults["xml"] = "text/evil"
        pkg.content_types.overrides.clear()
        pkg.content_types._by_lower.clear()
        pkg.relationships("")[0]["Target"] = "evil.xml"
        pkg._rels[""][0]["Target"] = "evil.xml"  # even the package's own copy
    assert len({id(p.content_types.defaults) for p in packages}) == 3


def test_remembered_relationships_equal_parsed_ones(good: bytes) -> None:
    fresh = open_package(bytes(bytearray(good)), path=None, kind="docx")
    assert fresh._trees  # parsed: the relationships came from the tree
    expected = (fresh.relationships(""), fresh.relationships("word/document.xml"), fresh.part("_rels/.rels"))
    again = open_package(bytes(bytearray(good)), path=None, kind="docx")
    assert "_rels/.rels" not in again._trees  # remembered: nothing parsed
    assert (again.relationships(""), again.relationships("word/document.xml"), again.part("_rels/.rels")) == expected
    assert again.xml("_rels/.rels").tag.endswith("Relationships")  # the tree is still there when asked for


@pytest.mark.parametrize(
    ("extra", "macros"),
    [
        ("word/vbaProject.bin", True),
        ("WORD/VBAPROJECT.BIN", True),
        ("word/vbaProjectSignature.bin", True),
        ("customXml/vbaData.xml", True),
        ("vbadata.xml", True),
        ("word/myvba.bin", False),
        ("word/vba/notes.bin", False),
        ("word/xvbadata.xml", False),
    ],
)
def test_vba_parts_are_known_by_name_in_any_case(good: bytes, extra: str, macros: bool) -> None:
    """The by-name macro check (done on the lower-cased names at once) finds what the per-part one did."""
    parts = parts_of(good)
    parts[extra] = b'<?xml version="1.0"?><x/>' if extra.endswith(".xml") else b"\0binary"
    pkg = open_package(build(parts), path=None, kind="docx")
    assert pkg.macro_enabled is macros
    assert any(n.code == "MACROS_IGNORED" for n in pkg.notices) is macros
    assert ooxml._is_vba_name(extra) is macros


def test_the_main_part_read_whole_while_vetting_fails_as_it_always_did(good: bytes) -> None:
    """With the package's relationships remembered, the main part is read whole in the DTD pass
    (its name is known); a main part that is damaged, lies about its size or declares a DTD
    still fails with the code it always did, and a sound one is read once, as zipfile reads it."""
    doc = "word/document.xml"
    open_package(good, path=None, kind="docx")
    pkg = open_package(bytes(bytearray(good)), path=None, kind="docx")
    assert pkg._parts[doc] == parts_of(good)[doc]

    plain = replaced(good, doc, lambda r: r, stored=(doc,))
    at = plain.index(b"<w:body>")
    corrupt = plain[:at] + b"<w:bodY>" + plain[at + 8 :]  # same size, wrong CRC
    lying = replaced(good, doc, lambda r: r + b" " * 200_000)
    lying = patch_size(lying, doc, info_of(good, doc).file_size)
    cases = {
        "PART_CORRUPT": corrupt,
        "ZIP_BOMB": lying,
        "DTD_FORBIDDEN": replaced(good, doc, lambda r: r.replace(b"?>", b"?><!DOCTYPE w:document>", 1)),
        "XML_INVALID": replaced(good, doc, same_size_broken),
    }
    for code, data in cases.items():
        open_package(plain, path=None, kind="docx")  # the relationships are remembered
        assert ooxml._memo_key(info_of(data, "_rels/.rels")) in ooxml._memos.rels.entries
        err = error_of(data)
        assert (err.code, err.context.get("part")) == (code, doc)


def patch_size(data: bytes, name: str, size: int) -> bytes:
    """Make both headers of ``name`` declare ``size`` uncompressed bytes."""
    return _patch_headers(data, name, 22, 24, size)


def outcome(data: bytes) -> tuple[object, ...]:
    """All open_package says about ``data``: its error, or what the package holds."""
    ooxml._recent.opened = None
    try:
        pkg = open_package(data, path="return.docx", kind="docx")
    except ParseError as err:
        return ("error", err.code, str(err), err.context)
    main = pkg.main_part()
    return (
        "ok",
        pkg.names,
        pkg.macro_enabled,
        [n.code for n in pkg.notices],
        main,
        pkg.relationships(""),
        pkg.content_types.defaults,
        pkg.content_types.overrides,
        main is not None and pkg.checked_bytes(main) is not None,
        sorted(pkg._parts.items()),
    )


def test_the_memo_never_changes_an_outcome(good: bytes) -> None:
    """Differential: a byte changed anywhere in a return (a part's data, a local header, the
    directory) gives the same outcome whether the memo holds every part of the good return or
    nothing at all."""
    rng = random.Random(12)
    positions = [rng.randrange(len(good)) for _ in range(300)]
    cd = good.index(b"PK\x01\x02")
    positions += [rng.randrange(cd, len(good)) for _ in range(100)]  # the directory, densely
    differing = 0
    for at in positions:
        mutated = good[:at] + bytes([good[at] ^ (1 << rng.randrange(8))]) + good[at + 1 :]
        ooxml._memos.__init__()  # type: ignore[misc]
        cold = outcome(mutated)
        ooxml._memos.__init__()  # type: ignore[misc]
        outcome(good)  # every part of the good return remembered
        warm = outcome(mutated)
        assert warm == cold, at
        differing += cold[0] == "error"
    assert differing > 50  # the mutations did reach the checks
