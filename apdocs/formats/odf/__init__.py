"""OpenDocument returns (.odt, .ods) read directly: vetted zip + safe XML, then the wording route.

apdocs never renders OpenDocument; a school that saved our form in LibreOffice's own
format sends one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from apdocs.record import ParsedReturn


@dataclass(frozen=True)
class OdfFormat:
    name: str
    extensions: tuple[str, ...]
    media_type: str

    def detect(self, data: bytes) -> bool:
        from .package import odf_kind

        return odf_kind(data) == self.name

    def read(self, data: bytes, *, path: str | None = None) -> ParsedReturn:
        from .read import read_odf

        return read_odf(data, path=path)


ODT = OdfFormat("odt", (".odt", ".ott"), "application/vnd.oasis.opendocument.text")
ODS = OdfFormat("ods", (".ods", ".ots"), "application/vnd.oasis.opendocument.spreadsheet")
