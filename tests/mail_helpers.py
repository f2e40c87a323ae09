"""Shared builders for the mail tests: synthetic messages and a small packed outbox."""

from __future__ import annotations

import email.policy
import io
import os
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from apdocs.api import render_form

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ROSTER = ROOT / "samples" / "roster.csv"
OUTLOOK = ROOT.parent / "shared" / "fixtures" / "outlook-msg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def outlook_fixtures() -> Path:
    """The real Outlook .msg files beside the project: skip locally when they are missing, fail under CI."""
    if not OUTLOOK.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"Outlook fixtures missing: {OUTLOOK}")
        pytest.skip(f"Outlook fixtures not available ({OUTLOOK})")
    return OUTLOOK


def form_bytes(reference: str = "VS-A4-TEST0001", form: str = "appendix4") -> bytes:
    return render_form(form, "docx", {"reference": reference, "school_name": "Synthetic School"})


def message(
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    *,
    subject: str = "RE: forms",
    sender: str = "ap.lead@school.example",
    msgid: str = "<m1@synthetic.example>",
) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = "virtualschool@leics.gov.uk"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 03 Mar 2025 10:15:00 +0000"
    msg["Message-ID"] = msgid
    msg.set_content("Forms attached.\n")
    for name, data, ctype in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def forwarded(inner: EmailMessage, levels: int) -> EmailMessage:
    """``inner`` wrapped in ``levels`` forwards (message/rfc822 attachments)."""
    msg = inner
    for n in range(levels):
        outer = message(subject=f"FW {n}", msgid=f"<fw{n}@synthetic.example>")
        outer.add_attachment(msg)
        msg = outer
    return msg


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()
