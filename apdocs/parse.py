"""Read returned forms: one file -> :class:`ParsedReturn`, or many -> a stream of results.

The format is decided from the bytes, never the file name: a ``.docx`` that is really
a PDF, or an Excel file renamed ``.docx``, is named for what it is. PDF, OpenDocument,
.doc/.xls/.rtf and pictures go to the read-only format that claims them
(:func:`apdocs.formats.reader_for`), which vets its own container. Every other file is
vetted by :func:`apdocs.formats.ooxml.open_package` (zip bombs, DTDs, encryption ...),
then handed to the format's reader through the registry.

:func:`parse` raises a :class:`~apdocs.errors.ParseError`; :func:`parse_many` never
raises for a bad file: each becomes a :class:`ParseFailure` and the batch goes on.
Logs carry paths, codes and counts only, never answers or names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from apdocs import formats
from apdocs.errors import ApdocsError, Notice, ParseError
from apdocs.formats.ooxml import open_package, sniff
from apdocs.record import ParsedReturn, ParseFailure, SourceInfo
from apdocs.record_scrub import scrub_values, strict_json
from apdocs.workers import cpu_count, run_ordered

log = logging.getLogger("apdocs.parse")

#: Largest file read at all; a returned form is well under 5 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024

#: Files picked up when a directory is walked: returns, and what schools wrongly send
#: instead (so the officer hears "this is a PDF" rather than nothing).
DIRECTORY_EXTENSIONS = frozenset(
    {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".doc", ".xls", ".pdf", ".odt", ".ods", ".rtf"}
    # what LibreOffice converts (flat OpenDocument, WordPerfect); photos and scans of a form,
    # listed (SCANNED_IMAGE) so the officer can ask for the file
    | {".fodt", ".fods", ".wpd", ".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff"}
)

_WORD_TYPES = ("wordprocessingml", "ms-word")
_EXCEL_TYPES = ("spreadsheetml", "ms-excel")


def _kind_from_name(path: str | None) -> str:
    """Only used to word messages for files that are not zips at all."""
    ext = Path(path or "").suffix.lower()
    return "xlsx" if ext in (".xlsx", ".xlsm", ".xltx", ".xls", ".csv", ".ods") else "docx"


def detect_format(data: bytes, *, path: str | None = None) -> str:
    """ "docx" or "xlsx" from the bytes (after vetting the package), or a format apdocs only reads
    ("pdf", "odt", "ods", "doc", "xls", "rtf", "image" ...); else a typed ParseError."""
    other = formats.reader_for(data)
    if other is not None:
        return other.name
    return _detect(data, path)[0]


def _detect(data: bytes, path: str | None) -> tuple[str, list[Notice], bytes]:
    """(format, notices from vetting, bytes to give the reader)."""
    pkg = open_package(data, path=path, kind=_kind_from_name(path))
    main = pkg.main_part() or ""
    ctype = (pkg.content_types.of(main) or "").lower() if main else ""
    if any(t in ctype for t in _WORD_TYPES) or (not ctype and pkg.has("word/document.xml")):
        name = "docx"
    elif any(t in ctype for t in _EXCEL_TYPES) or (not ctype and pkg.has("xl/workbook.xml")):
        name = "xlsx"
    else:
        what = "a PowerPoint file" if "presentationml" in ctype or pkg.has("ppt/presentation.xml") else "not a Word or Excel form"
        raise ParseError(
            f"this is {what}; please return the form as the Word or Excel file it was sent as",
            code="NOT_OOXML",
            path=path,
        )
    # python-docx refuses macro-enabled documents; readers get the vetted macro-free copy.
    reader_bytes = pkg.clean_bytes() if pkg.macro_enabled else data
    return name, list(pkg.notices), reader_bytes


def _load(source: str | os.PathLike[str]) -> bytes:
    p = Path(source)
    where = str(source)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise ParseError("this is a folder, not a file", code="FILE_UNREADABLE", path=where)
        if size > MAX_FILE_BYTES:
            raise ParseError(
                f"the file is {size} bytes, larger than any form ({MAX_FILE_BYTES} limit)", code="FILE_TOO_LARGE", path=where
            )
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # the file may grow between stat and read
    except FileNotFoundError:
        raise ParseError("no such file", code="FILE_NOT_FOUND", path=where) from None
    except OSError as exc:
        raise ParseError(
            f"the file cannot be read ({exc.strerror or type(exc).__name__})", code="FILE_UNREADABLE", path=where
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"the file is larger than any form ({MAX_FILE_BYTES} limit)", code="FILE_TOO_LARGE", path=where)
    return data


def _dedupe(notices: Iterable[Notice]) -> tuple[Notice, ...]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for n in notices:
        if (n.code, n.where) not in seen:
            seen.add((n.code, n.where))
            out.append(n)
    return tuple(out)


def _read(data: bytes, path: str | None) -> ParsedReturn:
    other = formats.reader_for(data)
    if other is not None:
        return _read_other(other, data, path)
    try:
        name, notices, reader_bytes = _detect(data, path)
    except ParseError as exc:
        odf = formats.opendocument_anyway(data) if exc.code == "NOT_OOXML" else None
        if odf is None:
            raise
        return _read_other(odf, data, path)
    record = formats.get(name).read(reader_bytes, path=path)
    # The reader hashed the bytes it read; only a macro-free copy needs the original's hash here.
    digest = record.source.sha256 if reader_bytes is data else hashlib.sha256(data).hexdigest()
    source = SourceInfo(path=path, sha256=digest, format=name)
    scrubbed: list[Notice] = []  # whatever route a bad character or number took, it stops here
    header = scrub_values(record.header, "", scrubbed)
    answers = scrub_values(record.answers, "", scrubbed)
    reference = scrub_values(record.reference, "reference", scrubbed)
    version = scrub_values(record.form_version, "form_version", scrubbed)
    record = dataclasses.replace(
        record,
        source=source,
        header=header,
        answers=answers,
        reference=reference,
        form_version=version,
        warnings=_dedupe([*notices, *record.warnings, *scrubbed]),
    )
    log.info("parsed %s form=%s format=%s warnings=%d", path, record.form, name, len(record.warnings))
    return record


def _read_other(fmt: formats.ReadOnlyFormat, data: bytes, path: str | None) -> ParsedReturn:
    """PDF, OpenDocument, .doc/.xls/.rtf ...: the reader vets its own container and names the format."""
    record = fmt.read(data, path=path)
    record = dataclasses.replace(record, warnings=_dedupe(record.warnings))
    log.info("parsed %s form=%s format=%s warnings=%d", path, record.form, record.source.format, len(record.warnings))
    return record


def _typed(exc: BaseException, path: str | None) -> ParseError:
    """Any exception as a ParseError naming the file; library messages are not kept
    (they can quote document content), only the exception's type."""
    if isinstance(exc, ParseError):
        if exc.path is None:
            exc.path = path
        return exc
    if isinstance(exc, ApdocsError):
        return ParseError(exc.message, code=exc.code, path=exc.path or path, context=exc.context)
    if isinstance(exc, RecursionError):
        return ParseError(
            "the document is nested far deeper than any form; please check it and send it again", code="TOO_DEEP", path=path
        )
    if isinstance(exc, NotImplementedError):  # the zip module's word for a feature it lacks
        return ParseError(
            "the file uses a zip feature Word and Excel never write; please save it again and send it",
            code="ZIP_UNSUPPORTED",
            path=path,
        )
    if isinstance(exc, MemoryError):
        return ParseError(
            "the file needs more memory than any form does; please check it and send it again", code="MEMORY_LIMIT", path=path
        )
    return ParseError(
        f"the file could not be read (unexpected {type(exc).__name__}); please check it opens and send it again",
        code="READ_FAILED",
        path=path,
        context={"exception": type(exc).__name__},
    )


def parse(source: str | os.PathLike[str] | bytes, *, path: str | None = None) -> ParsedReturn:
    """Read one returned form from a path or from bytes (``path`` then names it in messages).

    Raises :class:`ParseError` (code EMPTY_FILE, NOT_OOXML, ZIP_BOMB, ... see README).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = path or str(source)
        data = _load(source)
    try:
        return _read(data, path)
    except Exception as exc:
        err = _typed(exc, path)
        log.info("parse failed: %s code=%s", path, err.code)
        raise err from None


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """Each named file, and the return-like files under each named folder, in sorted order.

    Hidden files and Office lock files (``~$name.docx``) inside folders are skipped;
    a file named explicitly is always read, whatever its name.
    """
    seen: set[str] = set()
    for item in paths:
        p = str(item)
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if f.startswith((".", "~$")) or Path(f).suffix.lower() not in DIRECTORY_EXTENSIONS:
                        continue
                    full = os.path.join(root, f)
                    if (key := os.path.realpath(full)) not in seen:
                        seen.add(key)
                        yield full
        elif (key := os.path.realpath(p)) not in seen:
            seen.add(key)
            yield p


#: Longest a worker may spend on one file before it is killed and the file reported READ_TIMEOUT.
#: A form reads in milliseconds; a minute means the reader is stuck, not slow.
READ_TIMEOUT_SECONDS = 60.0


def parse_many(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = 1,
    timeout: float | None = READ_TIMEOUT_SECONDS,
    _reader: Callable[[str], ParsedReturn | ParseFailure] | None = None,
) -> Iterator[ParsedReturn | ParseFailure]:
    """Parse files and folders; a bad file becomes a ParseFailure, never an exception.

    Results come in input order whatever ``jobs`` is. ``jobs=1`` reads in this process, one
    file at a time; ``jobs=N`` (``None``: every core) reads on N worker processes, with at most
    a few files per worker in flight. There a file whose reader crashes its worker becomes a
    WORKER_CRASHED failure, and one taking over ``timeout`` seconds a READ_TIMEOUT failure.
    ``_reader`` replaces the per-file reader; it exists only for tests that need a crash or a hang.
    """
    reader = _reader or parse_path
    jobs = cpu_count() if jobs is None else jobs
    files = iter_files(paths)
    count = failed = 0
    if jobs <= 1:
        results: Iterator[ParsedReturn | ParseFailure] = map(reader, files)
    else:
        results = run_ordered(reader, files, jobs=jobs, timeout=timeout, on_fault=_fault)
    for result in results:
        count += 1
        failed += not result.ok
        yield result
    log.info("parsed %d file(s), %d failed", count, failed)


def parse_path(p: str) -> ParsedReturn | ParseFailure:
    """One file read into a record, or a ParseFailure; never raises (workers rely on that)."""
    data = b""
    try:
        data = _load(p)
        return _read(data, p)
    except Exception as exc:
        err = _typed(exc, p)
        log.info("parse failed: %s code=%s", p, err.code)
        digest = hashlib.sha256(data).hexdigest() if data else ""
        return ParseFailure(source=SourceInfo(path=p, sha256=digest, format=_guess_format(data)), error=err)


def _fault(p: str, reason: str) -> ParseFailure:
    """The failure for a file whose worker died under it ("crashed") or was stopped ("timeout")."""
    if reason == "crashed":
        err = ParseError(
            "reading this file crashed the reader; please check it opens and send it again", code="WORKER_CRASHED", path=p
        )
    else:
        err = ParseError(
            "reading this file took too long and was stopped; please check it opens and send it again",
            code="READ_TIMEOUT",
            path=p,
        )
    log.info("parse failed: %s code=%s", p, err.code)
    try:  # named by its bytes like any other failure; the worker read it, so this rarely fails
        data = _load(p)
    except ParseError:
        data = b""
    source = SourceInfo(path=p, sha256=hashlib.sha256(data).hexdigest() if data else "", format=_guess_format(data))
    return ParseFailure(source=source, error=err)


def _guess_format(data: bytes) -> str:
    """Best name for a failed file's format, from the bytes only ("unknown" when unsure)."""
    if not data:
        return "unknown"
    try:
        other = formats.reader_for(data)  # pdf, odt, ods, doc, xls, rtf, image
    except Exception:
        other = None
    if other is not None:
        return other.name
    if data.startswith(b"PK"):
        head = data[-65_536:] + data[:65_536]
        if b"word/" in head:
            return "docx"
        if b"xl/" in head:
            return "xlsx"
        return "zip"
    return sniff(data) or "unknown"


def parse_result_to_json(results: ParsedReturn | ParseFailure | Iterable[ParsedReturn | ParseFailure], *, indent: int = 2) -> str:
    """The pinned JSON: one object for one result, an array for many."""
    if isinstance(results, (ParsedReturn, ParseFailure)):
        data: Any = results.to_dict()
    else:
        data = [r.to_dict() for r in results]
    return strict_json(data, indent=indent)
