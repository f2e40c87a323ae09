"""Read a returned form saved or exported as PDF, from its text layer.

pdfplumber (on pdfminer.six, pure Python) reads the text with each word's position and
the ruling lines that make the tables; :mod:`.layout` rebuilds the paragraphs and
table cells and :mod:`apdocs.formats.textdoc` reads the answers from the wording, as
for a Word form whose controls are gone. AcroForm field values are added as words at
their widgets' places, so a filled PDF form reads the same way.

Safety: pdfminer interprets no JavaScript, opens no embedded file, follows no link and
fetches nothing; it only decodes streams. The size cap is the caller's (parse's
MAX_FILE_BYTES); deflated streams are inflated first within caps (:mod:`.vet`); the
page count is capped; anything the library raises on a damaged or hostile file
becomes a typed error (only its type is kept).
"""

from __future__ import annotations

import io
import logging
from typing import Any, NoReturn

from apdocs.errors import Notice, ParseError
from apdocs.formats.textdoc import read_blocks
from apdocs.record import ParsedReturn

from .layout import TooComplex, Word, document_blocks
from .vet import vet

log = logging.getLogger("apdocs.formats.pdf")

#: Most pages read: our forms print on 2-4 pages; a long PDF is not one form.
MAX_PAGES = 40
#: Most characters read: a filled form holds ten to twenty thousand.
MAX_CHARS = 400_000

ASK_FOR_FILE = "please ask the school for the Word or Excel form they filled in (or a PDF saved from it, not a scan)"


def _err(code: str, message: str, path: str | None) -> ParseError:
    return ParseError(message, code=code, path=path)


def read_pdf(data: bytes, *, path: str | None = None) -> ParsedReturn:
    import pdfplumber

    vet(data, path=path)
    notices: list[Notice] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = pdf.pages
            if len(pages) > MAX_PAGES:
                raise _err("PDF_TOO_LONG", f"the PDF has {len(pages)} pages (a form has a few; limit {MAX_PAGES})", path)
            fields = _acroform_words(pdf)
            if any(w for _, w in fields):
                notices.append(Notice("ROUTE_FALLBACK", "PDF form fields read at their places on the page", where=path))
            if sum(len(p.chars) for p in pages) > MAX_CHARS:
                raise _err("PDF_TOO_LONG", f"the PDF holds more text than any form ({MAX_CHARS} characters)", path)
            try:
                blocks = document_blocks(_with_fields(pages, fields))
            except TooComplex as exc:
                raise _err("PDF_TOO_LONG", f"{exc}; it is not a form", path) from None
            has_text = any(p.chars for p in pages) or bool(fields)
            has_images = any(p.images for p in pages)
            scanned = not fields and _scanned(pages)
            # pdfminer writes "(cid:N)" for a glyph whose font maps it to no letter
            chars = [c["text"] for p in pages for c in p.chars]
            unmapped = sum(1 for t in chars if t.startswith("(cid:"))
    except ParseError:
        raise
    except Exception as wrapped:
        _raise_typed(_unwrap(wrapped), path)  # raises; "from None" there would not hide this context

    scan_message = "the PDF holds only pictures of pages (a scan or photo), so its answers cannot be read; " + ASK_FOR_FILE
    if not has_text:
        if has_images:
            raise _err("SCANNED_IMAGE", scan_message, path)
        raise _err("NOT_A_FORM", "the PDF has no text; " + ASK_FOR_FILE, path)
    if chars and unmapped > UNMAPPED_SHARE * len(chars):
        raise _err(
            "PDF_TEXT_UNREADABLE",
            "the PDF's text carries no letters, only shapes (as some 'Print to PDF' drivers write it), so it "
            "cannot be read; " + ASK_FOR_FILE,
            path,
        )
    try:
        return read_blocks(blocks, data=data, path=path, fmt="pdf", route="read from the PDF's text layer", notices=notices)
    except ParseError as exc:
        # a scan with a line of text on it (a scanner's stamp, a typed footer) is still a scan
        if exc.code == "NOT_A_FORM" and scanned:
            raise _err("SCANNED_IMAGE", scan_message, path) from None
        raise


#: Share of characters without letters (glyphs only) above which a PDF's text cannot be read.
UNMAPPED_SHARE = 0.5
#: A page is a picture of a page when one image covers at least this share of it ...
SCAN_COVER = 0.5
#: ... and it holds fewer characters than this (a filled form page holds thousands).
SCAN_MAX_CHARS = 300


def _scanned(pages: list[Any]) -> bool:
    """Whether every page is mostly one picture with little text on it."""
    for page in pages:
        area = float(page.width) * float(page.height) or 1.0
        covered = max((float(i["width"]) * float(i["height"]) for i in page.images), default=0.0)
        if covered < SCAN_COVER * area or len(page.chars) >= SCAN_MAX_CHARS:
            return False
    return bool(pages)


def _unwrap(exc: BaseException) -> BaseException:
    """pdfplumber wraps pdfminer's exception in PdfminerException(inner)."""
    inner = exc.args[0] if type(exc).__name__ == "PdfminerException" and exc.args else None
    return inner if isinstance(inner, BaseException) else exc


def _raise_typed(exc: BaseException, path: str | None) -> NoReturn:
    """A library failure as a typed error; only the exception's type is kept (messages can quote the file)."""
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if isinstance(exc, (PDFPasswordIncorrect, PDFEncryptionError)):
        raise _err("ENCRYPTED", "the PDF is password-protected; please ask the school to send it without a password", path)
    if isinstance(exc, RecursionError):
        raise _err("PDF_DAMAGED", "the PDF is nested too deeply to be a form; " + ASK_FOR_FILE, path)
    # pdfminer raises many types on damaged files (PSSyntaxError, PDFSyntaxError, KeyError, ValueError ...)
    log.info("pdf unreadable: %s (%s)", path, type(exc).__name__)
    raise ParseError(
        "the PDF is damaged and could not be read; " + ASK_FOR_FILE,
        code="PDF_DAMAGED",
        path=path,
        context={"exception": type(exc).__name__},
    )


class _PageWithFields:
    """A pdfplumber page whose words include the values of the form fields drawn on it."""

    def __init__(self, page: Any, extra: list[Word]) -> None:
        self._page, self._extra = page, extra

    def __getattr__(self, name: str) -> Any:
        return getattr(self._page, name)

    def extract_words(self, **kwargs: Any) -> list[dict[str, Any]]:
        words = list(self._page.extract_words(**kwargs))
        for w in self._extra:
            words.append({"text": w.text, "x0": w.x0, "x1": w.x1, "top": w.top, "bottom": w.bottom, "size": w.size})
        return words


def _with_fields(pages: list[Any], fields: list[tuple[int, list[Word]]]) -> list[Any]:
    by_page: dict[int, list[Word]] = {}
    for n, words in fields:
        by_page.setdefault(n, []).extend(words)
    return [_PageWithFields(p, by_page[i]) if i in by_page else p for i, p in enumerate(pages)]


def _acroform_words(pdf: Any) -> list[tuple[int, list[Word]]]:
    """(page index, words) for each filled form field: its value laid out in its widget's box.

    Widgets are taken from each page's annotations (so a widget that does not name its page
    is still placed right); a value set on the parent field (radio groups, split fields) is
    found there. Bounded: at most 2,000 widgets a page.
    """
    from pdfminer.pdftypes import resolve1

    out: list[tuple[int, list[Word]]] = []
    catalog = resolve1(pdf.doc.catalog)
    if not isinstance(catalog, dict) or not isinstance(resolve1(catalog.get("AcroForm")), dict):
        return out
    for index, page in enumerate(pdf.pages):
        for annot in page.annots[:2000]:
            data = annot.get("data")
            if not isinstance(data, dict) or getattr(resolve1(data.get("Subtype")), "name", None) != "Widget":
                continue
            parent = resolve1(data.get("Parent"))
            text = _field_text(data) or (_field_text(parent) if isinstance(parent, dict) else "")
            if not text:
                continue
            x0, top, bottom = float(annot["x0"]), float(annot["top"]), float(annot["bottom"])
            size = max(min((bottom - top) * 0.7, 12.0), 4.0)
            words, y = [], top + 1
            for line in text.split("\n"):
                if line.strip():
                    words.append(Word(line, x0 + 2, x0 + 2 + 0.5 * size * len(line), y, y + size, size))
                y += size * 1.2
            out.append((index, words))
    return out


def _field_text(field: dict[str, Any]) -> str:
    from pdfminer.pdftypes import resolve1
    from pdfminer.psparser import PSLiteral
    from pdfminer.utils import decode_text

    value = resolve1(field.get("V"))
    if isinstance(value, bytes):
        return decode_text(value).replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, PSLiteral):  # a checkbox: /Yes or /Off
        name = value.name.decode() if isinstance(value.name, bytes) else str(value.name)
        return "" if name == "Off" else "☒"
    return ""
