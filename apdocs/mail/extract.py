"""Take the files out of a message: MIME parts, forwarded messages, Outlook items, zips.

Rules, applied the same way at every level:

* a forwarded message (``message/rfc822``, an attached ``.eml`` or ``.msg``) is opened
  and its files taken, up to :attr:`Limits.max_depth` levels below the reply;
* Outlook's ``winmail.dat`` (TNEF) is opened and its attachments taken under their long
  names (:mod:`apdocs.mail.tnef`); it counts as one more level, like a zip;
* a ``.zip`` is opened under caps (member count, inflated size per member and in total,
  inflate ratio) checked from the directory *and* while inflating, since headers can lie;
  a zip inside a zip counts as one more level;
* files a Mac adds by itself (``__MACOSX/``, AppleDouble ``._name``, ``.DS_Store``) are
  listed as skipped, never parsed (:mod:`apdocs.mail.macos`);
* what a file is comes from its bytes (:func:`apdocs.mail.sniff.kind_of`); the name only
  tells us the sender meant it as a form, so a broken form is parsed (and fails, visibly)
  instead of being silently skipped;
* everything else is listed in ``skipped`` with the reason.
"""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
from email.message import Message

from apdocs.mail.errors import MessageTooLarge, MessageUnreadable, TnefUnreadable
from apdocs.mail.limits import DEFAULT_LIMITS, Limits
from apdocs.mail.macos import MACOSX_REASON, in_macosx_folder, mac_metadata
from apdocs.mail.message import FoundFile, MailItem, SkippedPart, iso_date
from apdocs.mail.sniff import kind_of, meant_as_form
from apdocs.mail.tnef import read_tnef

_CHUNK = 64 * 1024


class _Collector:
    def __init__(self, item: MailItem, limits: Limits) -> None:
        self.item = item
        self.limits = limits
        self.count = 0

    def skip(self, name: str, via: str, kind: str, reason: str, size: int, code: str | None = None) -> None:
        self.item.skipped.append(SkippedPart(name, via, kind, reason, size, code))

    def consider(self, name: str, data: bytes, depth: int, via: str) -> None:
        """One file found at ``depth``: keep it, open it, or list it as skipped."""
        self.count += 1
        if self.count > self.limits.max_attachments:
            self.skip(name, via, "?", f"more than {self.limits.max_attachments} attachments in one message", len(data))
            return
        if len(data) > self.limits.max_attachment_bytes:
            self.skip(name, via, "?", f"larger than the {self.limits.max_attachment_bytes}-byte cap", len(data))
            return
        kind = kind_of(data)
        mac = mac_metadata(name, data, kind)
        if mac is not None:
            self.skip(name, via, "macos", mac, len(data))
            return
        if kind == "other" and name.replace("\\", "/").rsplit("/", 1)[-1].lower() == "winmail.dat":
            kind = "tnef"  # sent as Outlook's wrapper but not one: opening it reports the damage
        if kind in ("zip", "eml", "msg", "tnef"):
            if depth + 1 > self.limits.max_depth:
                self.skip(name, via, kind, f"nested more than {self.limits.max_depth} levels deep", len(data))
                return
            inner_via = f"{via}{name or kind}/"
            if kind == "zip":
                self.open_zip(name, data, depth + 1, inner_via)
            elif kind == "tnef":
                self.open_tnef(name, data, depth + 1, inner_via, via)
            elif kind == "eml":
                self.walk_mime(_parse_mime(data, self.item.origin), depth + 1, inner_via)
            else:
                self.walk_msg(_open_msg(data, self.item.origin), depth + 1, inner_via)
            return
        if meant_as_form(kind, name):
            self.item.found.append(FoundFile(name, data, kind, via))
        else:
            self.skip(name, via, kind, "not a form", len(data))

    # -- MIME --------------------------------------------------------------------

    def walk_mime(self, part: Message, depth: int, via: str) -> None:
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            if depth + 1 > self.limits.max_depth:
                self.skip(part.get_filename() or "forwarded message", via, "eml", "forwarded too deep", 0)
                return
            for inner in part.get_payload() or []:
                if isinstance(inner, Message):
                    self.walk_mime(inner, depth + 1, f"{via}forwarded/")
            return
        if part.is_multipart():
            for sub in part.get_payload() or []:
                if isinstance(sub, Message):
                    self.walk_mime(sub, depth, via)
            return
        name = part.get_filename()
        if name is None and part.get_content_disposition() != "attachment":
            return  # a body part (text/plain, text/html, inline image without name)
        try:
            data = part.get_payload(decode=True) or b""
        except (ValueError, TypeError, AssertionError):
            data = None
        if not isinstance(data, bytes):  # a leaf part decodes to bytes; anything else is unreadable
            self.skip(name or "", via, "?", "could not be decoded", 0)
            return
        self.consider(str(name or ""), data, depth, via)

    # -- Outlook .msg ------------------------------------------------------------

    def walk_msg(self, msg: object, depth: int, via: str) -> None:
        from extract_msg.enums import AttachmentType

        try:
            attachments = list(getattr(msg, "attachments", []) or [])
        except Exception as exc:  # extract-msg raises many kinds on damaged files
            self.skip("", via, "msg", f"attachments unreadable: {type(exc).__name__}", 0)
            return
        for att in attachments:
            name = str(
                getattr(att, "longFilename", None) or getattr(att, "shortFilename", None) or getattr(att, "name", "") or ""
            )
            try:
                att_type = att.type
                data = att.data
            except Exception as exc:
                self.skip(name, via, "?", f"attachment unreadable: {type(exc).__name__}", 0)
                continue
            if att_type == AttachmentType.MSG or (data is not None and not isinstance(data, bytes)):
                if depth + 1 > self.limits.max_depth:
                    self.skip(name or "embedded message", via, "msg", "forwarded too deep", 0)
                else:
                    self.walk_msg(data, depth + 1, f"{via}{name or 'embedded message'}/")
                continue
            if not isinstance(data, bytes):
                self.skip(name, via, "?", f"unsupported Outlook attachment ({att_type.name})", 0)
                continue
            self.consider(name, data, depth, via)

    # -- Outlook's winmail.dat (TNEF) ---------------------------------------------

    def open_tnef(self, name: str, data: bytes, depth: int, via: str, outer_via: str) -> None:
        # Unlike a damaged zip, a winmail.dat is how Outlook sent the school's files: damage is kept
        # visible as a problem (ingest report, tracker) rather than a quiet skip.
        try:
            attachments, problem = read_tnef(data, f"{self.item.origin}: {outer_via}{name}")
        except TnefUnreadable as exc:
            attachments, problem = [], exc
        for att in attachments:
            self.consider(att.name, att.data, depth, via)
        if problem is not None:
            self.skip(name, outer_via, "tnef", problem.message, len(data), code=problem.code)

    # -- zip ---------------------------------------------------------------------

    def open_zip(self, name: str, data: bytes, depth: int, via: str) -> None:
        lim = self.limits
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            self.skip(name, via, "zip", "damaged zip", len(data))
            return
        with z:
            files = [i for i in z.infolist() if not i.is_dir()]
            # A Mac's Archive Utility adds a __MACOSX/._name beside every file: listed, never inflated,
            # and not counted against the cap (which would otherwise halve for zips made on a Mac).
            mac = [i for i in files if in_macosx_folder(i.filename)]
            members = [i for i in files if not in_macosx_folder(i.filename)]
            if max(len(members), len(mac)) > lim.max_zip_members:
                self.skip(name, via, "zip", f"zip holds {len(files)} files; the cap is {lim.max_zip_members}", len(data))
                return
            for info in mac:
                self.skip(info.filename, via, "macos", MACOSX_REASON, info.file_size)
            declared = sum(i.file_size for i in members)
            if declared > lim.max_zip_total_bytes:
                self.skip(name, via, "zip", "zip would inflate beyond the cap (zip bomb?)", len(data))
                return
            total = 0
            for info in members:
                member = info.filename
                if info.flag_bits & 0x1:
                    self.skip(member, via, "zip", "encrypted zip member", info.compress_size)
                    continue
                if info.file_size > lim.max_attachment_bytes or info.file_size > lim.max_zip_ratio * max(
                    info.compress_size, 1024
                ):
                    self.skip(member, via, "zip", "zip member too large or too compressed (zip bomb?)", info.compress_size)
                    continue
                allowed = min(
                    lim.max_attachment_bytes, lim.max_zip_total_bytes - total, lim.max_zip_ratio * max(info.compress_size, 1024)
                )
                content = _inflate(z, info, allowed)
                if content is None:
                    self.skip(
                        member, via, "zip", "zip member inflates beyond what its header says (zip bomb?)", info.compress_size
                    )
                    continue
                total += len(content)
                self.consider(member, content, depth, via)


def _inflate(z: zipfile.ZipFile, info: zipfile.ZipInfo, allowed: int) -> bytes | None:
    """Inflate one member, stopping as soon as it passes ``allowed`` bytes (None then)."""
    out = bytearray()
    try:
        with z.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                out += chunk
                if len(out) > allowed:
                    return None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    return bytes(out)


def _parse_mime(raw: bytes, origin: str) -> Message:
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the email package is lenient; anything raised here is a broken message
        raise MessageUnreadable(f"not a readable email message: {type(exc).__name__}", path=origin) from exc


def _open_msg(raw: bytes, origin: str) -> object:
    import extract_msg

    try:
        return extract_msg.openMsg(raw)
    except Exception as exc:  # extract-msg raises its own and olefile errors
        raise MessageUnreadable(f"not a readable Outlook message: {type(exc).__name__}", path=origin) from exc


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop ingest
        value = None
    return str(value).strip() if value is not None else None


def read_eml(raw: bytes, origin: str, limits: Limits) -> MailItem:
    msg = _parse_mime(raw, origin)
    if not msg.keys():
        raise MessageUnreadable("no email headers found", path=origin)
    date_raw = _header(msg, "Date")
    item = MailItem(
        origin=origin,
        raw=raw,
        container="eml",
        sender=_header(msg, "From"),
        date=iso_date(date_raw),
        date_raw=date_raw,
        subject=_header(msg, "Subject"),
        message_id=_header(msg, "Message-ID"),
    )
    _Collector(item, limits).walk_mime(msg, 0, "")
    return item


def read_msg(raw: bytes, origin: str, limits: Limits) -> MailItem:
    msg = _open_msg(raw, origin)
    try:

        def prop(name: str) -> object:
            try:
                return getattr(msg, name)
            except Exception:  # odd or missing properties in real Outlook files
                return None

        date = prop("date")
        item = MailItem(
            origin=origin,
            raw=raw,
            container="msg",
            sender=str(prop("sender") or "").strip() or None,
            date=iso_date(date),
            date_raw=None if date is None else str(date),
            subject=str(prop("subject") or "").strip() or None,
            message_id=str(prop("messageId") or "").strip() or None,
        )
        _Collector(item, limits).walk_msg(msg, 0, "")
        return item
    finally:
        close = getattr(msg, "close", None)
        if close:
            close()


def read_message(raw: bytes, origin: str, limits: Limits = DEFAULT_LIMITS) -> MailItem:
    """Read one message from its original bytes (raises a typed MailError when it cannot)."""
    if len(raw) > limits.max_message_bytes:
        raise MessageTooLarge(f"message is {len(raw)} bytes; the cap is {limits.max_message_bytes}", path=origin)
    if kind_of(raw) == "msg":
        return read_msg(raw, origin, limits)
    return read_eml(raw, origin, limits)
