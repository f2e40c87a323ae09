"""apdocs: alternative-provision quality-assurance forms for Virtual Schools.

Render the Virtual School's Appendix 2, 3 and 4 forms as fillable Word and Excel
documents, read returned forms back into typed records, reconcile them against the
guidance, and report to Virtual School officers.

    import apdocs
    data = apdocs.render_form("appendix4", "docx", {"school_name": "Hollybank Primary"})
    record = apdocs.parse(data)
    roster = apdocs.load_roster("samples/roster.csv")
    result = apdocs.reconcile(roster, apdocs.parse_many(["samples/returns"]), apdocs.load_config())
"""

from apdocs.api import render_form, write_form
from apdocs.errors import ApdocsError, Notice
from apdocs.forms import FORM_IDS, FormDefinition, load_form
from apdocs.parse import parse, parse_many
from apdocs.reconcile import load_config, reconcile
from apdocs.record import ParsedReturn, ParseFailure
from apdocs.roster import load_roster

__all__ = [
    "FORM_IDS",
    "ApdocsError",
    "FormDefinition",
    "Notice",
    "ParseFailure",
    "ParsedReturn",
    "load_config",
    "load_form",
    "load_roster",
    "parse",
    "parse_many",
    "reconcile",
    "render_form",
    "write_form",
]
