"""Registry of file formats, each able to render a form and read one back.

Modelled on tablib: a format is registered under a name and offers ``detect``,
``compile`` (template compiled once, rendered many times) and ``read``.
Format modules are imported lazily so that ``import apdocs`` stays cheap and the
heavy office libraries load only when a format is used.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from apdocs.forms.model import FormDefinition
from apdocs.record import ParsedReturn


class CompiledForm(Protocol):
    """A form compiled for one format; ``render`` does no I/O."""

    form: FormDefinition

    def render(self, values: dict[str, Any] | None = None) -> bytes: ...


class Format(Protocol):
    name: str
    extensions: tuple[str, ...]
    media_type: str

    def detect(self, data: bytes) -> bool: ...

    def compile(self, form: FormDefinition) -> CompiledForm: ...

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn: ...


# name -> module that defines FORMAT
_MODULES = {"docx": "apdocs.formats.docx", "xlsx": "apdocs.formats.xlsx"}


class ReadOnlyFormat(Protocol):
    """A container apdocs reads returns from but never renders (PDF, OpenDocument, legacy binaries)."""

    @property
    def name(self) -> str: ...

    @property
    def extensions(self) -> tuple[str, ...]: ...

    def detect(self, data: bytes) -> bool: ...

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn: ...


# name -> (module, attribute), in the order their ``detect`` is asked. Each detect looks at a
# few bytes or a zip/OLE2 directory only and never raises; OOXML is never claimed here.
_READERS = {
    "pdf": ("apdocs.formats.pdf", "FORMAT"),
    "odt": ("apdocs.formats.odf", "ODT"),
    "ods": ("apdocs.formats.odf", "ODS"),
    "doc": ("apdocs.formats.convert", "DOC"),
    "xls": ("apdocs.formats.convert", "XLS"),
    "rtf": ("apdocs.formats.convert", "RTF"),
    "image": ("apdocs.formats.image", "FORMAT"),
    # anything else LibreOffice opens, through the same converter
    "fodt": ("apdocs.formats.convert", "FODT"),
    "fods": ("apdocs.formats.convert", "FODS"),
    "wordml": ("apdocs.formats.convert", "WORDML"),
    "spreadsheetml": ("apdocs.formats.convert", "SPREADSHEETML"),
    "wpd": ("apdocs.formats.convert", "WPD"),
}
#: The readers that may claim a zip: every .docx/.xlsx is a zip, and only OpenDocument is asked about it.
_ZIP_READERS = ("odt", "ods")


def reader_for(data: bytes) -> ReadOnlyFormat | None:
    """The read-only format the bytes are in, or None (OOXML, or something no reader claims)."""
    names = _ZIP_READERS if data.startswith(b"PK") else _READERS
    for name in names:
        module, attr = _READERS[name]
        fmt: ReadOnlyFormat = getattr(importlib.import_module(module), attr)
        if fmt.detect(data):
            return fmt
    return None


def opendocument_anyway(data: bytes) -> ReadOnlyFormat | None:
    """ODT/ODS whose ``mimetype`` entry is not first, as the standard asks (see ``odf_kind``)."""
    from apdocs.formats.odf import ODS, ODT
    from apdocs.formats.odf.package import odf_kind

    kind = odf_kind(data, anywhere=True)
    return ODT if kind == "odt" else ODS if kind == "ods" else None


def names() -> tuple[str, ...]:
    return tuple(_MODULES)


def read_only_names() -> tuple[str, ...]:
    """The formats apdocs reads but never renders (``source.format`` of a record read from one)."""
    return tuple(_READERS)


def get(name: str) -> Format:
    from apdocs.errors import ApdocsError

    try:
        module = _MODULES[name]
    except KeyError:
        raise ApdocsError(f"unknown format {name!r}; choose one of {', '.join(_MODULES)}", code="FORMAT_UNKNOWN") from None
    fmt: Format = importlib.import_module(module).FORMAT
    return fmt
