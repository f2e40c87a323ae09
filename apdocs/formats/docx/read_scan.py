"""apdocs' own content controls read from the BYTES of ``word/document.xml``, without a tree.

Building the lxml tree of a return costs about as much as everything else the reader does
(issue 12). A return as apdocs renders it and Word keeps it is a very regular document:
each answer control is ``<w:sdt><w:sdtPr>...</w:sdtPr><w:sdtContent>`` runs of plain text
``</w:sdtContent></w:sdt></w:p></w:tc>``. :func:`scan_controls` reads exactly that, with
C-speed ``bytes.find``/``count`` and compiled regular expressions matched whole, and gives
the same list of controls as :func:`~apdocs.formats.docx.read_controls.find_controls` on the
tree (``element`` None: every control it accepts has no spill, see ``spill_after``).

It DECLINES (returns None, and the reader builds the tree as before) on anything it does not
fully understand: bytes libxml2 has not checked (the caller passes only
:meth:`~apdocs.formats.ooxml.OoxmlPackage.checked_bytes`), another XML declaration or
encoding, a root other than ``w:document`` binding ``w`` (and ``w14``, if declared) to their
namespaces with no other prefix bound to those, any namespace declaration after the root
start tag, comments, CDATA and processing instructions, carriage returns, and any answer
control whose content is more than runs of plain text (tracked changes, fields, nested
controls ...; Word's proofing marks, bookmarks and rendered page breaks, which hold no text,
are read past) or which is not the last thing in the last paragraph of its table cell (where
LibreOffice spills paragraphs after it).

Property blocks are read by :func:`~apdocs.formats.docx.read_controls.properties` itself, on
the block parsed alone (in the document's own root start tag, so every prefix means what it
means there); every return of a form repeats the same few hundred blocks, so each distinct
block is parsed once per process and thread, and the controls it always gives are made then
too (its placeholder's, its dropdown items'). The document's head is likewise checked once.
"""

from __future__ import annotations

import re
import threading
from typing import NamedTuple

from lxml import etree

from apdocs.formats.docx.read_controls import Control, Properties, control, names_slot, properties
from apdocs.formats.docx.read_text import CHAR_OF, W14, W, w
from apdocs.formats.ooxml import safe_parser
from apdocs.formats.wording import MAX_FORM_TEXT, check_text_size
from apdocs.formats.xmlbytes import markup_declaration

# -- the document around the controls --------------------------------------------------------

#: An XML declaration naming UTF-8 (or none), the root ``w:document`` start tag (group 4: whole,
#: group 5: its attributes, values free of references and whitespace to normalise), then ``w:body``.
_HEAD = re.compile(
    rb"(?:\xef\xbb\xbf)?"
    rb"(?:<\?xml version=([\"'])1\.0\1(?: encoding=([\"'])(?i:utf-8)\2)?(?: standalone=([\"'])(?:yes|no)\3)?[ \n]*\?>)?"
    rb"[ \t\r\n]*(<w:document((?:[ \t\n]+[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?=\"[^\"<&\t\r\n]*\")*)[ \t\n]*>)<w:body>"
)
_ROOT_ATTRIBUTE = re.compile(rb"([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)=\"([^\"]*)\"")
_W_NS, _W14_NS = W.encode(), W14.encode()
_END = b"</w:body></w:document>"
#: Looked for through the whole document with bytes.rfind, which only asks whether there is one:
#: its loop tests a needle's FIRST byte and skips on the byte before, and "x" (of xmlns) is rare in
#: Word's XML, so it runs about twice as fast as sre's search or bytes.find (which test the last
#: byte, an "s" or "y", and skip on the next, letters XML is full of).
_XMLNS, _BODY = b"xmlns", b"<w:body"

#: Every property block must open exactly so: ``<w:sdt><w:sdtPr>``, the first child of ``w:sdt``.
_SDT, _PR, _CLOSE = b"<w:sdt>", b"<w:sdtPr", b"</w:sdtPr>"
_OPEN = _SDT + _PR + b">"

# -- an answer control's content --------------------------------------------------------------

# Run properties are hidden whole from text: any run of empty elements (nothing nested, so the
# first "</w:rPr>" ends them and nothing in them can look like text).
_RPR = rb"<w:rPr>(?:<w:[A-Za-z]+(?: [A-Za-z][\w]*:[A-Za-z]+=\"[^\"]*\")*/>)*</w:rPr>"
_T = rb"<w:t(?: xml:space=\"preserve\")?>"
_RUN_CHILD = (
    rb"(?:" + _T + rb"[^<]*</w:t>"
    rb"|<w:t(?: xml:space=\"preserve\")?/>|<w:tab/>|<w:br(?: w:(?:type|clear)=\"[A-Za-z]*\")*/>"
    rb"|<w:cr/>|<w:noBreakHyphen/>|<w:softHyphen/>|<w:lastRenderedPageBreak/>)"
)
_RUN = rb"<w:r(?: w:rsid[A-Za-z]*=\"[0-9A-Fa-f]*\")*>(?:" + _RPR + rb")?" + _RUN_CHILD + rb"*</w:r>"
#: What Word writes between the runs of what a person typed, none of it text (the tree reader
#: reads past each, as it holds no text element): proofing marks around a word it flagged, and
#: bookmarks (Word's "_GoBack", where the cursor was when the file was saved). Empty elements
#: whose attribute values cannot hold "<", so nothing in them can look like text.
_MARK = rb"<w:(?:proofErr|bookmarkStart|bookmarkEnd)(?: w:[A-Za-z]+=\"[^\"<]*\")*/>"
#: After the property block: an optional end-properties block, the content (group 1: nothing
#: but runs of text), the control's end, and the end of its paragraph and of its table cell -
#: with Word's marks allowed after the control and after its paragraph, which change no answer
#: (the tree reader reads the control's content alone, and merges LibreOffice's spilled lines
#: only from paragraphs after it: here there are none).
_AFTER = re.compile(
    rb"(?:<w:sdtEndPr/>|<w:sdtEndPr>(?:" + _RPR + rb")?</w:sdtEndPr>)?"
    rb"(?:<w:sdtContent/>()|<w:sdtContent>((?:" + _RUN + rb"|" + _MARK + rb")*)</w:sdtContent>)"
    rb"</w:sdt>(?:" + _MARK + rb")*</w:p>(?:" + _MARK + rb")*</w:tc>"
)
#: The text-bearing elements of content already matched by _AFTER, in order; run properties skipped.
_TEXT_PIECE = re.compile(_RPR + rb"|" + _T + rb"([^<]*)</w:t>|<w:(tab|br|cr|noBreakHyphen)[ />]")
_CHAR = {name.encode(): CHAR_OF[w(name)] for name in ("tab", "br", "cr", "noBreakHyphen")}

#: The common content, one run of one text element ending its paragraph and cell (group 1: its text).
_AFTER_ONE = re.compile(rb"<w:sdtContent><w:r>" + _T + rb"([^<]*)</w:t></w:r></w:sdtContent></w:sdt></w:p></w:tc>")
#: The next commonest, what apdocs writes for several lines: one run of text elements and plain
#: breaks (group 1: the run's inside), read by _lines_text.
_AFTER_LINES = re.compile(rb"<w:sdtContent><w:r>((?:" + _T + rb"[^<]*</w:t>|<w:br/>)*)</w:r></w:sdtContent></w:sdt></w:p></w:tc>")

#: The five predefined entities and character references: all a checked part's text can hold
#: (no DTD, so no other entity is defined), decoded as XML does; any other "&" declines.
_REFERENCE = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));|&")
_ENTITY = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class _Declined(Exception):
    """Something the scan does not fully understand: the caller reads the tree instead."""


def scan_controls(xml: bytes) -> list[Control] | None:
    """The controls :func:`~apdocs.formats.docx.read_controls.find_controls` finds in the body,
    in document order (``element`` None), or None when the scan declines (see the module doc).

    ``xml`` must be bytes libxml2 has found well-formed with sound namespaces
    (:meth:`~apdocs.formats.ooxml.OoxmlPackage.checked_bytes`). Raises TEXT_TOO_LARGE where
    find_controls would."""
    try:
        return _scan(xml)
    except _Declined:
        return None


def _scan(xml: bytes) -> list[Control]:
    root_tag, start = _head(xml)
    if (
        xml.find(b"\r", start) >= 0  # line ends the parser normalises (Word ends its declaration with one)
        or markup_declaration(xml, start)  # comments, CDATA and processing instructions
        or xml.rfind(_XMLNS, start) >= 0  # a prefix declared again, or a default namespace
        or xml.rfind(_BODY, start + 1) >= 0  # a second body: the tree reader reads the first only
        or not xml[-64:].rstrip(b" \t\n").endswith(_END)  # with the head: the root holds the body alone
    ):
        raise _Declined
    known = _known_blocks(root_tag)
    blocks = known.blocks
    out: list[Control] = []
    total = 0  # text read so far, as find_controls counts it
    find = xml.find
    at = find(_PR, start)
    while at >= 0:
        # w:sdtPr with no attributes, first in w:sdt (at - 7 > 0: the root start tag is before it)
        if not xml.startswith(_OPEN, at - len(_SDT)):
            raise _Declined
        begin = at + len(_PR) + 1
        end = find(_CLOSE, begin)
        if end < 0:
            raise _Declined
        block = xml[begin:end]
        at = end + len(_CLOSE)  # after the block: its content, then the next block
        entry = blocks.get(block)
        if entry is None:
            entry = _new_block(known, root_tag, block)
        props, fixed, by_text = entry
        if props is not None:
            if fixed is not None:
                found = fixed  # the placeholder shows: the content is not read
            else:
                one = _AFTER_ONE.match(xml, at)
                text = _decode(one.group(1)) if one is not None else _content_text(xml, at)
                ready = by_text.get(text) if by_text is not None else None
                found = ready if ready is not None else control(props, text, None)
                total += len(found.text or "")  # as find_controls counts it: the control's text (an item's value)
                if total > MAX_FORM_TEXT:  # check_text_size's own test, without a call per control
                    check_text_size(total)
            out.append(found)
        at = find(_PR, at)
    return out


#: Most document heads remembered per thread (each form's returns share one).
MAX_HEADS = 8


def _head(xml: bytes) -> tuple[bytes, int]:
    """The document's root start tag, and where it ends, once its head is found to be what the
    scan reads (see _HEAD and _check_namespaces; else it declines).

    Every return of a form starts with the same head (declaration, ~1.3 kB root start tag with
    ~20 namespaces, ``<w:body>``), so one seen before is known by its bytes alone: _HEAD matches
    a document starting with it exactly as it matched that head (nothing after ``<w:body>`` can
    change how it matches: the root start tag ends at its first ``>`` outside quotes)."""
    heads: list[tuple[bytes, bytes, int]] | None = getattr(_blocks, "heads", None)
    if heads is None:
        heads = _blocks.heads = []
    for whole, root_tag, start in heads:
        if xml.startswith(whole):
            return root_tag, start
    head = _HEAD.match(xml)
    if head is None:
        raise _Declined
    _check_namespaces(head.group(5))
    if len(heads) >= MAX_HEADS:
        del heads[0]
    heads.append((head.group(0), head.group(4), head.end(4)))
    return head.group(4), head.end(4)


def _check_namespaces(attributes: bytes) -> None:
    """``w`` (and ``w14`` if declared) bound to their namespaces, and no other prefix to either:
    then ``w:x`` in the bytes is the element the tree reader asks for as ``{W}x``, and only it."""
    bound: dict[bytes, bytes] = {}
    for name, value in _ROOT_ATTRIBUTE.findall(attributes):
        if name == b"xmlns":
            raise _Declined  # a default namespace: unprefixed names would mean something
        if name.startswith(b"xmlns:"):
            bound[name[6:]] = value
    if bound.get(b"w") != _W_NS or bound.get(b"w14", _W14_NS) != _W14_NS:
        raise _Declined
    for prefix, value in bound.items():
        if (value == _W_NS and prefix != b"w") or (value == _W14_NS and prefix != b"w14"):
            raise _Declined


def _content_text(xml: bytes, at: int) -> str:
    """The text of an answer control's content, which starts at ``at`` (after ``</w:sdtPr>``),
    when it is not the one run of text _AFTER_ONE reads."""
    lines = _AFTER_LINES.match(xml, at)
    if lines is not None:
        return _lines_text(lines.group(1))
    m = _AFTER.match(xml, at)
    if m is None:
        raise _Declined
    if m.group(1) is not None:
        return ""  # <w:sdtContent/>
    pieces: list[str] = []
    for piece in _TEXT_PIECE.finditer(xml, m.start(2), m.end(2)):
        text, char = piece.group(1, 2)
        if text is not None:
            if text:
                pieces.append(_decode(text))
        elif char is not None:
            pieces.append(_CHAR[char])
    return "".join(pieces)


def _lines_text(run: bytes) -> str:
    """The text of a run's inside matched by _AFTER_LINES: its text elements' text in order, each
    break as the line end the tree reader reads (CHAR_OF). Text holds no "<", and each tag
    replaced ends at its only ">", so every tag is taken out whole and no other. The references
    are decoded after the joining: libxml2 checked each "&" opens a whole reference in its own
    text, so none can run on into the next."""
    text = run.replace(b"<w:br/>", _BR).replace(_T_PRESERVE, b"").replace(b"<w:t>", b"").replace(b"</w:t>", b"")
    return _decode(text)


_BR = CHAR_OF[w("br")].encode()
_T_PRESERVE = b'<w:t xml:space="preserve">'


def _decode(raw: bytes) -> str:
    """Text content as the parser gives it (no ``\\r`` here to normalise: the scan declined those)."""
    text = raw.decode("utf-8")  # checked by libxml2: valid UTF-8
    if "&" not in text:
        return text
    return _REFERENCE.sub(_referenced, text)


def _referenced(m: re.Match[str]) -> str:
    name, decimal, hexadecimal = m.group(1, 2, 3)
    if name is not None:
        return _ENTITY[name]
    if decimal is None and hexadecimal is None:
        raise _Declined  # an "&" no reference pattern knows (libxml2's check lets none through)
    return chr(int(decimal) if decimal is not None else int(hexadecimal, 16))


# -- property blocks, each distinct one parsed once -------------------------------------------


#: Most distinct property blocks kept per thread and root start tag (a form has ~150, each with
#: and without its placeholder showing), date pickers' blocks for their dates apart (see _new_block).
MAX_KNOWN_BLOCKS = 4096
#: Most date pickers' blocks kept for their dates (each return has its own): when there are more,
#: those are dropped, not the form's other blocks, which would all be parsed again.
MAX_DATED_BLOCKS = 2048
#: A date picker's stored date: the one part of a property block that differs between returns.
_FULL_DATE = b' w:fullDate="'
#: What a block is read with in place of its date, so one parse serves every date.
_ANY_DATE = "@"
#: A date as it reads (no reference or whitespace for XML to change).
_PLAIN_VALUE = re.compile(rb"[^&<\t\r\n]*")
_blocks = threading.local()


#: What the scan keeps for one property block: what it says (None: it names no slot); the control
#: it always gives, when its placeholder shows (the content is not read); and for a dropdown, the
#: control each item's display text gives (the same few texts in every return).
_Entry = tuple[Properties | None, Control | None, dict[str, Control] | None]
#: Most list items whose controls a dropdown's entry keeps (ours have 3-6).
MAX_LIST_ITEMS = 32
_LIST_ITEM, _DISPLAY = w("listItem"), w("displayText")


class _Known(NamedTuple):
    """The blocks seen in this thread in documents with one root start tag."""

    blocks: dict[bytes, _Entry]
    dated: list[bytes]  # the keys in blocks of date pickers' blocks with their dates, oldest first


def _known_blocks(root_tag: bytes) -> _Known:
    """What each property block seen in this thread says, for documents with this root start tag
    (what a block's prefixes mean depends on it; every return of a form has the same one)."""
    table: dict[bytes, _Known] | None = getattr(_blocks, "table", None)
    if table is None:
        table = _blocks.table = {}
    known = table.get(root_tag)
    if known is None:
        if sum(len(k.blocks) for k in table.values()) > MAX_KNOWN_BLOCKS:
            table.clear()
        known = table[root_tag] = _Known({}, [])
    elif len(known.blocks) > MAX_KNOWN_BLOCKS:
        known.blocks.clear()
        known.dated.clear()
    return known


def _new_block(known: _Known, root_tag: bytes, block: bytes) -> _Entry:
    """What a block not seen before says (and remember it). A date picker's block is parsed with
    its date as :data:`_ANY_DATE`, once for every date (each return has its own dates): when
    what the block says carries that date, it is the attribute read, and the real one takes its place."""
    blocks = known.blocks
    at = block.find(_FULL_DATE)
    if at >= 0:
        begin = at + len(_FULL_DATE)
        end = block.find(b'"', begin)
        date = block[begin:end]
        if block.find(_FULL_DATE, end) < 0 and _PLAIN_VALUE.fullmatch(date) is not None:  # one date, as it reads
            key = block[:begin] + _ANY_DATE.encode() + block[end:]
            entry = blocks.get(key)
            if entry is None:
                entry = blocks[key] = _entry(_read_block(root_tag, key))
            props = entry[0]
            if props is not None and props.full_date == _ANY_DATE:
                entry = _entry(props._replace(full_date=date.decode("utf-8") or None))
            dated = known.dated
            if len(dated) >= MAX_DATED_BLOCKS:
                for old in dated:
                    blocks.pop(old, None)
                dated.clear()
            blocks[block] = entry  # a batch meets each date again and again
            dated.append(block)
            return entry
    entry = blocks[block] = _entry(_read_block(root_tag, block))
    return entry


def _entry(props: Properties | None) -> _Entry:
    """What the scan keeps for a block that says ``props``: the controls it gives whatever the
    return, each made by :func:`control` itself (so the same as a call per control would make)."""
    if props is None:
        return (None, None, None)
    if props.placeholder:
        return (props, control(props, None, None), None)
    if props.choice_list is None:
        return (props, None, None)
    # Any other text shown is no item's display text: control() keeps it as it is (made per control).
    items = [item.get(_DISPLAY) for item in props.choice_list.iter(_LIST_ITEM)]
    if len(items) > MAX_LIST_ITEMS:
        return (props, None, None)
    return (props, None, {shown: control(props, shown, None) for shown in items if shown is not None})


def _read_block(root_tag: bytes, block: bytes) -> Properties | None:
    """What the property block says (None: it names no slot), read by the tree reader's own
    :func:`properties` on the block parsed alone inside the document's root start tag."""
    try:
        root = etree.fromstring(root_tag + b"<w:sdtPr>" + block + b"</w:sdtPr></w:document>", parser=safe_parser())
    except etree.XMLSyntaxError:
        raise _Declined from None  # a block that is not one element (nested property blocks ...)
    pr = root[0]
    return properties(pr) if names_slot(pr) else None
