"""Paragraph and run formatting taken out of ``word/document.xml`` before its tree is built.

LibreOffice writes a ``w:pPr`` block on every paragraph and a ``w:rPr`` block of five to eight
elements (fonts, size, kerning, language) on every run: in a re-saved return most elements are
formatting, which no reader of apdocs looks at (text is read whatever its formatting). Building
the tree without them costs a third to two fifths less (issue 12).

:func:`prune_formatting` returns the bytes with such blocks removed, or None when it cannot
vouch that the pruned bytes parse as the whole part would, minus those blocks: the same verdict
(well-formed with sound namespaces, or not), and otherwise the same tree. Blocks go only when:

* the part has an XML declaration naming UTF-8 (or none), then a root start tag binding ``w`` to
  WordprocessingML, and after it no namespace declaration (each prefix means what it means in
  the root start tag, everywhere) and no comment, CDATA section, processing instruction or DTD
  (a block inside one is text, not an element);
* each block comes straight after a ``>`` and straight before a ``<``. The bytes before a block
  are the same in both, so where one is in content so is the other, and no text runs together.
  Were the place inside an attribute value (the part is then not well-formed), the ``>`` and
  ``<`` left side by side would still be in that value, and the pruned bytes refused as well;
* each distinct block parses without fault on its own inside the part's root start tag (a
  repeated attribute, say, is beyond a pattern) and holds formatting only: elements of
  WordprocessingML (or Word 2010's additions to it), none of them one a reader looks for
  anywhere (controls' properties, tags and titles, text, runs, paragraphs, cells), a tab
  character outside tab stops, or a tracked change (a deleted paragraph mark merges paragraphs:
  the reader finds it in the paragraph's run properties).

The pruned part's root element is wrapped in :data:`WRAPPERS` elements, as deep as a block taken
out may reach: libxml2 refuses a part nested more than 256 elements deep, and so it refuses the
pruned part whenever it would refuse the whole one. Readers are given the root inside them
(:func:`inner_root`, which also refuses a second element or text beside the root).

Readers skip both blocks whole (``read_text``'s hidden subtrees), so they read from the pruned
tree what they read from the whole one. ``tests/test_prune.py`` holds reading with and without
pruning to the same records and errors, on LibreOffice re-saves, edited ones, the real-world
files and crafted faults. When the pruned bytes are refused, the whole part is parsed again for
the error it gives.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from apdocs.formats.xmlbytes import markup_declaration

W = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
_TABS = f"{{{W.decode()}}}tabs"

#: A paragraph's or run's property block between two tags (group 1: p or r; group 2: what it
#: holds, up to the block's first end tag of its own name). It starts with the ">" before it: a
#: literal start lets the engine skip to each candidate. What it holds is judged once per
#: distinct block (_sound): a form repeats a dozen.
_PROPERTIES = re.compile(rb"><w:([pr])Pr>((?:<(?!/w:\1Pr>)[^<>]*>)*+)</w:\1Pr>(?=<)")
#: The root element's name in a head (the XML declaration, if any, starts "<?").
_ROOT_NAME = re.compile(rb"<([A-Za-z_][^\s/>]*)")
_BINDS_W = b' xmlns:w="' + W + b'"'
#: Elements a reader looks for anywhere, or that hold or change text: a block holding one stays.
#: (A tracked deletion in a paragraph mark's run properties merges paragraphs.)
_KEEP = frozenset(
    "t r p tbl tr tc sdt sdtPr sdtContent tag alias br cr noBreakHyphen softHyphen gridSpan "
    "del ins moveFrom moveTo delText instrText delInstrText drawing pict object".split()
)

#: Elements around the root element in the pruned bytes. libxml2 refuses a part nested more than
#: 256 elements deep; a block taken out was at most this many levels (_sound), so wrapped in as
#: many, the pruned part is refused as too deep whenever the whole one would be (and then the
#: whole part is parsed, to decide). Readers are given the root inside them: they read down from
#: it, and their walks up stop at a paragraph, cell or the body, or read past unknown elements.
WRAPPERS = 3
_WRAPPER = "_"
_WRAP_OPEN, _WRAP_CLOSE = b"<_>" * WRAPPERS, b"</_>" * WRAPPERS
_XML_SPACE = " \t\r\n"

#: Most distinct blocks remembered per thread and root start tag as safe to take out.
MAX_KNOWN = 1024
_known = threading.local()


def prune_formatting(raw: bytes, head: bytes) -> bytes | None:
    """``raw`` without its paragraph and run property blocks (see the module doc), or None:
    parse it whole. ``head``: how the part starts, its XML declaration (naming UTF-8, or none)
    and root start tag, as ``ooxml._checkable_head`` found them."""
    if _BINDS_W not in head:
        return None
    start = len(head)
    # rfind: it only asks whether there is one, and runs about twice as fast as find here (see read_scan)
    if raw.rfind(b"xmlns", start) >= 0 or markup_declaration(raw, start):
        return None
    pieces = _PROPERTIES.split(raw)
    if len(pieces) == 1:
        return None  # nothing to take out
    known = _known_blocks(head)
    for block in set(zip(pieces[1::3], pieces[2::3], strict=True)) - known:
        if not _sound(head, *block):
            return None
        known.add(block)
    root = _ROOT_NAME.search(head)
    if root is None or len(pieces[0]) < len(head) - 1:
        return None  # (a block inside the head: in an attribute value, which the parser refuses)
    # the wrappers around the root element (see WRAPPERS), in the first and the last piece
    first, at = pieces[0], root.start()
    pieces[0] = first[:at] + _WRAP_OPEN + first[at:]
    pieces[-1] += _WRAP_CLOSE
    return b">".join(pieces[0::3])


def inner_root(top: etree._Element) -> etree._Element | None:
    """The root element parsed from :func:`prune_formatting`' bytes, inside its wrappers;
    None when the wrappers hold more than the one root element (and whitespace after it), which
    the whole part would refuse: then the whole part is to be parsed."""
    at = top
    for _ in range(WRAPPERS):
        if at.tag != _WRAPPER or len(at) != 1 or (at.text or "").strip(_XML_SPACE):
            return None
        at = at[0]
    if (at.tail or "").strip(_XML_SPACE):
        return None
    return at


def _known_blocks(head: bytes) -> set[tuple[bytes, bytes]]:
    """The blocks found safe to take out of parts that start with ``head`` (what a block's
    prefixes mean depends on the root start tag; every return of a form has the same one)."""
    table: dict[bytes, set[tuple[bytes, bytes]]] | None = getattr(_known, "table", None)
    if table is None:
        table = _known.table = {}
    known = table.get(head)
    if known is None or len(known) >= MAX_KNOWN:
        if sum(len(k) for k in table.values()) >= MAX_KNOWN:
            table.clear()
        known = table[head] = set()
    return known


def _sound(head: bytes, kind: bytes, block: bytes) -> bool:
    """Whether a block parses without fault on its own, inside the part's own root start tag
    (so each prefix means what it means there), and holds only WordprocessingML formatting:
    no element of _KEEP, none in another namespace."""
    root = _ROOT_NAME.search(head)
    if root is None or head.endswith(b"/>"):
        return False
    name = b"w:" + kind + b"Pr"
    whole = head + b"<" + name + b">" + block + b"</" + name + b"></" + root.group(1) + b">"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        tree = etree.fromstring(whole, parser=parser)
    except etree.XMLSyntaxError:  # namespace faults too (an unbound prefix, an attribute twice by namespace)
        return False
    for el in tree[0].iterdescendants():
        qname = etree.QName(el) if isinstance(el.tag, str) else None
        if qname is None or qname.namespace not in (W.decode(), _W14) or qname.localname in _KEEP:
            return False
        parent = el.getparent()
        if qname.localname == "tab" and (parent is None or parent.tag != _TABS):
            return False  # a tab character where a reader would find it, not a tab stop
        if sum(1 for _ in el.iterancestors()) > WRAPPERS:  # the block itself has one: the root
            return False  # nested deeper than the wrappers make up for
    return True
