"""The tracker workbook a VS officer works from daily, and the findings CSV.

Sheets: Summary (counts by severity, RAG per school), Placements (pupil x provider,
each form's status linked to its file), Findings (an Excel table with filters),
Evidence (commissioner x provider against e1..e25, conditionally formatted) and
Chase list (what each school still owes, with its contact email).

Given the register's view of the run (:class:`apdocs.register.model.RunView`), the Findings
sheet also shows each finding's status, first raised, days open, and the columns officers
edit (Key, Decision, Officer note: see :mod:`apdocs.reports.tracker_decisions`); the chase
list leaves out accepted findings; and Changes and Providers sheets are added.

All text that came from a school or the roster is written through
:func:`apdocs.reports.safe.set_cell`, so it can never become a formula.
"""

from __future__ import annotations

import csv
import io
import os
import urllib.parse
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from apdocs.fileio import atomic_write_bytes
from apdocs.forms import load_form
from apdocs.reconcile import SEVERITIES, Result
from apdocs.reconcile.engine import FORM_TITLES, FORMS
from apdocs.reconcile.findings import Finding
from apdocs.record_scrub import printable_text
from apdocs.register.keys import finding_key
from apdocs.register.model import RunView
from apdocs.register.providers import ProviderRow
from apdocs.reports import history_sheets
from apdocs.reports.safe import csv_cell, set_cell
from apdocs.reports.tracker_decisions import FINDINGS_SHEET, write_written_sheet
from apdocs.roster import PROVIDER_TYPE_LABELS

# Excel's own "Good / Neutral / Bad" colours, which officers already read as RAG.
FILLS = {
    "red": PatternFill("solid", fgColor="FFC7CE"),
    "amber": PatternFill("solid", fgColor="FFEB9C"),
    "green": PatternFill("solid", fgColor="C6EFCE"),
    "grey": PatternFill("solid", fgColor="EDEDED"),
    "header": PatternFill("solid", fgColor="1F4E78"),
}
FONTS = {"red": Font(color="9C0006"), "amber": Font(color="9C5700"), "green": Font(color="006100")}
SEVERITY_RAG = {"critical": "red", "error": "red", "warning": "amber", "info": "green"}
HEADER_FONT = Font(bold=True, color="FFFFFF")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
THIN = Border(bottom=Side(style="thin", color="BFBFBF"))
FINDING_COLUMNS = ("Severity", "Code", "School", "Pupil reference", "Provider", "Form", "Item", "Message", "Guidance", "Source")
# With a register: what it remembers, then the three columns an officer may edit.
REGISTER_COLUMNS = ("Status", "First raised", "Days open", "Key", "Decision", "Officer note")
EVIDENCE_LABELS = {
    "ok": "SEEN",
    "not_seen": "NOT SEEN",
    "no_date": "NO DATE",
    "stale": "STALE",
    "exempt": "EXEMPT",
    "no_return": "-",
}
STATUS_LABELS = {"received": "Received", "missing": "MISSING", "not_required": "Not required (SEIP)"}


def build_tracker(
    result: Result,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    view: RunView | None = None,
    providers: list[ProviderRow] | None = None,
) -> bytes:
    """The tracker workbook as bytes (no I/O). Links to returns are relative to ``base_dir`` if given.

    ``view``: the register's view of this run (statuses, decisions, changes); ``providers``: the
    register's providers across schools. Without them the tracker is a snapshot of ``result``.
    """
    wb = Workbook()
    wb.properties.title = "Alternative provision quality assurance: tracker"
    wb.properties.language = "en-GB"
    _summary(wb.active, result)
    _placements(wb.create_sheet("Placements"), result, base_dir)
    _findings(wb.create_sheet(FINDINGS_SHEET), result, view)
    _evidence(wb.create_sheet("Evidence"), result)
    _chase(wb.create_sheet("Chase list"), result, view)
    if view is not None:
        history_sheets.changes(wb.create_sheet("Changes"), view)
        history_sheets.providers(wb.create_sheet("Providers"), providers or [])
        # Key, Decision and Officer note exactly as the Findings rows show them.
        key_decision_note = [_register_row(f, view)[3:] for f in result.findings]
        write_written_sheet(wb, [(k, d, n) for k, d, n in key_decision_note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_tracker(
    result: Result, path: str | os.PathLike[str], *, view: RunView | None = None, providers: list[ProviderRow] | None = None
) -> Path:
    """Write the tracker to ``path``, replacing any previous tracker atomically."""
    target = Path(path)
    data = build_tracker(result, base_dir=target.resolve().parent, view=view, providers=providers)
    return atomic_write_bytes(target, data)


def findings_csv(result: Result, view: RunView | None = None) -> bytes:
    """The Findings sheet as UTF-8 CSV (with BOM, for Excel); hostile text is apostrophe-prefixed."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(FINDING_COLUMNS + (REGISTER_COLUMNS if view else ()))
    for f in result.findings:
        w.writerow([csv_cell(v) for v in _finding_row(f) + (_register_row(f, view) if view else [])])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def write_findings_csv(result: Result, path: str | os.PathLike[str], view: RunView | None = None) -> Path:
    return atomic_write_bytes(path, findings_csv(result, view))


# -- sheets ---------------------------------------------------------------------


def _finding_row(f: Any) -> list[Any]:
    form = FORM_TITLES.get(f.form or "", f.form)
    source = Path(f.source).name if f.source else None
    return [f.severity, f.code, f.school, f.pupil_reference, f.provider, form, f.item, f.message, f.guidance, source]


def _register_row(f: Finding, view: RunView) -> list[Any]:
    s = view.state(finding_key(f))
    if s is None:  # not recorded (cannot happen for a run's own findings); show the key at least
        return [None, None, None, finding_key(f), "", ""]
    return [s.status, s.first_raised, s.days_open(view.as_of), s.key, s.shown_decision, s.note]


def _put(ws: Worksheet, row: int, col: int, value: Any, *, wrap: bool = False, bold: bool = False) -> Any:
    cell = set_cell(ws.cell(row=row, column=col), value)
    cell.alignment = WRAP if wrap else TOP
    if bold:
        cell.font = Font(bold=True)
    return cell


def _header(ws: Worksheet, row: int, names: tuple[str, ...] | list[str]) -> None:
    for i, name in enumerate(names, 1):
        c = _put(ws, row, i, name, wrap=True)
        c.font = HEADER_FONT
        c.fill = FILLS["header"]
    ws.row_dimensions[row].height = 30


def _widths(ws: Worksheet, widths: list[float]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _fit_rows(ws: Worksheet, first: int = 2, last: int | None = None) -> None:
    """Set row heights for wrapped text: openpyxl cannot measure text and LibreOffice keeps set rows as they are."""
    widths = {k: (d.width or 8.43) for k, d in ws.column_dimensions.items()}
    for row in ws.iter_rows(min_row=first, max_row=last):
        lines = 1
        for cell in row:
            if not isinstance(cell.value, str) or not (cell.alignment and cell.alignment.wrap_text):
                continue
            per_line = max(1, int(widths.get(cell.column_letter, 8.43) * 1.05))
            lines = max(lines, sum(-(-max(1, len(seg)) // per_line) for seg in cell.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = 12.75 * lines + 3


def _print_setup(ws: Worksheet, *, title_rows: str | None = None, landscape: bool = True) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_options.gridLines = False
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "&A - page &P of &N"
    ws.oddFooter.center.size = 8


def _rag(cell: Any, rag: str) -> None:
    cell.fill = FILLS[rag]
    cell.font = Font(bold=True, color=FONTS[rag].color)


def _summary(ws: Worksheet, result: Result) -> None:
    ws.title = "Summary"
    _put(ws, 1, 1, "Alternative provision quality assurance: tracker", bold=True).font = Font(bold=True, size=14)
    _put(ws, 2, 1, "Findings as of")
    _put(ws, 2, 2, result.as_of.isoformat(), bold=True)
    _put(ws, 3, 1, "Returns read")
    _put(ws, 3, 2, result.returns_read)
    _put(ws, 4, 1, "Returns that could not be read")
    c = _put(ws, 4, 2, len(result.failures))
    if result.failures:
        _rag(c, "red")

    _header(ws, 6, ["Severity", "Findings"])
    for i, sev in enumerate(SEVERITIES, 7):
        _put(ws, i, 1, sev.capitalize())
        c = _put(ws, i, 2, result.counts[sev])
        if result.counts[sev] and sev != "info":
            _rag(c, SEVERITY_RAG[sev])

    top = 7 + len(SEVERITIES) + 1
    cols = ["School", "URN", "Contact email", "RAG", "Critical", "Errors", "Warnings", "Info", "Items owed"]
    _header(ws, top, cols)
    for r, s in enumerate(result.schools, top + 1):
        _put(ws, r, 1, s.name)
        _put(ws, r, 2, s.urn)
        _put(ws, r, 3, s.email)
        _rag(_put(ws, r, 4, s.rag.upper()), s.rag)
        for j, sev in enumerate(SEVERITIES, 5):
            _put(ws, r, j, s.counts[sev])
        _put(ws, r, 9, len(s.owes))
    note = top + len(result.schools) + 2
    _put(ws, note, 1, "RAG: RED = a critical or error finding; AMBER = warnings only; GREEN = nothing outstanding.", wrap=False)
    _widths(ws, [34, 12, 36, 10, 10, 10, 10, 8, 12])
    _summary_chart(ws, top, len(result.schools))
    _print_setup(ws, landscape=False)


def _summary_chart(ws: Worksheet, header_row: int, schools: int) -> None:
    """A stacked bar per school of its critical, error and warning findings, drawn from the table above.

    A native Excel chart (not a picture), so it redraws when an officer edits the counts.
    """
    from openpyxl.chart import BarChart, Reference

    if not schools:
        return
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Findings by school and severity"
    chart.y_axis.title = "Findings"
    # Columns E-G are Critical, Errors, Warnings; their headings name the series.
    data = Reference(ws, min_col=5, max_col=7, min_row=header_row, max_row=header_row + schools)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + schools))
    for series, colour in zip(chart.series, ("7F0000", "C0392B", "E6A100"), strict=True):
        series.graphicalProperties.solidFill = colour
    chart.height, chart.width = 3 + 0.8 * schools, 17
    ws.add_chart(chart, f"A{header_row + schools + 4}")


def _link(cell: Any, source: str, base_dir: str | os.PathLike[str] | None) -> None:
    target = Path(source)
    try:
        href = os.path.relpath(target.resolve(), base_dir).replace(os.sep, "/") if base_dir else target.resolve().as_uri()
    except ValueError:  # another drive on Windows
        href = target.resolve().as_uri()
    if printable_text(href) != href:
        # a file name that is not UTF-8: its bytes, percent-encoded, are what the link must name
        href = urllib.parse.quote(os.fsencode(href), safe="/:")
    cell.hyperlink = href
    cell.font = Font(color="0563C1", underline="single")


def _placements(ws: Worksheet, result: Result, base_dir: str | os.PathLike[str] | None) -> None:
    cols = ["School", "Pupil reference", "Provider", "Provider URN", "Provider type", "Commissioned by", "Hours / week"]
    cols += ["School hours / week", "Start"]
    school_hours_col, start_col = len(cols) - 1, len(cols)
    first_form = start_col + 1
    cols += [FORM_TITLES[f] for f in FORMS] + ["RAG", "Critical", "Errors", "Warnings"]
    rag_col = first_form + len(FORMS)
    _header(ws, 1, cols)
    # Own-school hours belong to the pupil, so a pupil with two placements shows them on both rows.
    ws.cell(row=1, column=school_hours_col).comment = Comment(
        "The pupil's hours a week in their own school (roster column school_hours_per_week), "
        "shown on each of the pupil's placements: do not add them up down the column. Blank: none recorded.",
        "apdocs",
        width=300,
        height=90,
    )
    for r, pr in enumerate(result.placements, 2):
        p = pr.placement
        values = [
            p.school.name,
            p.pupil_reference,
            p.provider.name,
            p.provider.urn or "none",
            PROVIDER_TYPE_LABELS[p.provider.type],
            "SEIP" if p.commissioned_by == "seip" else "School",
            p.hours_per_week,
            p.school_hours_per_week or None,  # blank rather than 0 when the roster records none
            p.start,
        ]
        for c, v in enumerate(values, 1):
            cell = _put(ws, r, c, v, wrap=c in (1, 3, 5))
            if c == start_col:
                cell.number_format = "yyyy-mm-dd"
        for c, fs in enumerate(pr.forms, first_form):
            text = STATUS_LABELS[fs.status] + (f" {fs.completed}" if fs.completed else "")
            cell = _put(ws, r, c, text, wrap=True)
            if fs.status == "missing":
                _rag(cell, "red")
            elif fs.status == "not_required":
                cell.fill = FILLS["grey"]
            if fs.source:
                _link(cell, fs.source, base_dir)
        _rag(_put(ws, r, rag_col, pr.rag.upper()), pr.rag)
        for c, sev in enumerate(("critical", "error", "warning"), rag_col + 1):
            _put(ws, r, c, sum(f.severity == sev for f in pr.findings))
        for c in range(1, len(cols) + 1):
            ws.cell(row=r, column=c).border = THIN
    # "Commissioned by" and "School hours / week" must fit the two-line bold heading row
    _widths(ws, [22, 12, 24, 11, 17, 14, 9, 12, 11, 17, 17, 17, 8, 8, 7, 9])
    _fit_rows(ws)
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(2, len(result.placements) + 1)}"
    _print_setup(ws, title_rows="1:1")


def _findings(ws: Worksheet, result: Result, view: RunView | None = None) -> None:
    columns = FINDING_COLUMNS + (REGISTER_COLUMNS if view else ())
    _header(ws, 1, columns)
    for r, f in enumerate(result.findings, 2):
        for c, v in enumerate(_finding_row(f) + (_register_row(f, view) if view else []), 1):
            cell = _put(ws, r, c, v, wrap=c in (3, 5, 8, 9, 10, len(columns)))
            if c == 1:
                cell.fill = FILLS[SEVERITY_RAG[f.severity]] if f.severity != "info" else FILLS["grey"]
            elif c == len(FINDING_COLUMNS) + 2:
                cell.number_format = "yyyy-mm-dd"
    widths: list[float] = [10, 36, 20, 12, 22, 11, 28, 60, 60, 22]
    _widths(ws, widths + ([10, 11, 8, 14, 11, 40] if view else []))
    last = len(result.findings) + 1
    if view is not None and result.findings:
        decision_col = get_column_letter(len(columns) - 1)
        choices = DataValidation(type="list", formula1='"accept,chase"', allow_blank=True)
        choices.error = "Choose accept or chase, or leave it blank."
        choices.prompt = "accept: the VS agrees this finding needs no action; chase: keep chasing the school."
        ws.add_data_validation(choices)
        choices.add(f"{decision_col}2:{decision_col}{last}")
        # Say on the sheet itself which columns are the officer's, and that the next run keeps them.
        notes = {
            "Key": "The finding's identity in the register. Leave it as it is.",
            "Decision": "Yours to edit: accept (no action needed), chase, or blank. The next run stores it.",
            "Officer note": "Yours to edit. The next run stores it with your decision and shows it again.",
        }
        for c in range(len(FINDING_COLUMNS) + 1, len(columns) + 1):
            heading = ws.cell(row=1, column=c)
            if heading.value in notes:
                heading.comment = Comment(notes[heading.value], "apdocs", width=260, height=70)
    if result.findings:
        # A real Excel table: banded, filterable and sortable from its header row.
        table = Table(displayName="Findings", ref=f"A1:{get_column_letter(len(columns))}{last}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    else:
        _put(ws, 2, 1, "No findings.")
    _fit_rows(ws)
    ws.freeze_panes = "C2"
    _print_setup(ws, title_rows="1:1")


def _evidence(ws: Worksheet, result: Result) -> None:
    items = load_form("appendix2").items
    cols = ["Provider", "School", *[it.id for it in items]]
    _header(ws, 1, cols)
    for c, it in enumerate(items, 3):
        ws.cell(row=1, column=c).comment = Comment(it.text, "apdocs", width=300, height=80)
        ws.cell(row=1, column=c).alignment = Alignment(horizontal="center", vertical="center")
    for r, row in enumerate(result.evidence, 2):
        _put(ws, r, 1, row.provider, wrap=True)
        _put(ws, r, 2, row.school, wrap=True)
        for c, it in enumerate(items, 3):
            cell = _put(ws, r, c, EVIDENCE_LABELS[row.items[it.id]])
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.font = Font(size=8)
            date = row.dates.get(it.id)
            if date:
                cell.comment = Comment(f"Seen {date}", "apdocs", width=120, height=30)
    last_row = max(2, len(result.evidence) + 1)
    grid = f"C2:{get_column_letter(len(cols))}{last_row}"
    # Conditional formatting (not fixed fills) so an officer's edits recolour themselves.
    for label, rag in (("SEEN", "green"), ("NOT SEEN", "red"), ("NO DATE", "amber"), ("STALE", "amber"), ("EXEMPT", "grey")):
        font = FONTS.get(rag)
        ws.conditional_formatting.add(grid, CellIsRule(operator="equal", formula=[f'"{label}"'], fill=FILLS[rag], font=font))
    _widths(ws, [24, 20, *[7.5] * len(items)])
    _fit_rows(ws, 2, len(result.evidence) + 1)
    ws.freeze_panes = "C2"

    key = len(result.evidence) + 3
    _put(ws, key, 1, "Key", bold=True)
    months = result.config.evidence_stale_months  # the key says what this run's config judged, not the default
    legend = {
        "SEEN": f"seen, dated within {months} months of the as-of date ({result.as_of.isoformat()})",
        "NOT SEEN": "not seen, or not answered",
        "NO DATE": "seen, but no date recorded",
        "STALE": f"seen more than {months} months before the as-of date",
        "EXEMPT": "not required (e1 for a sole trader)",
        "-": "no Appendix 2 received",
    }
    for i, (label, meaning) in enumerate(legend.items(), key + 1):
        _put(ws, i, 1, label)
        ws.merge_cells(start_row=i, start_column=2, end_row=i, end_column=14)
        _put(ws, i, 2, meaning)
    top = key + len(legend) + 2
    _put(ws, top, 1, "Evidence required (Appendix 2)", bold=True)
    for i, it in enumerate(items, top + 1):
        _put(ws, i, 1, it.id)
        ws.merge_cells(start_row=i, start_column=2, end_row=i, end_column=len(cols))
        _put(ws, i, 2, it.text, wrap=True)
        if len(it.text) > 150:
            ws.row_dimensions[i].height = 30
    _print_setup(ws, title_rows="1:1")


def _chase(ws: Worksheet, result: Result, view: RunView | None = None) -> None:
    cols = [
        "School",
        "Contact email",
        "Severity",
        "Pupil reference",
        "Provider",
        "Form",
        "Item",
        "What is owed",
        "Why (guidance)",
    ]
    _header(ws, 1, cols)
    r = 2
    for s in result.schools:
        for f in s.owes:
            state = view.state(finding_key(f)) if view else None
            if state is not None and state.status == "accepted":
                continue  # an officer accepted it: the school is not chased for it
            values = [s.name, s.email, f.severity, f.pupil_reference, f.provider, FORM_TITLES.get(f.form or "", f.form), f.item]
            values += [f.message, f.guidance]
            for c, v in enumerate(values, 1):
                cell = _put(ws, r, c, v, wrap=c in (1, 2, 5, 8, 9))
                cell.border = THIN
                if c == 3:
                    cell.fill = FILLS[SEVERITY_RAG[f.severity]]
            r += 1
    if r == 2:
        _put(ws, 2, 1, "Nothing is owed.")
    _widths(ws, [20, 26, 9, 11, 20, 11, 26, 50, 60])
    _fit_rows(ws)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(2, r - 1)}"
    _print_setup(ws, title_rows="1:1")
