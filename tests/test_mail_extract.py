"""Taking files out of mail: names, types from bytes, forwards, zips, caps, real Outlook .msg."""

from __future__ import annotations

import pytest

from apdocs.mail.errors import MessageTooLarge
from apdocs.mail.extract import read_message
from apdocs.mail.limits import Limits
from apdocs.mail.names import safe_name, unique_name
from apdocs.mail.sniff import kind_of
from tests.mail_helpers import DOCX, form_bytes, forwarded, message, outlook_fixtures, zipped

# -- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("C:\\Users\\x\\form.docx", "form.docx"),
        ("CON", "_CON"),
        ("nul.docx", "_nul.docx"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("LPT9.xlsx", "_LPT9.xlsx"),
        ("a\x00b\x1f<c>:d|e?.docx", "a_b__c__d_e_.docx"),
        ("...hidden", "hidden"),
        ("trailing. . ", "trailing"),
        ("", "attachment"),
        ("..", "attachment"),
        ("Consent form.docx", "Consent form.docx"),  # "Con..." is not CON
    ],
)
def test_safe_name(given: str, expected: str) -> None:
    assert safe_name(given) == expected


def test_safe_name_caps_length_and_keeps_extension() -> None:
    name = safe_name("é" * 300 + ".docx")
    assert name.endswith(".docx") and len(name.encode()) <= 120


def test_unique_name_avoids_collisions_case_insensitively() -> None:
    taken = {"form.docx", "FORM (2).docx"}
    assert unique_name("Form.docx", taken) == "Form (3).docx"
    assert unique_name("other.docx", taken) == "other.docx"


# -- types from bytes ------------------------------------------------------------------


def test_kind_comes_from_bytes_not_name() -> None:
    from apdocs.api import render_form

    assert kind_of(form_bytes()) == "docx"
    assert kind_of(render_form("appendix2", "xlsx", {})) == "xlsx"
    assert kind_of(zipped({"a.txt": b"hi"})) == "zip"
    assert kind_of(b"%PDF-1.7\n...") == "pdf"
    assert kind_of(b"\x89PNG\r\n\x1a\n....") == "image"
    assert kind_of(message().as_bytes()) == "eml"
    assert kind_of(b"just some words") == "other"


def test_an_outlook_msg_is_known_by_its_bytes() -> None:
    assert kind_of((outlook_fixtures() / "strangeDate.msg").read_bytes()) == "msg"


def test_form_sent_under_a_wrong_name_is_still_found_as_a_form() -> None:
    item = read_message(message([("scan.pdf", form_bytes(), "application/pdf")]).as_bytes(), "t")
    assert [(f.name, f.kind) for f in item.found] == [("scan.pdf", "docx")]


def test_non_forms_are_listed_and_skipped_but_a_broken_form_is_kept_for_parsing() -> None:
    msg = message(
        [
            ("logo.png", b"\x89PNG\r\n\x1a\nxxxx", "image/png"),
            ("Appendix4.docx", b"%PDF-1.4 renamed", DOCX),
        ]
    )
    item = read_message(msg.as_bytes(), "t")
    assert [(s.name, s.kind, s.reason) for s in item.skipped] == [("logo.png", "image", "not a form")]
    assert [(f.name, f.kind) for f in item.found] == [("Appendix4.docx", "pdf")]


# -- forwards --------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [0, 1, 2, 3])
def test_forwarded_forms_are_found_up_to_three_levels(levels: int) -> None:
    inner = message([("a4.docx", form_bytes(), DOCX)])
    item = read_message(forwarded(inner, levels).as_bytes(), "t")
    assert [f.name for f in item.found] == ["a4.docx"]
    assert item.found[0].via == "forwarded/" * levels


def test_forwarding_deeper_than_the_cap_is_listed_not_followed() -> None:
    inner = message([("a4.docx", form_bytes(), DOCX)])
    item = read_message(forwarded(inner, 4).as_bytes(), "t")
    assert item.found == []
    assert any("too deep" in s.reason for s in item.skipped)


def test_forwarded_eml_sent_as_a_plain_attachment_is_opened() -> None:
    inner = message([("a4.docx", form_bytes(), DOCX)]).as_bytes()
    item = read_message(message([("fwd.eml", inner, "application/octet-stream")]).as_bytes(), "t")
    assert [f.name for f in item.found] == ["a4.docx"]
    assert item.found[0].via == "fwd.eml/"


# -- zips ------------------------------------------------------------------------------


def test_forms_inside_a_zip_are_found() -> None:
    z = zipped({"returns/a4.docx": form_bytes(), "returns/readme.txt": b"hello"})
    item = read_message(message([("returns.zip", z, "application/zip")]).as_bytes(), "t")
    assert [(f.name, f.via) for f in item.found] == [("returns/a4.docx", "returns.zip/")]
    assert [s.name for s in item.skipped] == ["returns/readme.txt"]


def test_zip_bomb_is_refused_before_inflating() -> None:
    bomb = zipped({"big.docx": b"\0" * (30 * 1024 * 1024)})  # ~30 KB compressed, 30 MB inflated
    item = read_message(message([("bomb.zip", bomb, "application/zip")]).as_bytes(), "t")
    assert item.found == []
    assert any("zip bomb" in s.reason for s in item.skipped)


def test_zip_with_too_many_members_is_refused() -> None:
    z = zipped({f"f{i}.txt": b"x" for i in range(20)})
    item = read_message(message([("many.zip", z, "application/zip")]).as_bytes(), "t", Limits(max_zip_members=10))
    assert item.found == [] and "cap is 10" in item.skipped[0].reason


def test_zip_in_zip_counts_as_a_level() -> None:
    z = zipped({"a4.docx": form_bytes()})
    for _ in range(3):
        z = zipped({"inner.zip": z})
    item = read_message(message([("nested.zip", z, "application/zip")]).as_bytes(), "t")
    assert item.found == [] and any("levels deep" in s.reason for s in item.skipped)


# -- caps ------------------------------------------------------------------------------


def test_oversized_attachment_is_listed_not_parsed() -> None:
    item = read_message(message([("a4.docx", form_bytes(), DOCX)]).as_bytes(), "t", Limits(max_attachment_bytes=1000))
    assert item.found == [] and "cap" in item.skipped[0].reason


def test_oversized_message_is_refused_before_parsing() -> None:
    raw = message([("a4.docx", form_bytes(), DOCX)]).as_bytes()
    with pytest.raises(MessageTooLarge) as exc:
        read_message(raw, "big.eml", Limits(max_message_bytes=1000))
    assert exc.value.path == "big.eml"


# -- real Outlook files ------------------------------------------------------------------


def test_real_outlook_msg_with_non_form_attachments() -> None:
    item = read_message((outlook_fixtures() / "unicode.msg").read_bytes(), "unicode.msg")
    assert item.container == "msg"
    assert item.subject == "Test for TIF files"
    assert item.sender and "@" in item.sender
    assert item.date and item.date.startswith("2013-11-18")
    assert item.found == []
    assert sorted(s.name for s in item.skipped) == ["import OleFileIO.tif", "raised value error.tif"]
    assert {s.kind for s in item.skipped} == {"image"}


def test_real_outlook_msg_without_sender_and_with_odd_date() -> None:
    item = read_message((outlook_fixtures() / "strangeDate.msg").read_bytes(), "strangeDate.msg")
    assert item.subject == "MSG Test File"
    assert item.sender is None
    assert item.date is None
    assert item.found == [] and item.skipped == []


def test_mbox_messages_are_capped_before_they_are_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import mailbox

    from apdocs.mail.sources import RawMail, iter_path

    small = message(msgid="<small@x>").as_bytes().replace(b"\r\n", b"\n")
    big = message([("a4.docx", form_bytes(), DOCX)], msgid="<big@x>").as_bytes().replace(b"\r\n", b"\n")
    path = tmp_path / "box.mbox"
    path.write_bytes(b"From a@x Mon Mar  3 10:15:00 2025\n" + big + b"\nFrom b@x Mon Mar  3 10:16:00 2025\n" + small + b"\n")
    got = list(iter_path(path, Limits(max_message_bytes=len(small) + 10)))
    assert [type(g) for g in got] == [MessageTooLarge, RawMail]
    assert got[1].raw == mailbox.mbox(path).get_bytes(1)  # the same bytes the mailbox module would give
