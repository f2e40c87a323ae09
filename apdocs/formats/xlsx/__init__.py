"""Excel (.xlsx) format: fillable, protected, validated workbooks, and a safe reader.

See ``render.py`` (compile once, patch the sheet XML per render), ``layout.py`` (what the
form looks like), ``read.py`` (zip + lxml reader, never openpyxl) and ``names.py``
(defined names: :func:`slot_name`).
"""

from __future__ import annotations

from dataclasses import dataclass

from apdocs.formats.ooxml import zip_lists
from apdocs.forms.model import FormDefinition
from apdocs.record import ParsedReturn

from .names import slot_name
from .render import CompiledXlsx, compile_form

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class XlsxFormat:
    name: str = "xlsx"
    extensions: tuple[str, ...] = (".xlsx", ".xlsm")
    media_type: str = MEDIA_TYPE

    def detect(self, data: bytes) -> bool:
        """True for a zip whose directory names ``xl/workbook.xml`` (cheap, no decompression)."""
        return zip_lists(data, "xl/workbook.xml")

    def compile(self, form: FormDefinition, *, password: str | None = None) -> CompiledXlsx:
        return compile_form(form, password=password)

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        from .read import read_workbook

        return read_workbook(data, path=path)


FORMAT = XlsxFormat()

__all__ = ["FORMAT", "MEDIA_TYPE", "CompiledXlsx", "XlsxFormat", "compile_form", "slot_name"]
