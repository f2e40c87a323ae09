"""WordprocessingML knowledge for the .docx renderer: namespaces and element builders.

Everything that knows an OOXML element name lives here; ``render.py`` only lays the
form out with these builders. Builders return lxml elements (never strings), so the
whole document is one tree that python-docx serialises once at compile time.

Content controls (``w:sdt``) are built *run-level* (inside a paragraph, holding runs):
LibreOffice 7.4+ imports run-level controls as real content controls (dropdowns,
date pickers, plain text) and keeps them on re-save, and Word is happy with them in
any paragraph or table cell. A multi-line answer therefore stays in ONE paragraph,
with ``w:br`` line breaks, because no office suite can keep one control across
paragraph marks reliably.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML = "http://www.w3.org/XML/1998/namespace"
CP = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"

EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
CUSTOM_PROPERTIES_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_PROPERTIES_PART = "/docProps/custom.xml"
#: The format id every custom document property carries (fixed by the OOXML spec).
_CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

#: Word's own placeholder wording, which readers treat as blank.
PLACEHOLDER_TEXT = "Click or tap here to enter text."
PLACEHOLDER_CHOICE = "Choose an item."
PLACEHOLDER_DATE = "Click or tap to enter a date."

#: Date picker settings, chosen for an English council: shown dd/mm/yyyy, stored ISO.
DATE_FORMAT = "dd/MM/yyyy"
DATE_LID = "en-GB"

#: Tag on the content controls that only lock printed wording (not a slot: no ``apdocs:`` 4-part tag).
LOCKED_TAG = "apdocs-locked"
LOCKED_TITLE = "Form wording (locked)"

#: What a filled control's text becomes between its ``w:t`` elements (see :func:`run`):
#: the renderer splices escaped values into pre-serialised XML with these.
BREAK_XML = b'</w:t><w:br/><w:t xml:space="preserve">'
TAB_XML = b'</w:t><w:tab/><w:t xml:space="preserve">'

ControlKind = Literal["text", "dropdown", "date"]

# Characters XML 1.0 cannot hold at all (C0 controls other than tab/newline/CR, lone
# surrogates, U+FFFE/U+FFFF). They cannot reach a .docx in any escaped form, so they are
# dropped; everything else (emoji, <, &, quotes, RTL text ...) is kept and escaped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def w(name: str) -> str:
    """Clark name of a ``w:`` element or attribute."""
    return f"{{{W}}}{name}"


def el(tag: str, attrs: dict[str, str] | None = None, *children: etree._Element | None) -> etree._Element:
    """Element ``w:tag`` with ``w:``-prefixed attributes (a key with ``{`` is taken as Clark already)."""
    e = etree.Element(w(tag))
    for k, v in (attrs or {}).items():
        e.set(k if k.startswith("{") else w(k), v)
    for c in children:
        if c is not None:
            e.append(c)
    return e


def val(tag: str, value: str | int) -> etree._Element:
    return el(tag, {"val": str(value)})


def deep_copy(e: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(e))


def clean_text(text: str) -> str:
    """Text as XML 1.0 can carry it: illegal characters dropped, CR/CRLF made ``\\n``."""
    return _ILLEGAL_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# -- runs and paragraphs ---------------------------------------------------------------


def run_props(
    *,
    bold: bool = False,
    italic: bool = False,
    size_pt: float | None = None,
    color: str | None = None,
    style: str | None = None,
) -> etree._Element | None:
    children: list[etree._Element] = []
    if style:
        children.append(val("rStyle", style))
    if bold:
        children.append(el("b"))
    if italic:
        children.append(el("i"))
    if color:
        children.append(val("color", color))
    if size_pt:
        children += [val("sz", int(size_pt * 2)), val("szCs", int(size_pt * 2))]
    return el("rPr", None, *children) if children else None


def t(text: str) -> etree._Element:
    e = el("t")
    e.set(f"{{{XML}}}space", "preserve")
    e.text = text
    return e


def run(text: str = "", rpr: etree._Element | None = None) -> etree._Element:
    """One run; ``\\n`` becomes ``w:br`` and ``\\t`` becomes ``w:tab`` so the run stays in one paragraph."""
    if rpr is not None and rpr.getparent() is not None:
        rpr = deep_copy(rpr)  # lxml moves an element that is appended twice
    r = el("r", None, rpr)
    for i, line in enumerate(clean_text(text).split("\n")):
        if i:
            r.append(el("br"))
        for j, piece in enumerate(line.split("\t")):
            if j:
                r.append(el("tab"))
            if piece:
                r.append(t(piece))
    return r


def _outline(ppr: etree._Element, level: int) -> etree._Element:
    """A heading's outline level: what the navigation pane, PDF bookmarks and screen readers use as heading structure."""
    ppr.append(val("outlineLvl", level))  # last in w:pPr, where the schema puts it
    return ppr


def para_props(
    *,
    style: str | None = None,
    keep_next: bool = False,
    align: str | None = None,
    before: int | None = None,
    after: int | None = None,
    shade: str | None = None,
    border: str | None = None,
) -> etree._Element:
    """``w:pPr``; spacing in twentieths of a point; ``border`` draws a box in that colour."""
    children: list[etree._Element | None] = [val("pStyle", style) if style else None]
    if keep_next:
        children.append(el("keepNext"))
    if border:
        side = {"val": "single", "sz": "8", "space": "6", "color": border}
        children.append(el("pBdr", None, *(el(s, side) for s in ("top", "left", "bottom", "right"))))
    if shade:
        children.append(el("shd", {"val": "clear", "color": "auto", "fill": shade}))
    if before is not None or after is not None:
        sp = {}
        if before is not None:
            sp["before"] = str(before)
        if after is not None:
            sp["after"] = str(after)
        children.append(el("spacing", sp))
    if align:
        children.append(val("jc", align))
    return el("pPr", None, *children)


def paragraph(*content: etree._Element | None, ppr: etree._Element | None = None) -> etree._Element:
    return el("p", None, ppr if ppr is not None and len(ppr) else None, *content)


# -- tables ------------------------------------------------------------------------------


def table(widths: Sequence[int], rows: Iterable[etree._Element], *, style: str = "FormTable") -> etree._Element:
    """Fixed-layout table (widths in twips) so Word and LibreOffice agree on column widths."""
    tbl_pr = el(
        "tblPr",
        None,
        val("tblStyle", style),
        el("tblW", {"w": str(sum(widths)), "type": "dxa"}),
        el("tblLayout", {"type": "fixed"}),
        el("tblLook", {"val": "04A0", "firstRow": "1", "lastRow": "0", "firstColumn": "1", "lastColumn": "0"}),
    )
    grid = el("tblGrid", None, *(el("gridCol", {"w": str(x)}) for x in widths))
    return el("tbl", None, tbl_pr, grid, *rows)


def row(cells: Iterable[etree._Element], *, header: bool = False, min_height: int | None = None) -> etree._Element:
    """A row that never splits across pages; ``header`` repeats it at the top of each page."""
    tr_pr = el("trPr", None, el("cantSplit"))
    if min_height:
        tr_pr.append(el("trHeight", {"val": str(min_height), "hRule": "atLeast"}))
    if header:
        tr_pr.append(el("tblHeader"))
    return el("tr", None, tr_pr, *cells)


def cell(
    blocks: Iterable[etree._Element],
    width: int,
    *,
    span: int = 1,
    shade: str | None = None,
    valign: str | None = None,
) -> etree._Element:
    tc_pr = el("tcPr", None, el("tcW", {"w": str(width), "type": "dxa"}))
    if span > 1:
        tc_pr.append(val("gridSpan", span))
    if shade:
        tc_pr.append(el("shd", {"val": "clear", "color": "auto", "fill": shade}))
    if valign:
        tc_pr.append(val("vAlign", valign))
    body = list(blocks)
    if not body:
        body = [paragraph()]  # a cell must end with a paragraph
    return el("tc", None, tc_pr, *body)


# -- content controls ---------------------------------------------------------------------


def lock_wording(p: etree._Element, sdt_id: int) -> etree._Element:
    """Wrap a paragraph's runs in a run-level control that can be neither edited nor deleted.

    Why a content control rather than document protection: "restrict editing" would
    also stop schools pasting long answers and spell-checking, and is one click away
    from being switched off anyway. A ``sdtContentLocked`` wrapper stops accidental
    edits to the printed wording (what matters for matching answers back to
    questions) while the answer controls stay free. Run-level, not block-level:
    LibreOffice 7.4 drops the run formatting (bold, italics) inside block-level
    controls. The tag is not a four-part ``apdocs:`` tag, so readers never take it
    for a slot. Returns ``p``.
    """
    runs = [c for c in p if c.tag == w("r")]
    if not runs:
        return p
    # A title too, because screen readers announce a control by its title; it names no slot
    # (no "[id]"), so readers never take it for an answer.
    pr = el("sdtPr", None, val("alias", LOCKED_TITLE), val("tag", LOCKED_TAG), val("id", sdt_id), val("lock", "sdtContentLocked"))
    content = el("sdtContent")
    p.insert(p.index(runs[0]), el("sdt", None, pr, content))
    for r in runs:
        content.append(r)
    return p


def control(
    kind: ControlKind,
    *,
    alias: str,
    tag: str,
    sdt_id: int,
    choices: Sequence[str] = (),
    display: str | None = None,
    full_date: str | None = None,
    placeholder_style: str = "PlaceholderText",
    plain: bool = True,
) -> etree._Element:
    """A run-level content control for one slot, blank (``display`` None) or filled.

    ``plain=False`` makes a text control rich-text (no ``w:text``). Multi-line answers
    use it because LibreOffice 7.4 turns a plain-text control into a text-input field
    and drops its ``w:br`` line breaks on import and re-save; a rich-text control keeps
    them in both suites, still inside one paragraph.

    Every control carries ``w:alias`` (human title with the slot id), ``w:tag`` (the
    namespaced slot tag) and ``sdtLocked`` so it cannot be deleted by accident. Blank
    controls show Word's placeholder wording with ``w:showingPlcHdr``; dropdowns start
    with Word's own empty "Choose an item." entry so an answer can be un-chosen again
    (blank means "not answered", distinct from "No").
    """
    pr = el("sdtPr", None, val("alias", alias), val("tag", tag), val("id", sdt_id), val("lock", "sdtLocked"))
    if display is None:
        pr.append(el("showingPlcHdr"))
    if kind == "dropdown":
        dd = el("dropDownList")
        dd.append(el("listItem", {"displayText": PLACEHOLDER_CHOICE, "value": ""}))
        for c in choices:
            dd.append(el("listItem", {"displayText": c, "value": c}))
        pr.append(dd)
        placeholder = PLACEHOLDER_CHOICE
    elif kind == "date":
        date = el(
            "date",
            {"fullDate": full_date} if full_date is not None else None,
            val("dateFormat", DATE_FORMAT),
            val("lid", DATE_LID),
            val("storeMappedDataAs", "dateTime"),
            val("calendar", "gregorian"),
        )
        pr.append(date)
        placeholder = PLACEHOLDER_DATE
    else:
        if plain:
            pr.append(el("text", {"multiLine": "1"}))
        placeholder = PLACEHOLDER_TEXT
    if display is None:
        # Colour repeated as direct formatting: LibreOffice ignores the character style
        # on plain-text placeholders. Typed text takes the control's own formatting.
        small = placeholder_style != "PlaceholderText"
        content = run(placeholder, run_props(style=placeholder_style, color="808080", size_pt=8 if small else None))
    else:
        content = run(display)
    return el("sdt", None, pr, el("sdtContent", None, content))


# -- fields -------------------------------------------------------------------------------


def field(instr: str, shown: str, rpr: etree._Element | None = None) -> list[etree._Element]:
    """A complex field (e.g. ``PAGE``) as begin/instr/separate/result/end runs."""

    def r(*kids: etree._Element) -> etree._Element:
        return el("r", None, deep_copy(rpr) if rpr is not None else None, *kids)

    instr_el = el("instrText")
    instr_el.set(f"{{{XML}}}space", "preserve")
    instr_el.text = f" {instr} "
    return [
        r(el("fldChar", {"fldCharType": "begin"})),
        r(instr_el),
        r(el("fldChar", {"fldCharType": "separate"})),
        r(t(shown)),
        r(el("fldChar", {"fldCharType": "end"})),
    ]


# -- page and styles -----------------------------------------------------------------------


def a4_portrait(sect_pr: etree._Element, *, margin: int = 1021) -> None:
    """Make a ``w:sectPr`` A4 portrait with even margins (twips; 1021 = 1.8 cm)."""
    for name in ("pgSz", "pgMar"):
        for old in sect_pr.findall(w(name)):
            sect_pr.remove(old)
    pg_sz = el("pgSz", {"w": "11906", "h": "16838"})
    m = str(margin)
    pg_mar = el("pgMar", {"top": m, "right": m, "bottom": m, "left": m, "header": "567", "footer": "510", "gutter": "0"})
    # pgSz/pgMar come after header/footer references in CT_SectPr.
    refs = [c for c in sect_pr if c.tag in (w("headerReference"), w("footerReference"))]
    at = sect_pr.index(refs[-1]) + 1 if refs else 0
    sect_pr.insert(at, pg_sz)
    sect_pr.insert(at + 1, pg_mar)


def styles(font: str, size_pt: float, accent: str) -> list[etree._Element]:
    """The few styles the forms use (docDefaults first), replacing the template's hundreds."""
    half = str(int(size_pt * 2))
    fonts = {"ascii": font, "hAnsi": font, "cs": font, "eastAsia": font}
    defaults = el(
        "docDefaults",
        None,
        el(
            "rPrDefault",
            None,
            el(
                "rPr",
                None,
                el("rFonts", fonts),
                val("sz", half),
                val("szCs", half),
                el("lang", {"val": "en-GB", "eastAsia": "en-GB", "bidi": "ar-SA"}),
            ),
        ),
        el("pPrDefault", None, el("pPr", None, el("spacing", {"after": "0", "line": "259", "lineRule": "auto"}))),
    )

    def style(kind: str, sid: str, name: str, *props: etree._Element | None, default: bool = False) -> etree._Element:
        attrs = {"type": kind, "styleId": sid}
        if default:
            attrs["default"] = "1"
        return el("style", attrs, val("name", name), *props)

    ppr = para_props

    cell_margins = el(
        "tblCellMar",
        None,
        el("top", {"w": "57", "type": "dxa"}),
        el("left", {"w": "85", "type": "dxa"}),
        el("bottom", {"w": "57", "type": "dxa"}),
        el("right", {"w": "85", "type": "dxa"}),
    )
    line = {"val": "single", "sz": "4", "space": "0", "color": "8C8C8C"}
    borders = el("tblBorders", None, *(el(s, line) for s in ("top", "left", "bottom", "right", "insideH", "insideV")))
    return [
        defaults,
        style("paragraph", "Normal", "Normal", el("qFormat"), default=True),
        style("character", "DefaultParagraphFont", "Default Paragraph Font", el("uiPriority", {"val": "1"}), default=True),
        style(
            "table",
            "TableNormal",
            "Normal Table",
            el("tblPr", None, el("tblInd", {"w": "0", "type": "dxa"}), cell_margins),
            default=True,
        ),
        style("numbering", "NoList", "No List", default=True),
        style(
            "table",
            "FormTable",
            "Form Table",
            val("basedOn", "TableNormal"),
            el("tblPr", None, borders, deep_copy(cell_margins)),
        ),
        style(
            "paragraph",
            "Title",
            "Title",
            val("basedOn", "Normal"),
            val("next", "Normal"),
            el("qFormat"),
            ppr(after=120, keep_next=True),
            run_props(bold=True, size_pt=18, color=accent),
        ),
        style(
            "paragraph",
            "Organisation",
            "Organisation",
            val("basedOn", "Normal"),
            ppr(after=40, keep_next=True),
            run_props(bold=True, size_pt=10.5, color="595959"),
        ),
        style(
            "paragraph",
            "Heading1",
            "heading 1",
            val("basedOn", "Normal"),
            val("next", "Normal"),
            el("qFormat"),
            _outline(ppr(before=280, after=120, keep_next=True), 0),
            run_props(bold=True, size_pt=13, color=accent),
        ),
        style(
            "paragraph",
            "Intro",
            "Form Intro",
            val("basedOn", "Normal"),
            ppr(before=200, after=120),
        ),
        style(
            "paragraph",
            "Footer",
            "footer",
            val("basedOn", "Normal"),
            ppr(align="center"),
            run_props(size_pt=8, color="595959"),
        ),
        style("character", "Hint", "Form Hint", run_props(italic=True, size_pt=9, color="404040")),
        style("character", "PlaceholderText", "Placeholder Text", el("semiHidden"), run_props(color="808080")),
        style("character", "SmallPlaceholder", "Small Placeholder", val("basedOn", "PlaceholderText"), run_props(size_pt=8)),
    ]


# -- document properties -------------------------------------------------------------------


def custom_properties(props: Sequence[tuple[str, str]]) -> etree._Element:
    """``docProps/custom.xml`` with one string property per pair (pids start at 2, per the spec)."""
    # lxml takes None as the default namespace's prefix; lxml-stubs allow only str keys.
    root = etree.Element(f"{{{CP}}}Properties", nsmap={None: CP, "vt": VT})  # type: ignore[dict-item]
    for pid, (name, value) in enumerate(props, start=2):
        p = etree.SubElement(root, f"{{{CP}}}property", fmtid=_CUSTOM_FMTID, pid=str(pid), name=name)
        etree.SubElement(p, f"{{{VT}}}lpwstr").text = value
    return root


def app_properties(application: str, company: str) -> etree._Element:
    """``docProps/app.xml`` naming the program that really wrote the file (not the stock template's Word)."""
    # lxml takes None as the default namespace's prefix; lxml-stubs allow only str keys.
    root = etree.Element(f"{{{EP}}}Properties", nsmap={None: EP, "vt": VT})  # type: ignore[dict-item]
    for name, value in (("Template", "Normal.dotm"), ("Application", application), ("DocSecurity", "0"), ("Company", company)):
        etree.SubElement(root, f"{{{EP}}}{name}").text = value
    return root
