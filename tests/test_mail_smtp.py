"""apdocs send against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.mail.errors import SendError
from apdocs.mail.pack import write_pack
from apdocs.mail.send import SmtpConfig, send_outbox
from apdocs.mail.sendlog import LOG_NAME, SendLog
from apdocs.roster import load_roster
from tests.imap_server import free_port
from tests.mail_helpers import SAMPLE_ROSTER


class Inbox:
    """Collects what the server accepted; can drop the connection at chosen points of the Nth transaction.

    ``drop_after_data_on``: the server reads the whole message (the client has sent the final
    ``.`` line, and the server has it) and then closes the connection without replying, as a
    server that crashes, or a network that breaks, before its 250 would.
    ``drop_at_data_command_on``: the server closes the connection when the DATA command arrives,
    before its 354, so no message data has gone.
    """

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.drop_after_data_on: int | None = None
        self.drop_at_data_command_on: int | None = None
        self.seen = 0  # DATA commands seen
        self.closed_without_reply = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)  # the server has the message, whatever happens next
        if self.drop_after_data_on is not None and self.seen == self.drop_after_data_on:
            # close() marks the transport lost, so the status returned below is never written
            server.transport.close()
            self.closed_without_reply += 1
            return "250 never sent"
        return "250 OK"


class DroppingSMTP(SMTP):
    """aiosmtpd's SMTP server, able to hang up as a DATA command arrives (no handler hook runs there)."""

    def __init__(self, inbox: Inbox, **kw: Any) -> None:
        super().__init__(inbox, **kw)
        self.inbox = inbox

    async def smtp_DATA(self, arg: str) -> None:
        self.inbox.seen += 1
        if self.inbox.drop_at_data_command_on == self.inbox.seen:
            assert self.transport is not None
            self.transport.close()
            self.inbox.closed_without_reply += 1
            return
        await super().smtp_DATA(arg)


class DroppingController(Controller):
    def factory(self) -> SMTP:
        return DroppingSMTP(self.handler, **self.SMTP_kwargs)


class Server:
    def __init__(self, **kw: Any) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.kw = kw
        self.controller: Controller | None = None

    def start(self) -> Server:
        # The port is free when picked but bound only now; if something took it meanwhile, pick another.
        for attempt in range(3):
            if attempt:
                self.port = free_port()
            controller = DroppingController(self.inbox, hostname="127.0.0.1", port=self.port, **self.kw)
            try:
                controller.start()
            except OSError:
                if attempt == 2:
                    raise
                continue
            self.controller = controller
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig("127.0.0.1", self.port, timeout=10)


@pytest.fixture
def server() -> Any:
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "outbox"
    write_pack(load_roster(SAMPLE_ROSTER), out)
    return out


@pytest.fixture
def outbox(packed: Path, tmp_path: Path) -> Path:
    """A fresh copy of the packed outbox (the send log lives in it)."""
    import shutil

    dest = tmp_path / "outbox"
    shutil.copytree(packed, dest)
    return dest


def _emls(outbox: Path) -> list[Path]:
    return sorted((outbox / "mail").glob("*.eml"))


def test_dry_run_connects_to_nothing(outbox: Path, server: Server) -> None:
    report = send_outbox(outbox, server.config, yes=False)
    assert report.dry_run and len(report.not_attempted) == len(_emls(outbox)) == 3
    assert server.inbox.seen == 0
    assert not (outbox / LOG_NAME).exists()


def test_sends_each_file_byte_for_byte_to_its_school_once(outbox: Path, server: Server) -> None:
    report = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert len(report.sent) == 3
    got = {tuple(e.rcpt_tos): e for e in server.inbox.received}
    for path in _emls(outbox):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        env = got[(str(msg["To"]),)]
        assert env.mail_from == "virtualschool@leics.gov.uk"
        assert env.content.replace(b"\r\n", b"\n").rstrip() == path.read_bytes().replace(b"\r\n", b"\n").rstrip()
    again = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert again.sent == [] and len(again.already_sent) == 3
    assert len(server.inbox.received) == 3


def test_connection_lost_after_the_data_went_is_uncertain_and_not_sent_again(outbox: Path, server: Server) -> None:
    """A real server takes the whole second message, then hangs up before its 250: that school may have it."""
    second = _emls(outbox)[1].name
    server.inbox.drop_after_data_on = 2
    with pytest.raises(SendError, match="before the server confirmed") as exc:
        send_outbox(outbox, server.config, yes=True, per_minute=0)
    report = exc.value.context["report"]
    assert len(report.sent) == 1 and report.uncertain == [second] and report.failed == []
    assert len(report.not_attempted) == 1
    assert server.inbox.closed_without_reply == 1 and len(server.inbox.received) == 2  # the server did get it
    events = [(e.event, e.file) for e in SendLog(outbox / LOG_NAME).entries()]
    assert ("uncertain", second) in events and ("failed", second) not in events
    assert SendLog(outbox / LOG_NAME).states()[_mid(outbox, 1)] == "uncertain"

    server.inbox.drop_after_data_on = None
    rerun = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert len(rerun.sent) == 1 and rerun.uncertain == [second] and len(rerun.already_sent) == 1
    delivered = [tuple(e.rcpt_tos) for e in server.inbox.received]
    assert len(delivered) == 3 and len(set(delivered)) == 3  # every school once, none twice

    # Only when the officer says so (having checked with the school) does it go again.
    forced = send_outbox(outbox, server.config, yes=True, per_minute=0, resend_uncertain=True)
    assert forced.sent == [second] and len(server.inbox.received) == 4


def test_connection_lost_before_the_data_went_is_a_failure_sent_again(outbox: Path, server: Server) -> None:
    """The server hangs up as DATA arrives: no message data was sent, so the next run sends it."""
    second = _emls(outbox)[1].name
    server.inbox.drop_at_data_command_on = 2
    with pytest.raises(SendError, match="connection lost") as exc:
        send_outbox(outbox, server.config, yes=True, per_minute=0)
    report = exc.value.context["report"]
    assert len(report.sent) == 1 and report.uncertain == [] and [f for f, _ in report.failed] == [second]
    assert server.inbox.closed_without_reply == 1 and len(server.inbox.received) == 1
    assert SendLog(outbox / LOG_NAME).states()[_mid(outbox, 1)] == "failed"

    # The server is now down altogether: nothing is sent, nothing is logged as sent.
    server.stop()
    with pytest.raises(SendError, match="cannot reach"):
        send_outbox(outbox, server.config, yes=True, per_minute=0)

    server.inbox.drop_at_data_command_on = None
    server.start()
    rerun = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert len(rerun.sent) == 2 and second in rerun.sent and len(rerun.already_sent) == 1
    delivered = [tuple(e.rcpt_tos) for e in server.inbox.received]
    assert len(delivered) == 3 and len(set(delivered)) == 3  # every school once, none twice


def test_a_refusal_at_the_end_of_data_is_a_failure_and_the_run_goes_on(outbox: Path, server: Server) -> None:
    """A clear "no" to the message (here 554) is not uncertain: it is retried, and later messages still go."""
    refuse = {2}
    original = server.inbox.handle_DATA

    async def handle_DATA(srv: Any, session: Any, envelope: Any) -> str:
        if server.inbox.seen in refuse:
            return "554 5.6.0 synthetic content refusal"
        return await original(srv, session, envelope)

    server.inbox.handle_DATA = handle_DATA  # type: ignore[method-assign]
    report = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert len(report.sent) == 2 and report.uncertain == [] and len(report.failed) == 1
    assert "554" in report.failed[0][1]
    refuse.clear()
    assert send_outbox(outbox, server.config, yes=True, per_minute=0).sent == [report.failed[0][0]]


def test_every_recipient_refused_is_a_failure_and_the_session_goes_on(outbox: Path, server: Server) -> None:
    """RCPT is its own step now: a 550 to the only recipient fails that message, and the next still goes."""
    second = _emls(outbox)[1]
    refused_rcpt = str(email.message_from_bytes(second.read_bytes(), policy=email.policy.default)["To"])

    async def handle_RCPT(srv: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address == refused_rcpt:
            return "550 5.1.1 synthetic: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    server.inbox.handle_RCPT = handle_RCPT  # type: ignore[attr-defined]
    report = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert [f for f, _ in report.failed] == [second.name] and "550" in report.failed[0][1]
    assert len(report.sent) == 2 and report.uncertain == []
    assert server.inbox.seen == 2  # no DATA for the refused one
    assert SendLog(outbox / LOG_NAME).states()[_mid(outbox, 1)] == "failed"


def _mid(outbox: Path, n: int) -> str:
    return str(email.message_from_bytes(_emls(outbox)[n].read_bytes(), policy=email.policy.default)["Message-ID"])


def test_attempt_without_outcome_is_not_resent_unless_asked(outbox: Path, server: Server) -> None:
    first = _emls(outbox)[0]
    mid = str(email.message_from_bytes(first.read_bytes(), policy=email.policy.default)["Message-ID"])
    SendLog(outbox / LOG_NAME).record("attempt", mid, first.name)  # as if killed mid-transaction
    report = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert report.uncertain == [first.name] and len(report.sent) == 2
    report = send_outbox(outbox, server.config, yes=True, per_minute=0, resend_uncertain=True)
    assert report.sent == [first.name]


def test_torn_last_log_line_is_ignored(outbox: Path, server: Server) -> None:
    send_outbox(outbox, server.config, yes=True, per_minute=0)
    with open(outbox / LOG_NAME, "ab") as fh:
        fh.write(b'{"event": "sent", "message_id": "<tor')  # power cut mid-append
    report = send_outbox(outbox, server.config, yes=True, per_minute=0)
    assert report.sent == [] and len(report.already_sent) == 3
    assert all(e.message_id for e in SendLog(outbox / LOG_NAME).entries())


def test_rate_limit_spaces_messages(outbox: Path, server: Server) -> None:
    sleeps: list[float] = []
    now = [100.0]

    def clock() -> float:
        return now[0]

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    send_outbox(outbox, server.config, yes=True, per_minute=12, sleep=sleep, clock=clock)
    assert sleeps == [pytest.approx(5.0), pytest.approx(5.0)]  # 12/min -> one every 5 s


def test_cli_password_from_environment_and_login(outbox: Path) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-synthetic")

    srv = Server(authenticator=authenticator, auth_require_tls=False).start()
    try:
        runner = CliRunner()
        args = ["send", str(outbox), "--smtp", f"127.0.0.1:{srv.port}", "--user", "vs", "--rate", "0"]
        dry = runner.invoke(main, args)
        assert dry.exit_code == 0 and "dry run" in dry.output and srv.inbox.seen == 0
        res = runner.invoke(main, [*args, "--yes"], env={"APDOCS_SMTP_PASSWORD": "s3cret-synthetic"})
        assert res.exit_code == 0, res.output
        assert logins == [(b"vs", b"s3cret-synthetic")]
        assert len(srv.inbox.received) == 3
        assert "s3cret" not in res.output
    finally:
        srv.stop()


def test_cli_reports_a_lost_server_with_exit_1(outbox: Path, server: Server) -> None:
    server.inbox.drop_at_data_command_on = 1
    res = CliRunner().invoke(main, ["send", str(outbox), "--smtp", f"127.0.0.1:{server.port}", "--yes", "--rate", "0"])
    assert res.exit_code == 1
    assert "connection lost" in res.output


def test_cli_reports_an_uncertain_send_with_exit_1_and_holds_it_back(outbox: Path, server: Server) -> None:
    first = _emls(outbox)[0].name
    server.inbox.drop_after_data_on = 1
    args = ["send", str(outbox), "--smtp", f"127.0.0.1:{server.port}", "--yes", "--rate", "0"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and "before the server confirmed" in res.output and "uncertain" in res.output
    server.inbox.drop_after_data_on = None
    again = CliRunner().invoke(main, [*args, "--json"])
    assert again.exit_code == 1  # still something for the officer to check
    out = json.loads(again.stdout)
    assert out["uncertain"] == [first] and len(out["sent"]) == 2


def test_a_second_run_on_the_same_outbox_waits_its_turn(outbox: Path, server: Server) -> None:
    """While one send holds the outbox, another is refused before reading the log, so nothing goes twice."""
    import fcntl
    import os

    fd = os.open(outbox / LOG_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running `apdocs send` holds
        with pytest.raises(SendError, match="already running"):
            send_outbox(outbox, server.config, yes=True, per_minute=0)
        res = CliRunner().invoke(main, ["send", str(outbox), "--smtp", f"127.0.0.1:{server.port}", "--yes", "--rate", "0"])
        assert res.exit_code == 3 and "already running" in res.output
    finally:
        os.close(fd)
    assert server.inbox.seen == 0
    assert len(send_outbox(outbox, server.config, yes=True, per_minute=0).sent) == 3  # the lock went with its holder


def test_password_is_never_sent_unencrypted_to_a_remote_server(outbox: Path) -> None:
    config = SmtpConfig("smtp.example.invalid", 587, user="vs", password="s3cret-synthetic")
    with pytest.raises(SendError, match="unencrypted") as exc:
        send_outbox(outbox, config, yes=True, per_minute=0)
    assert exc.value.code == "SMTP_PLAINTEXT_AUTH"
    assert SendLog(outbox / LOG_NAME).entries() == []
