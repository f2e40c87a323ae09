"""A photo or scan sent instead of the form: recognised, so the school can be asked for the file.

apdocs does no OCR: a picture of a form cannot be read reliably enough for answers that
decide a child's provision. The file gets SCANNED_IMAGE, and the tracker lists it for
the officer to handle by hand, like any unreadable return.
"""

from __future__ import annotations

from apdocs.errors import ParseError
from apdocs.record import ParsedReturn

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
ASK = "please ask the school for the Word or Excel form they filled in (or a PDF saved from it, not a scan or photo)"


def image_kind(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
        return "HEIC"
    return None


class ImageFormat:
    name = "image"
    extensions = (".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff", ".gif", ".bmp", ".webp")

    def detect(self, data: bytes) -> bool:
        return image_kind(data) is not None

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        raise ParseError(
            f"this is a {image_kind(data)} picture (a photo or scan of the form), so its answers cannot be read; {ASK}",
            code="SCANNED_IMAGE",
            path=path,
        )


FORMAT = ImageFormat()
