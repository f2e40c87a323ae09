"""Build small PDFs by hand for the hostile-file tests: every byte is visible here.

:func:`build` lays out numbered objects and writes a correct cross-reference table,
so each case differs from a well-formed PDF only in what it sets out to test.
"""

from __future__ import annotations

import zlib


def build(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF of ``objects`` (object n is ``objects[n-1]``, given without ``n 0 obj``)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


def stream(data: bytes, *, extra: bytes = b"", deflate: bool = False) -> bytes:
    if deflate:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_page_pdf(
    lines: list[str],
    *,
    catalog_extra: bytes = b"",
    page_extra: bytes = b"",
    more: list[bytes] | None = None,
    drawing: bytes = b"",
) -> bytes:
    """One page of Helvetica text lines (1 catalog, 2 pages, 3 page, 4 font, 5 content, then ``more``);
    ``drawing`` is content-stream operators added after the text (ruling lines ...)."""
    ops = [b"BT /F1 10 Tf 14 TL 50 780 Td"]
    for line in lines:
        safe = line.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        ops.append(b"(" + safe + b") Tj T*")
    ops.append(b"ET")
    if drawing:
        ops.append(drawing)
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R "
            + page_extra
            + b">>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            stream(b"\n".join(ops)),
            *(more or []),
        ]
    )
