"""Open a returned Office Open XML package (.docx/.xlsx/.docm/.xlsm) safely.

python-docx and openpyxl trust the zip and the XML they are given. Returned forms
come from outside, so every reader goes through :func:`open_package` first, which:

* sniffs the bytes and names what the file really is when it is not OOXML
  (empty, truncated, PDF/HTML/RTF renamed, legacy OLE2 .doc/.xls, password-protected);
* checks the zip central directory *before* decompressing anything (entry count,
  declared sizes, compression ratio) and enforces the same caps while reading, in
  case the headers lie (zip bomb);
* rejects duplicate part names (two parts a reader could confuse);
* refuses any XML part that declares a DTD (no entities, no DTD, nothing fetched). A DTD
  can only come before the root element, so a part no reader needs is inflated only up
  to its root element (a few KB, however big the part: a Word document's styles run to
  hundreds of KB); a part that is read is inflated whole, its size and checksum verified;
* refuses Strict OOXML (see :data:`STRICT_NAMESPACE`) with a clear message: the office
  libraries only understand Transitional, and a silent mis-read would lose answers;
* notes macro-enabled packages (``MACROS_IGNORED``): the data is read, macros never are,
  and :meth:`OoxmlPackage.clean_bytes` gives a macro-free copy for the office libraries.

Returns of one form share most of their parts byte for byte, so what vetting finds on a part's
exact stored bytes (no DTD; the content types; the relationships) is remembered, per thread and
bounded (:class:`_Memo`), and reused only for stored bytes equal to those: never on a checksum.

Nothing here executes, fetches or writes anything.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lxml import etree

from apdocs.errors import Notice, ParseError
from apdocs.formats import inflate
from apdocs.formats.prune import inner_root, prune_formatting
from apdocs.formats.zipdir import ZipEntry, plain_entries
from apdocs.forms.model import TAG_PREFIX

# -- caps (a returned form is a few hundred KB; these leave wide headroom) -------

#: Most entries a package may have. A form has ~20-60 parts.
MAX_ENTRIES = 5_000
#: Largest uncompressed size of any one part (images included).
MAX_PART_BYTES = 64 * 1024 * 1024
#: Largest uncompressed size of one XML part: a form's biggest part is well under 1 MB,
#: and a parsed XML tree takes many times its size in memory.
MAX_XML_PART_BYTES = 10 * 1024 * 1024
#: Most cells all worksheets of a workbook may hold together: a form has a few hundred.
#: Counted on the raw XML, so no tree is built for a sheet stuffed with cells.
MAX_CELLS = 100_000
#: Largest uncompressed size of the whole package.
MAX_TOTAL_BYTES = 256 * 1024 * 1024
#: Highest compression ratio accepted for a part bigger than :data:`RATIO_MIN_BYTES`.
#: Real XML compresses ~5-30x; zip bombs compress 1000x and more.
MAX_RATIO = 200
#: Parts smaller than this are not ratio-checked (tiny repetitive parts compress well).
RATIO_MIN_BYTES = 1024 * 1024
#: How far past its declared size a part may inflate and still be called damaged (PART_CORRUPT)
#: rather than a bomb (ZIP_BOMB): a header a few bytes out is damage, and inflating this much
#: further to tell them apart costs nothing; a part that keeps going is lying about its size.
CORRUPT_SLACK = 64 * 1024

#: Namespace prefix of ISO 29500 Strict OOXML, which apdocs refuses (STRICT_OOXML).
STRICT_NAMESPACE = "http://purl.oclc.org/ooxml/"

CONTENT_TYPES = "[Content_Types].xml"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_RELATIONSHIP = f"{{{_REL_NS}}}Relationship"

#: Main-part content types: macro-enabled -> the plain equivalent.
_MACRO_MAIN_TYPES = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ),
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ),
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    ),
    "application/vnd.ms-excel.template.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    ),
}
_VBA_TYPES = ("application/vnd.ms-office.vbaProject", "application/vnd.ms-word.vbaData+xml")

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Binaries older than OLE2 (no compound file around them): Word for DOS, Word for Windows 1
# and 2 (their FIB's magic word), and Excel 2, 3, 4 and a bare Excel 5 BIFF stream (the BOF
# record: type 0x0009/0x0209/0x0409/0x0809 and its length).
_OLD_WORD_MAGIC = (b"\x31\xbe\x00\x00", b"\x32\xbe\x00\x00", b"\x9b\xa5", b"\xdb\xa5")
_OLD_EXCEL_MAGIC = (b"\x09\x00\x04\x00", b"\x09\x02\x06\x00", b"\x09\x04\x06\x00", b"\x09\x08\x08\x00", b"\x09\x08\x10\x00")
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.IGNORECASE)
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_NAMES = {"docx": ("Word", ".docx"), "xlsx": ("Excel", ".xlsx")}


def _err(code: str, message: str, path: str | None, **context: Any) -> ParseError:
    return ParseError(message, code=code, path=path, context=context)


def _save_hint(kind: str) -> str:
    app, ext = _NAMES.get(kind, ("Word or Excel", ".docx or .xlsx"))
    return f"please open it in {app}, save it as {ext} and send it again"


# -- sniffing what a non-zip file really is ----------------------------------


def sniff(data: bytes) -> str | None:
    """Name a well-known non-zip format from its first bytes: pdf, ole2, doc and xls (binaries
    older than OLE2), html, rtf, xml or mime."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    low = head.lower()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_OLE2_MAGIC):
        return "ole2"
    if data.startswith(_OLD_WORD_MAGIC):
        return "doc"
    if data.startswith(_OLD_EXCEL_MAGIC):
        return "xls"
    if low.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")) or b"<html" in low[:512]:
        return "html"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "xml"
    if head.startswith((b"MIME-Version:", b"From:", b"Content-Type:")):
        return "mime"
    return None


def zip_lists(data: bytes, name: str) -> bool:
    """Whether ``data`` is a zip whose central directory lists ``name`` (any case).

    Reads the directory only, never a member; never raises. The formats' cheap
    ``detect`` (a file picker's guess); reading always goes through :func:`open_package`.
    """
    if not data.startswith(b"PK"):
        return False
    want = name.lower()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return any(n.lower() == want for n in zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def cfb_stream_names(data: bytes, *, max_entries: int = 4096) -> list[str]:
    """Names in an OLE2/CFB container's directory (no extra library, bounded).

    Follows the directory sector chain through the FAT sectors listed in the header
    (enough for any file this small program should meet); on any inconsistency falls
    back to scanning for the UTF-16 names, so detection never raises.
    """
    try:
        return _cfb_directory(data, max_entries)
    except (struct.error, ValueError, IndexError):
        found = []
        for name in ("EncryptionInfo", "EncryptedPackage", "WordDocument", "Workbook", "Book"):
            if name.encode("utf-16-le") in data:
                found.append(name)
        return found


def _cfb_directory(data: bytes, max_entries: int) -> list[str]:
    if not data.startswith(_OLE2_MAGIC) or len(data) < 512:
        raise ValueError("not CFB")
    sector_shift = struct.unpack_from("<H", data, 30)[0]
    if sector_shift not in (9, 12):
        raise ValueError("bad sector size")
    size = 1 << sector_shift
    n_fat = struct.unpack_from("<I", data, 44)[0]
    first_dir = struct.unpack_from("<I", data, 48)[0]
    difat = struct.unpack_from("<109I", data, 76)[: min(n_fat, 109)]

    def sector(i: int) -> bytes:
        start = size + i * size  # sector 0 follows the 512-byte header (padded to one sector)
        if start + size > len(data):
            raise ValueError("sector out of range")
        return data[start : start + size]

    fat: list[int] = []
    for s in difat:
        fat.extend(struct.unpack(f"<{size // 4}I", sector(s)))
    names: list[str] = []
    seen: set[int] = set()
    cur = first_dir
    while cur < 0xFFFFFFFA and cur not in seen and len(names) < max_entries:
        seen.add(cur)
        block = sector(cur)
        for off in range(0, size, 128):
            name_len = struct.unpack_from("<H", block, off + 64)[0]
            if 2 <= name_len <= 64:
                names.append(block[off : off + name_len - 2].decode("utf-16-le", "replace"))
        cur = fat[cur]
    return names


def _reject_non_zip(data: bytes, path: str | None, kind: str) -> ParseError:
    what = sniff(data)
    hint = _save_hint(kind)
    if what == "ole2":
        names = set(cfb_stream_names(data))
        if {"EncryptionInfo", "EncryptedPackage"} & names:
            return _err(
                "ENCRYPTED",
                f"the file is password-protected; {hint.replace('save it as', 'remove the password, save it as')}",
                path,
            )
        legacy = ".doc" if "WordDocument" in names else ".xls" if names & {"Workbook", "Book"} else ".doc/.xls"
        # The streams say what it really is: an old Word file renamed .xlsx still needs saving as .docx.
        real = {".doc": "docx", ".xls": "xlsx"}.get(legacy, kind)
        return _err("LEGACY_FORMAT", f"this is an old-style {legacy} file; {_save_hint(real)}", path, legacy=legacy)
    if what in ("doc", "xls"):
        real = {"doc": "docx", "xls": "xlsx"}[what]
        era = {"doc": "Word for DOS or Word 2", "xls": "Excel 2 to 4"}[what]
        return _err("LEGACY_FORMAT", f"this is a very old {era} file; {_save_hint(real)}", path, legacy="." + what)
    if what == "pdf":
        return _err("NOT_OOXML", f"this is a PDF, not a form that can be read back; {hint}", path, actual="pdf")
    if what == "html":
        return _err("NOT_OOXML", f"this is a web page (HTML) saved with an office name; {hint}", path, actual="html")
    if what == "rtf":
        return _err("NOT_OOXML", f"this is a Rich Text (RTF) file; {hint}", path, actual="rtf")
    if what in ("xml", "mime"):
        return _err("NOT_OOXML", f"this is a flat {what.upper()} file, not a zipped office document; {hint}", path, actual=what)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK"):
        return _err("TRUNCATED", "the file is cut short or damaged (the zip directory is missing); please send it again", path)
    return _err("NOT_A_ZIP", f"the file is not a zipped office document; {hint}", path)


# -- the zip central directory, checked before anything is decompressed ------


def _eocd_entry_count(data: bytes) -> int | None:
    """Entries declared by the end-of-central-directory record, read without zipfile."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return None
    count = struct.unpack_from("<H", data, pos + 10)[0]
    if count == 0xFFFF:  # Zip64: the real count is in the Zip64 end record, found by its locator
        loc = pos - 20
        if loc >= 0 and data[loc : loc + 4] == b"PK\x06\x07":
            rec = struct.unpack_from("<Q", data, loc + 8)[0]
            if rec + 56 <= len(data) and data[rec : rec + 4] == b"PK\x06\x06":
                return int(struct.unpack_from("<Q", data, rec + 32)[0])
    return int(count)


def _check_directory(infos: list[ZipEntry], path: str | None) -> dict[str, str]:
    """Checks the directory's entries; gives back each part's name by its lower-cased one, in
    the directory's order (made here anyway, it saves open_package lower-casing names again)."""
    if len(infos) > MAX_ENTRIES:
        raise _err("ZIP_BOMB", f"the package has {len(infos)} parts (limit {MAX_ENTRIES})", path, entries=len(infos))
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        key = info.filename.lower()  # OPC part names compare case-insensitively
        if key in seen:
            raise _err("DUPLICATE_ENTRY", f"the package holds two parts named {info.filename!r}", path, part=info.filename)
        seen[key] = info.filename
        if info.flag_bits & 0x1:
            raise _err("ENCRYPTED", "a part of the package is encrypted; " + _save_hint("docx"), path, part=info.filename)
        limit = MAX_XML_PART_BYTES if key.endswith(_XML_SUFFIXES) else MAX_PART_BYTES
        if info.file_size > limit:
            raise _err(
                "ZIP_BOMB",
                f"part {info.filename!r} would unpack to {info.file_size} bytes (over {limit})",
                path,
                part=info.filename,
            )
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _err("ZIP_BOMB", f"part {info.filename!r} is compressed suspiciously far", path, part=info.filename)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise _err("ZIP_BOMB", f"the package would unpack to more than {MAX_TOTAL_BYTES} bytes", path)
    return seen


_XML_SUFFIXES = (".xml", ".rels", ".vml")


def _is_xml_name(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)


def _is_xml_type(content_type: str | None) -> bool:
    ctype = (content_type or "").lower()
    return ctype.endswith("xml") and not ctype.startswith("image/")


def _read_member(data: bytes, info: ZipEntry, path: str | None) -> bytes:
    """Decompress one part ourselves, never past its declared size or the caps.

    zipfile would silently stop at the declared size and then report a CRC error;
    decompressing here lets a header that understates the size be named ZIP_BOMB,
    with at most one bounded chunk produced past the declaration.
    """
    name = info.filename
    raw = _stored_bytes(data, info, path)
    if info.compress_type == zipfile.ZIP_STORED:
        out = raw
    else:
        # past the declared size by more than the slack (or past the cap): ZIP_BOMB, from _inflate
        out = _inflate(raw, min(info.file_size + CORRUPT_SLACK, _limit(name)), path, name)
    if len(out) != info.file_size:
        raise _err("PART_CORRUPT", f"part {name!r} is damaged (it does not unpack to its declared size)", path, part=name)
    if inflate.crc32(out) != info.CRC:
        raise _err("PART_CORRUPT", f"part {name!r} is damaged (checksum mismatch)", path, part=name)
    return out


def _limit(name: str) -> int:
    return MAX_XML_PART_BYTES if _is_xml_name(name) else MAX_PART_BYTES


def _stored_bytes(data: bytes, info: ZipEntry, path: str | None) -> bytes:
    """A part's bytes as stored in the zip (compressed), after checking its local header."""
    name = info.filename
    start = info.header_offset
    if data[start : start + 4] != b"PK\x03\x04":
        raise _err("PART_CORRUPT", f"part {name!r} is damaged (bad local header)", path, part=name)
    try:
        name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
    except struct.error:
        raise _err("TRUNCATED", f"part {name!r} is cut short", path, part=name) from None
    begin = start + 30 + name_len + extra_len
    raw = data[begin : begin + info.compress_size]
    if len(raw) < info.compress_size:
        raise _err("TRUNCATED", f"part {name!r} is cut short; please send the file again", path, part=name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _err("ZIP_UNSUPPORTED", f"part {name!r} uses a compression Office never writes", path, part=name)
    return raw


#: Bytes first inflated to find where a part's prolog ends (doubling while a long comment lasts).
#: Office writes "<?xml ...?>" and the root's start within ~100 bytes; 512 rather than 4096
#: cut the DTD vetting of a 13-part return by about a quarter (zlib's cost follows its output).
PROLOG_CHUNK = 512
_XML_SPACE = frozenset(b" \t\r\n")


# -- results remembered from earlier packages -----------------------------------------

#: A result holding more than this (the part's stored bytes, and what is kept of it besides) is
#: never remembered: the parts returns share (styles, theme, fonts, settings, content types,
#: relationships) hold a few KB.
MEMO_PART_BYTES = 256 * 1024
#: Most results one thread remembers of one kind, and most bytes they may hold in all: a batch
#: of 10,000 returns must not grow memory (least recently used go first). The XML parts' verdicts
#: have these bounds; the content types and relationships, a form or two's worth (see _Memos).
MEMO_ENTRIES = 256
MEMO_BYTES = 4 * 1024 * 1024

_V = TypeVar("_V")
# What finds a remembered result's candidate: part name, compression, declared size and CRC.
# Never enough on its own (a CRC is forged in microseconds): the stored bytes must be equal too.
_MemoKey = tuple[str, int, int, int]


def _memo_key(info: ZipEntry) -> _MemoKey:
    return (info.filename, info.compress_type, info.file_size, info.CRC)


class _Memo(Generic[_V]):
    """Results that are pure functions of a part's exact stored bytes, kept for the next package.

    Returns of one form share most parts byte for byte (filling a form in changes its document,
    footer and properties, not its styles, theme, fonts or settings; LibreOffice re-saving one
    template writes those alike too), so a result reached on those bytes holds for the next
    return that carries them. A result is given back only when the part's stored bytes EQUAL
    those it was reached on (a memcmp; the key merely finds the candidate), so a part changed
    inside at the same size and CRC, or a damaged copy, is a miss and vetted in full as before.
    Only successes are kept: an error is found, and raised, afresh every time.

    Bounded in entries and bytes held (least recently used out first), and one per thread
    (:data:`_memos`), so no thread sees, or waits for, another's. Values must be immutable:
    callers get them as they are.
    """

    __slots__ = ("entries", "held", "max_bytes", "max_entries")

    def __init__(self, max_entries: int = MEMO_ENTRIES, max_bytes: int = MEMO_BYTES) -> None:
        # key -> (stored bytes, result, bytes held for it)
        self.entries: OrderedDict[_MemoKey, tuple[bytes, _V, int]] = OrderedDict()
        self.held = 0
        self.max_entries, self.max_bytes = max_entries, max_bytes

    def get(self, key: _MemoKey, stored: bytes) -> _V | None:
        hit = self.entries.get(key)
        if hit is None or hit[0] != stored:
            return None
        self.entries.move_to_end(key)
        return hit[1]

    def put(self, key: _MemoKey, stored: bytes, value: _V, extra: int = 0) -> None:
        """Remember ``value`` for exactly ``stored``; ``extra``: bytes the value holds besides."""
        size = len(stored) + extra
        if size > MEMO_PART_BYTES:
            return
        old = self.entries.pop(key, None)  # one candidate per key: a different copy replaces it
        if old is not None:
            self.held -= old[2]
        self.entries[key] = (stored, value, size)
        self.held += size
        while len(self.entries) > self.max_entries or self.held > self.max_bytes:
            self.held -= self.entries.popitem(last=False)[1][2]


class _Memos(threading.local):
    """This thread's memos (threading.local runs ``__init__`` once in each thread that uses it)."""

    def __init__(self) -> None:
        # XML parts found to declare no DTD (the value only marks the entry).
        self.no_dtd: _Memo[bool] = _Memo()
        # [Content_Types].xml: its bytes read whole and verified, and what they declare.
        self.types: _Memo[tuple[bytes, ContentTypes]] = _Memo(max_entries=32, max_bytes=MEMO_BYTES // 4)
        # Relationship parts: their bytes read whole and verified, and the relationships
        # (each an attribute tuple: immutable, so every package makes its own dicts).
        self.rels: _Memo[tuple[bytes, tuple[tuple[tuple[str, str], ...], ...]]] = _Memo(max_entries=64, max_bytes=MEMO_BYTES // 4)


def _remembered(memo: _Memo[_V], data: bytes, info: ZipEntry) -> _V | None:
    """What ``memo`` holds for the part's stored bytes; None for a miss or stored bytes that
    cannot even be found (the caller then vets the part in full, raising what it always did)."""
    try:
        stored = _stored_bytes(data, info, None)
    except ParseError:
        return None
    return memo.get(_memo_key(info), stored)


_memos = _Memos()

#: What a part read whole and parsed is counted to hold in a memo, per byte of it: the bytes, and
#: the Python strings, dicts and tuples parsed from them (measured with tracemalloc: ~1.4x the
#: bytes for content types, ~5x for relationships, each of 2,000 entries).
_PARSED_TOO = 6


def _declares_dtd(data: bytes, info: ZipEntry, path: str | None) -> bool:
    """Whether an XML part declares a DTD, inflating it only as far as its root element.

    XML allows a DOCTYPE only in the prolog, before the root element's start tag, so that
    is all that needs reading. Anything unexpected there (UTF-16 or another encoding, text
    that is not markup, a part that ends inside its prolog) is judged on the whole part.
    """
    name = info.filename
    raw = _stored_bytes(data, info, path)
    key = _memo_key(info)
    if _memos.no_dtd.get(key, raw):
        return False  # these very bytes were vetted before (see _Memo)
    if info.compress_type == zipfile.ZIP_STORED:
        verdict = _prolog(raw, complete=True)
    else:
        allowed = min(info.file_size + CORRUPT_SLACK, _limit(name))
        d = inflate.raw_decompressor()
        buf, tail, want = b"", raw, PROLOG_CHUNK
        while True:
            try:
                buf += d.decompress(tail, want)
            except inflate.Error as exc:
                raise _err("PART_CORRUPT", f"part {name!r} is damaged ({exc})", path, part=name) from None
            if len(buf) > allowed:
                raise _err("ZIP_BOMB", f"part {name!r} unpacks to more than it declares", path, part=name)
            tail = d.unconsumed_tail
            complete = not tail  # max_length stopped short only if input is left over
            verdict = _prolog(buf, complete=complete)
            if verdict is not None or complete:
                break
            want = len(buf)  # doubles the buffer: a long comment costs O(n log n), not O(n^2)
    if verdict == "dtd":
        return True
    if verdict == "other" and has_doctype(_read_member(data, info, path)):
        return True
    _memos.no_dtd.put(key, raw, True)
    return False


def _prolog_declares_dtd(whole: bytes) -> bool:
    """:func:`_declares_dtd`'s verdict on a part already read whole: the same test on the same
    bytes (a DOCTYPE-like string after the root element is left to :func:`parse_xml`, as there)."""
    verdict = _prolog(whole, complete=True)
    return verdict == "dtd" or (verdict != "root" and has_doctype(whole))


#: Small parts every return's reader reads whole anyway: vetted by reading them whole, once
#: (rather than inflating their prolog for the DTD check and then all of them again).
_READ_WHOLE = frozenset({"_rels/.rels", "docProps/custom.xml"})


def _main_target(rels: Iterable[Iterable[tuple[str, str]]]) -> str:
    """The part name :meth:`OoxmlPackage.main_part` gives for these relationships ("" for none)."""
    for rel in rels:
        attrib = dict(rel)
        if attrib.get("Type", "").endswith("/officeDocument"):
            return attrib.get("Target", "").lstrip("/")
    return ""


def _whole_if_sound(data: bytes, info: ZipEntry, path: str | None) -> bytes | None:
    """The part read whole and verified, or None when reading it fails in any way.

    On None the caller vets the part as any other (:func:`_declares_dtd`), so a damaged part
    fails exactly where and how it always did (or not at all, if no reader needs it)."""
    try:
        return _read_member(data, info, path)
    except ParseError:
        return None


#: The prolog Office writes (an XML declaration, then the root element): what the walk in
#: :func:`_prolog` calls "root", matched in C (a returned package has a dozen XML parts).
_PLAIN_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[^?]*\?>[ \t\r\n]*<[^?!].{2}", re.DOTALL)


def _prolog(buf: bytes, *, complete: bool) -> str | None:
    """ "dtd" (a DOCTYPE or other ``<!`` declaration before the root), "root" (the root element
    starts with no DTD before it), "other" (judge the whole part) or None (read further)."""
    if _PLAIN_PROLOG.match(buf):
        return "root"
    i = 3 if buf.startswith(b"\xef\xbb\xbf") else 0
    n = len(buf)
    if buf[i : i + 1] == b"\x00" or buf[i : i + 2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00"):
        return "other"  # UTF-16/32: has_doctype decodes it
    while True:
        while i < n and buf[i] in _XML_SPACE:
            i += 1
        if n - i < 4:  # too short to tell "<!--" from "<!DO" or "<a>"
            return "other" if complete else None
        if buf[i] != 0x3C:  # "<"
            return "other"
        if buf.startswith(b"<?", i):
            end = buf.find(b"?>", i + 2)
            if end < 0:
                return "other" if complete else None
            i = end + 2
        elif buf.startswith(b"<!--", i):
            end = buf.find(b"-->", i + 4)
            if end < 0:
                return "other" if complete else None
            i = end + 3
        elif buf[i + 1] == 0x21:  # "<!" and not a comment: a DOCTYPE, or worse
            return "dtd"
        else:
            return "root"


def _inflate(raw: bytes, allowed: int, path: str | None, name: str) -> bytes:
    """Inflate ``raw``, producing at most ``allowed`` + 1 bytes whatever the stream says.

    zlib's ``max_length`` stops output inside zlib itself, so a lying header costs at most
    one byte past the cap - and one C call instead of a Python loop over 64 KB chunks
    (a form's parts are all far smaller than that).
    """
    d = inflate.raw_decompressor()
    try:
        out = d.decompress(raw, allowed + 1)  # allowed + 1 >= 1: max_length 0 would mean "no limit"
    except inflate.Error as exc:
        raise _err("PART_CORRUPT", f"part {name!r} is damaged ({exc})", path, part=name) from None
    if len(out) > allowed:
        raise _err("ZIP_BOMB", f"part {name!r} unpacks to more than it declares", path, part=name)
    return out


# -- XML ------------------------------------------------------------------------


def safe_parser(target: Any = None) -> etree.XMLParser:
    """The only XML parser apdocs uses on returned files: no DTD, entities, network or huge trees.
    ``target``: an lxml parser target instead of a tree (see :class:`_NoTree`)."""
    return etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=True,
    )


# One parser per thread, reused across parts (building one costs more than parsing a small part;
# lxml parsers must not be shared between threads).
_parsers = threading.local()


def _parser() -> etree.XMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = safe_parser()
    return parser


def has_doctype(raw: bytes) -> bool:
    """Whether an XML document declares a DTD, in any encoding it may use."""
    if b"!" not in raw:
        # "<!DOCTYPE" holds a 0x21 byte in UTF-8, ASCII and both UTF-16s alike; memchr is ~30x
        # cheaper than the regex below, and returned parts (comments and CDATA aside) have none.
        return False
    if _DOCTYPE.search(raw):
        return True
    for bom, enc in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            return "<!doctype" in raw[: 2 * 65_536].decode(enc, "replace").lower()
    # UTF-16 without a BOM: "<\0" or "\0<" at the start.
    if raw[:2] in (b"<\x00", b"\x00<"):
        enc = "utf-16-le" if raw[:2] == b"<\x00" else "utf-16-be"
        return "<!doctype" in raw[: 2 * 65_536].decode(enc, "replace").lower()
    return False


class _NoTree:
    """A parser target that builds nothing: libxml2 still reads every byte and refuses what is not
    well-formed, for about half the cost of building the tree (which a reader may never need)."""

    def close(self) -> None:
        return None


def _checking_parser() -> etree.XMLParser:
    """:func:`safe_parser`'s options without a tree (one per thread, as :func:`_parser`)."""
    parser = getattr(_parsers, "checker", None)
    if parser is None:
        # lxml calls only the target methods that exist (each one defined would cost a Python call per element).
        parser = _parsers.checker = safe_parser(target=_NoTree())
    return parser


#: What :func:`_checked_root_namespace` can read without doubt: a UTF-8 part (an XML declaration
#: naming UTF-8 or none) whose root element comes straight after it, its start tag in group 1
#: (name) and 2 (attributes). Anything else (another encoding, a comment before the root ...)
#: is left to the tree.
_CHECKABLE_HEAD = re.compile(
    rb"(?:\xef\xbb\xbf)?"
    rb"(?:<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*([\"'])1\.0\1"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*([\"'])(?i:utf-8)\2)?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*([\"'])(?:yes|no)\3)?[ \t\r\n]*\?>)?"
    rb"[ \t\r\n]*<([^ \t\r\n/>!?][^ \t\r\n/>]*)((?:[ \t\r\n]+[^ \t\r\n=/>]+[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"]*\"|'[^']*'))*)"
    rb"[ \t\r\n]*/?>"
)
_ATTRIBUTE = re.compile(rb"([^ \t\r\n=]+)[ \t\r\n]*=[ \t\r\n]*(?:\"([^\"]*)\"|'([^']*)')")


def _checked_root_namespace(raw: bytes) -> str | None:
    """The namespace of the part's root element, once libxml2 has found the part well-formed and
    its namespaces sound WITHOUT building a tree; None when that is not certain (then the caller
    builds the tree, which raises the typed error or answers).

    The tree-less check refuses everything the tree parser refuses except namespace errors (an
    unbound prefix, say), which libxml2 only logs: any error-level entry means "not checked".
    """
    head = _checkable_head(raw)
    if head is None:
        return None
    parser = _checking_parser()
    try:
        etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError:
        return None
    if any(entry.level >= etree.ErrorLevels.ERROR for entry in parser.error_log):
        return None
    return head[1]


#: Most heads :func:`_checkable_head` remembers per thread (each form's returns share one).
MAX_HEADS = 8


def _checkable_head(raw: bytes) -> tuple[bytes, str | None] | None:
    """The part's head matched by _CHECKABLE_HEAD (its bytes) and the root's namespace as its
    start tag declares it (None: left to the tree); None when the head is not checkable.

    Every return of a form starts with the same head (declaration and a ~1.3 kB root start tag),
    so a head met before is known by its bytes: _CHECKABLE_HEAD matches a part that starts with
    them exactly as it matched them (the match ends at the root start tag's first ">" outside
    quotes, and nothing after it can change how the pattern matched up to there)."""
    heads: list[tuple[bytes, str | None]] | None = getattr(_parsers, "heads", None)
    if heads is None:
        heads = _parsers.heads = []
    for known in heads:
        if raw.startswith(known[0]):
            return known
    match = _CHECKABLE_HEAD.match(raw)
    if match is None:
        return None
    found = (match.group(0), _declared_namespace(match.group(4), match.group(5)))
    if len(heads) >= MAX_HEADS:
        del heads[0]
    heads.append(found)
    return found


def _declared_namespace(name: bytes, attributes: bytes) -> str | None:
    """The namespace the root start tag binds its own prefix to ("" for none); None when the
    value holds a reference or whitespace XML would normalise (left to the tree)."""
    prefix, colon, _local = name.rpartition(b":")
    want = b"xmlns:" + prefix if colon else b"xmlns"
    found = b""  # no declaration: no namespace (an unbound prefix is refused by the check)
    for attribute, double, single in _ATTRIBUTE.findall(attributes):
        if attribute == want:
            found = double or single
    if b"&" in found or any(c in found for c in b"\t\r\n"):
        return None  # references and whitespace normalisation: left to the tree
    try:
        return found.decode("utf-8")
    except UnicodeDecodeError:
        return None


#: Whether a Word document's main part is parsed without its paragraph and run formatting (see
#: ``prune``). Only tests turn it off, to compare.
PRUNE_FORMATTING = True


def parse_xml(raw: bytes, *, path: str | None, part: str, prune: bool = False) -> etree._Element:
    """Parse one XML part safely or raise DTD_FORBIDDEN / XML_INVALID naming the part.

    ``prune``: build the tree without the formatting :func:`prune_formatting` can take out (a
    Word document's main part); the verdict is the same, and so is the error, which is always
    the whole part's."""
    if has_doctype(raw):
        raise _err("DTD_FORBIDDEN", f"part {part!r} declares a DTD, which is not allowed in a returned form", path, part=part)
    head = _checkable_head(raw) if prune else None
    pruned = prune_formatting(raw, head[0]) if head is not None else None
    try:
        root = etree.fromstring(raw if pruned is None else pruned, parser=_parser())
    except etree.XMLSyntaxError as exc:
        if pruned is not None:
            return parse_xml(raw, path=path, part=part)  # raises the error the whole part gives
        raise _err("XML_INVALID", f"part {part!r} is damaged XML ({exc.msg})", path, part=part) from None
    if pruned is not None:
        root = inner_root(root)
        if root is None:
            return parse_xml(raw, path=path, part=part)
    if root is None:
        raise _err("XML_INVALID", f"part {part!r} is empty", path, part=part)
    tree = root.getroottree()
    # lxml-stubs' DocInfo lacks .doctype (lxml has it: the DOCTYPE line, "" when there is none).
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:  # type: ignore[union-attr]
        raise _err("DTD_FORBIDDEN", f"part {part!r} declares a DTD, which is not allowed in a returned form", path, part=part)
    return root


# -- the package -------------------------------------------------------------


@dataclass(frozen=True)
class ContentTypes:
    defaults: dict[str, str]  # extension (lower case) -> content type
    overrides: dict[str, str]  # "/word/document.xml" -> content type
    # lower-cased part name -> content type (first spelling wins, as a scan in order would)
    _by_lower: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_lower: dict[str, str] = {}
        for k, v in self.overrides.items():
            by_lower.setdefault(k.lower(), v)
        object.__setattr__(self, "_by_lower", by_lower)

    def of(self, name: str) -> str | None:
        """Content type of a part name (without leading slash)."""
        found = self._by_lower.get("/" + name.lstrip("/").lower())
        if found is not None:
            return found
        ext = posixpath.splitext(name)[1].lstrip(".").lower()
        return self.defaults.get(ext)

    def values(self) -> set[str]:
        return set(self.defaults.values()) | set(self.overrides.values())

    def _copy(self) -> ContentTypes:
        """An equal copy sharing no dict with this one (the memo keeps one, each package gets
        its own: a caller changing its package's must not change the next package's)."""
        twin = object.__new__(ContentTypes)
        object.__setattr__(twin, "defaults", dict(self.defaults))
        object.__setattr__(twin, "overrides", dict(self.overrides))
        object.__setattr__(twin, "_by_lower", dict(self._by_lower))
        return twin


@dataclass
class OoxmlPackage:
    """A vetted package: every part's declared size checked and every XML part free of DTDs.

    Parts are inflated when first asked for (size and checksum verified then), so a reader
    pays only for the parts it reads.
    """

    path: str | None
    kind: str
    names: list[str]
    content_types: ContentTypes
    macro_enabled: bool = False
    notices: list[Notice] = field(default_factory=list)
    _data: bytes = field(default=b"", repr=False)
    _infos: dict[str, ZipEntry] = field(default_factory=dict, repr=False)
    _parts: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lower: dict[str, str] = field(default_factory=dict, repr=False)
    # Parsed XML parts by stored name: each part is parsed once, when first asked for.
    # Readers must not modify them.
    _trees: dict[str, etree._Element] = field(default_factory=dict, repr=False)
    # Parts libxml2 found well-formed without a tree (open_package's check of the main part):
    # a reader that reads their bytes itself needs no tree (see checked_bytes).
    _checked: set[str] = field(default_factory=set, repr=False)
    # Relationships by source part: the package's own are asked for four times per return
    # (vetting, format detection, the reader's main part); each answer is built once.
    _rels: dict[str, list[dict[str, str]]] = field(default_factory=dict, repr=False)
    # The main part's stored name, once the relationships have named it (see xml()).
    _main_key: str | None = field(default=None, repr=False)

    def _key(self, name: str) -> str | None:
        return self._lower.get(name.lstrip("/").lower())

    def has(self, name: str) -> bool:
        return self._key(name) is not None

    def part(self, name: str) -> bytes:
        key = self._key(name)
        if key is None:
            raise _err("PART_MISSING", f"the package has no part {name!r}", self.path, part=name)
        raw = self._parts.get(key)
        if raw is None:
            raw = self._parts[key] = _read_member(self._data, self._infos[key], self.path)
        return raw

    def xml(self, name: str) -> etree._Element:
        """The parsed part (parsed once, then shared: treat it as read-only). The main part of a
        Word document is parsed without the formatting no reader looks at (``prune``)."""
        key = self._key(name)
        tree = self._trees.get(key) if key is not None else None
        if tree is None:
            prune = PRUNE_FORMATTING and key is not None and key == self._main_key
            tree = parse_xml(self.part(name), path=self.path, part=name, prune=prune)
            if key is not None:  # else part() has raised PART_MISSING
                self._trees[key] = tree
        return tree

    def checked_bytes(self, name: str) -> bytes | None:
        """The part's bytes when libxml2 has found them well-formed with sound namespaces (no tree
        built), else None. Only the main part is checked so (see :func:`open_package`)."""
        key = self._key(name)
        return self._parts.get(key) if key is not None and key in self._checked else None

    def relationships(self, source: str = "") -> list[dict[str, str]]:
        """Relationships of a part ("" = the package), as dicts with Id, Type, Target, TargetMode."""
        cached = self._rels.get(source)
        if cached is None:
            folder, base = posixpath.split(source)
            key = self._key(posixpath.join(folder, "_rels", base + ".rels"))
            if key is None:
                return []
            cached = self._rels[source] = self._read_relationships(key)
        return [dict(rel) for rel in cached]  # copies: a caller may change what it is given

    def _read_relationships(self, key: str) -> list[dict[str, str]]:
        info = self._infos[key]
        known = _remembered(_memos.rels, self._data, info)
        if known is not None:  # the same stored bytes were read and parsed without fault before
            self._parts.setdefault(key, known[0])
            return [dict(rel) for rel in known[1]]
        # lxml gives str names and values; the isinstance tests only tell the stubs (str | bytes).
        found = [
            {k: v for k, v in r.attrib.items() if isinstance(k, str) and isinstance(v, str)}
            for r in self.xml(key)
            if isinstance(r.tag, str) and r.tag == _RELATIONSHIP
        ]
        raw = self.part(key)
        _memos.rels.put(
            _memo_key(info),
            _stored_bytes(self._data, info, self.path),
            (raw, tuple(tuple(r.items()) for r in found)),
            _PARSED_TOO * len(raw),
        )
        return found

    def main_part(self) -> str | None:
        """Name of the office document part the package relationships point to."""
        if "" not in self._rels:
            self.relationships("")
        for rel in self._rels.get("", ()):  # read only: no copies needed
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target", "").lstrip("/")
        return None

    def clean_bytes(self) -> bytes:
        """A macro-free copy of the package for the office libraries (VBA parts dropped,
        macro-enabled content types mapped to the plain ones). Only vetted bytes are written."""
        everything = [(name, self.part(name)) for name in self.names]  # every part inflated and verified
        if not self.macro_enabled:
            return _zip_parts(everything)
        dropped = {n for n in self.names if _is_vba(n, self.content_types.of(n))}
        parts: dict[str, bytes] = {}
        for name, raw in everything:
            if name in dropped:
                continue
            if name == CONTENT_TYPES:
                raw = _plain_content_types(raw, dropped)
            elif name.endswith(".rels"):
                raw = _drop_relationships(raw, name, dropped)
            parts[name] = raw
        return _zip_parts(parts.items())


def _is_vba(name: str, content_type: str | None) -> bool:
    return content_type in _VBA_TYPES or _is_vba_name(name)


def _is_vba_name(name: str) -> bool:
    return _is_vba_lower(name.lower())


def _is_vba_lower(low: str) -> bool:
    """:func:`_is_vba_name` of a name already lower-cased (its base name: what follows the last "/")."""
    base = low.rpartition("/")[2]
    return base in ("vbaproject.bin", "vbadata.xml") or base.startswith("vbaproject")


def _any_vba_name(lowered: list[str]) -> bool:
    """Whether any of these lower-cased names is a VBA part's. Every such name holds "vba", so one
    search of them all (joined by NUL, which no zip name holds) answers no for nearly every return."""
    return "vba" in "\0".join(lowered) and any(_is_vba_lower(low) for low in lowered)


def _plain_content_types(raw: bytes, dropped: set[str]) -> bytes:
    root = etree.fromstring(raw, parser=safe_parser())
    for el in list(root):
        ct = el.get("ContentType", "")
        if ct in _MACRO_MAIN_TYPES:
            el.set("ContentType", _MACRO_MAIN_TYPES[ct])
        elif ct in _VBA_TYPES and el.get("PartName", "").lstrip("/") in dropped | {""}:
            root.remove(el)
        elif el.get("PartName", "").lstrip("/") in dropped:
            root.remove(el)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _drop_relationships(raw: bytes, rels_name: str, dropped: set[str]) -> bytes:
    root = etree.fromstring(raw, parser=safe_parser())
    source_dir = posixpath.dirname(posixpath.dirname(rels_name))  # word/_rels/x.rels -> word
    changed = False
    for el in list(root):
        target = el.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(source_dir, target))
        if resolved in dropped or el.get("Type", "").endswith("/vbaProject"):
            root.remove(el)
            changed = True
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)) if changed else raw


def _zip_parts(parts: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    items = sorted(parts, key=lambda kv: (kv[0] != CONTENT_TYPES, kv[0]))  # [Content_Types].xml first, as Office writes it
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in items:
            zf.writestr(name, raw)
    return buf.getvalue()


def _content_types(data: bytes, info: ZipEntry, path: str | None) -> tuple[bytes, ContentTypes]:
    """[Content_Types].xml read whole (size and checksum verified) and what it declares; given
    back from the memo for stored bytes equal to a return's before (returns of one form share it)."""
    known = _remembered(_memos.types, data, info)
    if known is not None:
        return known[0], known[1]._copy()
    raw = _read_member(data, info, path)
    found = _read_content_types(raw, path)
    _memos.types.put(_memo_key(info), _stored_bytes(data, info, path), (raw, found._copy()), _PARSED_TOO * len(raw))
    return raw, found


def _read_content_types(raw: bytes, path: str | None) -> ContentTypes:
    root = parse_xml(raw, path=path, part=CONTENT_TYPES)
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue
        local = el.tag.rpartition("}")[2]  # any namespace, as before; QName() costs ~1 us an element
        if local == "Default":
            defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
        elif local == "Override":
            overrides[el.get("PartName", "")] = el.get("ContentType", "")
    return ContentTypes(defaults, overrides)


#: How apdocs' own tag values ("apdocs:FORM:VERSION:SLOT") start in a part's bytes, and how far
#: into the main part one is looked for: a form's first answer (its reference) is ~3.5 KB in, as
#: apdocs renders it, and 16 KB leaves room for what Word adds (rsids, paragraph ids). A
#: LibreOffice re-save has no tag, so the whole window is searched: 64 KB cost it ~19 us a return.
#: A form whose first tag lies further in is read all the same, from its tree.
_OWN_TAG, _OWN_TAG_WITHIN = f'="{TAG_PREFIX}:'.encode(), 16 * 1024


def _main_namespace(pkg: OoxmlPackage, main: str) -> str:
    """The main part's root namespace, the part vetted as parsing it would: its bytes read (size
    and checksum), a DTD refused, damaged XML refused as XML_INVALID.

    A well-formed part holding apdocs' own tags is checked without building its tree (half the
    cost of parsing a return; the docx reader reads its own controls from the bytes, see
    ``docx.read_scan``). Any other part - a re-save that dropped the tags, someone else's
    document - is parsed into its tree at once (its reader needs the tree; checking it first
    would parse it twice), as is anything the check cannot vouch for: through
    :meth:`OoxmlPackage.xml`, which raises the typed error it always did."""
    raw = pkg.part(main)
    own = raw.find(_OWN_TAG, 0, _OWN_TAG_WITHIN) >= 0
    found = _checked_root_namespace(raw) if own and not has_doctype(raw) else None
    if found is None:
        return etree.QName(pkg.xml(main)).namespace or ""
    key = pkg._key(main)
    if key is not None:
        pkg._checked.add(key)
    return found


def _check_strict(pkg: OoxmlPackage, main_ns: str, root_rels: bytes) -> None:
    if STRICT_NAMESPACE.encode() in root_rels or main_ns.startswith(STRICT_NAMESPACE):
        app, ext = _NAMES.get(pkg.kind, ("Word or Excel", ".docx or .xlsx"))
        raise _err(
            "STRICT_OOXML",
            f"the file was saved as 'Strict Open XML', which apdocs does not read; "
            f"please save it in {app} as the ordinary {ext} type and send it again",
            pkg.path,
        )


def _check_cells(pkg: OoxmlPackage) -> None:
    cells = 0
    for low, name in pkg._lower.items():  # every part, in the directory's order
        if low.startswith("xl/worksheets/") and low.endswith(".xml"):
            cells += len(_CELL.findall(pkg.part(name)))
            if cells > MAX_CELLS:
                raise _err(
                    "TOO_MANY_CELLS",
                    f"the workbook holds more than {MAX_CELLS} cells, far more than any form; please send the form alone",
                    pkg.path,
                    part=name,
                )


# The package last opened in this thread. apdocs.parse opens a file to learn its format and
# the format's reader then opens the same bytes object again: the second open reuses the
# first (same object, path and kind; bytes are immutable, so the result would be identical).
_recent = threading.local()


def open_package(data: bytes, *, path: str | None, kind: str) -> OoxmlPackage:
    """Open and vet an OOXML package; ``kind`` ("docx"/"xlsx") only shapes the messages.

    Raises :class:`ParseError` with one of the codes EMPTY_FILE, TRUNCATED, NOT_A_ZIP,
    NOT_OOXML, LEGACY_FORMAT, ENCRYPTED, ZIP_BOMB, ZIP_UNSUPPORTED, DUPLICATE_ENTRY, PART_MISSING,
    DTD_FORBIDDEN, XML_INVALID, STRICT_OOXML, PART_CORRUPT, TOO_MANY_CELLS; the message always names ``path``.
    The package is shared with a repeated call on the same bytes object: treat it as read-only.
    """
    last = getattr(_recent, "opened", None)
    if last is not None and last[0] is data and last[1] == path and last[2] == kind:
        return last[3]
    pkg = _open_package(data, path=path, kind=kind)
    _recent.opened = (data, path, kind, pkg)
    return pkg


def read_directory(data: bytes, path: str | None, kind: str) -> list[ZipEntry]:
    """The zip's entries: read from the bytes when the directory is plain (as Office writes it),
    else by zipfile, whose refusals become the typed errors below."""
    plain = plain_entries(data)
    if plain is not None:
        return plain
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [ZipEntry.of(i) for i in zf.infolist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise _err("TRUNCATED", f"the file is cut short or damaged ({exc}); please send it again", path) from None
    except NotImplementedError:
        # zipfile refuses a "version needed to extract" it does not know (e.g. 6.3's AES/LZMA
        # features): a real zip, just not one any Office program writes
        raise _err(
            "ZIP_UNSUPPORTED",
            "the file is a zip made with features Word and Excel never use; " + _save_hint(kind),
            path,
        ) from None


def _open_package(data: bytes, *, path: str | None, kind: str) -> OoxmlPackage:
    if not data:
        raise _err("EMPTY_FILE", "the file is empty (0 bytes); please send it again", path)
    if not data.startswith(b"PK"):
        raise _reject_non_zip(data, path, kind)
    declared = _eocd_entry_count(data)
    if declared is None:
        raise _err("TRUNCATED", "the file is cut short or damaged (the zip directory is missing); please send it again", path)
    if declared > MAX_ENTRIES:
        raise _err("ZIP_BOMB", f"the package declares {declared} parts (limit {MAX_ENTRIES})", path, entries=declared)
    infos = [i for i in read_directory(data, path, kind) if not i.is_dir()]
    lower = _check_directory(infos, path)
    names = [i.filename for i in infos]
    if CONTENT_TYPES not in names:
        if "mimetype" in names:
            raise _err("NOT_OOXML", f"this is an OpenDocument (LibreOffice .odt/.ods) file; {_save_hint(kind)}", path)
        raise _err("NOT_OOXML", f"this zip is not a Word or Excel document; {_save_hint(kind)}", path)
    infos_by_name = {i.filename: i for i in infos}
    types_raw, ctypes = _content_types(data, infos_by_name[CONTENT_TYPES], path)
    parts = {CONTENT_TYPES: types_raw}
    rels_info = infos_by_name.get("_rels/.rels")
    known_rels = _remembered(_memos.rels, data, rels_info) if rels_info is not None else None
    whole = _READ_WHOLE
    if known_rels is not None:
        parts["_rels/.rels"] = known_rels[0]  # vetted below as if just read (no DTD in its prolog)
        target = _main_target(known_rels[1])
        if target:
            # The main part is read whole below rather than its prolog inflated first (it is read
            # whole right after, to check it): its name is known here only when the relationships are.
            whole = _READ_WHOLE | {target}
    lowered = list(lower)  # the names lower-cased, in the order of infos
    for low, info in zip(lowered, infos, strict=True):
        # Every part an office library might parse as XML is vetted here, before any reader sees it.
        # Images are left alone: an SVG may carry a harmless DOCTYPE and no reader parses it.
        name = info.filename
        if name == CONTENT_TYPES:
            continue  # read whole and parsed above, where a DTD in it is refused (parse_xml)
        if not (low.endswith(_XML_SUFFIXES) or _is_xml_type(ctypes.of(name))):
            continue
        if name in whole and name not in parts:
            raw = _whole_if_sound(data, info, path)
            if raw is not None:
                parts[name] = raw
        if _prolog_declares_dtd(parts[name]) if name in parts else _declares_dtd(data, info, path):
            raise _err("DTD_FORBIDDEN", f"part {name!r} declares a DTD, which is not allowed in a returned form", path, part=name)
    pkg = OoxmlPackage(
        path=path,
        kind=kind,
        names=names,
        content_types=ctypes,
        _data=data,
        _infos=infos_by_name,
        _parts=parts,
        _lower=lower,
    )
    if not pkg.has("_rels/.rels"):
        raise _err("PART_MISSING", "the package has no '_rels/.rels' part; it is damaged", path, part="_rels/.rels")
    root_rels = pkg.part("_rels/.rels")
    pkg.relationships("")  # parse now so damaged relationships fail here, typed
    main = pkg.main_part()
    pkg._main_key = pkg._key(main) if main else None
    main_ns = _main_namespace(pkg, main) if main and pkg.has(main) else ""
    _check_strict(pkg, main_ns, root_rels)
    if main and not pkg.has(main):
        raise _err("PART_MISSING", f"the package has no main part {main!r}; it is damaged", path, part=main)
    _check_cells(pkg)
    type_values = ctypes.values()
    # Each part's content type is looked up only when some part is declared a VBA type at all.
    by_type = bool(type_values.intersection(_VBA_TYPES))
    vba = any(_is_vba(n, ctypes.of(n)) for n in names) if by_type else _any_vba_name(lowered)
    if vba or (type_values & _MACRO_MAIN_TYPES.keys()):
        pkg.macro_enabled = True
        pkg.notices.append(
            Notice("MACROS_IGNORED", "the file contains macros; the answers were read and the macros ignored", where=path)
        )
    return pkg
