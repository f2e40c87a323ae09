"""Ingest: read every message from the sources and archive it with its files, once.

Idempotent by construction: a message is identified by the SHA-256 of its original
bytes and each file by the SHA-256 of its content, so a second run over the same mail
(or the same mail arriving by two routes) writes nothing. Parsing and reconciling the
archived forms into the tracker is :mod:`apdocs.mail.returns`' job.

IMAP mailboxes are fetched incrementally: the archive remembers, per mailbox, its
UIDVALIDITY and the highest UID up to which every message is archived (its mark), and the
next run fetches only later UIDs. The mark moves only past messages already stored, and
stops at the first message that could not be fetched, so a crash or a failure never makes
a later run skip a message; at worst some are fetched again and de-duplicated by hash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apdocs.errors import ApdocsError, Notice
from apdocs.mail.archive import Archive
from apdocs.mail.errors import MailError
from apdocs.mail.extract import read_message
from apdocs.mail.imap import ImapAuth, ImapFetch, ImapMail, MailboxKey, MailboxMark, parse_imap_url
from apdocs.mail.limits import DEFAULT_LIMITS, Limits
from apdocs.mail.message import MailItem, message_sha256
from apdocs.mail.sources import RawMail, is_imap_url, iter_path

log = logging.getLogger("apdocs.mail.ingest")
_STATE_VERSION = 1


@dataclass
class MailboxScan:
    """What one pass over an IMAP mailbox did."""

    source: str
    scan: str  # "incremental" (only UIDs after the mark) or "full"
    reason: str  # why a full scan: "first run", "UIDVALIDITY changed", "--imap-full", ...
    fetched: int = 0  # message bodies downloaded
    last_uid: int | None = None  # the mark now stored (None: nothing stored, e.g. the mailbox never opened)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IngestReport:
    messages_seen: int = 0
    messages_new: int = 0
    messages_known: int = 0  # already in the archive: nothing written
    forms_new: int = 0  # form files in the new messages (a duplicate file is stored once)
    skipped_new: int = 0  # non-form parts listed in the new messages
    errors: list[ApdocsError] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    mailboxes: list[MailboxScan] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages_seen": self.messages_seen,
            "messages_new": self.messages_new,
            "messages_known": self.messages_known,
            "forms_new": self.forms_new,
            "skipped_new": self.skipped_new,
            "errors": [{**e.to_dict(), "where": e.path} for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "mailboxes": [m.to_dict() for m in self.mailboxes],
        }


@dataclass(frozen=True)
class SourceOptions:
    imap_auth: ImapAuth | None = None
    imap_cafile: str | None = None
    limits: Limits = DEFAULT_LIMITS
    imap_full: bool = False  # fetch every message again, ignoring the stored marks (which are still updated)


def ingest(
    specs: Iterable[str],
    archive: Archive,
    options: SourceOptions = SourceOptions(),
    *,
    on_message: Callable[[str], None] | None = None,
) -> IngestReport:
    """Archive every message from ``specs`` (call inside ``archive.locked()``)."""
    report = IngestReport()
    marks: _Marks | None = None
    for spec in specs:
        if not is_imap_url(spec):
            for got in iter_path(Path(spec), options.limits):
                _take(got, archive, options.limits, report, on_message)
            continue
        if marks is None:
            marks = _Marks(archive, report)
        _ingest_mailbox(spec, archive, options, marks, report, on_message)
    return report


def _take(
    got: RawMail | ApdocsError,
    archive: Archive,
    limits: Limits,
    report: IngestReport,
    on_message: Callable[[str], None] | None,
) -> bool:
    """Archive one thing a source gave; False when it was a source problem (recorded, nothing stored)."""
    if isinstance(got, ApdocsError):
        report.errors.append(got)
        log.warning("source problem: %s", got)
        return False
    report.messages_seen += 1
    _one(got, archive, limits, report)
    if on_message:
        on_message(got.origin)
    return True


def _ingest_mailbox(
    spec: str,
    archive: Archive,
    options: SourceOptions,
    marks: _Marks,
    report: IngestReport,
    on_message: Callable[[str], None] | None,
) -> None:
    try:
        target = parse_imap_url(spec)
        if options.imap_auth is None:
            raise MailError("no IMAP password or token given", path=str(target), code="IMAP_AUTH")
    except MailError as exc:
        _take(exc, archive, options.limits, report, on_message)
        return
    stored = None if options.imap_full else marks.get(target.key)
    session = ImapFetch(target, options.imap_auth, resume=stored, limits=options.limits, cafile=options.imap_cafile)
    archived_to = 0  # highest UID of this pass stored while every message before it was stored too
    intact = True
    try:
        for got in session:
            intact = _take(got, archive, options.limits, report, on_message) and intact
            if intact and isinstance(got, ImapMail):
                archived_to = got.uid
    finally:
        # Also after an ArchiveError or Ctrl-C: the mark covers only UIDs already stored, so saving it is safe.
        scan = MailboxScan(str(target), "incremental" if session.incremental else "full", "", session.fetched)
        if session.incremental and stored is not None:
            archived_to = max(archived_to, stored.last_uid)
        else:
            scan.reason = _full_reason(options, stored, session.uidvalidity)
        if session.uidvalidity is not None:
            marks.put(target.key, MailboxMark(session.uidvalidity, archived_to))
            scan.last_uid = archived_to
        report.mailboxes.append(scan)
        log.info("%s: %s scan, %d fetched", target, scan.scan, scan.fetched)


def _full_reason(options: SourceOptions, stored: MailboxMark | None, uidvalidity: int | None) -> str:
    if options.imap_full:
        return "--imap-full"
    if stored is None:
        return "no earlier run recorded"
    if uidvalidity is None:
        return "the server gave no UIDVALIDITY"
    return "UIDVALIDITY changed"


class _Marks:
    """The archive's ``imap-state.json``: one mark per mailbox, read once per run, saved after each mailbox's pass."""

    def __init__(self, archive: Archive, report: IngestReport) -> None:
        self.archive = archive
        self.marks: dict[MailboxKey, MailboxMark] = {}
        try:
            self.marks = _marks_from_json(archive.read_imap_state())
        except (ApdocsError, ValueError, TypeError, KeyError) as exc:
            # Only efficiency is lost: every mailbox is fetched in full and the hashes stop duplicates.
            why = exc.message if isinstance(exc, ApdocsError) else f"unexpected content ({exc})"
            notice = Notice("IMAP_STATE_UNREADABLE", f"{why}; fetching every mailbox in full", where=str(archive.imap_state_path))
            report.warnings.append(notice)
            # info, not warning: the report carries it and the CLI prints it; an unconfigured logger
            # would print a warning a second time
            log.info("%s: %s", notice.where, notice.message)

    def get(self, key: MailboxKey) -> MailboxMark | None:
        return self.marks.get(key)

    def put(self, key: MailboxKey, mark: MailboxMark) -> None:
        if self.marks.get(key) == mark:
            return
        self.marks[key] = mark
        self.archive.write_imap_state(_marks_to_json(self.marks))


def _marks_to_json(marks: dict[MailboxKey, MailboxMark]) -> dict[str, Any]:
    rows = [
        {"host": h, "port": p, "user": u, "mailbox": m, "uidvalidity": mark.uidvalidity, "last_uid": mark.last_uid}
        for (h, p, u, m), mark in sorted(marks.items())
    ]
    return {"version": _STATE_VERSION, "mailboxes": rows}


def _marks_from_json(data: Any) -> dict[MailboxKey, MailboxMark]:
    """Validated marks; ValueError/TypeError/KeyError on anything not written by :func:`_marks_to_json`."""
    if data is None:
        return {}
    if not isinstance(data, dict) or data.get("version") != _STATE_VERSION or not isinstance(data.get("mailboxes"), list):
        raise ValueError(f"not a version {_STATE_VERSION} IMAP state")
    marks = {}
    for row in data["mailboxes"]:
        host, port, user, mailbox = row["host"], row["port"], row["user"], row["mailbox"]
        uidvalidity, last_uid = row["uidvalidity"], row["last_uid"]
        if not all(isinstance(v, str) for v in (host, user, mailbox)):
            raise TypeError("host, user and mailbox must be text")
        # bool is an int in Python; a UIDVALIDITY is a positive number, a mark 0 or a UID.
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (port, uidvalidity, last_uid)):
            raise TypeError("port, uidvalidity and last_uid must be whole numbers")
        if uidvalidity < 1 or last_uid < 0:
            raise ValueError("uidvalidity or last_uid out of range")
        marks[(host, port, user, mailbox)] = MailboxMark(uidvalidity, last_uid)
    return marks


def _one(mail: RawMail, archive: Archive, limits: Limits, report: IngestReport) -> None:
    # Known by its bytes: skip it before parsing, so a re-run costs hashing, not re-reading every
    # message. (Either container's identity will do: equal hashes are the same message.)
    if any(archive.has_message(message_sha256(mail.raw, c)) for c in ("eml", "msg")):
        report.messages_known += 1
        return
    item: MailItem
    try:
        item = read_message(mail.raw, mail.origin, limits)
    except MailError as exc:
        # Keep what could not be read: nothing that arrived is ever dropped.
        report.errors.append(exc)
        item = MailItem(origin=mail.origin, raw=mail.raw, container="msg" if mail.raw[:4] == b"\xd0\xcf\x11\xe0" else "eml")
        item.error = exc.to_dict()
    if archive.store(item):
        for part in item.skipped:
            if part.code:  # a wrapper that may have held forms could not be opened (a damaged winmail.dat)
                report.errors.append(MailError(part.reason, code=part.code, path=f"{item.origin}: {part.via}{part.name}"))
        report.messages_new += 1
        report.forms_new += len(item.found)
        report.skipped_new += len(item.skipped)
        log.info("archived message %s (%d forms, %d skipped)", item.sha256[:12], len(item.found), len(item.skipped))
    else:
        report.messages_known += 1
