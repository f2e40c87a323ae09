"""Tracker polish: filters on the Findings and Chase list sheets, a chart on the Summary sheet."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import apdocs
from apdocs.reports.tracker import build_tracker

ROOT = Path(__file__).resolve().parents[1]


def test_findings_and_chase_list_filter_and_summary_has_a_chart() -> None:
    roster = apdocs.load_roster(ROOT / "samples" / "roster.csv")
    returns = apdocs.parse_many([ROOT / "samples" / "returns"])
    result = apdocs.reconcile(roster, returns, apdocs.load_config(), dt.date(2025, 3, 31))
    z = zipfile.ZipFile(io.BytesIO(build_tracker(result)))
    names = z.namelist()
    workbook = z.read("xl/workbook.xml").decode()
    sheets = re.findall(r'<sheet [^>]*name="([^"]+)"', workbook)
    summary, findings, chase = (f"xl/worksheets/sheet{sheets.index(n) + 1}.xml" for n in ("Summary", "Findings", "Chase list"))
    # Findings is an Excel table, and a table's header row filters: its autoFilter is in the table part.
    table = next(z.read(n).decode() for n in names if n.startswith("xl/tables/"))
    assert 'displayName="Findings"' in table and "<autoFilter " in table
    assert "<tablePart" in z.read(findings).decode()
    assert re.search(r'<autoFilter ref="A1:I\d+"', z.read(chase).decode())
    # The Summary sheet draws a native chart from its per-school table.
    assert "<drawing " in z.read(summary).decode()
    chart = next(z.read(n).decode() for n in names if n.startswith("xl/charts/chart"))
    assert "<barChart>" in chart and 'val="stacked"' in chart
    assert "'Summary'!$E$" in chart or "Summary!$E$" in chart
    # with a title and alt text (the graphic frame's description) for screen readers
    assert "Findings by school and severity" in chart
    drawing = next(z.read(n).decode() for n in names if n.startswith("xl/drawings/drawing"))
    assert re.search(r'<cNvPr [^>]*descr="Stacked bar chart: for each of the \d+ schools', drawing)
