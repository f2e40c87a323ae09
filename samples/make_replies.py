#!/usr/bin/env python3
"""Make synthetic reply emails for a packed outbox, as schools would send them back.

    python samples/make_replies.py OUTBOX DEST

reads OUTBOX/manifest.json (written by ``apdocs pack``) and writes into DEST:

* ``01-reply.eml``       a school replies with its filled forms attached (Word);
* ``02-forwarded.eml``   a colleague forwards another school's reply (message/rfc822);
* ``03-zipped.eml``      a school sends its forms in a .zip;
* ``04-duplicate.eml``   the first school sends the same forms again ("in case you missed it");
* ``05-broken.eml``      a reply whose Appendix 4 is truncated (cannot be read);
* ``06-archive.mbox``    an mbox holding a copy of the first reply (the same message twice).

Everything is synthetic: schools and pupils come from the sample roster (references,
never names) and the answers are obviously made up. Only forms the pack produced are
used, filled through :func:`apdocs.api.render_form` the way a school's Word would save them.
"""

from __future__ import annotations

import email.policy
import email.utils
import io
import json
import sys
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from apdocs.api import render_form
from apdocs.forms import load_form

SENT_AT = "Mon, 03 Mar 2025 10:15:00 +0000"
VS = "virtualschool@leics.gov.uk"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def answers(form_id: str) -> dict[str, Any]:
    """Plausible, plainly synthetic answers for every slot of a form."""
    form = load_form(form_id)
    values: dict[str, Any] = {
        "completed_by_role": "AP lead",
        "completed_by_name": "Synthetic Officer",
        "date_completed": "2025-02-28",
    }
    for slot in form.slots():
        if slot.group == "header":
            continue
        if slot.type == "text":
            values[slot.id] = f"Synthetic answer for {slot.id}."
        elif slot.type == "bool":
            values[slot.id] = True
        elif slot.type == "date":
            values[slot.id] = "2025-01-15"
        elif slot.type in ("money", "number"):
            values[slot.id] = 10_000_000
        elif slot.type == "choice":
            values[slot.id] = slot.choices[1] if len(slot.choices) > 1 else slot.choices[0]
    if form_id == "appendix3":
        values.update(visit_date="2025-02-10", visited_by="AP lead")
    return values


def filled(row: dict[str, Any]) -> bytes:
    """The pack's form for ``row`` (a manifest row), filled in."""
    header = {"school_name": row["school"], "provider_name": row["provider"], "reference": row["reference"]}
    if row.get("pupil_reference"):
        header["pupil_reference"] = row["pupil_reference"]
    keep = {h.id for h in load_form(row["form"]).header}
    values = {**{k: v for k, v in header.items() if k in keep}, **answers(row["form"])}
    return render_form(row["form"], "docx", values)


def reply(
    school_email: str, subject: str, attachments: list[tuple[str, bytes, str]], *, msgid: str, date: str = SENT_AT
) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = school_email
    msg["To"] = VS
    msg["Subject"] = f"RE: {subject}"
    msg["Date"] = date
    msg["Message-ID"] = msgid
    msg.set_content("Please find our completed forms attached.\n\nAP lead\n")
    for name, data, ctype in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def make_replies(outbox: Path, dest: Path) -> list[Path]:
    manifest = json.loads((outbox / "manifest.json").read_text(encoding="utf-8"))
    forms: dict[str, list[dict[str, Any]]] = {}
    for row in manifest["files"]:
        if row["role"] == "form" and row["format"] == "docx":
            forms.setdefault(row["school"], []).append(row)
    schools = list(forms)
    if len(schools) < 3:
        raise SystemExit("the outbox needs at least three schools")
    subject = "Alternative provision quality assurance"
    dest.mkdir(parents=True, exist_ok=True)

    def att(row: dict[str, Any]) -> tuple[str, bytes, str]:
        return Path(row["file"]).name, filled(row), _DOCX

    email_of = {r["school"]: r["school_email"] for r in manifest["files"]}
    a, b, c = schools[:3]
    first = reply(email_of[a], subject, [att(r) for r in forms[a]], msgid="<reply-1@synthetic.example>")

    inner = reply(email_of[b], subject, [att(r) for r in forms[b]], msgid="<reply-2-original@synthetic.example>")
    forwarded = EmailMessage(policy=email.policy.SMTP)
    forwarded["From"] = "office@synthetic.example"
    forwarded["To"] = VS
    forwarded["Subject"] = f"FW: RE: {subject}"
    forwarded["Date"] = "Tue, 04 Mar 2025 09:00:00 +0000"
    forwarded["Message-ID"] = "<reply-2-forward@synthetic.example>"
    forwarded.set_content("Forwarding the school's return, as it came to me.\n")
    forwarded.add_attachment(inner)  # message/rfc822

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for r in forms[c]:
            name, data, _ = att(r)
            z.writestr(f"returns/{name}", data)
    zipped = reply(
        email_of[c], subject, [("our-returns.zip", buf.getvalue(), "application/zip")], msgid="<reply-3@synthetic.example>"
    )

    again = reply(
        email_of[a],
        subject,
        [att(r) for r in forms[a]],
        msgid="<reply-1-again@synthetic.example>",
        date="Wed, 05 Mar 2025 08:30:00 +0000",
    )

    broken_form = filled(forms[a][0])[:2000]  # truncated in transit: not a readable zip
    broken = reply(
        email_of[a], subject, [(Path(forms[a][0]["file"]).name, broken_form, _DOCX)], msgid="<reply-5@synthetic.example>"
    )

    out = []
    for name, msg in (
        ("01-reply.eml", first),
        ("02-forwarded.eml", forwarded),
        ("03-zipped.eml", zipped),
        ("04-duplicate.eml", again),
        ("05-broken.eml", broken),
    ):
        path = dest / name
        path.write_bytes(msg.as_bytes())
        out.append(path)
    mbox = dest / "06-archive.mbox"
    mbox.write_bytes(
        b"From reply-1@synthetic.example Mon Mar  3 10:15:00 2025\n" + first.as_bytes().replace(b"\r\n", b"\n") + b"\n"
    )
    out.append(mbox)
    return out


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: python samples/make_replies.py OUTBOX DEST")
    for p in make_replies(Path(sys.argv[1]), Path(sys.argv[2])):
        print(p)


if __name__ == "__main__":
    main()
