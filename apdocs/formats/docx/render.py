"""Compile a form into a fillable .docx once, then render personalised copies fast.

Compile (slow, once per form): python-docx supplies the package skeleton (settings,
theme, fonts, relationships, core properties, footer part); the body is laid out with
the builders in :mod:`oxml`, with every slot's content control written in two forms,
blank and filled-with-a-sentinel, between processing-instruction markers. The package
is serialised once; the parts that vary (``document.xml``, the footer, ``core.xml``,
``custom.xml``) are cut at the markers into static byte chunks, and every other part
is deflated once into a ready-made zip entry.

Render (fast, per document, no I/O): join the static chunks with each slot's blank
bytes or its filled bytes with the escaped value spliced in, deflate the four
varying parts, and append them to the pre-built zip entries. No XML is parsed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from lxml import etree

from apdocs.errors import ApdocsError
from apdocs.formats.docx import oxml
from apdocs.formats.docx.oxml import cell, el, para_props, paragraph, row, run, run_props, table
from apdocs.formats.zipwriter import ZipWriter
from apdocs.forms.model import TAG_PREFIX, FormDefinition, Slot

# -- look -----------------------------------------------------------------------------

FONT = "Arial"  # LibreOffice substitutes the metric-compatible Liberation Sans
FONT_SIZE = 10
ACCENT = "1F3864"  # dark council blue for titles
HEAD_FILL = "D9E2F3"  # column-header rows
LABEL_FILL = "F2F2F2"  # label cells and question rows
RETURN_FILL = "FFF2CC"  # the return-address box
MARGIN = 1021  # 1.8 cm
TEXT_WIDTH = 11906 - 2 * MARGIN  # A4 width minus margins, in twips

#: Renderer chrome: the only words apdocs adds that are not in the form definitions.
#: (Candidates for common.yaml; kept here so the definitions stay the verbatim source.)
#: Compression of the parts rendered per document: level 1 is ~3x faster than the
#: default and costs a few KB on a form.
RENDER_DEFLATE_LEVEL = 1

# -- markers and sentinels used only between compile and render -------------------------

_SLOT_PI, _VARIANT_PI, _END_PI = "apdocs-slot", "apdocs-variant", "apdocs-end"
_OPT_PI, _OPT_END_PI = "apdocs-opt", "apdocs-opt-end"
_VALUE = "@@apdocs-value@@"
_DATE = "@@apdocs-date@@"
_REF = "@@apdocs-reference@@"
_VALUE_B, _DATE_B, _REF_B = _VALUE.encode(), _DATE.encode(), _REF.encode()
_SLOT_RE = re.compile(
    rb"<\?apdocs-slot (\d+)\?>(.*?)<\?apdocs-variant ?\?>(.*?)(?:<\?apdocs-variant ?\?>(.*?))?<\?apdocs-end ?\?>", re.S
)
_OPT_RE = re.compile(rb"<\?apdocs-opt ?\?>(.*?)<\?apdocs-opt-end ?\?>", re.S)
_TOKEN_RE = re.compile(rb"(@@apdocs-(?:value|date|reference)@@)")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def control_kind(slot: Slot) -> oxml.ControlKind:
    """Which content control a slot gets: Yes/No and judgements are dropdowns, dates pickers."""
    if slot.type in ("bool", "choice"):
        return "dropdown"
    if slot.type == "date":
        return "date"
    return "text"


# -- value formatting ---------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def display_value(form: FormDefinition, slot: Slot, value: Any) -> tuple[str | None, str | None]:
    """(text shown in the control, ISO date for a date picker) for a slot value; (None, None) = blank.

    Text is returned as XML can hold it (see :func:`oxml.clean_text`); a value with
    nothing left after that is blank, so the control shows its placeholder.
    """
    shown, iso = _display(form, slot, value)
    if shown is None:
        return None, None
    shown = oxml.clean_text(shown)
    return (shown, iso) if shown else (None, None)


def _display(form: FormDefinition, slot: Slot, value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if slot.type == "date":
        iso = _iso(value)
        if iso is not None:
            y, m, d = iso.split("-")
            return f"{d}/{m}/{y}", iso
        return str(value), None  # not a date: shown as typed, no fullDate claimed
    if isinstance(value, bool):
        yes, no = form.yes_no[0], form.yes_no[1]
        return (yes if value else no), None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)), None  # 5000000.0 -> "5000000", as a person would type it
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value() and abs(value) < 10**15:
        return str(int(value)), None
    return str(value), None


def _escape(text: str) -> bytes:
    return oxml.clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _escape_wml(text: str) -> bytes:
    """Escaped run text with line breaks and tabs as WordprocessingML elements."""
    return _escape(text).replace(b"\n", oxml.BREAK_XML).replace(b"\t", oxml.TAB_XML)


# -- layout ----------------------------------------------------------------------------


class _Layout:
    """Lays a form out as body elements, handing out control ids and slot markers."""

    def __init__(self, form: FormDefinition) -> None:
        self.form = form
        self.slots = {s.id: s for s in form.slots()}
        self.placed: list[Slot] = []
        self._next_id = 100

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    # wording ---------------------------------------------------------------

    def locked(self, p: etree._Element) -> etree._Element:
        return oxml.lock_wording(p, self._id())

    def text_para(
        self,
        text: str,
        *,
        bold: bool = False,
        color: str | None = None,
        style: str | None = None,
        keep_next: bool = False,
    ) -> etree._Element:
        """A paragraph of printed wording, locked against editing."""
        p = paragraph(run(text, run_props(bold=bold, color=color)), ppr=para_props(style=style, keep_next=keep_next))
        return self.locked(p)

    def label_cell(self, text: str, width: int, *, span: int = 1, fill: str = LABEL_FILL, bold: bool = False) -> etree._Element:
        return cell([self.text_para(text, bold=bold, keep_next=True)], width, span=span, shade=fill)

    # controls --------------------------------------------------------------

    def control_para(self, slot_id: str, *, small: bool = False) -> etree._Element:
        """A paragraph holding one slot's control: blank, then filled variant(s), between markers."""
        slot = self.slots[slot_id]
        self.placed.append(slot)
        kind = control_kind(slot)
        sdt_id = self._id()
        common: dict[str, Any] = {
            "alias": slot.title,
            "tag": slot.tag(self.form),
            "sdt_id": sdt_id,
            "choices": slot.choices,
            "placeholder_style": "SmallPlaceholder" if small else "PlaceholderText",
            "plain": not slot.multiline,
        }
        p = paragraph(ppr=para_props())
        p.append(etree.PI(_SLOT_PI, str(len(self.placed) - 1)))
        p.append(oxml.control(kind, **common))
        p.append(etree.PI(_VARIANT_PI))
        p.append(oxml.control(kind, display=_VALUE, **common))
        if kind == "date":
            p.append(etree.PI(_VARIANT_PI))
            p.append(oxml.control(kind, display=_VALUE, full_date=f"{_DATE}T00:00:00Z", **common))
        p.append(etree.PI(_END_PI))
        return p

    def control_cell(self, slot_id: str, width: int, *, span: int = 1, small: bool = False, top: bool = False) -> etree._Element:
        """A cell holding one control; ``top`` for tall answer boxes, centred beside a label otherwise."""
        return cell([self.control_para(slot_id, small=small)], width, span=span, valign="top" if top else "center")

    # the form ----------------------------------------------------------------

    def body(self) -> list[etree._Element]:
        f = self.form
        out = [
            self.text_para(f.organisation, style="Organisation"),
            self.text_para(f.display_name, style="Title"),
            self.return_box(),
            self.header_table(),
            *(self.text_para(p, style="Intro") for p in f.intro),
        ]
        if f.items:
            out += self.evidence()
        if f.areas:
            out += self.assessment()
        if f.sections:
            out += self.questionnaire()
        missing = set(self.slots) - {s.id for s in self.placed}
        if missing or len(self.placed) != len(self.slots):
            raise ApdocsError(f"layout of {f.id} places slots wrongly: missing {sorted(missing)}", code="RENDER_INCOMPLETE")
        return out

    def return_box(self) -> etree._Element:
        p = paragraph(
            run(self.form.chrome["return_to"] + " "),
            run(self.form.return_address, run_props(bold=True)),
            ppr=para_props(shade=RETURN_FILL, border="BF9000", before=60, after=200),
        )
        return self.locked(p)

    def header_table(self) -> etree._Element:
        widths = (3300, TEXT_WIDTH - 3300)
        rows = [
            row([self.label_cell(h.label, widths[0], bold=True), self.control_cell(h.id, widths[1])]) for h in self.form.header
        ]
        return table(widths, rows)

    def spacer(self) -> etree._Element:
        return paragraph(ppr=para_props(after=120))

    def heading(self, text: str) -> etree._Element:
        return self.text_para(text, style="Heading1")

    def head_row(self, texts: Iterable[tuple[str, int]]) -> etree._Element:
        return row([self.label_cell(text, width, fill=HEAD_FILL, bold=True) for text, width in texts], header=True)

    # Appendix 2 ----------------------------------------------------------------

    def evidence(self) -> list[etree._Element]:
        f = self.form
        assert f.columns is not None and f.insurance is not None
        widths = (4564, 1300, 1700, TEXT_WIDTH - 4564 - 1300 - 1700)
        heads = (f.columns["evidence"], f.columns["seen"], f.labels["date_seen"], f.labels["note"])
        rows = [self.head_row(zip(heads, widths, strict=True))]
        for it in f.items:
            rows.append(
                row(
                    [
                        cell([self.text_para(it.text)], widths[0]),
                        self.control_cell(f"{it.id}.seen", widths[1], small=True),
                        self.control_cell(f"{it.id}.date_seen", widths[2], small=True),
                        self.control_cell(f"{it.id}.note", widths[3], small=True),
                    ]
                )
            )
        out = [table(widths, rows), self.spacer(), self.heading(f.insurance["heading"])]
        iw = (4564, 2650, TEXT_WIDTH - 4564 - 2650)
        irows = [self.head_row(zip(("", f.insurance["amount_label"], f.insurance["expiry_label"]), iw, strict=True))]
        for c in f.covers:
            irows.append(
                row(
                    [
                        self.label_cell(c.text, iw[0]),
                        self.control_cell(f"insurance.{c.id}.amount", iw[1]),
                        self.control_cell(f"insurance.{c.id}.expiry", iw[2]),
                    ]
                )
            )
        irows.append(
            row(
                [
                    self.label_cell(f.insurance["sole_trader_label"], iw[0], bold=True),
                    self.control_cell("insurance.sole_trader", iw[1] + iw[2], span=2),
                ]
            )
        )
        out.append(table(iw, irows))
        return out

    # Appendix 3 ----------------------------------------------------------------

    def assessment(self) -> list[etree._Element]:
        f = self.form
        widths = (TEXT_WIDTH - 2300, 2300)
        out: list[etree._Element] = []
        for a in f.areas:
            rows = [self.head_row(zip((a.title, f.labels["scrutinised"]), widths, strict=True))]
            for s in a.sources:
                rows.append(row([cell([self.text_para(s.text)], widths[0]), self.control_cell(s.id, widths[1])]))
            rows.append(
                row(
                    [
                        self.label_cell(f.labels["judgement"], widths[0], bold=True),
                        self.control_cell(f"{a.id}.judgement", widths[1]),
                    ]
                )
            )
            rows.append(row([self.label_cell(f.labels["notes"], TEXT_WIDTH, span=2, bold=True)]))
            rows.append(row([self.control_cell(f"{a.id}.notes", TEXT_WIDTH, span=2, top=True)], min_height=1300))
            out += [table(widths, rows), self.spacer()]
        overall = row(
            [
                self.label_cell(f.labels["overall_judgement"], widths[0], fill=HEAD_FILL, bold=True),
                self.control_cell("overall_judgement", widths[1]),
            ]
        )
        out.append(table(widths, [overall]))
        return out

    # Appendix 4 ----------------------------------------------------------------

    def questionnaire(self) -> list[etree._Element]:
        out: list[etree._Element] = []
        for s in self.form.sections:
            out.append(self.heading(s.title))
            rows = []
            for q in s.questions:
                question = [
                    paragraph(
                        run(f"{q.number}.", run_props(bold=True)),
                        run("\t" + q.text, run_props(bold=True)),
                        ppr=_indented(hanging=True),
                    )
                ]
                if q.hint:
                    question.append(paragraph(run(q.hint, run_props(style="Hint")), ppr=_indented(hanging=False)))
                rows.append(row([cell([self.locked(p) for p in question], TEXT_WIDTH, shade=LABEL_FILL)]))
                rows.append(row([self.control_cell(q.id, TEXT_WIDTH, top=True)], min_height=1100))
            out += [table((TEXT_WIDTH,), rows), self.spacer()]
        return out


def _indented(*, hanging: bool) -> etree._Element:
    """Question number hanging left of its text (and hints aligned with the text)."""
    ppr = para_props(keep_next=True)
    if hanging:
        ppr.append(el("tabs", None, el("tab", {"val": "left", "pos": "454"})))
        ppr.append(el("ind", {"left": "454", "hanging": "454"}))
    else:
        ppr.append(el("ind", {"left": "454"}))
    return ppr


def _footer(form: FormDefinition, reference_label: str) -> list[etree._Element]:
    """Footer runs: form name, version, optional reference, Page X of Y."""
    rpr = run_props(size_pt=8, color="595959")
    runs: list[Any] = [run(f"{form.display_name}  ·  {form.chrome['version']} {form.version}", rpr)]
    runs.append(etree.PI(_OPT_PI))
    runs.append(run(f"  ·  {reference_label}: ", rpr))
    runs.append(run(_REF, rpr))
    runs.append(etree.PI(_OPT_END_PI))
    runs.append(run(f"  ·  {form.chrome['page']} ", rpr))
    runs += oxml.field("PAGE", "1", rpr)
    runs.append(run(f" {form.chrome['of']} ", rpr))
    runs += oxml.field("NUMPAGES", "1", rpr)
    return [paragraph(*runs, ppr=para_props(style="Footer"))]


# -- the compiled form ----------------------------------------------------------------------


@dataclass(frozen=True)
class _SlotHole:
    slot: Slot
    blank: bytes
    filled: tuple[bytes, ...]  # pieces, sentinels kept as their own items
    dated: tuple[bytes, ...] | None  # date pickers: filled with a w:fullDate


def _pieces(template: bytes) -> tuple[bytes, ...]:
    return tuple(_TOKEN_RE.split(template))


def _fill(pieces: tuple[bytes, ...], tokens: dict[bytes, bytes]) -> bytes:
    return b"".join(tokens.get(p, p) if p.startswith(b"@@apdocs-") else p for p in pieces)


class CompiledDocx:
    """A form compiled to .docx; :meth:`render` is pure (values in, bytes out)."""

    def __init__(self, form: FormDefinition) -> None:
        self.form = form
        parts, slots = _build_package(form)
        self._doc_chunks, self._holes = _split_document(parts.pop("word/document.xml"), slots)
        footer_name = next(n for n in parts if n.startswith("word/footer"))
        self._footer_name = footer_name
        footer = parts.pop(footer_name)
        self._footer_blank = _OPT_RE.sub(b"", footer)
        self._footer_ref = _pieces(_OPT_RE.sub(rb"\1", footer))
        self._core = _pieces(parts.pop("docProps/core.xml"))
        self._custom = _pieces(parts.pop("docProps/custom.xml"))
        self._zip = ZipWriter(time.localtime(), level=RENDER_DEFLATE_LEVEL)
        for name, data in _ordered(parts):
            self._zip.add_static(name, data)
        if not all(_REF_B in b"".join(p) for p in (self._footer_ref, self._core, self._custom)):
            raise ApdocsError("compiled package lost the reference placeholder", code="RENDER_INCOMPLETE")

    def render(self, values: dict[str, Any] | None = None) -> bytes:
        values = values or {}
        form = self.form
        out: list[bytes] = []
        for chunk, hole in zip(self._doc_chunks, self._holes, strict=False):
            out.append(chunk)
            shown, iso = display_value(form, hole.slot, values.get(hole.slot.id))
            if shown is None:
                out.append(hole.blank)
            elif iso is not None and hole.dated is not None:
                out.append(_fill(hole.dated, {_VALUE_B: _escape_wml(shown), _DATE_B: iso.encode()}))
            else:
                out.append(_fill(hole.filled, {_VALUE_B: _escape_wml(shown)}))
        out.append(self._doc_chunks[-1])
        ref = values.get("reference")
        ref_text = oxml.clean_text("" if ref is None else str(ref))
        plain = {_REF_B: _escape(ref_text)}
        footer = _fill(self._footer_ref, {_REF_B: _escape_wml(ref_text)}) if ref_text else self._footer_blank
        dynamic = [
            ("word/document.xml", b"".join(out)),
            (self._footer_name, footer),
            ("docProps/core.xml", _fill(self._core, plain)),
            ("docProps/custom.xml", _fill(self._custom, plain)),
        ]
        return self._zip.finish(dynamic)


def _split_document(xml: bytes, slots: list[Slot]) -> tuple[list[bytes], list[_SlotHole]]:
    chunks: list[bytes] = []
    holes: list[_SlotHole] = []
    pos = 0
    for m in _SLOT_RE.finditer(xml):
        chunks.append(xml[pos : m.start()])
        slot = slots[int(m.group(1))]
        dated = _pieces(m.group(4)) if m.group(4) is not None else None
        holes.append(_SlotHole(slot, m.group(2), _pieces(m.group(3)), dated))
        pos = m.end()
    chunks.append(xml[pos:])
    if len(holes) != len(slots):
        raise ApdocsError(f"compiled document has {len(holes)} of {len(slots)} slots", code="RENDER_INCOMPLETE")
    return chunks, holes


def _ordered(parts: dict[str, bytes]) -> list[tuple[str, bytes]]:
    # [Content_Types].xml first, as Office writes it; some tools sniff for it there.
    first = "[Content_Types].xml"
    return [(first, parts[first]), *sorted((n, d) for n, d in parts.items() if n != first)]


def _build_package(form: FormDefinition) -> tuple[dict[str, bytes], list[Slot]]:
    """Build the whole package once with python-docx + lxml; return its parts as bytes."""
    doc = docx.Document()
    pkg = doc.part.package
    # Drop what the stock template carries but a form does not need (a thumbnail of an
    # empty page, 400 KB of duplicate styles, bibliography sources, list definitions).
    unwanted = ("/thumbnail", "/stylesWithEffects", "/customXml", "/numbering")
    for rels in (pkg.rels, doc.part.rels):
        for rid in [rid for rid, rel in rels.items() if rel.reltype.endswith(unwanted)]:
            rels.pop(rid)

    styles = doc.styles.element
    for child in list(styles):
        styles.remove(child)
    for s in oxml.styles(FONT, FONT_SIZE, ACCENT):
        styles.append(s)

    settings = doc.settings.element
    for cs in settings.iter(oxml.w("compatSetting")):
        if cs.get(oxml.w("name")) == "compatibilityMode":
            cs.set(oxml.w("val"), "15")  # Word 2013+ mode: no "Compatibility Mode" banner

    section = doc.sections[0]
    section.footer.is_linked_to_previous = False
    ftr = section.footer._element
    for child in list(ftr):
        ftr.remove(child)
    reference_label = next((h.label for h in form.header if h.id == "reference"), "Reference")
    for p in _footer(form, reference_label):
        ftr.append(p)
    oxml.a4_portrait(section._sectPr, margin=MARGIN)

    layout = _Layout(form)
    body = doc.element.body
    for child in list(body):
        if child.tag != oxml.w("sectPr"):
            body.remove(child)
    sect_pr = body[-1]
    for block in layout.body():
        sect_pr.addprevious(block)

    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    cp = doc.core_properties
    cp.title = form.display_name
    cp.subject = f"{TAG_PREFIX}:{form.id}:{form.version}"
    cp.keywords = form.name
    cp.category = form.title
    cp.version = form.version
    cp.identifier = _REF
    cp.author = form.organisation
    cp.last_modified_by = form.organisation
    cp.language = "en-GB"
    cp.revision = 1
    cp.created = now
    cp.modified = now
    cp.comments = ""

    custom = oxml.custom_properties(
        [(f"{TAG_PREFIX}.form", form.id), (f"{TAG_PREFIX}.version", form.version), (f"{TAG_PREFIX}.reference", _REF)]
    )
    blob = etree.tostring(custom, xml_declaration=True, encoding="UTF-8", standalone=True)
    part = Part(PackURI(oxml.CUSTOM_PROPERTIES_PART), oxml.CUSTOM_PROPERTIES_CT, blob, pkg)
    pkg.relate_to(part, RT.CUSTOM_PROPERTIES)

    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(buf) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    app = oxml.app_properties("apdocs", form.organisation)
    parts["docProps/app.xml"] = etree.tostring(app, xml_declaration=True, encoding="UTF-8", standalone=True)
    return parts, layout.placed


def compile_docx(form: FormDefinition) -> CompiledDocx:
    """Compile ``form`` once; call ``.render(values)`` for each document."""
    return CompiledDocx(form)
