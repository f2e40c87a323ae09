"""Typed errors of the mail layer (all :class:`~apdocs.errors.ApdocsError`)."""

from __future__ import annotations

from apdocs.errors import ApdocsError


class MailError(ApdocsError):
    code = "MAIL_ERROR"


class MailSourceError(MailError):
    """A mail source (folder, file, mailbox) could not be read; the batch goes on."""

    code = "MAIL_SOURCE"


class ImapTlsRefused(MailSourceError):
    """An ``imap://`` server did not let the session become encrypted (no STARTTLS, or PREAUTH in clear).

    Raised before any credential is sent: a password or token never crosses the network in clear.
    """

    code = "IMAP_TLS"


class MessageUnreadable(MailError):
    code = "MESSAGE_UNREADABLE"


class TnefUnreadable(MailError):
    """A ``winmail.dat`` (Outlook's TNEF wrapper) that could not be opened: whatever forms it held are unread."""

    code = "TNEF_UNREADABLE"


class MessageTooLarge(MailError):
    code = "MESSAGE_TOO_LARGE"


class ArchiveError(MailError):
    code = "ARCHIVE_ERROR"


class SendError(MailError):
    code = "SEND_ERROR"


class OutboxError(MailError):
    code = "OUTBOX_ERROR"
