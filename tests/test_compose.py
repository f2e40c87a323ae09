"""build_message: the MIME tree mail clients expect, with non-ASCII names and CRLF line ends."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from apdocs.mail.compose import Attachment, RenderedText, build_message


def test_message_round_trips_with_non_ascii_subject_and_sender():
    raw = build_message(
        sender="vs@example.org",
        reply_to="replies@example.org",
        to="school@example.org",
        rendered=RenderedText("Forms for Ysgol Gŵyr – café", "Dear colleague,\nŵ é £\n", "<p>é – £</p>\n"),
        attachments=[Attachment("Appendix4.docx", b"PK\x03\x04" + bytes(range(256)) * 40, "application/octet-stream")],
        message_id="<id@example.org>",
        date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        sender_name="Virtual Schööl",
    )
    assert raw.isascii()  # 7-bit safe: encoded words, quoted-printable, base64
    lines = raw.split(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF everywhere
    assert max(len(line) for line in lines) <= 78
    assert raw.count(b"MIME-Version") == 1
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(msg["Subject"]) == "Forms for Ysgol Gŵyr – café"
    assert str(msg["From"]) == "Virtual Schööl <vs@example.org>"
    assert msg["Reply-To"] == "replies@example.org"
    assert msg.get_content_type() == "multipart/mixed"
    # the parser hands a CRLF message's text back with CRLF line ends
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Dear colleague,\nŵ é £\n"
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == "<p>é – £</p>\n"
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "Appendix4.docx"
    assert att.get_content() == b"PK\x03\x04" + bytes(range(256)) * 40
