"""Checks on a PDF's raw bytes before any library parses it.

pdfminer inflates every compressed stream whole, so a few KB of deflated zeros could
become gigabytes when a page is read (a decompression bomb). Each deflated stream
is inflated here first, in bounded steps, and the file is refused as soon as one
stream, or all together, would pass the caps. Our forms' streams unpack to a few
hundred KB in all.
"""

from __future__ import annotations

import re
import zlib

from apdocs.errors import ParseError

#: Largest unpacked size of one stream (a page's content, a font, an image).
MAX_STREAM_BYTES = 32 * 1024 * 1024
#: Largest unpacked size of all streams together.
MAX_TOTAL_STREAM_BYTES = 96 * 1024 * 1024
#: Most streams a PDF may hold (a form has tens; object streams count once).
MAX_STREAMS = 20_000

#: Most objects a PDF may declare in its body (a form's PDF has a few hundred). Objects packed in
#: object streams are not counted: pdfminer reads those only when something refers to them.
MAX_OBJECTS = 200_000
#: Most page objects (the reader reads at most 40 pages, but pdfminer walks every page to count them).
MAX_PAGE_OBJECTS = 2_000

_STREAM = re.compile(rb"stream\r?\n")
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_CHUNK = 1024 * 1024


def vet(data: bytes, *, path: str | None) -> None:
    """Raise PDF_BOMB when a deflated stream unpacks past the caps, PDF_TOO_LONG when the file holds
    more objects or pages than a form could; damaged streams are left to the parser."""
    # pdfminer indexes every object and keeps each page it walks: counted on the raw bytes first
    objects = len(_OBJECT.findall(data))
    if objects > MAX_OBJECTS:
        raise ParseError(
            f"the PDF holds {objects} objects (a form has a few hundred; limit {MAX_OBJECTS})", code="PDF_TOO_LONG", path=path
        )
    pages = len(_PAGE.findall(data))
    if pages > MAX_PAGE_OBJECTS:
        raise ParseError(f"the PDF holds {pages} pages (limit {MAX_PAGE_OBJECTS})", code="PDF_TOO_LONG", path=path)
    total = 0
    count = 0
    for m in _STREAM.finditer(data):
        if data[max(0, m.start() - 3) : m.start()] == b"end":
            continue  # "endstream" itself
        count += 1
        if count > MAX_STREAMS:
            raise _bomb(f"the PDF holds over {MAX_STREAMS} streams", path)
        end = data.find(b"endstream", m.end())
        raw = data[m.end() : end if end >= 0 else len(data)]
        total += _inflated_size(raw, path)
        if total > MAX_TOTAL_STREAM_BYTES:
            raise _bomb(f"the PDF's streams would unpack to more than {MAX_TOTAL_STREAM_BYTES} bytes", path)


def _inflated_size(raw: bytes, path: str | None) -> int:
    """Bytes ``raw`` inflates to (0 when it is not a zlib stream), refusing past the per-stream cap."""
    if len(raw) < 2 or raw[0] & 0x0F != 8 or ((raw[0] << 8) | raw[1]) % 31:
        return 0  # no zlib header: not FlateDecode (images, fonts stored raw)
    d = zlib.decompressobj()
    size = 0
    pending = raw
    try:
        while pending and not d.eof:
            out = d.decompress(pending, _CHUNK)
            size += len(out)
            if size > MAX_STREAM_BYTES:
                raise _bomb(f"a stream in the PDF would unpack to more than {MAX_STREAM_BYTES} bytes", path)
            pending = d.unconsumed_tail
            if not out and not pending:
                break
    except zlib.error:
        return size  # damaged data: pdfminer will stop there too
    return size


def _bomb(message: str, path: str | None) -> ParseError:
    return ParseError(f"{message}; it is not a form (a decompression bomb?)", code="PDF_BOMB", path=path)
