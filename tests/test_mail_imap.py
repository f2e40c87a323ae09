"""Ingest from a real Dovecot IMAPS server on 127.0.0.1: password, XOAUTH2, read-only."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.mail.archive import Archive
from apdocs.mail.imap import ImapAuth, fetch, parse_imap_url
from apdocs.mail.sources import RawMail
from tests.imap_server import PASSWORD, TOKEN, USER, Dovecot
from tests.mail_helpers import DOCX, form_bytes, message
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
    assert code == 0 and "2 seen, 0 new, 2 already archived" in out


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
    from apdocs.mail.errors import MailSourceError

    with pytest.raises(MailSourceError, match="environment variable"):
        parse_imap_url("imaps://officer:secret@mail.example:993/INBOX")


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
