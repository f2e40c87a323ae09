"""One received message, reduced to what ingest needs: who, when, what, and its files.

:func:`apdocs.mail.extract.read_message` takes the original bytes (RFC 822 ``.eml``/IMAP/mbox,
or an Outlook ``.msg`` - which one is decided from the bytes) and returns a :class:`MailItem`
whose ``found`` lists the files to parse and ``skipped`` lists everything else, with reasons.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from apdocs.mail.sniff import Kind


@dataclass(frozen=True)
class FoundFile:
    """A file taken out of a message that should go to the parser."""

    name: str  # as the sender named it; sanitised only when stored
    data: bytes
    kind: Kind
    via: str  # where it sat: "" top level, "forwarded/", "returns.zip/" ...

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class SkippedPart:
    """Something in a message that is not a form, or was refused; listed, never parsed."""

    name: str
    via: str
    kind: str
    reason: str
    size: int
    #: An error code when the part may have held forms that could not be read (a damaged winmail.dat):
    #: such a part is reported as a problem and listed in the tracker, not just skipped.
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "via": self.via, "kind": self.kind, "reason": self.reason, "size": self.size}
        if self.code:
            out["code"] = self.code
        return out


@dataclass
class MailItem:
    origin: str  # where it was read from: a path, "path#3" in an mbox, or an IMAP URL with UID
    raw: bytes
    container: Literal["eml", "msg"]
    sender: str | None = None
    date: str | None = None  # ISO 8601 when the Date could be understood
    date_raw: str | None = None
    subject: str | None = None
    message_id: str | None = None
    found: list[FoundFile] = field(default_factory=list)
    skipped: list[SkippedPart] = field(default_factory=list)
    error: dict[str, Any] | None = None  # set when the message itself could not be read

    @property
    def sha256(self) -> str:
        """Identity of the message: SHA-256 of its bytes, with MIME line ends made CRLF.

        The same email saved by different programs (an .eml from Outlook, a line in an
        mbox, an IMAP fetch) differs only in line ends; it must still be one message.
        """
        return message_sha256(self.raw, self.container)


def message_sha256(raw: bytes, container: str) -> str:
    if container == "eml":
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return hashlib.sha256(raw).hexdigest()


def iso_date(value: Any) -> str | None:
    """An RFC 2822 date string or datetime as ISO 8601; None when it makes no sense."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        when = value
    else:
        try:
            when = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if when is None or not (1980 <= when.year <= 2100):
        return None
    return when.isoformat()
