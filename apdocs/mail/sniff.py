"""Decide what an attachment is from its bytes, never from its name or declared type.

Only the zip central directory or the OLE2 directory is looked at (both bounded), so
sniffing a hostile file costs nothing: inflating happens later, under caps.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Literal

from apdocs.formats.ooxml import cfb_stream_names, sniff
from apdocs.mail.tnef import TNEF_MAGIC

Kind = Literal["docx", "xlsx", "zip", "msg", "eml", "tnef", "encrypted", "ole2", "pdf", "image", "other"]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
# An RFC 822 message starts with header lines; one of these among the first few is enough.
_HEADER = re.compile(rb"^(?:from|to|subject|date|message-id|mime-version|received|return-path|content-type):", re.I | re.M)

#: Extensions a sender uses for a form. A file named like this that is not a readable form
#: is still handed to the parser, so the failure is reported rather than silently skipped.
FORM_LIKE_EXTENSIONS = (".docx", ".xlsx", ".docm", ".xlsm", ".doc", ".xls", ".dotx", ".xltx")


def kind_of(data: bytes) -> Kind:
    if data.startswith(_ZIP):
        return _zip_kind(data)
    if data.startswith(_OLE2):
        names = set(cfb_stream_names(data))
        if "__properties_version1.0" in names or any(n.startswith("__substg1.0_") for n in names):
            return "msg"
        if "EncryptedPackage" in names:
            return "encrypted"  # a password-protected Word/Excel file
        return "ole2"
    if data.startswith(TNEF_MAGIC):  # Outlook's winmail.dat
        return "tnef"
    if data.startswith(_IMAGES):
        return "image"
    if sniff(data) == "pdf":
        return "pdf"
    if _looks_like_message(data):
        return "eml"
    return "other"


def is_form_kind(kind: Kind) -> bool:
    return kind in ("docx", "xlsx")


def meant_as_form(kind: Kind, name: str) -> bool:
    """True when the file should go to the parser: a form by its bytes, or sent as one."""
    return is_form_kind(kind) or kind == "encrypted" or name.lower().endswith(FORM_LIKE_EXTENSIONS)


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = {n.lower() for n in z.namelist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "other"
    if "[content_types].xml" in names:
        if "word/document.xml" in names or any(n.startswith("word/") for n in names):
            return "docx"
        if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
            return "xlsx"
    return "zip"


def _looks_like_message(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return False
    first = head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    return len(_HEADER.findall(first)) >= 2
