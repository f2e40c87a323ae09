"""Small SpreadsheetML package helpers shared by render and read (no openpyxl)."""

from __future__ import annotations

import posixpath

from lxml import etree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
M = f"{{{NS_MAIN}}}"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def rels_targets(rels: etree._Element, base: str) -> dict[str, str]:
    """``rId -> part name`` from a .rels element, targets resolved against ``base``'s folder."""
    out: dict[str, str] = {}
    folder = posixpath.dirname(base)
    for rel in rels.iter(f"{{{NS_PKG_REL}}}Relationship"):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            continue
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id") or ""] = part
    return out


def sheet_parts(workbook: etree._Element, rels: etree._Element) -> list[tuple[str, str, str]]:
    """``(sheet name, state, part name)`` for every sheet, in workbook order."""
    targets = rels_targets(rels, WORKBOOK)
    out = []
    for sh in workbook.iter(f"{M}sheet"):
        rid = sh.get(f"{{{NS_REL}}}id") or ""
        if rid in targets:
            out.append((sh.get("name") or "", sh.get("state") or "visible", targets[rid]))
    return out
