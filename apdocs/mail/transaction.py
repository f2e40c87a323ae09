"""One SMTP mail transaction, run as its three steps so a lost connection can be placed.

``smtplib.SMTP.sendmail`` does MAIL, RCPT and DATA in one call, so when the connection
breaks the caller cannot tell *where*. That matters for "send at most once":

* a break before the end of the message data was sent (during MAIL, RCPT, the DATA
  command or while the content was still going out) means the server cannot have the
  message: an SMTP server takes a message only after the final ``<CRLF>.<CRLF>``;
* a break after that line went out but before the server's reply was read is
  *uncertain*: the server may well have queued it and died (or the network did) before
  saying 250. Sending it again could give the school a second copy.

:func:`deliver` reports the first as :class:`Lost` and the second as :class:`Uncertain`;
a reply that says no (a 4xx/5xx to MAIL, every RCPT, or the end of DATA) is
:class:`Refused`, and the session can go on.
"""

from __future__ import annotations

import smtplib
from typing import Any


class Refused(Exception):
    """The server answered and said no; the connection is still usable."""

    def __init__(self, code: int, reply: bytes | str, step: str) -> None:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        super().__init__(f"{step}: {code} {text}".strip())
        self.code = code


class Lost(Exception):
    """The connection broke before the end of the message data reached the server: not delivered."""


class Uncertain(Exception):
    """The connection broke after the whole message was sent, before the server's reply to it."""


_END_OF_DATA = b"\r\n.\r\n"


class TrackingSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` that notes when the end-of-data line has been handed to the socket in full.

    ``smtplib`` sends the quoted message and its terminating ``.`` line in one
    ``send()`` inside ``data()``; ``sendall`` returns only when every byte is written, so
    once that ``send()`` returns the server may have the message.
    """

    end_of_data_sent = False

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes | bytearray) and bytes(s[-len(_END_OF_DATA) :]) == _END_OF_DATA:
            self.end_of_data_sent = True


def deliver(smtp: TrackingSMTP, sender: str, recipients: list[str], data: bytes) -> dict[str, tuple[int, bytes]]:
    """Send one message; returns the recipients the server refused (others took it).

    Raises :class:`Refused`, :class:`Lost` or :class:`Uncertain` (see the module doc).
    """
    smtp.end_of_data_sent = False
    try:
        options = [f"size={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            _refused(smtp, code, reply, "MAIL FROM")
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in recipients:
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                if code == 421:  # the server is closing the session: nothing was taken
                    _refused(smtp, code, reply, f"RCPT TO {rcpt}")
                refused[rcpt] = (code, reply)
        if len(refused) == len(recipients):
            code, reply = next(iter(refused.values()))
            _refused(smtp, code, reply, "RCPT TO (every recipient)")
        code, reply = smtp.data(data)
    except smtplib.SMTPDataError as exc:  # the DATA command itself was answered with something other than 354
        _reset_or_close(smtp, exc.smtp_code)
        raise Refused(exc.smtp_code, exc.smtp_error, "DATA") from exc
    except (OSError, smtplib.SMTPException) as exc:
        if smtp.end_of_data_sent:
            raise Uncertain(_describe(exc)) from exc
        raise Lost(_describe(exc)) from exc
    if code != 250:  # the server answered the message itself: a clear no (421 included), never uncertain
        _refused(smtp, code, reply, "end of DATA")
    return refused


def _refused(smtp: smtplib.SMTP, code: int, reply: bytes, step: str) -> None:
    _reset_or_close(smtp, code)
    raise Refused(code, reply, step)


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    try:
        if code == 421:
            smtp.close()
        else:
            smtp.rset()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
