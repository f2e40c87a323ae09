"""Put one of our returns inside a real Outlook ``winmail.dat`` (TNEF), for the ingest tests.

``tests/fixtures/tnef/long-filename.tnef`` is a real TNEF stream written by Outlook (from
tnefparse 1.4.0's test data; see NOTICE there). It holds one attachment, the way Outlook
writes every attachment (MS-OXTNEF 2.1.3.3):

    attAttachRendData, attAttachCreateDate, attAttachModifyDate, attAttachMetaFile (icon),
    attAttachTitle ("ALLPRO~1.DAT", the 8.3 name), attAttachData (the file),
    attAttachment (MAPI properties, among them PR_ATTACH_LONG_FILENAME "allproductsmar2000.dat",
    PR_ATTACH_EXTENSION and PR_ATTACH_SIZE).

:func:`wrap` keeps every attribute of that stream and replaces only the attachment's
title, data, long filename, extension and size with ours, then recomputes each
attribute's length and checksum (the 16-bit sum of its data bytes). The result is a real
Outlook stream carrying our form, which is what a school's Outlook would send.
"""

from __future__ import annotations

import struct
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tnef"
REAL = FIXTURES / "long-filename.tnef"

ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_DATA = 0x800F
ATT_ATTACHMENT = 0x9005
PR_ATTACH_SIZE = 0x0E20
PR_ATTACH_EXTENSION = 0x3703
PR_ATTACH_LONG_FILENAME = 0x3707
PT_STRING8 = 0x001E
PT_LONG = 0x0003

_FIXED = {
    0x0002: 2,
    0x000B: 2,
    0x0003: 4,
    0x0004: 4,
    0x000A: 4,
    0x0005: 8,
    0x0006: 8,
    0x0007: 8,
    0x0014: 8,
    0x0040: 8,
    0x0048: 16,
}
_VARIABLE = {0x001E, 0x001F, 0x0102, 0x000D}


def attributes(stream: bytes) -> list[tuple[int, int, int, bytes]]:
    """(level, id, type, data) of every attribute, checking lengths and checksums as it goes."""
    assert stream[:4] == b"\x78\x9f\x3e\x22"
    out, offset = [], 6
    while offset < len(stream):
        level = stream[offset]
        att_id, att_type, length = struct.unpack_from("<HHI", stream, offset + 1)
        data = stream[offset + 9 : offset + 9 + length]
        (checksum,) = struct.unpack_from("<H", stream, offset + 9 + length)
        assert checksum == sum(data) & 0xFFFF, f"bad checksum at {offset}"
        out.append((level, att_id, att_type, data))
        offset += 11 + length
    return out


def build(key: bytes, attrs: list[tuple[int, int, int, bytes]]) -> bytes:
    out = b"\x78\x9f\x3e\x22" + key
    for level, att_id, att_type, data in attrs:
        out += struct.pack("<BHHI", level, att_id, att_type, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)
    return out


def _props(block: bytes) -> list[tuple[int, int, bytes]]:
    """A MAPI property list (no named or multi-valued properties, as in Outlook's attachment block)."""
    (count,) = struct.unpack_from("<I", block, 0)
    offset, out = 4, []
    for _ in range(count):
        ptype, pid = struct.unpack_from("<HH", block, offset)
        assert pid < 0x8000 and not ptype & 0x1000, "named or multi-valued property: not expected here"
        start = offset + 4
        if ptype in _FIXED:
            end = start + ((_FIXED[ptype] + 3) & ~3)  # values are padded to 4 bytes
        else:
            assert ptype in _VARIABLE, hex(ptype)
            (nvals,) = struct.unpack_from("<I", block, start)
            end = start + 4
            for _ in range(nvals):
                (size,) = struct.unpack_from("<I", block, end)
                end += 4 + ((size + 3) & ~3)
        out.append((ptype, pid, block[start:end]))
        offset = end
    assert offset == len(block), "trailing bytes after the property list"
    return out


def _string8(text: str) -> bytes:
    raw = text.encode("cp1252") + b"\x00"
    return struct.pack("<II", 1, len(raw)) + raw.ljust((len(raw) + 3) & ~3, b"\x00")


def wrap(data: bytes, long_name: str, short_name: str) -> bytes:
    """The real Outlook stream with its one attachment replaced by ``data`` named ``long_name``."""
    stream = REAL.read_bytes()
    attrs = attributes(stream)
    extension = "." + long_name.rsplit(".", 1)[-1]
    replace = {
        PR_ATTACH_LONG_FILENAME: _string8(long_name),
        PR_ATTACH_EXTENSION: _string8(extension),
        PR_ATTACH_SIZE: struct.pack("<I", len(data)),
    }
    out = []
    for level, att_id, att_type, body in attrs:
        if level == 2 and att_id == ATT_ATTACH_TITLE:
            body = short_name.encode("cp1252") + b"\x00"
        elif level == 2 and att_id == ATT_ATTACH_DATA:
            body = data
        elif level == 2 and att_id == ATT_ATTACHMENT:
            props = _props(body)
            assert {PR_ATTACH_LONG_FILENAME, PR_ATTACH_EXTENSION, PR_ATTACH_SIZE} <= {pid for _t, pid, _v in props}
            body = struct.pack("<I", len(props)) + b"".join(
                struct.pack("<HH", ptype, pid) + replace.get(pid, value) for ptype, pid, value in props
            )
        out.append((level, att_id, att_type, body))
    return build(stream[4:6], out)
