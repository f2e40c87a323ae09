"""Open an OpenDocument package (.odt/.ods) with the same vetting as OOXML.

The zip directory is checked before anything is inflated (entry count, declared sizes,
ratio, duplicates, zip-level encryption), the part read (``content.xml``) is inflated
within the caps and refused if it declares a DTD (``meta.xml`` too, read for the
form's own properties), and parsing uses the one safe parser
(no entities, no network) - all by the machinery of :mod:`apdocs.formats.ooxml`. An ODF
package encrypted by its own scheme (a password set in LibreOffice) is named in
``META-INF/manifest.xml``; it is refused as ENCRYPTED rather than read as garbage.
Macros (``Basic/``, ``Scripts/``) are never read: MACROS_IGNORED says they were there.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from apdocs.errors import Notice, ParseError
from apdocs.formats import ooxml
from apdocs.formats.zipdir import ZipEntry

MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
}


def odf_kind(data: bytes, *, anywhere: bool = False) -> str | None:
    """ "odt"/"ods" when the bytes are an OpenDocument text/spreadsheet zip; reads the directory
    and the tiny ``mimetype`` entry only, never raises.

    ODF requires ``mimetype`` to be the first entry (LibreOffice always writes it so), so a
    zip whose first entry is anything else - every .docx and .xlsx - is passed over without
    opening its directory: this runs before every return is read. ``anywhere`` looks further,
    for the files other programs write with ``mimetype`` elsewhere (asked only once the
    OOXML opener has said the file is no Word or Excel package).
    """
    if not data.startswith(b"PK\x03\x04") or (not anywhere and data[30:38] != b"mimetype"):
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


_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"

#: The only parts apdocs parses. Others (styles, settings, macros, pictures) are never inflated or
#: parsed, so a DTD in them cannot reach a parser: OpenOffice wrote DOCTYPEs into its Basic libraries.
READ_PARTS = ("content.xml", "meta.xml")


@dataclass
class OdfPackage:
    path: str | None
    kind: str
    _data: bytes
    _infos: dict[str, ZipEntry]
    notices: list[Notice] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self._infos

    def user_properties(self) -> dict[str, str]:
        """meta.xml's user-defined properties (the .docx/.xlsx custom properties LibreOffice kept:
        ``apdocs.form``, ``apdocs.version``); empty when absent or damaged, never an error."""
        if not self.has("meta.xml"):
            return {}
        try:
            root = self.xml("meta.xml")
        except ParseError:
            return {}
        out: dict[str, str] = {}
        for prop in root.iter(f"{{{_META}}}user-defined"):
            name = prop.get(f"{{{_META}}}name")
            if name and prop.text:
                out[name] = prop.text.strip()
        return out

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
    infos = [i for i in ooxml.read_directory(data, path, kind="odt") if not i.is_dir()]
    ooxml._check_directory(infos, path)
    by_name = {i.filename: i for i in infos}
    kind = odf_kind(data) or "odt"
    pkg = OdfPackage(path, kind, data, by_name)
    for name in READ_PARTS:
        info = by_name.get(name)
        if info is not None and ooxml._declares_dtd(data, info, path):
            raise ParseError(
                f"part {name!r} declares a DTD, which is not allowed in a returned form",
                code="DTD_FORBIDDEN",
                path=path,
                context={"part": name},
            )
    manifest = by_name.get("META-INF/manifest.xml")
    # Searched, not parsed: OpenOffice 2 wrote its manifest with a DOCTYPE, and nothing else in it is needed.
    if manifest is not None and b"encryption-data" in ooxml._read_member(data, manifest, path):
        raise ParseError(
            "the file is password-protected; please open it in LibreOffice, remove the password, save it and send it again",
            code="ENCRYPTED",
            path=path,
        )
    if any(n.startswith(("Basic/", "Scripts/")) for n in by_name):
        pkg.notices.append(
            Notice("MACROS_IGNORED", "the file contains macros; the answers were read and the macros ignored", where=path)
        )
    return pkg
