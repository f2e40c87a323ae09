"""Fetch messages from an IMAP mailbox over TLS, with a password or an XOAUTH2 bearer token.

A source is written ``imaps://USER@HOST[:PORT]/MAILBOX`` (port 993 by default, mailbox
INBOX by default). Only implicit TLS is spoken, the server certificate is always verified
(a private CA can be given), the mailbox is opened read-only and messages are fetched with
``BODY.PEEK[]`` so nothing in the mailbox changes - not even the \\Seen flag.

Microsoft 365 no longer accepts basic auth for IMAP: get an OAuth2 access token for the
mailbox (scope ``https://outlook.office.com/IMAP.AccessAsUser.All``) and pass it in an
environment variable; apdocs sends it with SASL XOAUTH2.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from apdocs.mail.errors import MailError, MailSourceError, MessageTooLarge
from apdocs.mail.limits import DEFAULT_LIMITS, Limits
from apdocs.mail.sources import RawMail

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class ImapTarget:
    user: str
    host: str
    port: int
    mailbox: str

    def __str__(self) -> str:  # never includes a secret
        return f"imaps://{self.user}@{self.host}:{self.port}/{self.mailbox}"


@dataclass(frozen=True)
class ImapAuth:
    password: str | None = None
    token: str | None = None  # OAuth2 bearer token: XOAUTH2 instead of LOGIN

    def __repr__(self) -> str:
        return f"ImapAuth(password={'***' if self.password else None}, token={'***' if self.token else None})"


def parse_imap_url(url: str) -> ImapTarget:
    parts = urlsplit(url)
    if parts.scheme.lower() != "imaps":
        raise MailSourceError("only imaps:// (IMAP over TLS) is supported", path=url)
    if parts.password:
        raise MailSourceError("put the password in an environment variable, not in the URL", path=f"imaps://{parts.hostname}")
    if not parts.username or not parts.hostname:
        raise MailSourceError("expected imaps://USER@HOST[:PORT]/MAILBOX", path=url)
    try:
        port = parts.port or 993
    except ValueError:
        raise MailSourceError("bad port", path=url) from None
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapTarget(unquote(parts.username), parts.hostname, port, mailbox)


def xoauth2_string(user: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (Google/Microsoft format)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def fetch(
    target: ImapTarget,
    auth: ImapAuth,
    *,
    limits: Limits = DEFAULT_LIMITS,
    cafile: str | None = None,
    timeout: float = 60,
) -> Iterator[RawMail | MailError]:
    """Every message in the mailbox, oldest UID first. Connection failures are yielded."""
    context = ssl.create_default_context(cafile=cafile)
    where = str(target)
    try:
        imap = imaplib.IMAP4_SSL(target.host, target.port, ssl_context=context, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        yield MailSourceError(f"cannot connect: {exc}", path=where)
        return
    try:
        try:
            if auth.token:
                imap.authenticate("XOAUTH2", lambda _challenge: xoauth2_string(target.user, auth.token or ""))
            else:
                imap.login(target.user, auth.password or "")
        except imaplib.IMAP4.error as exc:
            yield MailSourceError(f"login refused: {_text(exc)}", path=where, code="IMAP_AUTH")
            return
        typ, data = imap.select(_quote(target.mailbox), readonly=True)
        if typ != "OK":
            yield MailSourceError(f"no such mailbox: {_text(data)}", path=where)
            return
        uidvalidity = _uidvalidity(imap)
        typ, data = imap.uid("SEARCH", "ALL")
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        for raw_uid in uids:
            if not raw_uid.isdigit():  # a UID is a number; anything else would not decode or fetch
                yield MailSourceError("the server listed a malformed message UID", path=where)
                continue
            uid = raw_uid.decode("ascii")
            origin = f"{where};UIDVALIDITY={uidvalidity};UID={uid}"
            yield _fetch_one(imap, uid, origin, limits)
        imap.close()
    except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort) as exc:
        yield MailSourceError(f"IMAP session failed: {_text(exc)}", path=where)
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _fetch_one(imap: imaplib.IMAP4, uid: str, origin: str, limits: Limits) -> RawMail | MailError:
    # Ask the size first so an oversized message is refused without downloading it.
    typ, data = imap.uid("FETCH", uid, "(RFC822.SIZE)")
    m = _SIZE.search(b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d)) if typ == "OK" else None
    if m and int(m.group(1)) > limits.max_message_bytes:
        return MessageTooLarge(f"{m.group(1).decode()} bytes; the cap is {limits.max_message_bytes}", path=origin)
    typ, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    for piece in data or []:
        if isinstance(piece, tuple) and len(piece) == 2:
            return RawMail(origin, piece[1])
    return MailSourceError("message could not be fetched", path=origin)


def _uidvalidity(imap: imaplib.IMAP4) -> str:
    _typ, data = imap.response("UIDVALIDITY")
    return data[0].decode() if data and data[0] else "?"


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(exc: object) -> str:
    if isinstance(exc, list):
        exc = b" ".join(x for x in exc if isinstance(x, bytes))
    if isinstance(exc, bytes):
        return exc.decode(errors="replace")
    return str(exc)
