"""Read returned forms: one file -> :class:`ParsedReturn`, or many -> a stream of results.

The format is decided from the bytes, never the file name: a ``.docx`` that is really
a PDF, or an Excel file renamed ``.docx``, is named for what it is. Every file is first
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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from apdocs import formats
from apdocs.errors import ApdocsError, Notice, ParseError
from apdocs.formats.ooxml import open_package, sniff
from apdocs.record import ParsedReturn, ParseFailure, SourceInfo
from apdocs.record_scrub import scrub_values, strict_json

log = logging.getLogger("apdocs.parse")

#: Largest file read at all; a returned form is well under 5 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024

#: Files picked up when a directory is walked: returns, and what schools wrongly send
#: instead (so the officer hears "this is a PDF" rather than nothing).
DIRECTORY_EXTENSIONS = frozenset(
    {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".doc", ".xls", ".pdf", ".odt", ".ods", ".rtf"}
)

_WORD_TYPES = ("wordprocessingml", "ms-word")
_EXCEL_TYPES = ("spreadsheetml", "ms-excel")


def _kind_from_name(path: str | None) -> str:
    """Only used to word messages for files that are not zips at all."""
    ext = Path(path or "").suffix.lower()
    return "xlsx" if ext in (".xlsx", ".xlsm", ".xltx", ".xls", ".csv", ".ods") else "docx"


def detect_format(data: bytes, *, path: str | None = None) -> str:
    """ "docx" or "xlsx" from the bytes (after vetting the package); else a typed ParseError."""
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
    name, notices, reader_bytes = _detect(data, path)
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


def parse_many(paths: Iterable[str | os.PathLike[str]]) -> Iterator[ParsedReturn | ParseFailure]:
    """Parse files and folders one at a time; a bad file becomes a ParseFailure, never an exception."""
    count = failed = 0
    for p in iter_files(paths):
        count += 1
        data = b""
        try:
            data = _load(p)
            yield _read(data, p)
        except Exception as exc:
            failed += 1
            err = _typed(exc, p)
            log.info("parse failed: %s code=%s", p, err.code)
            digest = hashlib.sha256(data).hexdigest() if data else ""
            yield ParseFailure(source=SourceInfo(path=p, sha256=digest, format=_guess_format(data)), error=err)
        finally:
            del data  # only one file's bytes are held at a time
    log.info("parsed %d file(s), %d failed", count, failed)


def _guess_format(data: bytes) -> str:
    """Best name for a failed file's format, from the bytes only ("unknown" when unsure)."""
    if not data:
        return "unknown"
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
