"""apdocs: alternative-provision quality-assurance forms for Virtual Schools.

Render the Virtual School's Appendix 2, 3 and 4 forms as fillable Word and Excel
documents, read returned forms back into typed records, reconcile them against the
guidance, and report to Virtual School officers.
"""

from apdocs.api import render_form, write_form
from apdocs.errors import ApdocsError, Notice
from apdocs.forms import FORM_IDS, FormDefinition, load_form
from apdocs.record import ParsedReturn, ParseFailure

__all__ = [
    "FORM_IDS",
    "ApdocsError",
    "FormDefinition",
    "Notice",
    "ParseFailure",
    "ParsedReturn",
    "load_form",
    "render_form",
    "write_form",
]
