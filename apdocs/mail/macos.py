"""Files a Mac adds on its own when it zips or mails a folder: never something a school sent.

* ``__MACOSX/`` folder: macOS's Archive Utility ("Compress", which is
  ``ditto -c -k --sequesterRsrc --keepParent``) puts each file's extended attributes and
  resource fork there, as an AppleDouble file named ``__MACOSX/<folder>/._<name>``.
* ``._<name>`` beside the file: the same AppleDouble data, when a Mac copied the folder to a
  disk that cannot hold extended attributes (a USB stick, a network share) and it was
  zipped from there, or by ``zip``/``tar`` on the Mac itself.
* AppleDouble bytes under any name (magic ``00 05 16 07``), e.g. the
  ``application/applefile`` half of Apple Mail's ``multipart/appledouble``.
* ``.DS_Store``: the Finder's window settings (magic ``00 00 00 01 'Bud1'``).

A ``._Appendix 2.docx`` named like a form would otherwise go to the parser, fail, and show
in the tracker as an unreadable return: an officer would chase a school for a file it
never sent. These are listed as skipped instead.
"""

from __future__ import annotations

from apdocs.mail.sniff import Kind, is_form_kind

APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07"
DS_STORE_MAGIC = b"\x00\x00\x00\x01Bud1"
MACOSX_FOLDER = "__MACOSX"
MACOSX_REASON = "macOS __MACOSX/ metadata, not a file the sender attached"


def in_macosx_folder(path: str) -> bool:
    """True for a zip member under ``__MACOSX/`` (at any depth, as ``ditto`` writes it)."""
    return MACOSX_FOLDER in path.replace("\\", "/").split("/")[:-1]


def mac_metadata(path: str, data: bytes, kind: Kind) -> str | None:
    """Why ``path`` is macOS metadata rather than a file the sender meant, or None.

    The bytes decide first; a name alone (``._x``, ``.DS_Store``) is trusted only when the
    bytes are not a form, so a real form with an odd name is never dropped.
    """
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    if data.startswith(APPLEDOUBLE_MAGIC):
        return "macOS AppleDouble file (a Mac's extended attributes, not a file the sender attached)"
    if data.startswith(DS_STORE_MAGIC):
        return "macOS Finder settings (.DS_Store), not a file the sender attached"
    if is_form_kind(kind):
        return None
    if in_macosx_folder(path):
        return MACOSX_REASON
    if base.startswith("._"):
        return "macOS AppleDouble name (._), not a file the sender attached"
    if base == ".DS_Store":
        return "macOS Finder settings (.DS_Store), not a file the sender attached"
    return None
