"""Send an outbox's ``.eml`` files over SMTP, at most once each, at a limited rate.

The bytes sent are exactly the file's bytes (what the officer could open and check);
envelope sender and recipients come from its From/To/Cc headers. See
:mod:`apdocs.mail.sendlog` for how re-runs avoid sending anything twice, and
:mod:`apdocs.mail.transaction` for how a lost connection is told apart from a refusal.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import ipaddress
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apdocs.mail.errors import OutboxError, SendError
from apdocs.mail.sendlog import LOG_NAME, SendLog, State
from apdocs.mail.transaction import Lost, Refused, TrackingSMTP, Uncertain, deliver


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    cafile: str | None = None
    timeout: float = 60

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig({self.host}:{self.port}, starttls={self.starttls}, user={self.user!r})"


@dataclass(frozen=True)
class Outgoing:
    file: Path
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    attachments: int
    size: int


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "uncertain": self.uncertain,
            "failed": [{"file": f, "error": e} for f, e in self.failed],
            "not_attempted": self.not_attempted,
        }


def outbox_messages(outbox: Path) -> list[Outgoing]:
    """The outbox's messages in name order, with what send needs from their headers."""
    mail_dir = _mail_dir(outbox)
    out = []
    for path in sorted(mail_dir.glob("*.eml")):
        raw = path.read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        mid = str(msg.get("Message-ID") or "").strip()
        if not mid:
            raise OutboxError("message has no Message-ID; re-run apdocs pack", path=str(path))
        rcpts = tuple(
            a for _n, a in email.utils.getaddresses([str(v) for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, [])]) if a
        )
        sender = email.utils.parseaddr(str(msg.get("From") or ""))[1]
        if not rcpts or not sender:
            raise OutboxError("message has no sender or no recipient", path=str(path))
        n_att = sum(1 for _ in msg.iter_attachments())
        out.append(Outgoing(path, mid, sender, rcpts, str(msg.get("Subject") or ""), n_att, len(raw)))
    return out


def _mail_dir(outbox: Path) -> Path:
    mail_dir = outbox / "mail"
    if not mail_dir.is_dir():
        raise OutboxError("not an apdocs outbox (no mail/ folder); run apdocs pack first", path=str(outbox))
    return mail_dir


def plan(outbox: Path) -> list[tuple[Outgoing, State]]:
    states = SendLog(outbox / LOG_NAME).states()
    return [(m, states.get(m.message_id, "pending")) for m in outbox_messages(outbox)]


def send_outbox(
    outbox: Path,
    config: SmtpConfig,
    *,
    yes: bool = False,
    per_minute: float = 30,
    resend_uncertain: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_progress: Callable[[Outgoing, str], None] | None = None,
) -> SendReport:
    """Send what has not been sent. Without ``yes`` nothing connects: the report is the plan.

    A real run holds an exclusive lock on the outbox's send log from reading it to the
    last message, so two runs started together cannot both send the same message.
    """
    if not yes:
        return _send(outbox, config, False, per_minute, resend_uncertain, sleep, clock, on_progress)
    if config.user and not config.starttls and not _is_loopback(config.host):
        raise SendError(
            "refusing to send the SMTP password unencrypted; add --starttls",
            code="SMTP_PLAINTEXT_AUTH",
            path=f"{config.host}:{config.port}",
        )
    with _exclusive(outbox / LOG_NAME, outbox):
        return _send(outbox, config, True, per_minute, resend_uncertain, sleep, clock, on_progress)


def _send(
    outbox: Path,
    config: SmtpConfig,
    yes: bool,
    per_minute: float,
    resend_uncertain: bool,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    on_progress: Callable[[Outgoing, str], None] | None,
) -> SendReport:
    report = SendReport(dry_run=not yes)
    todo: list[Outgoing] = []
    for m, state in plan(outbox):
        name = m.file.name
        if state == "sent":
            report.already_sent.append(name)
        elif state == "uncertain" and not resend_uncertain:
            report.uncertain.append(name)
        else:
            todo.append(m)
    if not yes:
        report.not_attempted = [m.file.name for m in todo]
        return report
    if not todo:
        return report
    log = SendLog(outbox / LOG_NAME)
    interval = 60.0 / per_minute if per_minute > 0 else 0.0
    smtp: TrackingSMTP | None = None
    last_start: float | None = None
    try:
        for i, m in enumerate(todo):
            if last_start is not None and interval:
                wait = last_start + interval - clock()
                if wait > 0:
                    sleep(wait)
            last_start = clock()
            try:
                if smtp is None:
                    smtp = _connect(config)
            except (OSError, smtplib.SMTPException) as exc:
                err = _describe(exc)
                report.failed.append((m.file.name, err))
                report.not_attempted = [x.file.name for x in todo[i + 1 :]]
                raise SendError(f"cannot reach the SMTP server: {err}", path=f"{config.host}:{config.port}") from exc
            try:
                data = m.file.read_bytes()
            except OSError as exc:  # the outbox file went away: nothing was tried, so nothing is uncertain
                log.record("failed", m.message_id, m.file.name, _describe(exc))
                report.failed.append((m.file.name, _describe(exc)))
                continue
            log.record("attempt", m.message_id, m.file.name)
            try:
                refused = deliver(smtp, m.sender, list(m.recipients), data)
            except Refused as exc:
                # The server said no to this message; the session goes on (or reconnects after a 421).
                log.record("failed", m.message_id, m.file.name, str(exc))
                report.failed.append((m.file.name, str(exc)))
                if smtp.sock is None:
                    smtp = None
                continue
            except Uncertain as exc:
                # The whole message went out and no reply came: the server may have it. Held back on
                # later runs unless --resend-uncertain, like a run killed at the same point.
                log.record("uncertain", m.message_id, m.file.name, str(exc))
                report.uncertain.append(m.file.name)
                report.not_attempted = [x.file.name for x in todo[i + 1 :]]
                smtp.close()
                smtp = None
                raise SendError(
                    f"SMTP connection lost after the message was sent, before the server confirmed it: {exc}",
                    path=f"{config.host}:{config.port}",
                ) from exc
            except Lost as exc:
                # The connection broke before the end of the data went out: the server cannot have it.
                log.record("failed", m.message_id, m.file.name, str(exc))
                report.failed.append((m.file.name, str(exc)))
                report.not_attempted = [x.file.name for x in todo[i + 1 :]]
                smtp.close()
                smtp = None
                raise SendError(f"SMTP connection lost: {exc}", path=f"{config.host}:{config.port}") from exc
            detail = f"refused by server for {', '.join(sorted(refused))}" if refused else None
            log.record("sent", m.message_id, m.file.name, detail)
            report.sent.append(m.file.name)
            if on_progress:
                on_progress(m, "sent")
    except SendError as exc:
        exc.context["report"] = report
        raise
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return report


@contextlib.contextmanager
def _exclusive(log_path: Path, outbox: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on the send log (released when the process dies)."""
    _mail_dir(outbox)  # never create a send log in a folder that is not an outbox
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock; the log still prevents resending after a run ends
            pass
        except OSError:
            raise SendError("another apdocs send is already running on this outbox", path=str(outbox)) from None
        yield
    finally:
        os.close(fd)


def _is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(config: SmtpConfig) -> TrackingSMTP:
    smtp = TrackingSMTP(config.host, config.port, timeout=config.timeout)
    try:
        smtp.ehlo()
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context(cafile=config.cafile))
            smtp.ehlo()
        if config.user:
            smtp.login(config.user, config.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {msg}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused"
    return f"{type(exc).__name__}: {exc}"
