"""Outlook's winmail.dat (TNEF): the forms inside are ingested under their long names; a damaged one is reported.

The TNEF streams are real: ``tests/fixtures/tnef/long-filename.tnef`` was written by
Outlook, and :mod:`tests.tnef_wrap` swaps its one attachment for one of our returns,
keeping every other attribute and recomputing lengths and checksums.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.mail.archive import Archive
from apdocs.mail.extract import read_message
from apdocs.mail.returns import reconcile_archive
from apdocs.mail.sniff import kind_of
from apdocs.roster import load_roster
from tests.mail_helpers import DOCX, ROOT, SAMPLE_ROSTER, form_bytes, message
from tests.tnef_wrap import REAL, attributes, build, wrap

AS_OF = "2025-03-10"
TNEF_TYPE = "application/ms-tnef"


def _with_winmail(data: bytes, *extra: tuple[str, bytes, str]) -> EmailMessage:
    """A reply as it arrives from Outlook in rich-text mode: a plain body and one winmail.dat."""
    return message([*extra, ("winmail.dat", data, TNEF_TYPE)])


def test_the_wrapper_helper_rebuilds_the_real_stream_byte_for_byte() -> None:
    real = REAL.read_bytes()
    assert build(real[4:6], attributes(real)) == real  # so only what wrap() replaces differs from Outlook's own


def test_real_outlook_winmail_dat_is_opened_and_its_file_listed_under_its_long_name() -> None:
    real = REAL.read_bytes()
    assert kind_of(real) == "tnef"
    item = read_message(_with_winmail(real).as_bytes(), "test.eml")
    assert item.found == []
    # Outlook's 8.3 title is ALLPRO~1.DAT; PR_ATTACH_LONG_FILENAME is the name the sender saw.
    assert [(s.name, s.via, s.reason, s.code) for s in item.skipped] == [
        ("allproductsmar2000.dat", "winmail.dat/", "not a form", None)
    ]


def test_a_form_inside_winmail_dat_is_found_with_its_long_name() -> None:
    form = form_bytes("VS-A2-TNEF1", "appendix2")
    stream = wrap(form, "Appendix 2 - Greenway Learning Centre.docx", "APPEND~1.DOC")
    item = read_message(_with_winmail(stream).as_bytes(), "test.eml")
    assert [(f.name, f.via, f.kind) for f in item.found] == [
        ("Appendix 2 - Greenway Learning Centre.docx", "winmail.dat/", "docx")
    ]
    assert item.found[0].data == form and item.skipped == []


@pytest.mark.parametrize(
    ("label", "damage"),
    [
        ("cut short inside the form", lambda s: s[: len(s) // 2]),
        ("cut short in the header", lambda s: s[:14]),
        ("not TNEF at all, under Outlook's name", lambda s: b"this is not a TNEF stream" * 10),
    ],
)
def test_a_damaged_winmail_dat_is_a_typed_problem_and_the_rest_of_the_message_is_kept(label: str, damage: Any) -> None:
    stream = wrap(form_bytes("VS-A2-TNEF2", "appendix2"), "Appendix 2.docx", "APPEND~1.DOC")
    other = ("Appendix 4.docx", form_bytes("VS-A4-TNEF2"), DOCX)
    item = read_message(_with_winmail(damage(stream), other).as_bytes(), "test.eml")
    assert [f.name for f in item.found] == ["Appendix 4.docx"], label
    assert [(s.name, s.kind, s.code) for s in item.skipped] == [("winmail.dat", "tnef", "TNEF_UNREADABLE")], label
    assert "winmail.dat" in item.skipped[0].reason


def test_damaged_attachment_properties_keep_the_form_under_its_short_name() -> None:
    """The long name lives in the MAPI properties; when they cannot be decoded the file itself is still taken."""
    form = form_bytes("VS-A2-TNEF3", "appendix2")
    stream = _retype_attachment_props(wrap(form, "Appendix 2.docx", "APPEND~1.DOC"))
    item = read_message(_with_winmail(stream).as_bytes(), "test.eml")
    assert [(f.name, f.data == form) for f in item.found] == [("APPEND~1.DOC", True)]


@pytest.mark.parametrize("keep", [7, 10, 100])
def test_a_stream_cut_after_the_form_gives_the_form_and_still_reports_the_cut(keep: int) -> None:
    """Cut inside the last attribute (the properties holding the long name), even in the 12 bytes
    tnefparse never looks at: the whole form is taken, under its 8.3 title, and the cut is listed."""
    form = form_bytes("VS-A2-TNEF5", "appendix2")
    stream = wrap(form, "Appendix 2.docx", "APPEND~1.DOC")
    item = read_message(_with_winmail(stream[: _last_attribute_at(stream) + keep]).as_bytes(), "test.eml")
    assert [(f.name, f.data == form) for f in item.found] == [("APPEND~1.DOC", True)]
    assert [(s.name, s.code) for s in item.skipped] == [("winmail.dat", "TNEF_UNREADABLE")]
    assert "cut short" in item.skipped[0].reason


def _last_attribute_at(stream: bytes) -> int:
    """Offset of the last attribute: tnefparse never looks at the last 12 bytes, so a cut there went unseen."""
    *before, _last = attributes(stream)
    return 6 + sum(11 + len(data) for _level, _id, _type, data in before)


def _retype_attachment_props(stream: bytes) -> bytes:
    """Give the attachment's first MAPI property a type that does not exist (0x0099)."""
    attrs = attributes(stream)
    out = []
    for level, att_id, att_type, data in attrs:
        if level == 2 and att_id == 0x9005:
            data = data[:4] + b"\x99\x00" + data[6:]
        out.append((level, att_id, att_type, data))
    return build(stream[4:6], out)


# -- end to end: the placement that showed MISSING ------------------------------------


def _make_replies_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_replies", ROOT / "samples" / "make_replies.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("tnefpack") / "outbox"
    res = CliRunner().invoke(main, ["pack", "--roster", str(SAMPLE_ROSTER), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows: list[dict[str, Any]] = json.loads((out / "manifest.json").read_text())["files"]
    return [r for r in rows if r["role"] == "form" and r["format"] == "docx"]


def _ingest(replies: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    args = ["ingest", str(replies), "--archive", str(tmp_path / "archive"), "--roster", str(SAMPLE_ROSTER)]
    res = CliRunner().invoke(main, [*args, "--tracker", str(tmp_path / "tracker.xlsx"), "--as-of", AS_OF, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_appendix2_sent_in_winmail_dat_is_archived_and_received(manifest: list[dict[str, Any]], tmp_path: Path) -> None:
    replies = _make_replies_module()
    row = next(r for r in manifest if r["form"] == "appendix2")
    long_name = Path(row["file"]).name
    stream = wrap(replies.filled(row), long_name, "APPEND~1.DOC")
    mail = replies.reply(
        row["school_email"], "AP quality assurance", [("winmail.dat", stream, TNEF_TYPE)], msgid="<tnef@x.example>"
    )
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "outlook.eml").write_bytes(mail.as_bytes())

    code, out = _ingest(tmp_path / "replies", tmp_path)
    assert code == 0, out
    assert out["ingest"]["forms_new"] == 1 and out["tracker"]["unreadable"] == []
    with Archive(tmp_path / "archive").locked() as archive:
        [stored] = archive.files()
        assert stored.path.name == long_name  # the long name, not APPEND~1.DOC
        result = reconcile_archive(archive, load_roster(SAMPLE_ROSTER), as_of=dt.date.fromisoformat(AS_OF))
    mine = [
        p for p in result.placements if p.placement.school.name == row["school"] and p.placement.provider.name == row["provider"]
    ]
    assert mine and all(p.form("appendix2").status == "received" for p in mine)


def test_damaged_winmail_dat_is_listed_in_the_report_and_tracker_and_the_batch_goes_on(
    manifest: list[dict[str, Any]], tmp_path: Path
) -> None:
    replies = _make_replies_module()
    a2 = next(r for r in manifest if r["form"] == "appendix2")
    a4 = next(r for r in manifest if r["form"] == "appendix4")
    broken = wrap(replies.filled(a2), Path(a2["file"]).name, "APPEND~1.DOC")[:3000]  # cut short in transit
    (tmp_path / "replies").mkdir()
    first = replies.reply(a2["school_email"], "AP", [("winmail.dat", broken, TNEF_TYPE)], msgid="<tnef-bad@x.example>")
    second = replies.reply(a4["school_email"], "AP", [(Path(a4["file"]).name, replies.filled(a4), DOCX)], msgid="<ok@x.example>")
    (tmp_path / "replies" / "1-outlook.eml").write_bytes(first.as_bytes())
    (tmp_path / "replies" / "2-plain.eml").write_bytes(second.as_bytes())

    code, out = _ingest(tmp_path / "replies", tmp_path)
    assert code == 1  # done, but something could not be read
    assert out["ingest"]["messages_new"] == 2 and out["ingest"]["forms_new"] == 1  # the other reply still counts
    assert [e["code"] for e in out["ingest"]["errors"]] == ["TNEF_UNREADABLE"]
    assert "winmail.dat" in out["ingest"]["errors"][0]["where"]
    assert [u["code"] for u in out["tracker"]["unreadable"]] == ["TNEF_UNREADABLE"]
    assert out["tracker"]["returns_read"] == 1

    again_code, again = _ingest(tmp_path / "replies", tmp_path)  # nothing new, but it stays visible in the tracker
    assert again_code == 1 and again["ingest"]["messages_new"] == 0
    assert [u["code"] for u in again["tracker"]["unreadable"]] == ["TNEF_UNREADABLE"]


def test_a_stream_cut_into_countless_tiny_attributes_is_refused_before_tnefparse_sees_it() -> None:
    """tnefparse copies the rest of the stream for every attribute: 2 MB of empty ones would mean ~190 GB copied."""
    real = REAL.read_bytes()
    empty = b"\x01\x00\x80\x06\x00\x00\x00\x00\x00\x00\x00"  # level 1, attSubject-like id, no data, checksum 0
    stream = real[:6] + empty * (2 * 1024 * 1024 // len(empty))
    item = read_message(_with_winmail(stream).as_bytes(), "test.eml")
    assert [(s.name, s.code) for s in item.skipped] == [("winmail.dat", "TNEF_UNREADABLE")]
    assert "too many pieces" in item.skipped[0].reason


def test_damaged_streams_never_escape_and_never_vanish() -> None:
    """Seeded damage to a real stream (cuts, flipped bytes, overwritten words): the message is always read,
    and what the winmail.dat held is always listed, as a found file or a skipped part."""
    import random

    stream = wrap(form_bytes("VS-A2-TNEF4", "appendix2"), "Appendix 2.docx", "APPEND~1.DOC")
    rng = random.Random(20250303)
    unreadable = 0
    for case in range(150):
        damaged = bytearray(stream)
        if case % 3 == 0:
            cut = rng.randrange(6, len(damaged)) if case % 2 else len(damaged) - rng.randrange(1, 40)
            damaged = damaged[:cut]
        elif case % 3 == 1:
            for _ in range(4):
                damaged[rng.randrange(6, 4000)] = rng.randrange(256)
        else:
            at = rng.randrange(6, 4000)
            damaged[at : at + 4] = rng.randbytes(4)
        item = read_message(_with_winmail(bytes(damaged)).as_bytes(), f"case-{case}.eml")
        assert item.found or item.skipped, f"case {case}: the winmail.dat left no trace"
        unreadable += any(s.code == "TNEF_UNREADABLE" for s in item.skipped)
    assert unreadable >= 40  # the cuts alone are 50 cases, nearly all refused as cut short
