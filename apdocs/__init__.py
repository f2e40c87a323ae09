"""apdocs: alternative-provision quality-assurance forms for Virtual Schools.

Render the Virtual School's Appendix 2, 3 and 4 forms as fillable Word and Excel
documents, read returned forms back into typed records, reconcile them against the
guidance, and report to Virtual School officers.

Run from the repository root (the paths are its ``samples/``)::

    import datetime as dt
    import apdocs
    data = apdocs.render_form("appendix4", "docx", {"school_name": "Hollybank Primary"})
    record = apdocs.parse(data)
    roster = apdocs.load_roster("samples/roster.csv")
    results = apdocs.parse_many(["samples/returns"])
    # as_of is required: every date rule (stale evidence, expired cover) counts back from it
    result = apdocs.reconcile(roster, results, apdocs.load_config(), dt.date(2025, 3, 31))
    print(record.form, len(result.findings), "findings")
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
