"""The tracker's Changes and Providers sheets, from the register's memory."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from apdocs.forms import load_form
from apdocs.reconcile.engine import FORM_TITLES
from apdocs.register.model import RunView
from apdocs.register.providers import COVERS, ProviderRow
from apdocs.reports.safe import set_cell
from apdocs.roster import PROVIDER_TYPE_LABELS

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
WRAP = Alignment(wrap_text=True, vertical="top")
CHANGE_LABELS = {"new": "New", "resolved": "Resolved", "reopened": "Reopened", "accepted": "Accepted"}
COVER_LABELS = {"employers_liability": "EL", "public_liability": "PL", "professional_indemnity": "PI"}


def _row(ws: Worksheet, r: int, values: list[Any], *, header: bool = False) -> None:
    for c, v in enumerate(values, 1):
        cell = set_cell(ws.cell(row=r, column=c), v)
        cell.alignment = WRAP
        if header:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        elif hasattr(v, "isoformat"):
            cell.number_format = "yyyy-mm-dd"


def _widths(ws: Worksheet, widths: list[float]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def changes(ws: Worksheet, view: RunView) -> None:
    since = f"since the run as of {view.previous_as_of.isoformat()}" if view.previous_as_of else "(the register's first run)"
    set_cell(ws.cell(row=1, column=1), f"Changes {since}, to this run as of {view.as_of.isoformat()}").font = Font(bold=True)
    cols = ["Change", "On", "Key", "Severity", "Code", "School", "Pupil reference", "Provider", "Form", "Item", "Message"]
    cols += ["Status now", "Decision by", "Officer note"]
    _row(ws, 3, cols, header=True)
    for r, ch in enumerate(view.changes, 4):
        f, d = ch.finding, ch.finding.decision
        values = [CHANGE_LABELS[ch.event], ch.on, f.key, f.severity, f.code, f.school, f.pupil_reference, f.provider]
        values += [FORM_TITLES.get(f.form or "", f.form), f.item, f.message, f.status, d.by if d else None, f.note]
        _row(ws, r, values)
    if not view.changes:
        set_cell(ws.cell(row=4, column=1), "Nothing changed.")
    _widths(ws, [10, 11, 14, 9, 30, 20, 12, 22, 11, 18, 50, 10, 14, 40])
    ws.freeze_panes = "A4"
    ws.auto_filter.ref = f"A3:{get_column_letter(len(cols))}{max(4, len(view.changes) + 3)}"


def providers(ws: Worksheet, rows: list[ProviderRow]) -> None:
    items = [it.id for it in load_form("appendix2").items]
    cols = ["Provider", "URN (DfE registration)", "Type", "Schools", "Insurance from Appendix 2 of"]
    for cover in COVERS:
        cols += [f"{COVER_LABELS[cover]} cover", f"{COVER_LABELS[cover]} expiry"]
    cols += ["Evidence seen by any school", "Not seen by any school"]
    _row(ws, 1, cols, header=True)
    for r, p in enumerate(rows, 2):
        values: list[Any] = [p.name, p.urn or "none", PROVIDER_TYPE_LABELS.get(p.type, p.type), "\n".join(p.schools)]
        values.append(p.insurance_from)
        for cover in COVERS:
            held = p.covers.get(cover)
            values += [held.amount if held else None, held.expiry if held else None]
        seen = [f"{e} ({d.isoformat()})" if d else f"{e} (undated)" for e, d in p.evidence.items()]
        values += [", ".join(seen) or None, ", ".join(e for e in items if e not in p.evidence) or None]
        _row(ws, r, values)
    for c in range(6, 6 + 2 * len(COVERS), 2):
        for r in range(2, len(rows) + 2):
            ws.cell(row=r, column=c).number_format = '"£"#,##0'
    _widths(ws, [26, 12, 18, 24, 12, 11, 11, 11, 11, 11, 11, 50, 40])
    ws.freeze_panes = "B2"
