"""Outlook's rich-text wrapper, ``winmail.dat`` (TNEF, MS-OXTNEF), opened with tnefparse.

When Outlook sends in "Rich Text" format to a server that keeps it (Exchange to a
non-Outlook recipient, some relays), every attachment travels inside one
``application/ms-tnef`` part called ``winmail.dat``. A school's Appendix 2 then reaches us
only in there. Each attachment carries an 8.3 name (``APPEND~1.DOC``, the legacy
``attAttachTitle``) and its real one in the MAPI property ``PR_ATTACH_LONG_FILENAME``; the
long one is used, since it is what the school named the file.

tnefparse parses the whole stream up front and slices the remaining bytes for every
attribute, so a stream cut into very many small attributes costs time quadratic in its
size. :func:`read_tnef` walks the attribute headers first (cheap, no copying) and refuses
such a stream before tnefparse sees it. The same walk finds where a stream was cut short
(tnefparse would take a cut-off file as whole, and never looks at the last 12 bytes), so
tnefparse is given only the whole attributes and the cut is reported. Embedded messages (an item attached in Outlook)
come back as their own TNEF bytes, so the caller opens them as one more level.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from apdocs.mail.errors import TnefUnreadable

TNEF_MAGIC = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
#: What tnefparse may copy while slicing one stream; real winmail.dat files need a few hundred MB at most.
_COPY_BUDGET = 1024 * 1024 * 1024
_MIN_ATTRIBUTE = 12  # tnefparse's MIN_OBJ_SIZE: level, id, type, length and checksum are 11 bytes
_IMESSAGE_SIG = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"  # embedded message GUID
_MAX_EMBEDDED = 16


@dataclass(frozen=True)
class TnefAttachment:
    name: str  # the long filename when the stream has one, else the 8.3 title
    data: bytes  # the file, or the TNEF stream of an embedded message


def is_tnef(data: bytes) -> bool:
    return data.startswith(TNEF_MAGIC)


def read_tnef(data: bytes, where: str) -> tuple[list[TnefAttachment], TnefUnreadable | None]:
    """The attachments inside a TNEF stream, and the damage found, if any.

    A stream that cannot be opened at all raises :class:`TnefUnreadable`. One that was cut
    short gives the files whose data came whole before the cut, with the damage as the
    second value, so the forms that arrived are taken and the cut is still reported.
    """
    whole = _whole_attributes_end(data, where)
    problem = None
    if whole < len(data):
        problem = TnefUnreadable("winmail.dat (TNEF) is cut short; only the files before the cut were taken", path=where)
    from tnefparse.tnef import TNEF

    try:
        # Checksums are not enforced: real Outlook streams sometimes carry wrong ones, and a form
        # whose bytes were really damaged fails visibly when it is parsed.
        tnef = TNEF(data[:whole], do_checksum=False)
        out = []
        for att in tnef.attachments:
            # For an embedded message tnefparse keeps its own TNEF stream (past the IMessage GUID) in data.
            body = att.data
            if not isinstance(body, bytes | bytearray):
                continue
            if problem is not None and not body:
                continue  # its data was in the part that was cut off: reported by the problem, not as an empty file
            out.append(TnefAttachment(_name(att), bytes(body)))
    except Exception as exc:  # tnefparse raises ValueError, IndexError, struct.error, UnicodeError... on damage
        raise TnefUnreadable(f"winmail.dat (TNEF) is damaged: {type(exc).__name__}", path=where) from exc
    return out, problem


def _name(att: Any) -> str:
    for getter in (att.long_filename, lambda: att.name):
        try:
            value = getter()
        except Exception:  # noqa: S112 - an odd name property must not lose the file; the next name is tried
            continue
        if isinstance(value, bytes | bytearray):
            value = bytes(value).decode("utf-8", errors="replace")
        if isinstance(value, str) and value.strip("\x00 "):
            return value.strip("\x00 ")
    return ""


def _whole_attributes_end(data: bytes, where: str) -> int:
    """Where the last whole attribute ends, walking the headers as tnefparse will.

    Refuses (raises) a stream that is not TNEF, has no whole attribute, or is too costly to
    hand to tnefparse. A stream that ends mid-attribute returns the end of the attribute
    before: tnefparse would otherwise take a cut-off file as if it were whole.
    """
    if not is_tnef(data):
        raise TnefUnreadable("winmail.dat is not a TNEF stream (Outlook's wrapper)", path=where)
    if data.count(_IMESSAGE_SIG) > _MAX_EMBEDDED:
        raise TnefUnreadable(f"winmail.dat holds more than {_MAX_EMBEDDED} embedded messages", path=where)
    offset, copied = 6, 0
    while offset + _MIN_ATTRIBUTE < len(data):
        remaining = len(data) - offset
        copied += remaining
        if copied > _COPY_BUDGET:
            raise TnefUnreadable("winmail.dat is cut into too many pieces to open safely", path=where)
        (length,) = struct.unpack_from("<I", data, offset + 5)
        if length + 9 > remaining:  # (a missing final checksum alone is tolerated: real Outlook streams end that way)
            break
        offset += min(remaining, length + 11)
    else:
        tail = len(data) - offset
        # tnefparse ignores the last few bytes. A line end after the stream is harmless (seen in the
        # wild); more is the start of an attribute that was cut off.
        if not (tail > 2 and (tail < 9 or struct.unpack_from("<I", data, offset + 5)[0] + 9 > tail)):
            offset = len(data)
    if offset == 6:  # not even the TNEF version attribute every stream starts with
        raise TnefUnreadable("winmail.dat (TNEF) is cut short", path=where)
    return offset
