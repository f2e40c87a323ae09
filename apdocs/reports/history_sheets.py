"""The tracker's Changes and Providers sheets, from the register's memory (streamed: see sheet_stream)."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from apdocs.forms import load_form
from apdocs.reconcile.engine import FORM_TITLES
from apdocs.register.model import RunView
from apdocs.register.providers import COVERS, ProviderRow
from apdocs.reports.sheet_stream import Sheet, Styles
from apdocs.roster import PROVIDER_TYPE_LABELS

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
CHANGE_LABELS = {"new": "New", "resolved": "Resolved", "reopened": "Reopened", "accepted": "Accepted"}
COVER_LABELS = {"employers_liability": "EL", "public_liability": "PL", "professional_indemnity": "PI"}
DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = '"£"#,##0'


def _row(sheet: Sheet, values: list[Any], *, header: bool = False, formats: dict[int, str] | None = None) -> None:
    st = sheet.styles
    if header:
        sheet.append([sheet.cell(v, st(font=HEADER_FONT, fill=HEADER_FILL, alignment=WRAP)) for v in values])
        return
    formats = formats or {}
    cells = []
    for c, v in enumerate(values, 1):
        fmt = DATE_FORMAT if hasattr(v, "isoformat") else formats.get(c)
        cells.append(sheet.cell(v, st(alignment=WRAP, number_format=fmt)))
    sheet.append(cells)


def changes(wb: Workbook, styles: Styles, view: RunView) -> None:
    sheet = Sheet(wb, "Changes", styles, [10, 11, 14, 9, 30, 20, 12, 22, 11, 18, 50, 10, 14, 40])
    cols = ["Change", "On", "Key", "Severity", "Code", "School", "Pupil reference", "Provider", "Form", "Item", "Message"]
    cols += ["Status now", "Decision by", "Officer note"]
    sheet.ws.freeze_panes = "A4"
    sheet.ws.auto_filter.ref = f"A3:{get_column_letter(len(cols))}{max(4, len(view.changes) + 3)}"
    since = f"since the run as of {view.previous_as_of.isoformat()}" if view.previous_as_of else "(the register's first run)"
    sheet.append([sheet.cell(f"Changes {since}, to this run as of {view.as_of.isoformat()}", styles(font=BOLD))])
    sheet.blank()
    _row(sheet, cols, header=True)
    for ch in view.changes:
        f, d = ch.finding, ch.finding.decision
        values = [CHANGE_LABELS[ch.event], ch.on, f.key, f.severity, f.code, f.school, f.pupil_reference, f.provider]
        values += [FORM_TITLES.get(f.form or "", f.form), f.item, f.message, f.status, d.by if d else None, f.note]
        _row(sheet, values)
    if not view.changes:
        sheet.append([sheet.cell("Nothing changed.")])


def providers(wb: Workbook, styles: Styles, rows: list[ProviderRow]) -> None:
    sheet = Sheet(wb, "Providers", styles, [26, 12, 18, 24, 12, 11, 11, 11, 11, 11, 11, 50, 40])
    sheet.ws.freeze_panes = "B2"
    items = [it.id for it in load_form("appendix2").items]
    cols = ["Provider", "URN (DfE registration)", "Type", "Schools", "Insurance from Appendix 2 of"]
    for cover in COVERS:
        cols += [f"{COVER_LABELS[cover]} cover", f"{COVER_LABELS[cover]} expiry"]
    cols += ["Evidence seen by any school", "Not seen by any school"]
    _row(sheet, cols, header=True)
    money = {c: MONEY_FORMAT for c in range(6, 6 + 2 * len(COVERS), 2)}
    for p in rows:
        values: list[Any] = [p.name, p.urn or "none", PROVIDER_TYPE_LABELS.get(p.type, p.type), "\n".join(p.schools)]
        values.append(p.insurance_from)
        for cover in COVERS:
            held = p.covers.get(cover)
            values += [held.amount if held else None, held.expiry if held else None]
        seen = [f"{e} ({d.isoformat()})" if d else f"{e} (undated)" for e, d in p.evidence.items()]
        values += [", ".join(seen) or None, ", ".join(e for e in items if e not in p.evidence) or None]
        _row(sheet, values, formats=money)
