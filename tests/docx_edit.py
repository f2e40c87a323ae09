"""Edit a .docx's document.xml the way other software would, for reader tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def edit_document(data: bytes, change: Callable[[etree._Element], object]) -> bytes:
    """Apply ``change(root)`` to word/document.xml and repackage; other parts are copied as they are."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            raw = src.read(name)
            if name == "word/document.xml":
                root = etree.fromstring(raw)
                change(root)
                raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            dst.writestr(name, raw)
    return out.getvalue()


def edit_part(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """Replace one part's bytes with ``change(bytes)`` and repackage; other parts are copied as they are."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            raw = src.read(name)
            dst.writestr(name, change(raw) if name == part else raw)
    return out.getvalue()


def _unwrap(root: etree._Element) -> None:
    for sdt in list(root.iter(f"{{{W}}}sdt")):
        content = sdt.find(f"{{{W}}}sdtContent")
        parent = sdt.getparent()
        at = parent.index(sdt)
        for child in reversed(list(content) if content is not None else []):
            parent.insert(at, child)
        parent.remove(sdt)
    assert next(root.iter(f"{{{W}}}sdt"), None) is None


def unwrap_controls(data: bytes) -> bytes:
    """Replace every w:sdt by its content, as an editor without content controls does."""
    return edit_document(data, _unwrap)
