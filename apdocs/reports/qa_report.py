"""The QA report: what a Virtual School can show Ofsted about the alternative provision it oversees.

Built from a reconcile :class:`~apdocs.reconcile.Result` (the same rows as the tracker) and,
for the trend, an optional list of earlier periods' :class:`PeriodSummary` (the register
keeps them; :func:`summarise` makes one from a result). Every figure is computed here from
``result.placements`` and ``result.findings`` by the functions below, so a test can recompute
each one from the tracker's rows and find it in the report.

Pupils appear by reference only; nothing a school typed is quoted beyond the finding messages,
which name providers and pupil references, never pupils.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from apdocs.fileio import OutputExistsError, atomic_write_bytes
from apdocs.profile import Profile, default_profile
from apdocs.reconcile import SEVERITIES, Result
from apdocs.reconcile.findings import Finding
from apdocs.register.keys import finding_key
from apdocs.register.model import FindingState
from apdocs.reports import charts
from apdocs.reports.accessible import finish_docx, set_alt_text
from apdocs.reports.letter_templates import mark_header_row
from apdocs.reports.letters import long_date, long_dates
from apdocs.reports.qa_figures import (  # noqa: F401 - re-exported: the report's figures are part of its API
    CATEGORIES,
    KEY_FINDINGS,
    Coverage,
    PeriodSummary,
    by_category,
    category_of,
    coverage,
    key_findings,
    period_label,
    summarise,
)

TITLE = "Alternative provision quality assurance report"

# -- the document -------------------------------------------------------------------


def _doc(profile: Profile, as_of: dt.date) -> DocxDocument:
    d = Document()
    normal = d.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    for name in ("Title", "Heading 1", "Heading 2"):
        st = d.styles[name]
        st.font.name = "Arial"
        st.font.color.rgb = RGBColor(0x1F, 0x4E, 0x78)
        # python-docx's Title style keeps a theme font for East Asian text; one font family throughout.
        rfonts = st.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
    d.styles["Title"].font.size = Pt(22)
    d.styles["Heading 1"].font.size = Pt(15)
    d.styles["Heading 2"].font.size = Pt(12)
    for s in d.sections:
        s.orientation = WD_ORIENT.PORTRAIT
        s.page_width, s.page_height = Cm(21), Cm(29.7)
        s.left_margin = s.right_margin = Cm(2.2)
        s.top_margin = s.bottom_margin = Cm(2)
        head = s.header.paragraphs[0]
        head.text = profile.organisation
        head.runs[0].bold = True
        foot = s.footer.paragraphs[0]
        foot.add_run(f"{TITLE}, as of {long_date(as_of)}. Page ")
        _field(foot, "PAGE")
        foot.add_run(" of ")
        _field(foot, "NUMPAGES")
        for run in foot.runs:
            run.font.size = Pt(8)
    return d


def _field(paragraph: Any, instruction: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    r = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "16")  # 8 pt, as the footer text around it
    rpr.append(size)
    r.append(rpr)
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    paragraph._p.append(fld)


def _table(d: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> None:
    table = d.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = str(text)
        run = cell.paragraphs[0].runs[0]
        run.bold = True
        shade = OxmlElement("w:shd")
        shade.set(qn("w:val"), "clear")
        shade.set(qn("w:fill"), "DCE6F1")
        cell._tc.get_or_add_tcPr().append(shade)
    mark_header_row(table.rows[0])
    for values in rows:
        cells = table.add_row().cells
        for cell, v in zip(cells, values, strict=True):
            cell.text = "" if v is None else str(v)
    # Word reads cell widths, LibreOffice the grid: set both.
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a finding is never cut across two pages
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = Cm(w)
            for p in cell.paragraphs:
                p.paragraph_format.space_after = Pt(0)
                for run in p.runs:
                    run.font.size = Pt(9)
    d.add_paragraph()


def _chart(d: DocxDocument, chart: charts.Chart) -> None:
    import io

    d.add_picture(io.BytesIO(chart.png), width=Cm(16))
    set_alt_text(d.inline_shapes[-1], chart.alt, chart.title)


def _pct(c: Coverage) -> str:
    return f"{c.percent}%"


def standing_of(f: Finding, standing: Mapping[str, FindingState], as_of: dt.date) -> str:
    """Where officers stand on a finding, as the register says: what Ofsted asks next ("what are you doing about it?").

    An acceptance counts only while it is in force on ``as_of`` (after its review-by date the finding is
    open again, as the next run would make it). Officers' notes are free text that may hold names, so
    the report says who decided and when, never the note.
    """
    state = standing.get(finding_key(f))
    if state is None:
        return "New: not yet in the register"
    d = state.decision
    if d is not None and d.accepts_on(as_of):
        until = f", review by {d.until.strftime('%d/%m/%Y')}" if d.until else ""
        return f"Accepted by {d.by} on {d.at.strftime('%d/%m/%Y')}{until}"
    since = f"since {state.first_raised.strftime('%d/%m/%Y')}"
    if d is not None and d.decision == "accept" and d.until is not None:
        return f"Acceptance lapsed after {d.until.strftime('%d/%m/%Y')}; open {since}"
    if d is not None and d.decision == "chase":
        return f"Being chased (decided {d.at.strftime('%d/%m/%Y')}); open {since}"
    return f"Reopened; first raised {state.first_raised.strftime('%d/%m/%Y')}" if state.status == "reopened" else f"Open {since}"


def build_report(
    result: Result,
    *,
    profile: Profile | None = None,
    history: Sequence[PeriodSummary] = (),
    standing: Mapping[str, FindingState] | None = None,
) -> bytes:
    """The report as .docx bytes (no I/O). ``history``: earlier periods, oldest first; the trend shows only
    with it. ``standing``: the register's findings by key; with it, each key finding says where officers stand."""
    prof = profile or default_profile()
    d = _doc(prof, result.as_of)
    d.add_heading(TITLE, level=0)
    d.add_paragraph(
        f"{prof.organisation}: alternative provision commissioned for looked-after children, as of {long_date(result.as_of)}."
    )

    rows, total = coverage(result)
    cats = by_category(result)
    keys = key_findings(result)
    placements = len(result.placements)
    seip = placements - total.required

    d.add_heading("Summary", level=1)
    for line in (
        f"Placements on the roster: {placements} ({total.required} commissioned directly by schools, {seip} through the SEIP).",
        f"Placements with every required form returned: {total.complete} of {total.required} ({_pct(total)}).",
        "Findings: " + ", ".join(f"{result.counts[s]} {s}" for s in SEVERITIES) + ".",
        f"Returns read: {result.returns_read}; returns that could not be read: {len(result.failures)}.",
        *([_actions_line(keys, standing, result.as_of)] if standing is not None else []),
    ):
        d.add_paragraph(line, style="List Bullet")

    d.add_heading("Coverage", level=1)
    d.add_paragraph(
        "A placement a school commissioned directly is complete when its Appendix 2, Appendix 3 and Appendix 4 "
        "have all been returned. Placements arranged through the SEIP owe no forms and are not counted."
    )
    _table(
        d,
        ("School", "Placements", "Complete", "Coverage"),
        [(r.school, r.required, r.complete, _pct(r)) for r in [*rows, total]],
        (8.6, 2.4, 2.4, 2.4),
    )
    shown = [(r.school, r.complete, r.required) for r in rows if r.required]
    if shown:
        _chart(d, charts.coverage_by_school(shown))

    d.add_heading("Key findings", level=1)
    for name, found in keys.items():
        d.add_heading(f"{name}: {len(found)}", level=2)
        if not found:
            d.add_paragraph("None found.")
            continue
        if standing is None:
            _table(
                d,
                ("School", "Pupil", "Provider", "Finding"),
                [(f.school or "", f.pupil_reference or "", f.provider or "", long_dates(f.message)) for f in found],
                (3.6, 2.2, 3.4, 6.6),
            )
            continue
        _table(
            d,
            ("School", "Pupil", "Provider", "Finding", "Officers' action"),
            [
                (f.school or "", f.pupil_reference or "", f.provider or "", long_dates(f.message), action)
                for f in found
                for action in [standing_of(f, standing, result.as_of)]
            ],
            (3.0, 1.9, 2.8, 5.0, 3.1),
        )

    d.add_heading("Findings by category and severity", level=1)
    _table(
        d,
        ("Category", *(s.capitalize() for s in SEVERITIES), "Total"),
        [(c, *(counts[s] for s in SEVERITIES), sum(counts.values())) for c, counts in cats.items()]
        + [("All findings", *(result.counts[s] for s in SEVERITIES), len(result.findings))],
        (5.8, 2.0, 2.0, 2.0, 2.0, 2.0),
    )
    if result.findings:
        _chart(d, charts.findings_by_category({c: v for c, v in cats.items() if sum(v.values())}, SEVERITIES))

    if history:
        periods = [*history, summarise(result)]
        d.add_heading("Trend", level=1)
        d.add_paragraph(f"This term against the {_terms(len(history))} before it, as the register remembers them.")
        _table(
            d,
            ("Period", "As of", "Placements", "Complete", "Coverage", "Critical", "Errors", "Warnings"),
            [
                (
                    p.label,
                    p.as_of.strftime("%d/%m/%Y"),
                    p.required,
                    p.complete,
                    f"{p.percent}%",
                    p.severities.get("critical", 0),
                    p.severities.get("error", 0),
                    p.severities.get("warning", 0),
                )
                for p in periods
            ],
            (2.5, 2.0, 2.3, 2.0, 2.0, 1.7, 1.5, 2.0),  # "Placements" and "Warnings" fit one line
        )
        _chart(d, charts.trend([p.label for p in periods], [p.percent for p in periods], [p.serious for p in periods]))

    cfg = result.config
    d.add_heading("About this report", level=1)
    for line in (
        f"Judged as of {long_date(result.as_of)} against the guidance in {prof.organisation}'s letter and its appendices.",
        f"Insurance: employer's liability below £{cfg.el_legal_minimum:,.0f} is below the legal minimum (not for sole traders).",
        f"Annual assessments are overdue when the last visit was more than {cfg.assessment_overdue_months} months before.",
        "Every figure comes from the rows of the tracker workbook made from the same run (Placements and Findings sheets).",
        "Pupils are identified by reference only.",
    ):
        d.add_paragraph(line, style="List Bullet")
    return finish_docx(d, title=f"{TITLE}: {long_date(result.as_of)}", author=prof.organisation, logo=prof.logo)


def _actions_line(keys: Mapping[str, list[Finding]], standing: Mapping[str, FindingState], as_of: dt.date) -> str:
    said = [standing_of(f, standing, as_of) for found in keys.values() for f in found]
    accepted = sum(s.startswith("Accepted") for s in said)
    chased = sum(s.startswith("Being chased") for s in said)
    rest = "the rest open (see Key findings)"
    return f"Key findings: {len(said)}; accepted by officers: {accepted}; being chased: {chased}; {rest}."


def write_report(
    result: Result,
    path: str | os.PathLike[str],
    *,
    profile: Profile | None = None,
    history: Sequence[PeriodSummary] = (),
    standing: Mapping[str, FindingState] | None = None,
    pdf: bool = False,
    overwrite: bool = False,
) -> list[Path]:
    """Write the report (and its PDF, made by LibreOffice, beside it); refuses to replace either unless ``overwrite``."""
    from apdocs.reports.pdf import to_pdf

    target = Path(path)
    data = build_report(result, profile=profile, history=history, standing=standing)
    pdf_path = target.with_suffix(".pdf")
    if not overwrite:
        for p in (target, pdf_path) if pdf else (target,):
            if p.exists():
                raise OutputExistsError("report exists; pass --force to replace it", path=str(p))
    pdf_data = to_pdf(data, target.name) if pdf else None  # before writing: no LibreOffice, no half-written pair
    written = [atomic_write_bytes(target, data, overwrite=True)]
    if pdf_data is not None:
        written.append(atomic_write_bytes(pdf_path, pdf_data, overwrite=True))
    return written


def _terms(n: int) -> str:
    return "term" if n == 1 else f"{n} terms"
