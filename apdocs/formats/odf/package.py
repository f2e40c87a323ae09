"""Open an OpenDocument package (.odt/.ods) with the same vetting as OOXML.

The zip directory is checked before anything is inflated (entry count, declared sizes,
ratio, duplicates, zip-level encryption), every XML part read is inflated within the
caps and refused if it declares a DTD, and parsing uses the one safe parser (no
entities, no network) - all by the machinery of :mod:`apdocs.formats.ooxml`. An ODF
package encrypted by its own scheme (a password set in LibreOffice) is named in
``META-INF/manifest.xml``; it is refused as ENCRYPTED rather than read as garbage.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

from lxml import etree

from apdocs.errors import ParseError
from apdocs.formats import ooxml

MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
}
_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def odf_kind(data: bytes) -> str | None:
    """ "odt"/"ods" when the bytes are an OpenDocument text/spreadsheet zip; reads the directory
    and the tiny ``mimetype`` entry only, never raises."""
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "mimetype" not in names or ooxml.CONTENT_TYPES in names:
                return None
            info = zf.getinfo("mimetype")
            if info.file_size > 200:
                return None
            return MIMETYPES.get(zf.read("mimetype").decode("ascii", "replace").strip())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, struct.error, NotImplementedError, RuntimeError):
        return None


@dataclass
class OdfPackage:
    path: str | None
    kind: str
    _data: bytes
    _infos: dict[str, zipfile.ZipInfo]

    def has(self, name: str) -> bool:
        return name in self._infos

    def xml(self, name: str) -> etree._Element:
        info = self._infos.get(name)
        if info is None:
            raise ParseError(f"the OpenDocument file has no {name!r} part; it is damaged", code="PART_MISSING", path=self.path)
        raw = ooxml._read_member(self._data, info, self.path)
        return ooxml.parse_xml(raw, path=self.path, part=name)


def open_odf(data: bytes, *, path: str | None) -> OdfPackage:
    """Vet and open an OpenDocument package; raises ParseError (ZIP_BOMB, DTD_FORBIDDEN, ENCRYPTED, ...)."""
    declared = ooxml._eocd_entry_count(data)
    if declared is None:
        raise ParseError(
            "the file is cut short or damaged (the zip directory is missing); please send it again", code="TRUNCATED", path=path
        )
    if declared > ooxml.MAX_ENTRIES:
        raise ParseError(f"the package declares {declared} parts (limit {ooxml.MAX_ENTRIES})", code="ZIP_BOMB", path=path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error):
        raise ParseError("the file is cut short or damaged; please send it again", code="TRUNCATED", path=path) from None
    ooxml._check_directory(infos, path)
    by_name = {i.filename: i for i in infos}
    kind = odf_kind(data) or "odt"
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rdf")) and ooxml._declares_dtd(data, info, path):
            raise ParseError(
                f"part {info.filename!r} declares a DTD, which is not allowed in a returned form",
                code="DTD_FORBIDDEN",
                path=path,
                context={"part": info.filename},
            )
    pkg = OdfPackage(path, kind, data, by_name)
    if pkg.has("META-INF/manifest.xml"):
        manifest = pkg.xml("META-INF/manifest.xml")
        if next(manifest.iter(f"{{{_MANIFEST_NS}}}encryption-data"), None) is not None:
            raise ParseError(
                "the file is password-protected; please open it in LibreOffice, remove the password, save it and send it again",
                code="ENCRYPTED",
                path=path,
            )
    return pkg
