"""Ingest: read every message from the sources and archive it with its files, once.

Idempotent by construction: a message is identified by the SHA-256 of its original
bytes and each file by the SHA-256 of its content, so a second run over the same mail
(or the same mail arriving by two routes) writes nothing. Parsing and reconciling the
archived forms into the tracker is :mod:`apdocs.mail.returns`' job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apdocs.errors import ApdocsError
from apdocs.mail.archive import Archive
from apdocs.mail.errors import MailError
from apdocs.mail.imap import ImapAuth, fetch, parse_imap_url
from apdocs.mail.limits import DEFAULT_LIMITS, Limits
from apdocs.mail.message import MailItem, message_sha256, read_message
from apdocs.mail.sources import RawMail, is_imap_url, iter_path

log = logging.getLogger("apdocs.mail.ingest")


@dataclass
class IngestReport:
    messages_seen: int = 0
    messages_new: int = 0
    messages_known: int = 0  # already in the archive: nothing written
    forms_new: int = 0  # form files in the new messages (a duplicate file is stored once)
    skipped_new: int = 0  # non-form parts listed in the new messages
    errors: list[ApdocsError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages_seen": self.messages_seen,
            "messages_new": self.messages_new,
            "messages_known": self.messages_known,
            "forms_new": self.forms_new,
            "skipped_new": self.skipped_new,
            "errors": [{**e.to_dict(), "where": e.path} for e in self.errors],
        }


@dataclass(frozen=True)
class SourceOptions:
    imap_auth: ImapAuth | None = None
    imap_cafile: str | None = None
    limits: Limits = DEFAULT_LIMITS


def iter_sources(specs: Iterable[str], options: SourceOptions) -> Iterator[RawMail | ApdocsError]:
    for spec in specs:
        if is_imap_url(spec):
            try:
                target = parse_imap_url(spec)
            except MailError as exc:
                yield exc
                continue
            if options.imap_auth is None:
                yield MailError("no IMAP password or token given", path=str(target), code="IMAP_AUTH")
                continue
            yield from fetch(target, options.imap_auth, limits=options.limits, cafile=options.imap_cafile)
        else:
            yield from iter_path(Path(spec), options.limits)


def ingest(
    specs: Iterable[str],
    archive: Archive,
    options: SourceOptions = SourceOptions(),
    *,
    on_message: Callable[[str], None] | None = None,
) -> IngestReport:
    """Archive every message from ``specs`` (call inside ``archive.locked()``)."""
    report = IngestReport()
    for got in iter_sources(specs, options):
        if isinstance(got, ApdocsError):
            report.errors.append(got)
            log.warning("source problem: %s", got)
            continue
        report.messages_seen += 1
        _one(got, archive, options.limits, report)
        if on_message:
            on_message(got.origin)
    return report


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
        report.messages_new += 1
        report.forms_new += len(item.found)
        report.skipped_new += len(item.skipped)
        log.info("archived message %s (%d forms, %d skipped)", item.sha256[:12], len(item.found), len(item.skipped))
    else:
        report.messages_known += 1
