"""Names shared by the xlsx renderer and reader: sheets, defined names, property keys.

Kept in one small module so the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import re

from apdocs.forms.model import TAG_PREFIX, FormDefinition

#: Very hidden sheet holding key/value metadata and the slot -> cell map.
META_SHEET = "_apdocs"
#: Hidden sheet holding the dropdown lists.
LISTS_SHEET = "Lists"
#: Workbook-level names of the dropdown ranges on the Lists sheet.
LIST_YES_NO = "list_yes_no"
LIST_JUDGEMENT = "list_judgement"

#: Custom document property names (docProps/custom.xml).
PROP_FORM = f"{TAG_PREFIX}.form"
PROP_VERSION = f"{TAG_PREFIX}.version"
PROP_REFERENCE = f"{TAG_PREFIX}.reference"

#: Header row of the slot map on the metadata sheet.
MAP_HEADER = ("slot", "cell", "name")

#: Excel's limit on the characters in one cell.
MAX_CELL_CHARS = 32767

_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9_]")


def slot_name(slot_id: str) -> str:
    """Defined name of a slot's answer cell.

    ``q1`` -> ``apdocs_q1``; ``e1.seen`` -> ``apdocs_e1_seen``; ``a1.1`` -> ``apdocs_a1_1``;
    ``insurance.employers_liability.amount`` -> ``apdocs_insurance_employers_liability_amount``.
    Every character that Excel would not accept in a name (the dot would be legal, but
    an underscore is what people expect and survives every suite) becomes ``_``. The
    mapping is not inverted by string surgery: readers use :func:`names_for` on the form,
    which also guarantees no two slots share a name.
    """
    return f"{TAG_PREFIX}_" + _NOT_NAME_CHAR.sub("_", slot_id)


def names_for(form: FormDefinition) -> dict[str, str]:
    """``defined name -> slot id`` for every slot of ``form`` (names compared case-insensitively by Excel)."""
    out: dict[str, str] = {}
    for slot in form.slots():
        name = slot_name(slot.id)
        if name.lower() in out:
            raise ValueError(f"slots {out[name.lower()]!r} and {slot.id!r} map to the same defined name {name!r}")
        out[name.lower()] = slot.id
    return out


def keywords(form: FormDefinition) -> str:
    """Core ``keywords`` property: the form tag without a slot, e.g. ``apdocs:appendix4:1.0``."""
    return f"{TAG_PREFIX}:{form.id}:{form.version}"
