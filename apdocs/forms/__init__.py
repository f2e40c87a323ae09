"""Form definitions (data) and the model built from them."""

from apdocs.forms.model import (
    FORM_IDS,
    Entry,
    FormDefinition,
    Slot,
    all_forms,
    load_form,
    parse_tag,
    slot_id_from_title,
)

__all__ = ["FORM_IDS", "Entry", "FormDefinition", "Slot", "all_forms", "load_form", "parse_tag", "slot_id_from_title"]
