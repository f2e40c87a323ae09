"""The tracker workbook a VS officer works from daily, and the findings CSV.

Sheets: Summary (counts by severity, RAG per school, a chart of findings by school),
Placements (pupil x provider, each form's status linked to its file), Findings (an Excel
table with filters), Evidence (commissioner x provider against e1..e25, conditionally
formatted) and Chase list (what each school still owes, with its contact email; filtered).

Given the register's view of the run (:class:`apdocs.register.model.RunView`), the Findings
sheet also shows each finding's status, first raised, days open, and the columns officers
edit (Key, Decision, Officer note: see :mod:`apdocs.reports.tracker_decisions`); the chase
list leaves out accepted findings; and Changes and Providers sheets are added.

The workbook is streamed, each row written once (:mod:`apdocs.reports.sheet_stream`), and
all text that came from a school or the roster is written as text there, never a formula
(:mod:`apdocs.reports.safe`).
"""

from __future__ import annotations

import csv
import io
import os
import urllib.parse
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.spreadsheet_drawing import OneCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.units import cm_to_EMU
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from apdocs.fileio import atomic_write_bytes, scratch_file
from apdocs.forms import load_form
from apdocs.reconcile import SEVERITIES, Result
from apdocs.reconcile.engine import FORM_TITLES, FORMS
from apdocs.reconcile.findings import Finding
from apdocs.record_scrub import printable_text
from apdocs.register.keys import finding_key
from apdocs.register.model import RunView
from apdocs.register.providers import ProviderRow
from apdocs.reports import history_sheets
from apdocs.reports.safe import csv_cell
from apdocs.reports.sheet_stream import Sheet, Styles, save
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
RAG_FONTS = {rag: Font(bold=True, color=font.color) for rag, font in FONTS.items()}
SEVERITY_RAG = {"critical": "red", "error": "red", "warning": "amber", "info": "green"}
HEADER_FONT = Font(bold=True, color="FFFFFF")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
LINK_FONT = Font(color="0563C1", underline="single")
SMALL = Font(size=8)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
CENTRE = Alignment(horizontal="center", vertical="center")
CENTRE_WRAP = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Border(bottom=Side(style="thin", color="BFBFBF"))
HEADER_HEIGHT = 30
DATE_FORMAT = "yyyy-mm-dd"
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
TITLE = "Alternative provision quality assurance: tracker"


def build_tracker(
    result: Result,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    view: RunView | None = None,
    providers: list[ProviderRow] | None = None,
) -> bytes:
    """The tracker workbook as bytes (no I/O but unnamed temporary files). Links are relative to ``base_dir`` if given.

    ``view``: the register's view of this run (statuses, decisions, changes); ``providers``: the
    register's providers across schools. Without them the tracker is a snapshot of ``result``.
    """
    buf = io.BytesIO()
    save_tracker(result, buf, base_dir=base_dir, view=view, providers=providers)
    return buf.getvalue()


def save_tracker(
    result: Result,
    out: IO[bytes],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    view: RunView | None = None,
    providers: list[ProviderRow] | None = None,
) -> None:
    """Write the tracker workbook into the binary file ``out`` (see :func:`build_tracker`)."""
    # Streamed: each sheet's rows go to a temporary file as they are made (sheet_stream).
    wb = Workbook(write_only=True)
    wb.properties.title = TITLE
    wb.properties.language = "en-GB"
    styles = Styles(wb)
    _summary(wb, styles, result)
    _placements(wb, styles, result, base_dir)
    written = _findings(wb, styles, result, view)
    _evidence(wb, styles, result)
    _chase(wb, styles, result, view)
    if view is not None:
        history_sheets.changes(wb, styles, view)
        history_sheets.providers(wb, styles, providers or [])
        # Key, Decision and Officer note exactly as the Findings rows show them.
        write_written_sheet(wb, written)
    save(wb, out)


def write_tracker(
    result: Result, path: str | os.PathLike[str], *, view: RunView | None = None, providers: list[ProviderRow] | None = None
) -> Path:
    """Write the tracker to ``path``, replacing any previous tracker atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with scratch_file(target.resolve().parent) as data:  # unnamed: nothing left if killed
        save_tracker(result, data, base_dir=target.resolve().parent, view=view, providers=providers)
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


def _header(sheet: Sheet, names: Sequence[str], comments: dict[int, Comment] | None = None, style: Any = None) -> int:
    """The heading row: white bold on dark blue, two lines high; ``comments`` by column number."""
    st = style or sheet.styles(font=HEADER_FONT, fill=FILLS["header"], alignment=WRAP)
    comments = comments or {}
    return sheet.append([sheet.cell(n, st, comment=comments.get(i)) for i, n in enumerate(names, 1)], height=HEADER_HEIGHT)


def _print_setup(ws: Any, *, title_rows: str | None = None, landscape: bool = True) -> None:
    """Page setup: before the sheet's first row (its sheetPr is written with the first row)."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4 if hasattr(ws, "PAPERSIZE_A4") else "9"
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


def _rag_style(styles: Styles, rag: str, alignment: Alignment = TOP, border: Border | None = None) -> Any:
    return styles(font=RAG_FONTS[rag], fill=FILLS[rag], alignment=alignment, border=border)


def _summary(wb: Workbook, styles: Styles, result: Result) -> None:
    sheet = Sheet(wb, "Summary", styles, [34, 12, 36, 10, 10, 10, 10, 8, 12])
    _print_setup(sheet.ws, landscape=False)
    top_style, bold = styles(alignment=TOP), styles(font=BOLD, alignment=TOP)
    sheet.append([sheet.cell(TITLE, styles(font=TITLE_FONT, alignment=TOP))])
    sheet.append([sheet.cell("Findings as of", top_style), sheet.cell(result.as_of.isoformat(), bold)])
    sheet.append([sheet.cell("Returns read", top_style), sheet.cell(result.returns_read, top_style)])
    failed = _rag_style(styles, "red") if result.failures else top_style
    sheet.append([sheet.cell("Returns that could not be read", top_style), sheet.cell(len(result.failures), failed)])
    sheet.blank()

    _header(sheet, ["Severity", "Findings"])
    for sev in SEVERITIES:
        n = result.counts[sev]
        style = _rag_style(styles, SEVERITY_RAG[sev]) if n and sev != "info" else top_style
        sheet.append([sheet.cell(sev.capitalize(), top_style), sheet.cell(n, style)])
    sheet.blank()

    cols = ["School", "URN", "Contact email", "RAG", "Critical", "Errors", "Warnings", "Info", "Items owed"]
    top = _header(sheet, cols)
    for s in result.schools:
        row = [sheet.cell(s.name, top_style), sheet.cell(s.urn, top_style), sheet.cell(s.email, top_style)]
        row.append(sheet.cell(s.rag.upper(), _rag_style(styles, s.rag)))
        row += [sheet.cell(s.counts[sev], top_style) for sev in SEVERITIES]
        row.append(sheet.cell(len(s.owes), top_style))
        sheet.append(row)
    sheet.blank()
    note = "RAG: RED = a critical or error finding; AMBER = warnings only; GREEN = nothing outstanding."
    sheet.append([sheet.cell(note, top_style)])
    _summary_chart(sheet.ws, top, len(result.schools))


class _DescribedAnchor(OneCellAnchor):
    """A chart's anchor whose frame carries alt text (``cNvPr descr``) for screen readers.

    openpyxl makes each chart's graphic frame when it saves the drawing, with a name but no
    description; this anchor adds the description as the frame is set on it.
    """

    # openpyxl's serialiser lists a class's own parts: these are OneCellAnchor's.
    __attrs__ = OneCellAnchor.__attrs__
    __elements__ = OneCellAnchor.__elements__
    __nested__ = OneCellAnchor.__nested__

    def __init__(self, description: str, **kw: Any) -> None:
        super().__init__(**kw)
        object.__setattr__(self, "_description", description)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "graphicFrame" and value is not None:
            value.nvGraphicFramePr.cNvPr.descr = self._description
        super().__setattr__(name, value)


def _summary_chart(ws: Any, header_row: int, schools: int) -> None:
    """A stacked bar per school of its critical, error and warning findings, drawn from the table above.

    A native Excel chart (not a picture), so it redraws when an officer edits the counts.
    """
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
    description = (
        f"Stacked bar chart: for each of the {schools} schools in the table above, its critical, error and "
        "warning findings (columns Critical, Errors and Warnings)."
    )
    anchor = _DescribedAnchor(description)
    anchor._from.row, anchor._from.col = header_row + schools + 3, 0  # cell A(header_row + schools + 4)
    anchor.ext = XDRPositiveSize2D(cm_to_EMU(chart.width), cm_to_EMU(chart.height))
    ws.add_chart(chart, anchor)


def _href(source: str, base_dir: str | os.PathLike[str] | None) -> str:
    target = Path(source)
    try:
        href = os.path.relpath(target.resolve(), base_dir).replace(os.sep, "/") if base_dir else target.resolve().as_uri()
    except ValueError:  # another drive on Windows
        href = target.resolve().as_uri()
    if printable_text(href) != href:
        # a file name that is not UTF-8: its bytes, percent-encoded, are what the link must name
        href = urllib.parse.quote(os.fsencode(href), safe="/:")
    return href


def _placements(wb: Workbook, styles: Styles, result: Result, base_dir: str | os.PathLike[str] | None) -> None:
    cols = ["School", "Pupil reference", "Provider", "Provider URN", "Provider type", "Commissioned by", "Hours / week"]
    cols += ["School hours / week", "Start"]
    school_hours_col, start_col = len(cols) - 1, len(cols)
    first_form = start_col + 1
    cols += [FORM_TITLES[f] for f in FORMS] + ["RAG", "Critical", "Errors", "Warnings"]
    rag_col = first_form + len(FORMS)
    # "Commissioned by" and "School hours / week" must fit the two-line bold heading row
    sheet = Sheet(wb, "Placements", styles, [22, 12, 24, 11, 17, 14, 9, 12, 11, 17, 17, 17, 8, 8, 7, 9])
    ws = sheet.ws
    ws.freeze_panes = "D2"
    _print_setup(ws, title_rows="1:1")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(2, len(result.placements) + 1)}"
    # Own-school hours belong to the pupil, so a pupil with two placements shows them on both rows.
    hours_note = Comment(
        "The pupil's hours a week in their own school (roster column school_hours_per_week), "
        "shown on each of the pupil's placements: do not add them up down the column. Blank: none recorded.",
        "apdocs",
        width=300,
        height=90,
    )
    _header(sheet, cols, {school_hours_col: hours_note})
    top, wrap = styles(alignment=TOP, border=THIN), styles(alignment=WRAP, border=THIN)
    date = styles(alignment=TOP, border=THIN, number_format=DATE_FORMAT)
    form_styles = {
        (status, linked): styles(
            font=LINK_FONT if linked else RAG_FONTS["red"] if status == "missing" else None,
            fill=FILLS["red"] if status == "missing" else FILLS["grey"] if status == "not_required" else None,
            alignment=WRAP,
            border=THIN,
        )
        for status in STATUS_LABELS
        for linked in (False, True)
    }
    rag_styles = {rag: _rag_style(styles, rag, border=THIN) for rag in FILLS if rag in RAG_FONTS}
    wrapped = (1, 3, 5, *range(first_form, rag_col))
    for pr in result.placements:
        p = pr.placement
        values: list[Any] = [
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
        row = [sheet.cell(v, date if c == start_col else wrap if c in (1, 3, 5) else top) for c, v in enumerate(values, 1)]
        for fs in pr.forms:
            text = STATUS_LABELS[fs.status] + (f" {fs.completed}" if fs.completed else "")
            values.append(text)
            link = _href(fs.source, base_dir) if fs.source else None
            row.append(sheet.cell(text, form_styles[fs.status, link is not None], link=link))
        row.append(sheet.cell(pr.rag.upper(), rag_styles[pr.rag]))
        row += [sheet.cell(sum(f.severity == sev for f in pr.findings), top) for sev in ("critical", "error", "warning")]
        sheet.append(row, height=sheet.fit_height(values, wrapped))


def _findings(wb: Workbook, styles: Styles, result: Result, view: RunView | None = None) -> list[tuple[str, str, str]]:
    """The Findings sheet; returns each row's (key, decision, note) as written, for the hidden record."""
    columns = FINDING_COLUMNS + (REGISTER_COLUMNS if view else ())
    widths: list[float] = [10, 36, 20, 12, 22, 11, 28, 60, 60, 22]
    sheet = Sheet(wb, FINDINGS_SHEET, styles, widths + ([10, 11, 8, 14, 11, 40] if view else []))
    ws = sheet.ws
    ws.freeze_panes = "C2"
    _print_setup(ws, title_rows="1:1")
    last = len(result.findings) + 1
    notes: dict[int, Comment] = {}
    if view is not None and result.findings:
        decision_col = get_column_letter(len(columns) - 1)
        choices = DataValidation(type="list", formula1='"accept,chase"', allow_blank=True)
        choices.error = "Choose accept or chase, or leave it blank."
        choices.prompt = "accept: the VS agrees this finding needs no action; chase: keep chasing the school."
        ws.data_validations.append(choices)  # what add_data_validation does; write-only sheets lack it
        choices.add(f"{decision_col}2:{decision_col}{last}")
        # Say on the sheet itself which columns are the officer's, and that the next run keeps them.
        texts = {
            "Key": "The finding's identity in the register. Leave it as it is.",
            "Decision": "Yours to edit: accept (no action needed), chase, or blank. The next run stores it.",
            "Officer note": "Yours to edit. The next run stores it with your decision and shows it again.",
        }
        for c, name in enumerate(columns, 1):
            if c > len(FINDING_COLUMNS) and name in texts:
                notes[c] = Comment(texts[name], "apdocs", width=260, height=70)
    if result.findings:
        # A real Excel table: banded, filterable and sortable from its header row. Its columns are
        # named here: a write-only sheet cannot be read back for its headings.
        table = Table(displayName="Findings", ref=f"A1:{get_column_letter(len(columns))}{last}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        table.tableColumns = [TableColumn(id=i, name=name) for i, name in enumerate(columns, 1)]
        table.autoFilter = AutoFilter(ref=table.ref)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "add table columns manually": they are
            ws.add_table(table)
    _header(sheet, columns, notes)
    wrapped = (3, 5, 8, 9, 10, len(columns))
    sev_fills = {sev: FILLS[SEVERITY_RAG[sev]] if sev != "info" else FILLS["grey"] for sev in SEVERITIES}
    sev_styles = {sev: styles(fill=fill, alignment=TOP) for sev, fill in sev_fills.items()}
    col_styles = [styles(alignment=WRAP if c in wrapped else TOP) for c in range(1, len(columns) + 1)]
    if view is not None:  # First raised
        col_styles[len(FINDING_COLUMNS) + 1] = styles(alignment=TOP, number_format=DATE_FORMAT)
    written: list[tuple[str, str, str]] = []
    for f in result.findings:
        values = _finding_row(f)
        if view is not None:
            extra = _register_row(f, view)
            values += extra
            written.append((extra[3], extra[4], extra[5]))
        row = [sheet.cell(v, sev_styles[f.severity] if c == 1 else col_styles[c - 1]) for c, v in enumerate(values, 1)]
        sheet.append(row, height=sheet.fit_height(values, wrapped))
    if not result.findings:
        sheet.append([sheet.cell("No findings.", styles(alignment=TOP))])
    return written


def _evidence(wb: Workbook, styles: Styles, result: Result) -> None:
    items = load_form("appendix2").items
    cols = ["Provider", "School", *[it.id for it in items]]
    sheet = Sheet(wb, "Evidence", styles, [24, 20, *[7.5] * len(items)])
    ws = sheet.ws
    ws.freeze_panes = "C2"
    _print_setup(ws, title_rows="1:1")
    header = styles(font=HEADER_FONT, fill=FILLS["header"], alignment=WRAP)
    header_item = styles(font=HEADER_FONT, fill=FILLS["header"], alignment=CENTRE)
    row = [sheet.cell(c, header) for c in cols[:2]]
    row += [sheet.cell(it.id, header_item, comment=Comment(it.text, "apdocs", width=300, height=80)) for it in items]
    sheet.append(row, height=HEADER_HEIGHT)
    wrap, grid = styles(alignment=WRAP), styles(font=SMALL, alignment=CENTRE_WRAP)
    wrapped = range(1, len(cols) + 1)
    for ev in result.evidence:
        values = [ev.provider, ev.school, *[EVIDENCE_LABELS[ev.items[it.id]] for it in items]]
        row = [sheet.cell(ev.provider, wrap), sheet.cell(ev.school, wrap)]
        for it, label in zip(items, values[2:], strict=True):
            seen = ev.dates.get(it.id)
            row.append(sheet.cell(label, grid, comment=Comment(f"Seen {seen}", "apdocs", width=120, height=30) if seen else None))
        sheet.append(row, height=sheet.fit_height(values, wrapped))
    last_row = max(2, len(result.evidence) + 1)
    grid_ref = f"C2:{get_column_letter(len(cols))}{last_row}"
    # Conditional formatting (not fixed fills) so an officer's edits recolour themselves.
    for label, rag in (("SEEN", "green"), ("NOT SEEN", "red"), ("NO DATE", "amber"), ("STALE", "amber"), ("EXEMPT", "grey")):
        font = FONTS.get(rag)
        ws.conditional_formatting.add(grid_ref, CellIsRule(operator="equal", formula=[f'"{label}"'], fill=FILLS[rag], font=font))

    sheet.blank()
    top, bold = styles(alignment=TOP), styles(font=BOLD, alignment=TOP)
    sheet.append([sheet.cell("Key", bold)])
    months = result.config.evidence_stale_months  # the key says what this run's config judged, not the default
    legend = {
        "SEEN": f"seen, dated within {months} months of the as-of date ({result.as_of.isoformat()})",
        "NOT SEEN": "not seen, or not answered",
        "NO DATE": "seen, but no date recorded",
        "STALE": f"seen more than {months} months before the as-of date",
        "EXEMPT": "not required (e1 for a sole trader)",
        "-": "no Appendix 2 received",
    }
    # One wide cell each (a streamed sheet cannot merge cells): the text runs on over the empty cells beside it.
    for label, meaning in legend.items():
        sheet.append([sheet.cell(label, top), sheet.cell(meaning, top)])
    sheet.blank()
    sheet.append([sheet.cell("Evidence required (Appendix 2)", bold)])
    for it in items:
        sheet.append([sheet.cell(it.id, top), sheet.cell(it.text, top)])


def _chase(wb: Workbook, styles: Styles, result: Result, view: RunView | None = None) -> None:
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
    chased = [
        (s, f)
        for s in result.schools
        for f in s.owes
        # an officer accepted it: the school is not chased for it
        if not (view is not None and (state := view.state(finding_key(f))) is not None and state.status == "accepted")
    ]
    sheet = Sheet(wb, "Chase list", styles, [20, 26, 9, 11, 20, 11, 26, 50, 60])
    ws = sheet.ws
    ws.freeze_panes = "C2"
    _print_setup(ws, title_rows="1:1")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(2, len(chased) + 1)}"
    _header(sheet, cols)
    wrapped = (1, 2, 5, 8, 9)
    col_styles = [styles(alignment=WRAP if c in wrapped else TOP, border=THIN) for c in range(1, len(cols) + 1)]
    sev_styles = {sev: styles(fill=FILLS[SEVERITY_RAG[sev]], alignment=TOP, border=THIN) for sev in SEVERITIES}
    for s, f in chased:
        values = [s.name, s.email, f.severity, f.pupil_reference, f.provider, FORM_TITLES.get(f.form or "", f.form), f.item]
        values += [f.message, f.guidance]
        row = [sheet.cell(v, sev_styles[f.severity] if c == 3 else col_styles[c - 1]) for c, v in enumerate(values, 1)]
        sheet.append(row, height=sheet.fit_height(values, wrapped))
    if not chased:
        sheet.append([sheet.cell("Nothing is owed.", styles(alignment=TOP))])
