"""Golden-file comparison of XML parts, XML-aware (C14N), never zip bytes.

Set ``APDOCS_UPDATE_GOLDEN=1`` to rewrite the golden files after a deliberate change,
then review their diff before committing.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from lxml import etree

GOLDEN = Path(__file__).parent / "golden"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def canonical(xml: bytes) -> str:
    """The part with formatting whitespace removed, in canonical (C14N) form, one element per line."""
    root = etree.fromstring(xml, _PARSER)
    for el in root.iter():
        if el.text is not None and not el.text.strip() and len(el):
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    etree.indent(root, space=" ")
    return etree.tostring(root, method="c14n").decode("utf-8")


def assert_matches_golden(xml: bytes, name: str) -> None:
    actual = canonical(xml)
    path = GOLDEN / name
    if os.environ.get("APDOCS_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual + "\n", encoding="utf-8")
    expected = canonical(path.read_bytes())
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(), "golden", "rendered", lineterm="", n=2))
        pytest.fail(f"{name} differs from {path} (APDOCS_UPDATE_GOLDEN=1 to accept):\n{diff[:4000]}")
