"""Parsing a Word document's main part without its formatting blocks must read exactly as parsing it whole.

``ooxml.PRUNE_FORMATTING`` switches the pruning (``apdocs/formats/prune.py``) off. Every input
here is read both ways, and the records (answers, header, warnings, in order) or the typed errors
(code and message) must be equal: returns really re-saved by LibreOffice, and edited; the
real-world .docx files; and parts crafted so that a block would hide a fault or sit where it is no
element (in an attribute value, a comment, CDATA, before the root), or where a reader needs it.
"""

from __future__ import annotations

import io
import zipfile
from unittest import mock

import pytest

from apdocs.formats import ooxml
from apdocs.formats.prune import WRAPPERS, prune_formatting
from apdocs.forms import FORM_IDS
from apdocs.record import ParsedReturn
from tests.corpus import real_world_docx
from tests.docx_edit import edit_document, edit_part
from tests.test_docx_tree_route_fast import EDITS, outcome

DOC = "word/document.xml"


def assert_same(data: bytes, path: str) -> ParsedReturn | tuple[str, str]:
    pruned = outcome(data, path)
    with mock.patch.object(ooxml, "PRUNE_FORMATTING", False):
        whole = outcome(data, path)
    assert pruned == whole, path
    if isinstance(pruned, ParsedReturn) and isinstance(whole, ParsedReturn):
        assert pruned.to_dict() == whole.to_dict()  # the notices' order and context too
    return pruned


def document(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(DOC)


def was_pruned(data: bytes) -> bool:
    """Whether a package's document part is one pruning takes blocks out of (a damaged package,
    whose typed error the caller compares, has none to prune)."""
    try:
        xml = document(data)
    except Exception:  # whatever zipfile meets in a damaged package
        return False
    return pruned(xml) is not None


def pruned(xml: bytes) -> bytes | None:
    head = ooxml._checkable_head(xml)
    return prune_formatting(xml, head[0]) if head is not None else None


# -- LibreOffice re-saves ---------------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_resaves_read_the_same_pruned_and_whole(resaved):
    for name, data in resaved.items():
        xml = document(data)
        less = pruned(xml)
        assert less is not None and len(less) < len(xml) // 2, name  # most of a re-save is formatting
        rec = assert_same(data, f"{name}.docx")
        assert isinstance(rec, ParsedReturn), name


@pytest.mark.libreoffice
@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_libreoffice_resaves_read_the_same_pruned_and_whole(resaved, edit):
    for form_id in FORM_IDS:
        for name in (f"{form_id}-0", f"{form_id}-blank"):
            assert_same(edit_document(resaved[name], EDITS[edit]), f"{name}-{edit}.docx")


#: Changes to a re-save's document.xml, each making a block hide a fault, sit where it is no
#: element, or hold what a reader needs: (old, new, count) for bytes.replace.
_RPR = b"<w:rPr><w:b/></w:rPr>"
CRAFTED = {
    # a block in an attribute value: not well-formed, whole or pruned
    "in_an_attribute": (b"<w:body>", b'<w:body><w:p w:rsidR="><w:rPr><w:b/></w:rPr><"/>', 1),
    "in_an_attribute_alone": (b"<w:body>", b"<w:body><w:p w:rsidR='><w:rPr><w:b/></w:rPr>'/>", 1),
    # a repeated attribute inside a block, an undeclared prefix, a reference no DTD defines
    "repeated_attribute": (b"<w:rPr>", b'<w:rPr><w:b w:val="1" w:val="0"/>', 1),
    "undeclared_prefix": (b"<w:rPr>", b"<w:rPr><zz:b/>", 1),
    "undefined_entity": (b"<w:rPr>", b'<w:rPr><w:b w:val="&nope;"/>', 1),
    "reference": (b"<w:rPr>", b'<w:rPr><w:b w:val="&amp;&#49;"/>', -1),
    # a block as text: in a comment, in CDATA inside a text element, in a processing instruction
    "in_a_comment": (b"<w:body>", b"<w:body><!-- ><w:rPr><w:b/></w:rPr>< -->", 1),
    "in_cdata": (b"<w:t>", b"<w:t><![CDATA[><w:rPr><w:b/></w:rPr><]]>", 1),
    "in_a_processing_instruction": (b"<w:body>", b"<w:body><?x ><w:rPr></w:rPr><?>", 1),
    # a block as text between two text pieces: not taken out (text would run together)
    "between_text": (b"<w:t>", b"<w:t>a" + _RPR + b"b", -1),
    "text_after": (b"<w:t>", b"<w:t>>" + _RPR + b"b", -1),
    # a prefix declared again, or w bound elsewhere
    "w_redeclared": (b"<w:body>", b'<w:body xmlns:w="urn:other">', 1),
    "w_declared_in_body": (b"<w:body>", b'<w:body xmlns:q="urn:other">', 1),
    # a prefix bound again to WordprocessingML: two attributes the root's bindings tell apart are one
    "prefix_bound_again": (
        b"<w:body>",
        b'<w:body xmlns:w10="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b'<w:p><w:pPr><w:rPr><w:b w:val="1" w10:val="0"/></w:rPr></w:pPr></w:p>',
        1,
    ),
    # what readers need: a deleted paragraph mark, a control's title, text and tabs in a block
    "deleted_mark": (b"<w:rPr>", b'<w:rPr><w:del w:id="9" w:author="x" w:date="2020-01-01T00:00:00Z"/>', -1),
    "control_in_a_block": (
        b"<w:pPr>",
        b'<w:pPr><w:sdt><w:sdtPr><w:alias w:val="Provider name [provider_name]"/></w:sdtPr></w:sdt>',
        3,
    ),
    "text_in_a_block": (b"<w:rPr>", b"<w:rPr><w:t>hidden</w:t>", 5),
    "tab_in_a_block": (b"<w:rPr>", b"<w:rPr><w:tab/>", -1),
    "other_namespace": (b"<w:rPr>", b"<w:rPr><w14:shadow/>", -1),
    # nested one level past libxml2's limit of 256 only through a block: the whole part is refused
    "nested_to_the_limit": (
        b"<w:body>",
        b"<w:body>" + b"<w:sdt><w:sdtContent>" * 126 + b"<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr></w:p>"
        b"" + b"</w:sdtContent></w:sdt>" * 126,
        1,
    ),
    # more than the root at the top (the pruned bytes' wrappers would hold them)
    "second_root": (b"</w:body></w:document>", b"</w:body></w:document><x/>", 1),
    "text_after_the_root": (b"</w:body></w:document>", b"</w:body></w:document>tail", 1),
    # faults elsewhere: the message (line and column) is the whole part's
    "mismatched_tag": (b"</w:tc>", b"</w:tcx>", 1),
    "cut_short": (b"</w:body>", b"", 1),
    "block_before_the_root": (b"<w:document", b"<w:rPr></w:rPr><w:document", 1),
}


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_parts_read_the_same_pruned_and_whole(resaved, case):
    old, new, count = CRAFTED[case]
    for form_id in FORM_IDS:
        data = resaved[f"{form_id}-1"]
        assert old in document(data), case
        assert_same(edit_part(data, DOC, lambda raw: raw.replace(old, new, count)), f"{form_id}-{case}.docx")


@pytest.mark.libreoffice
def test_crafted_faults_are_the_whole_parts_errors(resaved):
    """The faults above are refused both ways with the same message, which names the whole part's place."""
    data = resaved["appendix4-1"]
    faults = ("in_an_attribute", "repeated_attribute", "prefix_bound_again", "nested_to_the_limit", "mismatched_tag")
    for case in (*faults, "block_before_the_root", "second_root", "text_after_the_root"):
        old, new, count = CRAFTED[case]
        got = assert_same(edit_part(data, DOC, lambda raw, o=old, n=new, c=count: raw.replace(o, n, c)), "x.docx")
        assert isinstance(got, tuple) and got[0] == "XML_INVALID", case


@pytest.mark.libreoffice
def test_what_a_reader_needs_stays(resaved):
    """A block holding a tracked deletion, a control's title, text, or anything outside
    WordprocessingML is not taken out; nor is anything when the part declares a prefix again."""
    xml = document(resaved["appendix4-1"])
    assert pruned(xml) is not None
    kept = ("deleted_mark", "control_in_a_block", "text_in_a_block", "tab_in_a_block", "w_declared_in_body", "in_a_comment")
    for case in (*kept, "in_cdata"):
        old, new, count = CRAFTED[case]
        less = pruned(xml.replace(old, new, count))
        assert less is None or new in less, case  # the block holding it is still there


def test_a_part_without_w_bound_or_blocks_is_parsed_whole():
    head = b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="urn:not-word">'
    assert prune_formatting(head + b"<w:body><w:p><w:rPr><w:b/></w:rPr><w:r/></w:p></w:body></w:document>", head) is None
    word = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    assert prune_formatting(word + b"<w:body/></w:document>", word) is None  # nothing to take out
    body = b"<w:body><w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr><w:r><w:rPr><w:i/></w:rPr><w:t>x</w:t></w:r></w:p></w:body>"
    got = prune_formatting(word + body + b"</w:document>", word)
    wrap = b"<_>" * WRAPPERS, b"</_>" * WRAPPERS  # the root inside its wrappers
    assert got == wrap[0] + word + b"<w:body><w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>" + wrap[1]


# -- the real-world files ---------------------------------------------------------------


def test_real_world_docx_files_read_the_same_pruned_and_whole():
    files = real_world_docx()
    took = 0
    for p in files:
        data = p.read_bytes()
        assert_same(data, str(p))  # a record or the same typed error, both ways
        took += was_pruned(data)
    assert took > 50  # the pruning really ran on many of them (Word's own files among them)


def test_fuzzed_returns_read_the_same_pruned_and_whole():
    """The fuzzer's damaged returns (zip, XML and value mutations of rendered forms, samples and
    LibreOffice re-saves) give the same record or typed error with and without pruning (3,000
    cases agreed when this was written; a slice runs here)."""
    from benchmarks.fuzz import make_case

    took = 0
    for index in range(400):
        name, data = make_case(index, seed=41)
        if not name.endswith(".docx"):
            continue
        assert_same(data, name)
        took += was_pruned(data)
    assert took > 20  # mutated re-saves did take the pruned route
