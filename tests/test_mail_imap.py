"""Ingest from a real Dovecot IMAP server on 127.0.0.1: password, XOAUTH2, read-only, incremental, STARTTLS."""

from __future__ import annotations

import functools
import imaplib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from apdocs.cli import main
from apdocs.mail.archive import KILL_HOOK, Archive
from apdocs.mail.errors import MailSourceError
from apdocs.mail.imap import ImapAuth, fetch, parse_imap_url
from apdocs.mail.ingest import SourceOptions, ingest
from apdocs.mail.limits import Limits
from apdocs.mail.sources import RawMail
from tests.imap_server import PASSWORD, TOKEN, USER, Dovecot
from tests.mail_helpers import DOCX, ROOT, form_bytes, message
from tests.office import require


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot(require("dovecot")).start()
    server.append(message([("a4.docx", form_bytes("VS-A4-IMAP0001"), DOCX)], msgid="<imap-1@x>").as_bytes())
    server.append(message([("logo.png", b"\x89PNG\r\n\x1a\nzz", "image/png")], msgid="<imap-2@x>").as_bytes())
    try:
        yield server
    finally:
        server.stop()


def _ingest(dovecot: Dovecot, archive: Path, *extra: str, env: dict[str, str]) -> tuple[int, str]:
    args = ["ingest", dovecot.url(), "--archive", str(archive), "--imap-cafile", str(dovecot.cafile), *extra]
    res = CliRunner().invoke(main, args, env=env)
    return res.exit_code, res.output


def test_password_login_archives_and_second_run_adds_nothing(dovecot: Dovecot, tmp_path: Path) -> None:
    code, out = _ingest(dovecot, tmp_path / "a", env={"APDOCS_IMAP_PASSWORD": PASSWORD})
    assert code == 0, out
    assert "2 seen, 2 new" in out
    with Archive(tmp_path / "a").locked() as archive:
        metas = archive.messages()
        assert len(archive.files()) == 1
    assert all(m["origin"].startswith(f"imaps://{USER}@127.0.0.1:{dovecot.port}/INBOX;UIDVALIDITY=") for m in metas)
    code, out = _ingest(dovecot, tmp_path / "a", env={"APDOCS_IMAP_PASSWORD": PASSWORD})
    assert code == 0 and "0 seen, 0 new, 0 already archived" in out  # only UIDs after the first run's were asked for
    assert "0 fetched (only messages after the last run's)" in out
    code, out = _ingest(dovecot, tmp_path / "a", "--imap-full", env={"APDOCS_IMAP_PASSWORD": PASSWORD})
    assert code == 0 and "2 seen, 0 new, 2 already archived" in out and "(full scan: --imap-full)" in out


def test_xoauth2_bearer_token_is_validated_by_dovecot(dovecot: Dovecot, tmp_path: Path) -> None:
    before = len(dovecot.introspection_calls)
    code, out = _ingest(dovecot, tmp_path / "a", "--oauth2-token-env", "VS_TOKEN", env={"VS_TOKEN": TOKEN})
    assert code == 0, out
    assert "2 new" in out
    assert dovecot.introspection_calls[before:] == [TOKEN]  # Dovecot really asked the identity provider


def test_mailbox_is_left_unchanged(dovecot: Dovecot) -> None:
    list(fetch(parse_imap_url(dovecot.url()), ImapAuth(password=PASSWORD), cafile=str(dovecot.cafile)))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.port, ssl_context=dovecot.ssl_context()) as imap:
        imap.login(USER, PASSWORD)
        imap.select("INBOX", readonly=True)
        _typ, data = imap.fetch("1:*", "(FLAGS)")
    assert data and all(b"\\Seen" not in d for d in data)


def test_password_in_url_is_refused() -> None:
    with pytest.raises(MailSourceError, match="environment variable"):
        parse_imap_url("imaps://officer:secret@mail.example:993/INBOX")


# -- incremental fetch: what the server sent is counted by Dovecot itself (body_count in its log) ----------


@functools.cache  # the same message byte for byte when delivered again (a rendered form is not reproducible)
def _reply(n: int, padding: int = 0) -> bytes:
    attachments = [(f"a4-{n}.docx", form_bytes(f"VS-A4-INCR{n:04d}"), DOCX)]
    if padding:
        attachments.append(("notes.txt", b"x" * padding, "text/plain"))
    return message(attachments, msgid=f"<incr-{n}@synthetic.example>").as_bytes()


def _cli(dovecot: Dovecot, archive: Path, mailbox: str, *extra: str) -> tuple[Result, int]:
    """One `apdocs ingest` of ``mailbox``: its result, and the message bodies Dovecot sent it."""
    mark = dovecot.log_mark()
    args = ["ingest", dovecot.url(mailbox), "--archive", str(archive), "--imap-cafile", str(dovecot.cafile), *extra]
    res = CliRunner().invoke(main, args, env={"APDOCS_IMAP_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    return res, dovecot.bodies_fetched(mark)


def _run(dovecot: Dovecot, archive: Path, mailbox: str, *extra: str) -> tuple[dict[str, Any], int]:
    """The same with --json: the ingest report, and the bodies Dovecot sent."""
    res, fetched = _cli(dovecot, archive, mailbox, "--json", *extra)
    return json.loads(res.stdout)["ingest"], fetched


def _counts(report: dict[str, Any]) -> tuple[int, int, int]:
    return report["messages_seen"], report["messages_new"], report["messages_known"]


def _archived(archive: Path) -> list[str]:
    with Archive(archive).locked() as a:
        return sorted(m["message_id"] for m in a.messages())


def test_second_run_fetches_only_what_arrived_since(dovecot: Dovecot, tmp_path: Path) -> None:
    for n in (1, 2):
        dovecot.append(_reply(n), "Incremental")
    report, fetched = _run(dovecot, tmp_path / "a", "Incremental")
    assert fetched == 2 and _counts(report) == (2, 2, 0)
    assert report["mailboxes"][0] | {"source": None} == {
        "source": None,
        "scan": "full",
        "reason": "no earlier run recorded",
        "fetched": 2,
        "last_uid": 2,
    }

    # Nothing new: no body fetched at all (UID 3:* still matches UID 2 on the server; it must be dropped).
    report, fetched = _run(dovecot, tmp_path / "a", "Incremental")
    assert fetched == 0 and _counts(report) == (0, 0, 0)
    assert report["mailboxes"][0]["scan"] == "incremental"

    dovecot.append(_reply(3), "Incremental")
    report, fetched = _run(dovecot, tmp_path / "a", "Incremental")
    assert fetched == 1 and _counts(report) == (1, 1, 0)
    assert (report["mailboxes"][0]["scan"], report["mailboxes"][0]["last_uid"]) == ("incremental", 3)
    assert _archived(tmp_path / "a") == [f"<incr-{n}@synthetic.example>" for n in (1, 2, 3)]

    # Read-only throughout: the server still has every message, none marked \Seen, and all still
    # \Recent - a SELECT (read-write) would have claimed that flag, EXAMINE must not (RFC 3501).
    with dovecot.client() as imap:
        imap.select("Incremental", readonly=True)
        _typ, data = imap.fetch("1:*", "(FLAGS)")
    flags = [d for d in data if isinstance(d, bytes)]
    assert len(flags) == 3 and all(b"\\Seen" not in f and b"\\Recent" in f for f in flags), data


def test_a_message_not_fetched_holds_the_mark(dovecot: Dovecot, tmp_path: Path) -> None:
    """The mark never passes a message that was not archived: here one over the size cap, archived once the cap allows."""
    for raw in (_reply(41), _reply(42, padding=100_000), _reply(43)):
        dovecot.append(raw, "Held")
    url = dovecot.url("Held")
    small = Limits(max_message_bytes=max(len(_reply(41)), len(_reply(43))) + 1000)  # well below 42's size
    options = SourceOptions(imap_auth=ImapAuth(password=PASSWORD), imap_cafile=str(dovecot.cafile))
    with Archive(tmp_path / "a").locked() as archive:
        report = ingest([url], archive, replace(options, limits=small))
        assert [e.code for e in report.errors] == ["MESSAGE_TOO_LARGE"]
        assert report.mailboxes[0].last_uid == 1
        mark = dovecot.log_mark()
        report = ingest([url], archive, options)
        assert dovecot.bodies_fetched(mark) == 2  # UIDs 2 and 3: after the mark, not after the last one stored
        assert (report.messages_new, report.messages_known, report.mailboxes[0].last_uid) == (1, 1, 3)
    assert _archived(tmp_path / "a") == [f"<incr-{n}@synthetic.example>" for n in (41, 42, 43)]


def test_new_uidvalidity_means_a_full_fetch_without_duplicates(dovecot: Dovecot, tmp_path: Path) -> None:
    for n in (11, 12, 13):
        dovecot.append(_reply(n), "Recreated")
    report, fetched = _run(dovecot, tmp_path / "a", "Recreated")
    assert fetched == 3
    before = dovecot.uidvalidity("Recreated")

    # Recreated with an old message and a new one: both get UIDs at or below the old mark (3).
    dovecot.recreate("Recreated")
    dovecot.append(_reply(11), "Recreated")
    dovecot.append(_reply(14), "Recreated")
    assert dovecot.uidvalidity("Recreated") != before
    report, fetched = _run(dovecot, tmp_path / "a", "Recreated")
    assert fetched == 2 and _counts(report) == (2, 1, 1)
    assert report["mailboxes"][0]["reason"] == "UIDVALIDITY changed"
    assert _archived(tmp_path / "a") == [f"<incr-{n}@synthetic.example>" for n in (11, 12, 13, 14)]
    # The new UIDVALIDITY is remembered: the next run is incremental and fetches nothing.
    report, fetched = _run(dovecot, tmp_path / "a", "Recreated")
    assert fetched == 0 and report["mailboxes"][0]["scan"] == "incremental"


def _state(*rows: dict[str, Any], version: int = 1) -> bytes:
    return json.dumps({"version": version, "mailboxes": list(rows)}).encode()


# Each turns the real state row into something to refuse. Read as intended, several would fetch too little.
_CORRUPT: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "torn": lambda row: _state(row)[:-3],
    "not-utf8": lambda row: b"\xff\xfe" + _state(row),
    "not-an-object": lambda row: json.dumps([row]).encode(),
    "other-version": lambda row: _state(row, version=2),
    "field-missing": lambda row: _state({k: v for k, v in row.items() if k != "uidvalidity"}),
    "uid-as-text": lambda row: _state({**row, "last_uid": str(row["last_uid"])}),
    "uid-as-bool": lambda row: _state({**row, "last_uid": True}),
    "uid-negative": lambda row: _state({**row, "last_uid": -1}),
}


@pytest.mark.parametrize("corrupt", _CORRUPT.values(), ids=_CORRUPT.keys())
def test_unreadable_state_is_a_warning_and_a_full_fetch(
    dovecot: Dovecot, tmp_path: Path, corrupt: Callable[[dict[str, Any]], bytes]
) -> None:
    mailbox = f"Corrupt-{tmp_path.name}"
    for n in (21, 22):
        dovecot.append(_reply(n), mailbox)
    _run(dovecot, tmp_path / "a", mailbox)
    state = tmp_path / "a" / "imap-state.json"
    (row,) = json.loads(state.read_text())["mailboxes"]
    assert row["last_uid"] == 2
    state.write_bytes(corrupt(row))

    res, fetched = _cli(dovecot, tmp_path / "a", mailbox)
    assert fetched == 2 and "2 seen, 0 new, 2 already archived" in res.stdout
    assert "(full scan: no earlier run recorded)" in res.stdout
    assert f"warning: {state}: " in res.stderr and "[IMAP_STATE_UNREADABLE]" in res.stderr
    # Rewritten whole by that run: the next one is incremental again.
    report, fetched = _run(dovecot, tmp_path / "a", mailbox)
    assert fetched == 0 and not report["warnings"] and report["mailboxes"][0]["scan"] == "incremental"


def test_killed_run_never_makes_the_next_skip_a_message(dovecot: Dovecot, tmp_path: Path) -> None:
    for n in (31, 32, 33):
        dovecot.append(_reply(n), "Killed")
    env = {**{k: v for k, v in os.environ.items() if k != KILL_HOOK}, "APDOCS_IMAP_PASSWORD": PASSWORD}

    def run(archive: Path, kill_after: int = 0) -> subprocess.CompletedProcess[bytes]:
        cmd = [sys.executable, "-m", "apdocs", "ingest", dovecot.url("Killed"), "--archive", str(archive)]
        cmd += ["--imap-cafile", str(dovecot.cafile)]
        extra = {KILL_HOOK: str(kill_after)} if kill_after else {}
        return subprocess.run(cmd, env={**env, **extra}, capture_output=True, timeout=300, cwd=ROOT)

    assert run(tmp_path / "reference").returncode == 0
    expected = _archived(tmp_path / "reference")
    writes = 3 * 3 + 1  # per message: the form, the original, its metadata; then the state file
    for n in (2, 4, writes - 1):  # in the first message, in the second, all stored but the state not yet
        archive = tmp_path / f"killed-{n}"
        assert run(archive, n).returncode == -signal.SIGKILL
        assert not (archive / "imap-state.json").exists()  # killed before the state was saved
        done = run(archive)
        assert done.returncode == 0, done.stderr[-500:]
        assert _archived(archive) == expected, n
        again = run(archive)
        assert b"0 seen" in again.stdout, n


# -- STARTTLS (imap://) ---------------------------------------------------------------------------------------


def test_starttls_login_goes_over_tls(dovecot: Dovecot, tmp_path: Path) -> None:
    mark = dovecot.log_mark()
    args = ["ingest", dovecot.url(starttls=True), "--archive", str(tmp_path / "a"), "--imap-cafile", str(dovecot.cafile)]
    res = CliRunner().invoke(main, args, env={"APDOCS_IMAP_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    assert "2 seen, 2 new" in res.output
    assert dovecot.bodies_fetched(mark) == 2
    # Loopback counts as "secured" for Dovecot even in clear; "TLS" means the login really came after STARTTLS.
    (login,) = dovecot.wait_sessions(mark, 1, what="Login: ")
    assert f"user=<{USER}>" in login and ", TLS," in login
    with Archive(tmp_path / "a").locked() as archive:
        origins = [m["origin"] for m in archive.messages()]
    assert all(o.startswith(f"imap://{USER}@127.0.0.1:{dovecot.imap_port}/INBOX;UIDVALIDITY=") for o in origins)


def test_imap_url_defaults_to_port_143_and_starttls() -> None:
    target = parse_imap_url("imap://vs@mail.example/Returns")
    assert (target.port, target.starttls, str(target)) == (143, True, "imap://vs@mail.example:143/Returns")
    assert parse_imap_url("imaps://vs@mail.example").port == 993


@pytest.fixture(scope="module")
def cleartext_server() -> Iterator[Dovecot]:
    """Dovecot without TLS: no STARTTLS, and it would accept a password in clear."""
    server = Dovecot(require("dovecot"), tls=False).start()
    try:
        yield server
    finally:
        server.stop()


def test_server_without_starttls_is_refused_before_credentials(cleartext_server: Dovecot, tmp_path: Path) -> None:
    mark = cleartext_server.log_mark()
    args = ["ingest", cleartext_server.url(), "--archive", str(tmp_path / "a")]
    res = CliRunner().invoke(main, args, env={"APDOCS_IMAP_PASSWORD": PASSWORD})
    assert res.exit_code == 1
    assert f"{cleartext_server.url()}: the server does not offer STARTTLS" in res.output and "[IMAP_TLS]" in res.output
    (gone,) = cleartext_server.wait_sessions(mark, 1, what="imap-login: Info: Disconnected")
    assert "no auth attempts" in gone
    # The server would have taken the password in clear: refusing was apdocs' own doing.
    with cleartext_server.client() as imap:
        assert imap.state == "AUTH"
    assert cleartext_server.log_since(mark).count("Login: ") == 1  # that check's login only


def test_starttls_with_an_untrusted_certificate_is_refused(dovecot: Dovecot) -> None:
    got = list(fetch(parse_imap_url(dovecot.url(starttls=True)), ImapAuth(password=PASSWORD)))  # system CAs only
    assert len(got) == 1 and isinstance(got[0], MailSourceError) and "certificate verify failed" in got[0].message


# Failed logins go last: Dovecot then slows further logins from the same address (auth penalty).


def test_wrong_token_is_refused(dovecot: Dovecot, tmp_path: Path) -> None:
    code, out = _ingest(dovecot, tmp_path / "a", "--oauth2-token-env", "VS_TOKEN", env={"VS_TOKEN": "not-the-token"})
    assert code == 1
    assert "login refused" in out
    assert not list((tmp_path / "a" / "messages").glob("*.json"))


def test_wrong_password_is_refused(dovecot: Dovecot) -> None:
    got = list(fetch(parse_imap_url(dovecot.url()), ImapAuth(password="wrong"), cafile=str(dovecot.cafile)))
    assert len(got) == 1 and not isinstance(got[0], RawMail) and got[0].code == "IMAP_AUTH"


def test_untrusted_certificate_is_refused(dovecot: Dovecot) -> None:
    got = list(fetch(parse_imap_url(dovecot.url()), ImapAuth(password=PASSWORD)))  # system CAs only
    assert len(got) == 1 and "cannot connect" in got[0].message  # type: ignore[union-attr]
