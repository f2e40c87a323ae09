"""Build one school's email: subject, plain and HTML bodies from editable templates, attachments.

Templates live in ``templates/email/`` (``subject.txt.j2``, ``body.txt.j2``,
``body.html.j2``) so the Virtual School can reword the email without touching code.
They run in Jinja's sandbox with every undefined name an error (a typo in a template
fails loudly instead of mailing a blank), and the HTML one autoescapes.

The message is written with CRLF line ends and 7-bit-safe encodings, as Outlook and
Thunderbird expect; attachment file names are kept ASCII by the caller for the same reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.charset
import email.policy
import email.utils
import os
import re
from dataclasses import dataclass
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaError
from jinja2.loaders import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from apdocs.errors import TemplateError
from apdocs.resources import templates_dir

_M = TypeVar("_M", bound=MIMEBase)

TEMPLATE_NAMES = ("subject.txt.j2", "body.txt.j2", "body.html.j2")


def default_template_dir() -> Path:
    """The bundled ``templates/email`` (inside a wheel install, or the repository's in a source checkout)."""
    return templates_dir() / "email"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    media_type: str  # "type/subtype"


@dataclass(frozen=True)
class RenderedText:
    subject: str
    text: str
    html: str


def render_templates(context: dict[str, Any], template_dir: str | os.PathLike[str] | None = None) -> RenderedText:
    folder = Path(template_dir) if template_dir else default_template_dir()
    missing = [n for n in TEMPLATE_NAMES if not (folder / n).is_file()]
    if missing:
        raise TemplateError(f"email template(s) missing: {', '.join(missing)}", path=str(folder))
    env = _environment(str(folder.resolve()))

    def render(name: str, ctx: dict[str, Any]) -> str:
        try:
            return env.get_template(name).render(**ctx)
        except JinjaError as exc:
            raise TemplateError(f"email template failed: {exc}", path=str(folder / name)) from exc

    subject = " ".join(render("subject.txt.j2", context).split())  # one line, however the template is laid out
    context = {**context, "subject": subject}
    text, html = render("body.txt.j2", context), render("body.html.j2", context)
    return RenderedText(subject, text, html)


@cache
def _environment(folder: str) -> SandboxedEnvironment:
    """One environment per template folder, so each template compiles once per run, not once per
    school. Jinja checks the files' modification times on every use, so edits are still seen."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def build_message(
    *,
    sender: str,
    reply_to: str,
    to: str,
    rendered: RenderedText,
    attachments: list[Attachment],
    message_id: str,
    date: dt.datetime,
    sender_name: str | None = None,
) -> bytes:
    # Built from email.mime's plain parts, not EmailMessage: EmailMessage parses every header
    # it is given back into objects (eleven per attachment), which made building the emails a
    # third of a whole pack's time. The message is the same MIME tree: mixed(alternative(plain,
    # html), attachments...), quoted-printable bodies, base64 attachments, CRLF line ends.
    msg = MIMEMultipart("mixed")
    msg["From"] = email.utils.formataddr((sender_name, sender)) if sender_name else sender
    msg["Reply-To"] = reply_to
    msg["To"] = to
    msg["Subject"] = rendered.subject if rendered.subject.isascii() else Header(rendered.subject, "utf-8").encode()
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = message_id
    bodies = _part(MIMEMultipart("alternative"))
    for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
        text = MIMENonMultipart("text", subtype)
        text.set_payload(body, _QP_UTF8)
        bodies.attach(_part(text))
    msg.attach(bodies)
    # Each attachment's body is a placeholder line while the message is flattened, then replaced
    # by its base64 (binascii, in C): the generator writes bodies line by line in Python, and a
    # pack's attachments are ~650,000 base64 lines. A placeholder is a line of its own and cannot
    # be mistaken for base64 (it holds "@"), nor a boundary for one ("=" runs longer than padding).
    bodies_b64: dict[bytes, bytes] = {}
    for i, att in enumerate(attachments):
        maintype, _, subtype = att.media_type.partition("/")
        part = _part(MIMEBase(maintype, subtype))
        token = f"@apdocs-attachment-{i}@"
        part.set_payload(token)
        part["Content-Transfer-Encoding"] = "base64"
        part.add_header("Content-Disposition", "attachment", filename=att.filename)
        msg.attach(part)
        bodies_b64[token.encode()] = base64.encodebytes(att.data).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    raw = msg.as_bytes(policy=_CRLF)
    if bodies_b64:
        raw = _PLACEHOLDER.sub(lambda m: bodies_b64[m.group(0)], raw)
    return raw


_PLACEHOLDER = re.compile(rb"@apdocs-attachment-[0-9]+@")


# compat32 with CRLF: flattening with email.policy.SMTP would re-parse every header of every
# part into objects on each read of it (the generator lends its policy to each part).
_CRLF = email.policy.compat32.clone(linesep="\r\n")


def _part(part: _M) -> _M:
    del part["MIME-Version"]  # email.mime adds it to every part; it belongs on the message only
    return part


# utf-8 bodies as quoted-printable (readable in a raw view, 7-bit safe), as Outlook expects.
_QP_UTF8 = email.charset.Charset("utf-8")
_QP_UTF8.body_encoding = email.charset.QP
