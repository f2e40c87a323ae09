"""Edit a .docx's document.xml the way other software would, for reader tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from lxml import etree

from apdocs.forms import load_form

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


def answers(form_id: str, n: int) -> dict:
    """Answers varied by ``n``: some left blank, multi-line notes, characters XML escapes, tabs."""
    out: dict = {}
    for i, s in enumerate(load_form(form_id).slots()):
        if (n + i) % 7 == 3:
            continue  # unanswered
        if s.type == "text":
            out[s.id] = f"Note {n}-{i} & <x>\tcafé\n\nafter a blank line" if s.multiline else f"Value {n}-{i} “{n}”"
        elif s.type == "bool":
            out[s.id] = (n + i) % 3 == 0
        elif s.type == "date":
            out[s.id] = f"2020-{1 + (n + i) % 12:02d}-{1 + (n * 7 + i) % 28:02d}"
        elif s.type == "choice":
            out[s.id] = s.choices[(n + i) % len(s.choices)]
        else:
            out[s.id] = float((n * 37 + i) % 10_000) + 0.5 * (n % 2)
    return out
