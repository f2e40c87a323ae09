"""Read apdocs' own content controls (``w:sdt``) straight from ``word/document.xml``.

A control names its slot by ``w:tag`` (``apdocs:FORM:VERSION:SLOT``, most trusted)
or, when a suite dropped the tag (LibreOffice 7.4 does on some controls), by the
slot id carried at the end of its ``w:alias`` title (``"Answer 1 [q1]"``).

Controls may sit in five places - body, inside a paragraph (run-level, what apdocs
writes), around a table, around a row and inside a cell; ``root.iter`` finds them
wherever they are, and text is read through nested wrappers (see ``read_text``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from lxml import etree

from apdocs.formats.docx.read_text import (
    CHAR_OF,
    HIDDEN_SUBTREES,
    SDT,
    SDT_CONTENT,
    SDT_PR,
    SOFT_HYPHEN,
    TC,
    W14,
    P,
    R,
    T,
    inline_text,
    paragraphs,
    w,
)
from apdocs.formats.wording import check_text_size
from apdocs.forms.model import TAG_PREFIX, parse_tag, slot_id_from_title

_TAG, _ALIAS, _PLACEHOLDER = w("tag"), w("alias"), w("showingPlcHdr")
_DATE, _DROPDOWN, _COMBO, _LIST_ITEM = w("date"), w("dropDownList"), w("comboBox"), w("listItem")
_CHECKBOX, _CHECKED = f"{{{W14}}}checkbox", f"{{{W14}}}checked"
_VAL, _FULL_DATE, _DISPLAY, _VALUE = w("val"), w("fullDate"), w("displayText"), w("value")
_W14_VAL = f"{{{W14}}}val"
#: The property-block children _control reads, each to what it is read as (a combo box as a dropdown).
_PR_CHILD = {t: t for t in (_TAG, _ALIAS, _PLACEHOLDER, _DATE, _DROPDOWN, _CHECKBOX)} | {_COMBO: _DROPDOWN}

# Every return repeats the same ~100 tags and titles: parse each string once per process.
_TAG_START = TAG_PREFIX + ":"
_parse_tag = lru_cache(maxsize=4096)(parse_tag)
_slot_from_title = lru_cache(maxsize=4096)(slot_id_from_title)
#: Builds a NamedTuple from a tuple of all its fields in C: calling the class goes through a
#: generated Python __new__ (~100 ns more, twice per control, ~100 controls a return).
_new = tuple.__new__


class Control(NamedTuple):
    """What one control says, before slot typing (a tuple: ~100 are built per return)."""

    slot: str  # slot id, from tag or alias (a control naming no slot is not a Control)
    form: str | None  # from the tag only
    version: str | None
    by: str  # "tag", "alias" or "none"
    text: str | None  # None: placeholder showing
    full_date: str | None = None  # w:date/@w:fullDate, preferred for dates
    checked: bool | None = None  # w14:checkbox state
    element: etree._Element | None = None


def find_controls(root: etree._Element) -> list[Control]:
    """Every content control that names a slot (by tag or alias), in document order.

    Walks the ``w:tag``/``w:alias`` elements (lxml finds them in C) and reads only the
    property blocks whose tag or title could name a slot, so the many locked-wording
    controls cost one attribute read each (lxml's ``find`` costs ~2 us a call; a return
    holds ~100 answer controls).
    """
    out: list[Control] = []
    done = None  # the property block last read: its tag and alias both lead to it
    total = 0  # text read so far: nested controls each read their inner controls' text again
    for named in root.iter(_TAG, _ALIAS):
        pr = named.getparent()
        if pr is done:  # the other of the pair: its block is read (an attribute read costs more)
            continue
        value = named.get(_VAL)
        if not value:
            continue
        if named.tag == _TAG:
            if not value.startswith(_TAG_START):  # parse_tag() would refuse it: locked wording, others' tags
                continue
        elif "]" not in value:  # no "[slot]" at the end of the title
            continue
        if pr is None or pr.tag != SDT_PR:
            continue
        done = pr
        sdt = pr.getparent()
        if sdt is None or sdt.tag != SDT or sdt[0] is not pr:
            continue
        control = _control(sdt, pr)
        if control is not None:
            out.append(control)
            total += len(control.text or "")
            check_text_size(total)
    return out


class Properties(NamedTuple):
    """What a control's property block (``w:sdtPr``) says, when it names a slot."""

    slot: str
    form: str | None
    version: str | None
    by: str
    placeholder: bool  # w:showingPlcHdr: the control shows its placeholder, not an answer
    full_date: str | None
    checked: bool | None
    choice_list: etree._Element | None  # w:dropDownList / w:comboBox, for display text -> value


def names_slot(pr: etree._Element) -> bool:
    """Whether :func:`find_controls` reads this property block: a ``w:tag`` or ``w:alias`` child
    that could name a slot (the others are locked wording or someone else's controls)."""
    for c in pr:
        if c.tag == _TAG:
            if (c.get(_VAL) or "").startswith(_TAG_START):
                return True
        elif c.tag == _ALIAS and "]" in (c.get(_VAL) or ""):
            return True
    return False


def properties(pr: etree._Element) -> Properties | None:
    """What one property block says, from one pass over its few children; None when it names no slot.

    The last ``w:tag`` and the last ``w:alias`` count (as lxml's attribute reads of repeated children would)."""
    tag = alias = None
    placeholder = False
    full_date = checked = None
    choice_list = None
    for c in pr:
        kind = _PR_CHILD.get(c.tag)  # one look-up: most children (id, lock, text ...) are none of these
        if kind is None:
            continue
        if kind == _TAG:
            tag = c.get(_VAL)
        elif kind == _ALIAS:
            alias = c.get(_VAL)
        elif kind == _PLACEHOLDER:
            placeholder = True
        elif kind == _DATE:
            full_date = c.get(_FULL_DATE) or None
        elif kind == _DROPDOWN:
            choice_list = c
        else:  # _CHECKBOX
            state = next(c.iterchildren(_CHECKED), None)
            checked = state is not None and state.get(_W14_VAL, "0").lower() in ("1", "true", "on")
    parsed = _parse_tag(tag) if tag else None
    form = version = None
    slot: str | None
    if parsed:
        form, version, slot = parsed
        by = "tag"
    else:
        slot = _slot_from_title(alias) if alias else None
        by = "alias"
    if slot is None:
        return None  # locked wording or someone else's control
    return _new(Properties, (slot, form, version, by, placeholder, full_date, checked, choice_list))


def control(props: Properties, text: str | None, sdt: etree._Element | None) -> Control:
    """The control, given what its property block says and the text its content holds
    (``text`` is not read when the placeholder shows)."""
    if props.placeholder:
        text = None
    elif props.choice_list is not None and text is not None:
        text = list_value(props.choice_list, text)
    return _new(Control, (props.slot, props.form, props.version, props.by, text, props.full_date, props.checked, sdt))


def _control(sdt: etree._Element, pr: etree._Element) -> Control | None:
    """What one control says: its property block, then its content's text unless the placeholder shows."""
    props = properties(pr)
    if props is None:
        return None
    if props.placeholder:
        return control(props, None, sdt)
    content = sdt[-1]
    text = _content_text(sdt, content) if content.tag == SDT_CONTENT else ""
    return control(props, text, sdt)


def _content_text(sdt: etree._Element, content: etree._Element) -> str:
    """Run-level controls hold runs; block, row and cell controls hold paragraphs."""
    pieces: list[str] = []
    quick = _runs_text(content, pieces)
    if quick is None:  # something the quick walk leaves to the general readers
        element = next(content.iterchildren(tag=etree.Element), None)  # elements only: no comments or PIs
        first = "" if element is None else element.tag
    else:
        first = quick
    if not first:
        return ""
    if first == R or ((parent := sdt.getparent()) is not None and parent.tag == P):  # None: a control handed in as the root
        return "".join(pieces) if quick is not None else inline_text(content)
    return "\n".join(paragraphs(content))


# Children of a run the quick walk passes over: subtrees inline_text hides whole (HIDDEN_SUBTREES:
# properties, deletions, drawings ...; a soft hyphen contributes nothing and hides its inside).
_RUN_SILENT = HIDDEN_SUBTREES | {SOFT_HYPHEN}


def _runs_text(content: etree._Element, out: list[str]) -> str | None:
    """Append the text of ``content``'s runs to ``out``, when it is nothing but runs of plain
    text (what apdocs writes and Word keeps); return the first element's tag ("" when there is
    none) then, or None as soon as anything else turns up (the caller reads it the long way).

    The same text as :func:`inline_text` on such content, at a fraction of its cost: lxml
    builds a tag filter per ``iterdescendants`` call (~1 us), and each text element walks up
    to the control (~1 us); a return holds ~100 controls. Every element inline_text would
    judge differently (an unknown run child, a wrapper between the control and its runs)
    sends the control to it, so nothing is read differently.
    """
    first = ""  # no element yet
    for run in content:
        tag = run.tag
        if tag != R:
            if not isinstance(tag, str):
                continue  # a comment: no text, and not an element for "first"
            first = first or tag
            if tag in HIDDEN_SUBTREES:
                continue  # a hidden subtree at the content level: no text
            return None
        first = first or R
        for child in run:
            ctag = child.tag
            if ctag == T:
                if child.text:
                    out.append(child.text)
            elif ctag in CHAR_OF:
                out.append(CHAR_OF[ctag])
            elif ctag in _RUN_SILENT or not isinstance(ctag, str):
                continue
            else:
                return None
    return first


def list_value(lst: etree._Element, shown: str) -> str:
    """Dropdown display text -> the item's value (Word shows one, stores both)."""
    # Items are the list's children: walk them, up to any child with children of its own, where
    # an item could sit deeper - then the document-order search (lxml's iter builds a tag filter
    # per call; a return holds ~25 dropdowns). Items before that child are the same in both.
    for item in lst:
        if len(item):
            break
        if item.tag == _LIST_ITEM and item.get(_DISPLAY) == shown:
            value = item.get(_VALUE)
            return value if value is not None else shown
    else:
        return shown
    for item in lst.iter(_LIST_ITEM):
        if item.get(_DISPLAY) == shown:
            value = item.get(_VALUE)
            return value if value is not None else shown
    return shown


def spill_after(control: Control) -> list[str]:
    """Paragraphs LibreOffice moved out of a multi-paragraph control, to merge back.

    LibreOffice 7.4 keeps only the first paragraph of a control inside it and writes
    the rest as plain paragraphs right after, in the same cell. Those are the
    paragraphs following the control's paragraph in its cell that carry no control.
    """
    sdt = control.element
    if sdt is None:
        return []
    p = sdt.getparent()
    if p is None or p.tag != P:
        return []
    if p.getnext() is None:  # nothing after it (the common case; itersiblings costs ~4x more)
        return []
    cell = p.getparent()
    if cell is None or cell.tag != TC:
        return []
    out: list[str] = []
    for sib in p.itersiblings():
        if sib.tag != P or next(sib.iter(SDT), None) is not None:
            break
        out.append(inline_text(sib))
    while out and not out[-1].strip():
        out.pop()
    return out
