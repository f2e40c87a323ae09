"""``docProps/custom.xml`` read without a tree (read._PLAIN_CUSTOM) gives what the tree gives."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apdocs.errors import ParseError
from apdocs.formats.docx import read
from apdocs.formats.ooxml import parse_xml

_CP = read._CP
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


class _Package:
    """The two calls _custom_properties makes of a package, on one custom.xml."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return name == "docProps/custom.xml"

    def part(self, name: str) -> bytes:
        return self.raw

    def xml(self, name: str) -> object:
        return parse_xml(self.raw, path=None, part=name)


_DECLARATION = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def _custom(pairs: list[tuple[str, str]], *, declaration: str = _DECLARATION) -> bytes:
    props = "".join(
        f'<property fmtid="{_FMTID}" pid="{i + 2}" name="{name}"><vt:lpwstr>{value}</vt:lpwstr></property>'
        for i, (name, value) in enumerate(pairs)
    )
    return f'{declaration}<Properties xmlns="{_CP}" xmlns:vt="{_VT}">{props}</Properties>'.encode()


def _both(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """(without the tree, from the tree, whether the plain path took it)."""
    plain = read._PLAIN_CUSTOM.fullmatch(raw) is not None
    fast = read._custom_properties(_Package(raw))
    with monkeypatch.context() as m:
        m.setattr(read, "_PLAIN_CUSTOM", re.compile(rb"(?!)"))  # never matches: the tree reads it
        tree = read._custom_properties(_Package(raw))
    return fast, tree, plain


_APDOCS = [("apdocs.form", "appendix4"), ("apdocs.version", "1.0"), ("apdocs.reference", "VS/2020/0042")]

CASES = {
    "as apdocs writes it": (_custom(_APDOCS), True),
    "as Word keeps it": (_custom(_APDOCS, declaration='<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'), True),
    "no properties": (_custom([]), True),
    "padded value": (_custom([("apdocs.reference", "  VS 1  ")]), True),
    "blank value": (_custom([("apdocs.reference", "   ")]), True),
    "empty value": (_custom([("apdocs.reference", "")]), True),
    "empty name": (_custom([("", "x")]), True),
    "a name twice": (_custom([("apdocs.form", "appendix2"), ("apdocs.form", "appendix4")]), True),
    "quotes and brackets": (_custom([("a'b]", 'it\'s "[x]" ]]')]), True),
    "a reference": (_custom([("apdocs.reference", "A &amp; B &#65;")]), False),
    "a tab in a value": (_custom([("apdocs.reference", "A\tB")]), False),
    "a tab in a name": (_custom([("apdocs.\treference", "AB")]), False),
    "a line end in a value": (_custom([("apdocs.reference", "A\r\nB")]), False),
    "non-ASCII": (_custom([("apdocs.reference", "Zoë – 1")]), False),
    "CDATA end in text (not well-formed)": (_custom([("apdocs.reference", "a]]>b")]), False),
    "damaged": (_custom(_APDOCS)[:-3], False),
}


@pytest.mark.parametrize("name", CASES)
def test_custom_properties_without_the_tree_are_the_trees(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, plain = CASES[name]
    fast, tree, took = _both(raw, monkeypatch)
    assert took == plain
    assert fast == tree


def test_a_plain_custom_part_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_tree(self: _Package, name: str) -> object:
        raise AssertionError("the tree was built")

    monkeypatch.setattr(_Package, "xml", no_tree)
    assert read._custom_properties(_Package(_custom(_APDOCS))) == dict(_APDOCS)


def test_unreadable_custom_part_gives_nothing() -> None:
    class Broken(_Package):
        def part(self, name: str) -> bytes:
            raise ParseError("bad CRC", code="ZIP_INVALID")

    assert read._custom_properties(Broken(b"")) == {}


#: Mostly what the plain path takes, with every character that makes it decline (or the part damaged).
_TEXT = st.text(st.sampled_from("ab .-/0'\"[]]]>&<;#é\t\r\n\x01"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=4))
def test_any_custom_properties_read_alike(pairs: list[tuple[str, str]]) -> None:
    raw = _custom(pairs)  # not escaped: what a hand edit or another tool might leave, well-formed or not
    with pytest.MonkeyPatch.context() as m:
        fast, tree, plain = _both(raw, m)
    assert fast == tree
    _PLAIN_SEEN.add(plain)


_PLAIN_SEEN: set[bool] = set()


def test_both_paths_were_generated() -> None:
    """The property test above met parts either way (run after it, in file order)."""
    assert _PLAIN_SEEN == {True, False}
