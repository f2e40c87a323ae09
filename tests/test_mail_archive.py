"""The archive: each original once under its SHA-256, private, atomic, idempotent."""

from __future__ import annotations

import json
import stat

import pytest

from apdocs.mail.archive import Archive
from apdocs.mail.errors import ArchiveError
from apdocs.mail.extract import read_message
from apdocs.mail.ingest import ingest
from tests.mail_helpers import DOCX, form_bytes, message, outlook_fixtures


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(path.stat().st_mode)


def test_message_and_files_stored_once_with_metadata(tmp_path) -> None:  # type: ignore[no-untyped-def]
    raw = message([("../../evil/CON.docx", form_bytes(), DOCX)]).as_bytes()
    item = read_message(raw, "inbox/1.eml")
    with Archive(tmp_path / "a").locked() as archive:
        assert archive.store(item) is True
        assert archive.store(read_message(raw, "elsewhere.eml")) is False  # same bytes, another route
        meta = json.loads((archive.messages_dir / f"{item.sha256}.json").read_text())
        assert (meta["sender"], meta["subject"], meta["date"]) == (
            "ap.lead@school.example",
            "RE: forms",
            "2025-03-03T10:15:00+00:00",
        )
        assert meta["origin"] == "inbox/1.eml"
        stored = archive.root / meta["files"][0]["stored_as"]
        # Sanitised: inside files/<sha>/, no traversal, reserved name defused.
        assert stored.parent.parent == archive.files_dir
        assert stored.name == "_CON.docx"
        assert stored.read_bytes() == form_bytes()
        assert (archive.messages_dir / f"{item.sha256}.eml").read_bytes() == raw


def test_archive_is_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    item = read_message(message([("a4.docx", form_bytes(), DOCX)]).as_bytes(), "x")
    with Archive(tmp_path / "a").locked() as archive:
        archive.store(item)
    root = tmp_path / "a"
    for p in root.rglob("*"):
        if p.name == ".lock":
            continue
        assert _mode(p) == (0o700 if p.is_dir() else 0o600), p
    assert _mode(root) == 0o700


def test_same_attachment_in_two_messages_is_one_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = read_message(message([("a4.docx", form_bytes(), DOCX)], msgid="<1@x>").as_bytes(), "1")
    b = read_message(message([("copy of a4.docx", form_bytes(), DOCX)], msgid="<2@x>").as_bytes(), "2")
    with Archive(tmp_path / "a").locked() as archive:
        assert archive.store(a) and archive.store(b)
        assert len(archive.messages()) == 2
        assert len(archive.files()) == 1
        assert len(list(archive.files_dir.iterdir())) == 1


def test_line_ends_do_not_make_a_new_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    crlf = message([("a4.docx", form_bytes(), DOCX)]).as_bytes()
    lf = crlf.replace(b"\r\n", b"\n")
    with Archive(tmp_path / "a").locked() as archive:
        assert archive.store(read_message(crlf, "a.eml"))
        assert not archive.store(read_message(lf, "b.mbox#1"))


def test_stale_temp_files_from_a_crash_are_removed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "a"
    with Archive(root).locked():
        pass
    stale = root / "messages" / ".abc.json.x1y2.tmp"
    stale.write_bytes(b"half")
    keep = root / "messages" / "notes.txt"  # not ours to remove
    keep.write_text("officer's note")
    with Archive(root).locked():
        assert not stale.exists()
        assert keep.exists()


def test_two_runs_cannot_share_an_archive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Archive(tmp_path / "a").locked():
        with pytest.raises(ArchiveError, match="another apdocs run"):
            with Archive(tmp_path / "a").locked():
                pass


def test_ingest_real_outlook_files_is_idempotent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    outlook = str(outlook_fixtures())
    with Archive(tmp_path / "a").locked() as archive:
        first = ingest([outlook], archive)
        second = ingest([outlook], archive)
        metas = archive.messages()
    assert (first.messages_seen, first.messages_new, first.skipped_new, first.errors) == (2, 2, 2, [])
    assert (second.messages_new, second.messages_known) == (0, 2)
    by_subject = {m["subject"]: m for m in metas}
    assert by_subject["MSG Test File"]["sender"] is None
    assert [s["name"] for s in by_subject["Test for TIF files"]["skipped"]] == ["import OleFileIO.tif", "raised value error.tif"]
    assert all((tmp_path / "a" / m["stored_as"]).suffix == ".msg" for m in metas)


def test_unreadable_message_is_kept_and_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "in" / "broken.msg"
    broken.parent.mkdir()
    broken.write_bytes((outlook_fixtures() / "strangeDate.msg").read_bytes()[:3000])  # truncated OLE2
    with Archive(tmp_path / "a").locked() as archive:
        report = ingest([str(tmp_path / "in")], archive)
        metas = archive.messages()
    assert [e.code for e in report.errors] == ["MESSAGE_UNREADABLE"]
    assert len(metas) == 1 and metas[0]["error"]["code"] == "MESSAGE_UNREADABLE"


def test_ingest_refuses_a_tracker_path_that_is_the_roster(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from apdocs.cli import main
    from tests.mail_helpers import SAMPLE_ROSTER

    roster = tmp_path / "roster.csv"
    roster.write_bytes(SAMPLE_ROSTER.read_bytes())
    inbox = tmp_path / "in"
    inbox.mkdir()
    args = ["ingest", str(inbox), "--archive", str(tmp_path / "a"), "--roster", str(roster), "--tracker", str(roster)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 3 and "input file" in res.output
    assert roster.read_bytes() == SAMPLE_ROSTER.read_bytes()


def test_unreadable_message_stays_listed_in_the_tracker_on_later_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from apdocs.mail.returns import reconcile_archive
    from apdocs.roster import load_roster
    from tests.mail_helpers import SAMPLE_ROSTER

    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "broken.msg").write_bytes((outlook_fixtures() / "strangeDate.msg").read_bytes()[:3000])
    with Archive(tmp_path / "a").locked() as archive:
        ingest([str(inbox)], archive)
        again = ingest([str(inbox)], archive)  # already archived: ingest itself reports nothing now
        result = reconcile_archive(archive, load_roster(SAMPLE_ROSTER), as_of=dt.date(2025, 3, 31))
    assert again.errors == []
    unreadable = [f for f in result.findings if f.code == "RETURN_UNREADABLE"]
    assert len(unreadable) == 1 and unreadable[0].source.endswith(".msg")
    assert len(result.failures) == 1 and result.failures[0].error.code == "MESSAGE_UNREADABLE"
