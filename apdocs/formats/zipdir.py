"""A zip's central directory read straight from the bytes, when it is as plain as Office writes it.

``zipfile.ZipFile`` costs about 25-35 us per return before a byte is inflated (a ``ZipInfo``
with dates, extras and comments for every entry, through a file object): 5-10% of reading a
whole form. :func:`plain_entries` reads the same directory in half that, and only when
it is certain to give exactly what ``zipfile`` would: one end record at the very end (no
comment, no Zip64, nothing before the zip), entries whose extra fields hold no Zip64 sizes or
Unicode-path names, no NUL in a name, versions ``zipfile`` reads. Anything else (or any doubt)
gives None, and the caller opens the zip with ``zipfile`` as before, which reads it or raises
what it always raised. ``tests/test_zipdir.py`` holds the two readers to the same entries on
every zip the tests know, real-world files and damaged ones included.
"""

from __future__ import annotations

import os
import struct
import zipfile
from typing import NamedTuple

#: The newest "version needed to extract" zipfile reads (zipfile.MAX_EXTRACT_VERSION):
#: a higher one is zipfile's NotImplementedError, left to zipfile to raise.
_MAX_EXTRACT_VERSION = 63
_END = b"PK\x05\x06"
_END_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir: 46 bytes
_CENTRAL_SIG = b"PK\x01\x02"
_UTF8_NAME = 0x800
#: Extra-field ids that change what zipfile reads from an entry: Zip64 sizes and offsets, and
#: the Info-ZIP Unicode path (which newer Pythons may use for the name).
_MEANINGFUL_EXTRAS = frozenset({0x0001, 0x7075})
#: zipfile cuts a name at a NUL and, where the path separator is not "/" (Windows), turns that
#: separator into "/": names holding either are left to it.
_SEP_CHANGED = os.sep != "/"


class ZipEntry(NamedTuple):
    """What apdocs reads of a zip entry (the fields of ``zipfile.ZipInfo`` it uses, same names)."""

    filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int

    def is_dir(self) -> bool:
        return self.filename[-1:] == "/"

    @classmethod
    def of(cls, info: zipfile.ZipInfo) -> ZipEntry:
        """The entry for what ``zipfile`` read (the fallback)."""
        i = info
        return cls(i.filename, i.flag_bits, i.compress_type, i.CRC, i.compress_size, i.file_size, i.header_offset)


def plain_entries(data: bytes) -> list[ZipEntry] | None:
    """The entries of the zip ``data``, in directory order, exactly as ``zipfile`` would read them;
    None when the directory is anything but plain (then ask ``zipfile``)."""
    end = len(data) - _END_SIZE
    if end < 0 or data[end : end + 4] != _END or data[-2:] != b"\x00\x00":
        return None  # a comment, or no end record where zipfile looks first
    if data[end - 20 : end - 16] == _ZIP64_LOCATOR:
        return None  # Zip64: zipfile reads the directory's place from another record
    size, offset = struct.unpack_from("<LL", data, end + 12)
    if offset + size != end:
        return None  # bytes before the zip (zipfile shifts every offset) or a directory that lies
    entries: list[ZipEntry] = []
    unpack = _CENTRAL.unpack_from
    at = offset
    while at < end:
        if at + 46 > end:
            return None
        fields = unpack(data, at)
        sig, version, flags, method = fields[0], fields[3], fields[5], fields[6]
        crc, csize, usize, nlen, elen, clen, header = fields[9:15] + fields[18:]
        if sig != _CENTRAL_SIG or version > _MAX_EXTRACT_VERSION:
            return None
        name_at = at + 46
        extra_at = name_at + nlen
        at = extra_at + elen + clen
        if at > end:
            return None
        raw = data[name_at:extra_at]
        if b"\x00" in raw or (_SEP_CHANGED and b"\\" in raw) or (elen and not _extras_plain(data[extra_at : extra_at + elen])):
            return None
        if raw.isascii():
            name = raw.decode("ascii")  # what utf-8 and cp437 both make of ASCII
        elif flags & _UTF8_NAME:
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                return None  # zipfile raises: let it
        else:
            name = raw.decode("cp437")
        entries.append(ZipEntry(name, flags, method, crc, csize, usize, header))
    return entries


def _extras_plain(extra: bytes) -> bool:
    """Whether an entry's extra fields are well formed and none changes what zipfile reads."""
    at, n = 0, len(extra)
    while n - at >= 4:
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind in _MEANINGFUL_EXTRAS or at + 4 + size > n:
            return False
        at += 4 + size
    return True
