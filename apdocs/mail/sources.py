"""Where mail comes from: folders, ``.eml``, ``.msg`` and ``.mbox`` files, IMAP mailboxes.

Each source yields :class:`RawMail` (original bytes + where they came from) or, for a
part of the source that could not be read, a :class:`~apdocs.mail.errors.MailError` value
(:class:`~apdocs.mail.errors.MailSourceError`, or :class:`~apdocs.mail.errors.MessageTooLarge`
for a message over the size cap) - yielded, not raised, so one bad file never stops a batch.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from apdocs.mail.errors import MailError, MailSourceError, MessageTooLarge
from apdocs.mail.limits import DEFAULT_LIMITS, Limits
from apdocs.mail.sniff import kind_of

MAIL_EXTENSIONS = (".eml", ".msg", ".mbox")


@dataclass(frozen=True)
class RawMail:
    origin: str
    raw: bytes


def is_imap_url(spec: str) -> bool:
    """``imaps://`` (implicit TLS) or ``imap://`` (STARTTLS, which :mod:`apdocs.mail.imap` insists on)."""
    return spec.lower().startswith(("imaps://", "imap://"))


def iter_path(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[RawMail | MailError]:
    """Messages in a file or (recursively, in name order) a folder."""
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):  # does not follow symlinked folders
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fname in sorted(filenames):
                if fname.startswith("."):
                    continue
                yield from _iter_file(Path(dirpath) / fname, limits, in_folder=True)
    elif path.is_file():
        yield from _iter_file(path, limits, in_folder=False)
    else:
        yield MailSourceError("no such file or folder", path=str(path))


def _iter_file(path: Path, limits: Limits, *, in_folder: bool) -> Iterator[RawMail | MailError]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        size = path.stat().st_size
    except OSError as exc:
        yield MailSourceError(f"cannot read: {exc.strerror}", path=str(path))
        return
    if head.startswith(b"From ") or path.suffix.lower() == ".mbox":
        yield from _iter_mbox(path, limits)
        return
    if size > limits.max_message_bytes:
        yield MessageTooLarge(f"{size} bytes; the cap is {limits.max_message_bytes}", path=str(path))
        return
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield MailSourceError(f"cannot read: {exc.strerror}", path=str(path))
        return
    kind = kind_of(raw)
    if kind in ("eml", "msg") or path.suffix.lower() in (".eml", ".msg"):
        yield RawMail(str(path), raw)
    elif not in_folder:
        yield MailSourceError(f"not an email message (looks like {kind})", path=str(path))
    # In a folder, other files (notes, READMEs, saved attachments) are simply not mail.


def _iter_mbox(path: Path, limits: Limits) -> Iterator[RawMail | MailError]:
    try:
        box = mailbox.mbox(path, create=False)
        keys = list(box.iterkeys())
    except (OSError, mailbox.Error) as exc:
        yield MailSourceError(f"not a readable mbox: {exc}", path=str(path))
        return
    try:
        for n, key in enumerate(keys, start=1):
            origin = f"{path}#{n}"
            try:
                # Read at most one byte past the cap: a huge message is refused without loading it.
                with box.get_file(key) as fh:
                    raw = fh.read(limits.max_message_bytes + 1).replace(os.linesep.encode(), b"\n")  # as get_bytes()
            except (OSError, mailbox.Error, KeyError) as exc:
                yield MailSourceError(f"message unreadable: {exc}", path=origin)
                continue
            if len(raw) > limits.max_message_bytes:
                yield MessageTooLarge(f"larger than the {limits.max_message_bytes}-byte cap", path=origin)
                continue
            yield RawMail(origin, raw)
    finally:
        box.close()
