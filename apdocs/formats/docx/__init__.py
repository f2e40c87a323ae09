"""Word (.docx) format: fillable forms with content controls, and reading returns.

Rendering lives in :mod:`apdocs.formats.docx.render` (compile once, render many);
reading in :mod:`apdocs.formats.docx.read`, imported only when a file is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apdocs.formats.ooxml import zip_lists
from apdocs.forms.model import FormDefinition

if TYPE_CHECKING:
    from apdocs.formats.docx.render import CompiledDocx
    from apdocs.record import ParsedReturn

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class DocxFormat:
    name = "docx"
    extensions: tuple[str, ...] = (".docx",)
    media_type = MEDIA_TYPE

    def detect(self, data: bytes) -> bool:
        """True for a zip package with a Word main document part (never raises)."""
        return zip_lists(data, "word/document.xml")

    def compile(self, form: FormDefinition) -> CompiledDocx:
        from apdocs.formats.docx.render import compile_docx

        return compile_docx(form)

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        from apdocs.formats.docx.read import read_docx

        return read_docx(data, path=path)


FORMAT = DocxFormat()
