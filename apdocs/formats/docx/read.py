"""Read a returned Word form into a :class:`~apdocs.record.ParsedReturn`.

Routes, most trusted first (the record's warnings say which was used):

1. apdocs' content controls, found by ``w:tag`` (``apdocs:FORM:VERSION:SLOT``);
2. the same controls found by their ``w:alias`` title when a suite dropped the tag;
2b. our own form at a known version whose controls are gone or untitled: each answer read
   at the place our renderer put it, guarded by the printed text there
   (see :mod:`apdocs.formats.docx.read_position`);
3. no controls (an editor unwrapped them, or the ORIGINAL 2020 appendices were typed
   into): the form's printed texts are found and the answers beside/beneath them read
   (see :mod:`apdocs.formats.docx.legacy`). Also fills any slot whose control is gone.

Route 1 is read from the bytes of ``word/document.xml`` when they are apdocs' own form with
its controls intact (:mod:`apdocs.formats.docx.read_scan`: the same controls, no tree built);
the tree is built only when that scan declines or another route needs it.

The form is named by ``docProps/custom.xml`` (``apdocs.form``), else the control tags,
else the slot ids in control titles, else by which definition's texts the document
holds (with a threshold: an unrelated document is ``NOT_A_FORM``, not an empty record).
Everything is read from the vetted package (with lxml, or from bytes libxml2 has checked); nothing is executed or fetched.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from functools import cache, lru_cache
from operator import attrgetter
from typing import Any

from lxml import etree

from apdocs import values as v
from apdocs.errors import Notice, ParseError
from apdocs.formats.docx.legacy import flatten, read_legacy
from apdocs.formats.docx.read_controls import Control, find_controls, spill_after
from apdocs.formats.docx.read_position import read_by_position
from apdocs.formats.docx.read_scan import scan_controls
from apdocs.formats.docx.read_text import blocks as read_blocks
from apdocs.formats.docx.read_text import w
from apdocs.formats.docx.read_values import Reader
from apdocs.formats.ooxml import OoxmlPackage, open_package
from apdocs.formats.wording import Identified, identify_form
from apdocs.forms.model import FORM_IDS, FormDefinition, Slot, load_form
from apdocs.record import ParsedReturn, SourceInfo, build_answers

_BODY = w("body")
_BY = attrgetter("by")
_CP = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
#: Custom document properties apdocs writes (read when present, never required).
PROP_FORM, PROP_VERSION, PROP_REFERENCE = "apdocs.form", "apdocs.version", "apdocs.reference"
#: Whether controls are read from the bytes when the scan can (read_scan). Only tests and
#: benchmarks turn it off, to compare with the tree route.
USE_SCAN = True


def read_docx(data: bytes, *, path: str | None = None) -> ParsedReturn:
    """Read one returned .docx (bytes) into a record; raises :class:`ParseError` when it cannot."""
    pkg = open_package(data, path=path, kind="docx")
    notices: list[Notice] = list(pkg.notices)
    main = pkg.main_part() or "word/document.xml"
    raw = pkg.checked_bytes(main) if USE_SCAN else None
    # The scan only accepts a document whose root's one child is w:body: the body check is the tree's.
    tree_body = _body(pkg, main, path) if raw is None else None
    props = _custom_properties(pkg)
    scanned = scan_controls(raw) if raw is not None else None
    if scanned is None:
        tree_body = tree_body if tree_body is not None else _body(pkg, main, path)
        controls = find_controls(tree_body)
    else:
        controls = scanned

    def body() -> etree._Element:
        """The body's tree, built when a route other than the controls needs it."""
        nonlocal tree_body
        if tree_body is None:
            tree_body = _body(pkg, main, path)
        return tree_body

    named = props.get(PROP_FORM)
    form_id = named if named in FORM_IDS else (_form_from_tags(controls) or _form_from_slots(controls))
    doc_blocks = None
    if form_id is None:
        doc_blocks = read_blocks(body())
        found = _identify_by_content(doc_blocks, path)
        form_id = found.form
        if not found.confident:
            notices.append(Notice("FORM_UNCERTAIN", found.notice_message(), where=path))
    form = load_form(form_id)
    if named and named != form_id:
        # a damaged or hand-edited property must not stop a form its controls or wording name
        # being read: the Excel reader works the same way (README: FORM_PROPERTY_IGNORED)
        notices.append(Notice("FORM_PROPERTY_IGNORED", f"the form property names no known form; read as {form_id}", where=path))
    props_version = props.get(PROP_VERSION) if named in (None, form_id) else None
    version = props_version or next((c.version for c in controls if c.version and c.form in (None, form_id)), None)
    if version and version != form.version:
        notices.append(Notice("FORM_VERSION", f"the form is version {version}; read against version {form.version}", where=path))

    reader = Reader()
    flat = _from_controls(form, controls, reader)
    slot_ids = _slot_index(form.id)
    # flat holds only the form's slot ids: as many means all (our own forms, controls intact)
    missing = [] if len(flat) == len(slot_ids) else [s for s in slot_ids if s not in flat]
    by_position = 0
    if missing and version == form.version:
        # our own layout at a known version: the places where our renderer put each answer
        placed = read_by_position(form, body(), missing, reader)
        flat.update(placed)
        by_position = len(placed)
        missing = [s for s in missing if s not in placed]
    if missing:
        doc_blocks = doc_blocks if doc_blocks is not None else read_blocks(body())
        legacy = read_legacy(form, doc_blocks, reader)
        for s in missing:
            flat[s] = legacy.values.get(s)
    if by_position or missing:
        how = _route_summary(by_position, len(missing))
        if not controls:
            notices.append(Notice("ROUTE_FALLBACK", f"no content controls: answers {how}", where=path))
        else:
            unfound = by_position + len(missing)
            notices.append(
                Notice("ROUTE_FALLBACK", f"{unfound} of {len(slot_ids)} places had no content control: {how}", where=path)
            )
    if "alias" in map(_BY, controls):  # compared in C: a return has ~100 controls
        notices.append(Notice("ROUTE_FALLBACK", "content controls matched by title (their tags were lost)", where=path))
    notices.extend(reader.notices)

    header, answers = build_answers(form, flat)
    reference = header.get("reference") or props.get(PROP_REFERENCE)
    return ParsedReturn(
        source=SourceInfo(path, hashlib.sha256(data).hexdigest(), "docx"),
        form=form.id,
        form_version=version or (form.version if controls else None),
        reference=reference,
        header=header,
        answers=answers,
        warnings=tuple(notices),
    )


def _body(pkg: OoxmlPackage, main: str, path: str | None) -> etree._Element:
    body = next(pkg.xml(main).iterchildren(_BODY), None)
    if body is None:
        raise ParseError("the document has no body", code="NOT_A_FORM", path=path)
    return body


def _route_summary(by_position: int, by_wording: int) -> str:
    """Which of the two no-control routes read how many places (the warning must say which was trusted)."""
    if not by_wording:
        return "read by their position in apdocs' layout of the form"
    if not by_position:
        return "read from the printed wording"
    return f"{by_position} read by their position in apdocs' layout, {by_wording} from the printed wording"


# -- which form ----------------------------------------------------------------


#: ``docProps/custom.xml`` exactly as apdocs writes it (and Word keeps it): one string property
#: after another, names and values of printable ASCII with no reference (group 4: the properties).
#: Such bytes are well-formed and mean what they show, so they are read without the tree (~10 us
#: a return, and the part differs in every return: its reference). Anything else (whitespace to
#: normalise, references, other characters or shapes) is read from the tree as before.
_PLAIN_CUSTOM = re.compile(
    rb"<\?xml version=([\"'])1\.0\1 encoding=([\"'])UTF-8\2 standalone=([\"'])yes\3\?>\r?\n?"
    rb'<Properties xmlns="' + _CP.encode() + rb'" '
    rb'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    rb'((?:<property fmtid="[\x20!#-%\x27-;=-~]*" pid="[0-9]+" name="[\x20!#-%\x27-;=-~]*">'
    rb"<vt:lpwstr>[\x20-%\x27-;=?-~]*</vt:lpwstr></property>)*)</Properties>"  # no ">": text may not hold "]]>"
)
_PLAIN_PROPERTY = re.compile(rb'name="([^"]*)"><vt:lpwstr>([^<]*)<')


def _custom_properties(pkg: Any) -> dict[str, str]:
    """String custom document properties (``docProps/custom.xml``), by name."""
    name = "docProps/custom.xml"
    if not pkg.has(name):
        return {}
    try:
        plain = _PLAIN_CUSTOM.fullmatch(pkg.part(name))
        if plain is not None:
            # as the tree reader below: a property needs a name and a value (an empty element has no text)
            return {k.decode(): t.decode().strip() for k, t in _PLAIN_PROPERTY.findall(plain.group(4)) if k and t}
        root = pkg.xml(name)
    except ParseError:
        return {}  # damaged properties never stop the answers being read
    out: dict[str, str] = {}
    for prop in root.iter(f"{{{_CP}}}property"):
        value = next((c.text for c in prop if isinstance(c.tag, str)), None)
        if prop.get("name") and value is not None:
            out[prop.get("name")] = value.strip()
    return out


def _form_from_tags(controls: list[Control]) -> str | None:
    forms = Counter(c.form for c in controls if c.form)
    return forms.most_common(1)[0][0] if forms else None


def _form_from_slots(controls: list[Control]) -> str | None:
    """The form whose slot ids the controls' titles name most (tags all lost)."""
    named = {c.slot for c in controls if c.slot}
    if not named:
        return None
    score = {f: len(named & {s.id for s in load_form(f).slots() if s.group != "header"}) for f in FORM_IDS}
    best = max(score, key=lambda f: score[f])
    return best if score[best] else None


def _identify_by_content(doc_blocks: list[Any], path: str | None) -> Identified:
    """The form whose own texts the document holds best; NOT_A_FORM below the threshold."""
    best = identify_form(ln.text for ln in flatten(doc_blocks))
    if best is None:
        raise ParseError(
            "this document is not one of the Virtual School forms (none of their questions or items were found)",
            code="NOT_A_FORM",
            path=path,
        )
    return best


# -- route 1 and 2: controls ------------------------------------------------------------


@cache
def _slot_index(form_id: str) -> dict[str, Slot]:
    return {s.id: s for s in load_form(form_id).slots()}


@cache
def _free_text_slots(form_id: str) -> frozenset[str]:
    """The form's free-text slots (type text, no choices): their answer is the cleaned text alone."""
    return frozenset(s.id for s in load_form(form_id).slots() if s.type == "text" and not s.choices)


def _from_controls(form: FormDefinition, controls: list[Control], reader: Reader) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    form_id = form.id
    known = _slot_index(form_id)
    free_text = _free_text_slots(form_id)
    clean_text = v.clean_text
    for c in controls:
        slot = known.get(c.slot)
        if slot is None or (c.form and c.form != form_id):
            continue
        if c.element is None and slot.id in free_text:
            # _control_value's first case without its three calls (a third to all of a form's
            # answers): no spill to read (a control from the scan) and read_typed("text") is
            # clean_text with no notice
            text = c.text
            value = clean_text(text) if text is not None else None
        else:
            value = _control_value(slot, c, reader)
        kept = flat.get(slot.id)
        if kept is None:
            flat[slot.id] = value
        elif value is not None and value != kept:
            reader.notices.append(Notice("DUPLICATE_SLOT", "two controls answer one place; the first was kept", where=slot.id))
    return flat


@lru_cache(maxsize=4096)
def _full_date_iso(full_date: str) -> str | None:
    """A date picker's stored ``2020-03-12T00:00:00Z`` as ISO (returns share a few hundred dates)."""
    d = v.parse_date_uk(full_date)
    return d.isoformat() if d is not None else None


def _control_value(slot: Slot, c: Control, reader: Reader) -> Any:
    text = c.text
    if text is None:  # placeholder showing: not answered
        return None
    if slot.type == "text" and not slot.choices:
        # Free text, the commonest (a third to all of a form's slots): of the cases below only
        # the spill can apply, and only to a control read from the tree.
        if c.element is not None:
            spill = spill_after(c)
            if spill:
                text = "\n".join([text, *spill])
        return reader.value(slot, text)
    if slot.type == "bool" and c.checked is not None:
        return c.checked
    if slot.choices and c.text in slot.choices:
        # a dropdown's own item, exactly: the common case, no text interpretation needed
        return (
            c.text
            if slot.type == "choice"
            else (c.text == slot.choices[0] if slot.type == "bool" else reader.value(slot, c.text))
        )
    if slot.type == "date" and c.full_date:
        iso = _full_date_iso(c.full_date)
        if iso is not None:
            return iso
    if slot.type == "text":
        spill = spill_after(c)
        if spill:
            text = "\n".join([text, *spill])
    return reader.value(slot, text)
