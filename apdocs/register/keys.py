"""A finding's stable key: what it is about, never where it sat in a sheet.

The key is ``F-`` and the first 10 hex digits of the sha256 of the finding's code, school,
pupil, provider, form and item, each normalised (case, spacing and punctuation in names
ignored), so re-ordering rows, re-running, or a school retyping its own name in another
case gives the same key. Findings about one file as a whole (unreadable, unmatched,
superseded) have no item; the file's name stands in for it, so two such files differ.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from apdocs.reconcile.findings import Finding
from apdocs.record_scrub import printable_text
from apdocs.roster import name_key

# Codes whose subject is one returned file rather than a slot of a placement's form.
FILE_CODES = frozenset({"RETURN_UNREADABLE", "RETURN_UNMATCHED", "RETURN_SUPERSEDED"})


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def finding_key(f: Finding) -> str:
    item = f.item
    if not item and f.code in FILE_CODES and f.source:
        item = PurePath(f.source).name
    parts = (f.code, name_key(f.school or ""), _norm(f.pupil_reference), name_key(f.provider or ""), _norm(f.form), _norm(item))
    # printable_text: a file name that is not UTF-8 carries lone surrogates, which UTF-8 cannot encode.
    digest = hashlib.sha256(printable_text("\x1f".join(parts)).encode("utf-8")).hexdigest()
    return "F-" + digest[:10]
