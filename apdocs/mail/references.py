"""Deterministic reference ids for every document a pack sends.

One id per school x provider x form (Appendices 2 and 3) or school x pupil x provider x
form (Appendix 4), derived from the normalised names, so packing the same roster twice
gives the same ids and a returned form can be traced to what was sent. The id carries
no name: only a short hash (Crockford base32, no I/L/O/U to misread).
"""

from __future__ import annotations

import hashlib

from apdocs.roster import name_key

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SHORT = {"appendix2": "A2", "appendix3": "A3", "appendix4": "A4"}


def _b32(digest: bytes, n: int) -> str:
    value = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(n):
        value, r = divmod(value, 32)
        out.append(_ALPHABET[r])
    return "".join(out)


def reference_id(form_id: str, school: str, provider: str, pupil_reference: str | None = None) -> str:
    """E.g. ``VS-A4-7K3Q9M2P``: same inputs (up to case/punctuation), same id."""
    key = "|".join((form_id, name_key(school), name_key(provider), (pupil_reference or "").strip().casefold()))
    return f"VS-{_SHORT.get(form_id, 'XX')}-{_b32(hashlib.sha256(key.encode()).digest(), 8)}"
