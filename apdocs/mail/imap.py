"""Fetch messages from an IMAP mailbox over TLS, with a password or an XOAUTH2 bearer token.

A source is written ``imaps://USER@HOST[:PORT]/MAILBOX`` (implicit TLS, port 993 by default) or
``imap://USER@HOST[:PORT]/MAILBOX`` (port 143 by default, always upgraded with STARTTLS before
anything else is said; a server that does not offer STARTTLS is refused, so credentials never
cross the network in clear). The mailbox defaults to INBOX. The server certificate is always
verified (a private CA can be given), the mailbox is opened read-only (EXAMINE) and messages are
fetched with ``BODY.PEEK[]`` so nothing in the mailbox changes - not even the \\Seen flag.

Incremental: given the :class:`MailboxMark` an earlier run reached, only messages with a higher
UID are fetched, as long as the mailbox's UIDVALIDITY is the same (a different one means UIDs
were reassigned, so every message is fetched again).

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

from apdocs.mail.errors import ImapTlsRefused, MailError, MailSourceError, MessageTooLarge
from apdocs.mail.limits import DEFAULT_LIMITS, Limits
from apdocs.mail.sources import RawMail

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_DEFAULT_PORT = {"imaps": 993, "imap": 143}

#: (host, port, user, mailbox): what identifies a mailbox between runs.
MailboxKey = tuple[str, int, str, str]


@dataclass(frozen=True)
class ImapTarget:
    user: str
    host: str
    port: int
    mailbox: str
    starttls: bool = False  # imap:// (STARTTLS on a plain port) rather than imaps:// (implicit TLS)

    def __str__(self) -> str:  # never includes a secret
        scheme = "imap" if self.starttls else "imaps"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.mailbox}"

    @property
    def key(self) -> MailboxKey:
        # INBOX is case-insensitive in IMAP; every other name is the server's business.
        mailbox = "INBOX" if self.mailbox.upper() == "INBOX" else self.mailbox
        return (self.host, self.port, self.user, mailbox)


@dataclass(frozen=True)
class ImapAuth:
    password: str | None = None
    token: str | None = None  # OAuth2 bearer token: XOAUTH2 instead of LOGIN

    def __repr__(self) -> str:
        return f"ImapAuth(password={'***' if self.password else None}, token={'***' if self.token else None})"


@dataclass(frozen=True)
class MailboxMark:
    """How far a mailbox is archived: every message with a UID up to ``last_uid`` under ``uidvalidity``."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class ImapMail(RawMail):
    uid: int


def parse_imap_url(url: str) -> ImapTarget:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT:
        raise MailSourceError("only imaps:// (IMAP over TLS) and imap:// (IMAP with STARTTLS) are supported", path=url)
    if parts.password:
        raise MailSourceError("put the password in an environment variable, not in the URL", path=f"{scheme}://{parts.hostname}")
    if not parts.username or not parts.hostname:
        raise MailSourceError(f"expected {scheme}://USER@HOST[:PORT]/MAILBOX", path=url)
    try:
        port = parts.port or _DEFAULT_PORT[scheme]
    except ValueError:
        raise MailSourceError("bad port", path=url) from None
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapTarget(unquote(parts.username), parts.hostname, port, mailbox, starttls=scheme == "imap")


def xoauth2_string(user: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (Google/Microsoft format)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


class ImapFetch:
    """One read-only pass over a mailbox. Iterate it for the messages; afterwards it tells what it did.

    Messages come oldest UID first, as :class:`ImapMail`; a part that could not be fetched comes as
    a :class:`~apdocs.mail.errors.MailError` value in its place (connection failures too).
    """

    def __init__(
        self,
        target: ImapTarget,
        auth: ImapAuth,
        *,
        resume: MailboxMark | None = None,
        limits: Limits = DEFAULT_LIMITS,
        cafile: str | None = None,
        timeout: float = 60,
    ) -> None:
        self.target, self.auth, self.resume = target, auth, resume
        self.limits, self.cafile, self.timeout = limits, cafile, timeout
        self.uidvalidity: int | None = None  # as the server reported it, once the mailbox is open
        self.incremental = False  # True when only UIDs after ``resume.last_uid`` were asked for
        self.fetched = 0  # message bodies downloaded

    def __iter__(self) -> Iterator[ImapMail | MailError]:
        where = str(self.target)
        try:
            imap = _connect(self.target, ssl.create_default_context(cafile=self.cafile), self.timeout)
        except MailError as exc:
            yield exc
            return
        except (OSError, imaplib.IMAP4.error) as exc:
            yield MailSourceError(f"cannot connect: {_text(exc)}", path=where)
            return
        try:
            try:
                self._login(imap)
            except imaplib.IMAP4.error as exc:
                yield MailSourceError(f"login refused: {_text(exc)}", path=where, code="IMAP_AUTH")
                return
            # readonly=True: EXAMINE, so the server may change nothing (no \Recent, no expunge on CLOSE).
            typ, data = imap.select(_quote(self.target.mailbox), readonly=True)
            if typ != "OK":
                yield MailSourceError(f"no such mailbox: {_text(data)}", path=where)
                return
            self.uidvalidity = _uidvalidity(imap)
            yield from self._messages(imap, where)
            imap.close()
        except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort) as exc:
            yield MailSourceError(f"IMAP session failed: {_text(exc)}", path=where)
        finally:
            try:
                imap.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def _login(self, imap: imaplib.IMAP4) -> None:
        user, auth = self.target.user, self.auth
        if auth.token:
            imap.authenticate("XOAUTH2", lambda _challenge: xoauth2_string(user, auth.token or ""))
        else:
            imap.login(user, auth.password or "")

    def _messages(self, imap: imaplib.IMAP4, where: str) -> Iterator[ImapMail | MailError]:
        after = 0
        if self.resume is not None and self.uidvalidity is not None and self.resume.uidvalidity == self.uidvalidity:
            after, self.incremental = self.resume.last_uid, True
        typ, data = imap.uid("SEARCH", "UID", f"{after + 1}:*") if after else imap.uid("SEARCH", "ALL")
        if typ != "OK":
            yield MailSourceError(f"the server would not list the messages: {_text(data)}", path=where)
            return
        listed = data[0].split() if data and data[0] else []
        if not all(raw.isdigit() for raw in listed):  # a UID is a number; anything else would not decode or fetch
            yield MailSourceError("the server listed a malformed message UID", path=where)
            listed = [raw for raw in listed if raw.isdigit()]
        # "N:*" always matches the newest message, even when its UID is below N: keep only UIDs after the mark.
        uids = sorted(uid for uid in map(int, listed) if uid > after)
        validity = "?" if self.uidvalidity is None else str(self.uidvalidity)
        for uid in uids:
            yield self._fetch_one(imap, uid, f"{where};UIDVALIDITY={validity};UID={uid}")

    def _fetch_one(self, imap: imaplib.IMAP4, uid: int, origin: str) -> ImapMail | MailError:
        # Ask the size first so an oversized message is refused without downloading it.
        typ, data = imap.uid("FETCH", str(uid), "(RFC822.SIZE)")
        m = _SIZE.search(b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d)) if typ == "OK" else None
        if m and int(m.group(1)) > self.limits.max_message_bytes:
            return MessageTooLarge(f"{m.group(1).decode()} bytes; the cap is {self.limits.max_message_bytes}", path=origin)
        typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        for piece in data or []:
            if isinstance(piece, tuple) and len(piece) == 2:
                self.fetched += 1
                return ImapMail(origin, piece[1], uid)
        return MailSourceError("message could not be fetched", path=origin)


def fetch(
    target: ImapTarget,
    auth: ImapAuth,
    *,
    limits: Limits = DEFAULT_LIMITS,
    cafile: str | None = None,
    timeout: float = 60,
) -> Iterator[ImapMail | MailError]:
    """Every message in the mailbox, oldest UID first. Connection failures are yielded."""
    return iter(ImapFetch(target, auth, limits=limits, cafile=cafile, timeout=timeout))


def _connect(target: ImapTarget, context: ssl.SSLContext, timeout: float) -> imaplib.IMAP4:
    if not target.starttls:
        return imaplib.IMAP4_SSL(target.host, target.port, ssl_context=context, timeout=timeout)
    imap = imaplib.IMAP4(target.host, target.port, timeout=timeout)
    try:
        # Nothing but CAPABILITY and STARTTLS is said in clear. PREAUTH would mean a session with no
        # login at all over an unencrypted line, which nobody can vouch for; refuse that too.
        if imap.state != "NONAUTH":
            raise ImapTlsRefused("the server logged in before TLS (PREAUTH); refused", path=str(target))
        if "STARTTLS" not in imap.capabilities:
            raise ImapTlsRefused("the server does not offer STARTTLS; refused, so no credentials are sent", path=str(target))
        imap.starttls(ssl_context=context)  # verifies the certificate and asks the capabilities again, over TLS
    except BaseException:
        try:
            imap.shutdown()
        except OSError:
            pass
        raise
    return imap


def _uidvalidity(imap: imaplib.IMAP4) -> int | None:
    _typ, data = imap.response("UIDVALIDITY")
    value = data[0] if data else None
    return int(value) if isinstance(value, bytes) and value.isdigit() else None


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(exc: object) -> str:
    if isinstance(exc, list):
        exc = b" ".join(x for x in exc if isinstance(x, bytes))
    if isinstance(exc, bytes):
        return exc.decode(errors="replace")
    return str(exc)
