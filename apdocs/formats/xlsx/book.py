"""A returned workbook as plain data, read with lxml from a vetted package (never openpyxl).

Only what the reader needs: sheet names and states, each sheet's cells (value, type and
whether its number format shows a date), merged ranges, workbook-level defined names,
the 1904 date system flag, and document properties. Formulas are never evaluated: a
formula cell gives its cached value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree

from apdocs.formats.ooxml import OoxmlPackage

from .cellxml import unescape_text
from .package import NS_REL, WORKBOOK, M, rels_targets

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
# Built-in number formats that show dates (ECMA-376 18.8.30, plus the East Asian ids Excel maps to dates).
_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def split_ref(ref: str) -> tuple[int, int] | None:
    """``"C12"`` / ``"$C$12"`` -> (row 12, column 3); None if not a cell reference."""
    m = _REF.match(ref.strip())
    return (int(m.group(2)), col_number(m.group(1))) if m else None


def split_sheet_ref(text: str) -> tuple[str, str] | None:
    """``"'Appendix 4'!$C$12"`` (or a range from it) -> ("Appendix 4", "C12"); None otherwise."""
    text = text.strip().lstrip("=")
    if "!" not in text:
        return None
    sheet, _, cell = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    cell = cell.split(":")[0]
    rc = split_ref(cell)
    if not sheet or rc is None:
        return None
    return sheet, f"{col_letters(rc[1])}{rc[0]}"


def is_date_format(code: str) -> bool:
    """Whether a number format code shows a date (day, month or year), ignoring quoted text."""
    bare = _QUOTED.sub("", code.split(";")[0])
    return bool(re.search(r"[dDyY]|(?<![hH:])[mM](?![sS:])", bare)) and "General" not in bare


@dataclass(frozen=True)
class Cell:
    """One cell: ``kind`` is "s" (text), "n" (number), "b" (bool), "e" (error) or "d" (ISO date text)."""

    kind: str
    value: Any
    date_format: bool = False
    formula: bool = False


@dataclass
class Sheet:
    name: str
    state: str
    part: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2

    def merge_of(self, row: int, col: int) -> tuple[int, int, int, int]:
        for r1, c1, r2, c2 in self.merges:
            if r1 <= row <= r2 and c1 <= col <= c2:
                return r1, c1, r2, c2
        return row, col, row, col


class Book:
    """Lazily parsed view of a vetted xlsx package."""

    def __init__(self, pkg: OoxmlPackage) -> None:
        self.pkg = pkg
        main = pkg.main_part() or WORKBOOK
        self.main = main
        self.root = pkg.xml(main)
        folder, base = main.rsplit("/", 1) if "/" in main else ("", main)
        rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        self.targets = rels_targets(pkg.xml(rels_name), main) if pkg.has(rels_name) else {}
        pr = self.root.find(f"{M}workbookPr")
        self.date1904 = pr is not None and (pr.get("date1904") or "").lower() in ("1", "true")
        self._sheets: dict[str, Sheet] = {}

    # -- workbook level --------------------------------------------------------

    @cached_property
    def sheet_list(self) -> list[tuple[str, str, str]]:
        out = []
        for sh in self.root.iter(f"{M}sheet"):
            part = self.targets.get(sh.get(f"{{{NS_REL}}}id") or "")
            if part and self.pkg.has(part):
                out.append((sh.get("name") or "", sh.get("state") or "visible", part))
        return out

    @cached_property
    def defined_names(self) -> dict[str, str]:
        """Workbook-level names (lower case) -> their formula text; sheet-local names are skipped."""
        out: dict[str, str] = {}
        for dn in self.root.iter(f"{M}definedName"):
            if dn.get("localSheetId") is None and dn.get("name"):
                out.setdefault(dn.get("name", "").lower(), (dn.text or "").strip())
        return out

    @cached_property
    def shared_strings(self) -> list[str]:
        part = self._related("sharedStrings")
        if part is None:
            return []
        out = []
        for si in self.pkg.xml(part).iter(f"{M}si"):
            out.append(string_text(si))
        return out

    @cached_property
    def date_styles(self) -> frozenset[int]:
        """Indexes of cell formats (``s`` attribute) whose number format shows a date."""
        part = self._related("styles")
        if part is None:
            return frozenset()
        root = self.pkg.xml(part)
        custom = {int(f.get("numFmtId", "-1")): f.get("formatCode", "") for f in root.iter(f"{M}numFmt")}
        xfs = root.find(f"{M}cellXfs")
        out = set()
        for i, xf in enumerate(xfs if xfs is not None else []):
            try:
                fmt = int(xf.get("numFmtId", "0"))
            except ValueError:
                continue
            if fmt in _BUILTIN_DATE_FORMATS or (fmt in custom and is_date_format(custom[fmt])):
                out.add(i)
        return frozenset(out)

    @cached_property
    def custom_properties(self) -> dict[str, str]:
        if not self.pkg.has("docProps/custom.xml"):
            return {}
        out = {}
        for prop in self.pkg.xml("docProps/custom.xml").iter(f"{{{NS_CUSTOM}}}property"):
            value = next((el.text for el in prop if isinstance(el.tag, str)), None)
            if prop.get("name") and value is not None:
                out[prop.get("name", "")] = value
        return out

    @cached_property
    def keywords(self) -> str:
        if not self.pkg.has("docProps/core.xml"):
            return ""
        for el in self.pkg.xml("docProps/core.xml"):
            if isinstance(el.tag, str) and etree.QName(el).localname == "keywords":
                return (el.text or "").strip()
        return ""

    def _related(self, kind: str) -> str | None:
        for rel in self.pkg.relationships(self.main):
            if rel.get("Type", "").endswith("/" + kind) and rel.get("TargetMode") != "External":
                target = rel.get("Target", "")
                return self.targets.get(rel.get("Id", ""), target.lstrip("/"))
        return None

    # -- sheets ------------------------------------------------------------------

    def sheet(self, name: str) -> Sheet | None:
        for sname, state, part in self.sheet_list:
            if sname == name:
                if name not in self._sheets:
                    self._sheets[name] = self._load(sname, state, part)
                return self._sheets[name]
        return None

    def sheets(self, *, include_hidden: bool = True) -> list[Sheet]:
        out = []
        for name, state, _part in self.sheet_list:
            if include_hidden or state == "visible":
                sheet = self.sheet(name)
                if sheet is not None:
                    out.append(sheet)
        return out

    def _load(self, name: str, state: str, part: str) -> Sheet:
        sheet = Sheet(name, state, part)
        root = self.pkg.xml(part)
        strings = self.shared_strings
        dates = self.date_styles
        for row_el in root.iter(f"{M}row"):
            try:
                row = int(row_el.get("r") or 0)
            except ValueError:
                continue
            col = 0
            for c in row_el.iter(f"{M}c"):
                rc = split_ref(c.get("r") or "")
                if rc is not None:
                    row_here, col = rc
                else:  # position implied by order (allowed, rarely written)
                    row_here, col = row, col + 1
                cell = _cell(c, strings, dates)
                if cell is not None:
                    sheet.cells[(row_here, col)] = cell
        for mc in root.iter(f"{M}mergeCell"):
            a, _, b = (mc.get("ref") or "").partition(":")
            ra, rb = split_ref(a), split_ref(b or a)
            if ra and rb:
                sheet.merges.append((min(ra[0], rb[0]), min(ra[1], rb[1]), max(ra[0], rb[0]), max(ra[1], rb[1])))
        return sheet


def string_text(holder: etree._Element) -> str:
    """Text of a shared (``<si>``) or inline (``<is>``) string, its ``_xHHHH_`` escapes decoded.

    Rich text is a run of <r><t>; phonetic guides (<rPh>) are not part of the text.
    """
    parts = []
    for t in holder.iter(f"{M}t"):
        parent = t.getparent()  # never None: holder is an <si>/<is>, not a <t>
        if parent is None or parent.tag != f"{M}rPh":
            parts.append(t.text or "")
    return unescape_text("".join(parts))


def _cell(c: etree._Element, strings: list[str], dates: frozenset[int]) -> Cell | None:
    kind = c.get("t") or "n"
    formula = c.find(f"{M}f") is not None
    v = c.find(f"{M}v")
    text = v.text if v is not None else None
    if kind == "inlineStr":
        is_ = c.find(f"{M}is")
        if is_ is None:
            return None
        return Cell("s", string_text(is_))
    if text is None:
        return Cell("n", None, formula=True) if formula else None
    if kind == "s":
        try:
            return Cell("s", strings[int(text)], formula=formula)
        except (ValueError, IndexError):
            return Cell("e", "#BADSTRING")
    if kind == "str":  # a formula's cached text
        return Cell("s", unescape_text(text), formula=formula)
    if kind == "b":
        return Cell("b", text.strip() in ("1", "true"), formula=formula)
    if kind == "e":
        return Cell("e", text, formula=formula)
    if kind == "d":
        return Cell("d", text.strip(), formula=formula)
    try:
        number = float(text)
    except ValueError:
        return Cell("e", "#NUM", formula=formula)
    try:
        style = int(c.get("s") or 0)
    except ValueError:
        style = 0
    return Cell("n", number, date_format=style in dates, formula=formula)
