"""PDF returns: read from the text layer (see :mod:`.read`). apdocs never renders PDF."""

from __future__ import annotations

from apdocs.record import ParsedReturn


class PdfFormat:
    name = "pdf"
    extensions = (".pdf",)
    media_type = "application/pdf"

    def detect(self, data: bytes) -> bool:
        return data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-")

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        from .read import read_pdf

        return read_pdf(data, path=path)


FORMAT = PdfFormat()
