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
such a stream before tnefparse sees it. Embedded messages (an item attached in Outlook)
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


def read_tnef(data: bytes, where: str) -> list[TnefAttachment]:
    """The attachments inside a TNEF stream; :class:`TnefUnreadable` when it cannot be opened."""
    _check_shape(data, where)
    from tnefparse.tnef import TNEF

    try:
        # Checksums are not enforced: real Outlook streams sometimes carry wrong ones, and a form
        # whose bytes were really damaged fails visibly when it is parsed.
        tnef = TNEF(data, do_checksum=False)
        out = []
        for att in tnef.attachments:
            # For an embedded message tnefparse keeps its own TNEF stream (past the IMessage GUID) in data.
            body = att.data
            if isinstance(body, bytes | bytearray):
                out.append(TnefAttachment(_name(att), bytes(body)))
        return out
    except Exception as exc:  # tnefparse raises ValueError, IndexError, struct.error, UnicodeError... on damage
        raise TnefUnreadable(f"winmail.dat (TNEF) is damaged: {type(exc).__name__}", path=where) from exc


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


def _check_shape(data: bytes, where: str) -> None:
    """Walk the attribute headers as tnefparse will, refusing a stream too costly to hand to it."""
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
        if length + 9 > remaining:
            # tnefparse would take what is there, so a form cut off here would vanish without a word.
            # (A missing final checksum alone is tolerated: real Outlook streams end that way.)
            raise TnefUnreadable("winmail.dat (TNEF) is cut short", path=where)
        offset += min(remaining, length + 11)
    if offset == 6:  # not even the TNEF version attribute every stream starts with
        raise TnefUnreadable("winmail.dat (TNEF) is cut short", path=where)
