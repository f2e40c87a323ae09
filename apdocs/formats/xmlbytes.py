"""What can be told about an XML part from its bytes alone, for the readers that skip the tree."""

from __future__ import annotations

_LT = ord("<")


def markup_declaration(xml: bytes, start: int) -> bool:
    """Whether a comment, CDATA section, DOCTYPE or processing instruction follows ``start``:
    each begins "<!" or "<?", found by the rare "!" and "?" (a memchr each; text holds few)."""
    for mark in (b"!", b"?"):
        at = xml.find(mark, start)
        while at >= 0:
            if xml[at - 1] == _LT:
                return True
            at = xml.find(mark, at + 1)
    return False
