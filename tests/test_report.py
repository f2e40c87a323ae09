"""The QA report: every figure traced back to the tracker's rows; trend only with history; charts fit to print."""

from __future__ import annotations

import collections
import datetime as dt
import io
import json
import re
import struct
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import apdocs
from apdocs.cli import main
from apdocs.reconcile import SEVERITIES
from apdocs.reports import pdf as pdf_mod
from apdocs.reports.qa_report import CATEGORIES, KEY_FINDINGS, PeriodSummary, build_report, summarise
from apdocs.reports.tracker import write_tracker
from tests.office import require

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "samples" / "roster.csv"
RETURNS = ROOT / "samples" / "returns"
AS_OF = dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def result() -> apdocs.reconcile.Result:
    roster = apdocs.load_roster(ROSTER)
    return apdocs.reconcile(roster, apdocs.parse_many([RETURNS]), apdocs.load_config(), AS_OF)


def tables(data: bytes) -> dict[str, list[list[str]]]:
    """Report tables keyed by their first header cell (Key findings tables keyed by the heading above)."""
    d = docx.Document(io.BytesIO(data))
    out: dict[str, list[list[str]]] = {}
    heading = ""
    body = d.element.body
    for child in body.iterchildren():
        if child.tag.endswith("}p"):
            text = "".join(t.text or "" for t in child.iter("{*}t"))
            style = child.find(".//{*}pStyle")
            if style is not None and style.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val") == "Heading2":
                heading = text
        elif child.tag.endswith("}tbl"):
            rows = [["".join(t.text or "" for t in tc.iter("{*}t")) for tc in tr.iter("{*}tc")] for tr in child.iter("{*}tr")]
            key = rows[0][0] if rows[0][0] != "School" or "Placements" in rows[0] else heading
            out[key] = rows
    return out


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def test_every_figure_is_recomputed_from_the_tracker_rows(result: apdocs.reconcile.Result, tmp_path: Path) -> None:
    tracker = write_tracker(result, tmp_path / "tracker.xlsx")
    wb = load_workbook(tracker, read_only=True)
    placements = list(wb["Placements"].iter_rows(values_only=True))
    head, rows = placements[0], placements[1:]
    col = {name: i for i, name in enumerate(head)}
    findings = list(wb["Findings"].iter_rows(values_only=True))
    fcol = {name: i for i, name in enumerate(findings[0])}
    frows = findings[1:]

    # Coverage, from the Placements sheet: school-commissioned rows whose three forms all say "Received".
    need: collections.Counter[str] = collections.Counter()
    done: collections.Counter[str] = collections.Counter()
    for r in rows:
        if r[col["Commissioned by"]] != "School":
            continue
        need[r[col["School"]]] += 1
        done[r[col["School"]]] += all(str(r[col[f"Appendix {n}"]]).startswith("Received") for n in (2, 3, 4))
    pct = {s: f"{round(100 * done[s] / need[s])}%" for s in need}
    total_need, total_done = sum(need.values()), sum(done.values())
    expected_coverage = [["School", "Placements", "Complete", "Coverage"]]
    for school in sorted({r[col["School"]] for r in rows}, key=str.casefold):
        n = need[school]
        expected_coverage.append([school, str(n), str(done[school]), pct.get(school, "0%")])
    expected_coverage.append(["All schools", str(total_need), str(total_done), f"{round(100 * total_done / total_need)}%"])

    # Findings, from the Findings sheet.
    sev = collections.Counter(r[fcol["Severity"]] for r in frows)
    codes = collections.Counter(r[fcol["Code"]] for r in frows)
    expected_categories = [["Category", *(s.capitalize() for s in SEVERITIES), "Total"]]
    for name, in_cat in CATEGORIES.items():
        counts = [sum(1 for r in frows if r[fcol["Code"]] in in_cat and r[fcol["Severity"]] == s) for s in SEVERITIES]
        expected_categories.append([name, *map(str, counts), str(sum(counts))])
    expected_categories.append(["All findings", *(str(sev[s]) for s in SEVERITIES), str(len(frows))])

    report = build_report(result)
    got = tables(report)
    assert got["School"] == expected_coverage
    assert got["Category"] == expected_categories
    text = paragraphs(report)
    for name, key_codes in KEY_FINDINGS.items():
        n = sum(codes[c] for c in key_codes)
        assert f"{name}: {n}" in text
        if n:
            assert len(got[f"{name}: {n}"]) == n + 1  # one row per finding, under the header row
    seip = len(rows) - total_need
    roster_line = f"Placements on the roster: {len(rows)} ("
    roster_line += f"{total_need} commissioned directly by schools, {seip} through the SEIP)."
    assert roster_line in text
    assert (
        f"Placements with every required form returned: {total_done} of {total_need} "
        f"({round(100 * total_done / total_need)}%)." in text
    )
    assert "Findings: " + ", ".join(f"{sev[s]} {s}" for s in SEVERITIES) + "." in text
    # Every other number printed is a date or a threshold from this run's config, not a figure.
    prose = re.sub(r"Appendix \d", "", " ".join(text))  # form names, not figures
    numbers = set(re.findall(r"\d+(?:,\d{3})*", prose))
    allowed = {str(n) for n in (len(rows), total_need, seip, total_done, round(100 * total_done / total_need), *sev.values())}
    allowed |= {str(sum(codes[c] for c in k)) for k in KEY_FINDINGS.values()}
    allowed |= {"31", "2025", "5,000,000", "12", str(result.returns_read), str(len(result.failures))}
    assert numbers <= allowed, numbers - allowed
    assert "LAC-" in " ".join(c for rows_ in got.values() for r in rows_ for c in r)  # pupils by reference only


def test_trend_shows_only_when_history_exists(result: apdocs.reconcile.Result) -> None:
    without = build_report(result)
    assert "Trend" not in paragraphs(without)
    before = PeriodSummary("Autumn 2024", dt.date(2024, 12, 13), 5, 1, {"critical": 3, "error": 20, "warning": 12})
    with_history = build_report(result, history=[before])
    assert "Trend" in paragraphs(with_history)
    now = summarise(result)
    trend = tables(with_history)["Period"]
    assert trend[1] == ["Autumn 2024", "13/12/2024", "5", "1", "20%", "3", "20", "12"]
    assert trend[2] == [
        "Spring 2025",
        "31/03/2025",
        str(now.required),
        str(now.complete),
        f"{now.percent}%",
        *(str(now.severities[s]) for s in ("critical", "error", "warning")),
    ]
    assert PeriodSummary.from_dict(json.loads(json.dumps(now.to_dict()))) == now  # as the register stores it
    z = zipfile.ZipFile(io.BytesIO(with_history))
    assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 3  # coverage, findings, trend


def test_charts_are_print_quality_with_alt_text(result: apdocs.reconcile.Result) -> None:
    z = zipfile.ZipFile(io.BytesIO(build_report(result)))
    document = z.read("word/document.xml").decode()
    descrs = re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', document)
    assert len(descrs) == 2 and all(len(d) > 40 for d in descrs)
    assert "Hollybank Primary, 2 of 2 placements complete" in descrs[0]
    for name in (n for n in z.namelist() if n.startswith("word/media/")):
        png = z.read(name)
        width = struct.unpack(">I", png[16:20])[0]
        assert width >= 1800, name  # 16 cm at 300 dpi is about 1890 px
        i = png.index(b"pHYs")
        ppm = struct.unpack(">I", png[i + 4 : i + 8])[0]
        assert round(ppm * 0.0254) == 300


def test_report_pdf_without_libreoffice_is_a_typed_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf_mod.shutil, "which", lambda _name: None)
    out = tmp_path / "r.docx"
    args = ["report", "--roster", str(ROSTER), "--as-of", "2025-03-31", str(RETURNS), "-o", str(out), "--pdf"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 3 and "LibreOffice" in r.output
    assert not out.exists()  # nothing half-written
    assert CliRunner().invoke(main, args[:-1]).exit_code == 0
    again = CliRunner().invoke(main, args[:-1])
    assert again.exit_code == 3 and "exists" in again.output


@pytest.mark.libreoffice
def test_report_pdf_with_libreoffice(tmp_path: Path) -> None:
    require("soffice")
    out = tmp_path / "report.docx"
    r = CliRunner().invoke(
        main, ["report", "--roster", str(ROSTER), "--as-of", "2025-03-31", str(RETURNS), "-o", str(out), "--pdf"]
    )
    assert r.exit_code == 0, r.output
    data = out.with_suffix(".pdf").read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 3
    assert b"/StructTreeRoot" in data and b"/Lang(en-GB)" in data  # tagged, for screen readers
