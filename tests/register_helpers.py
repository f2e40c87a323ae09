"""A small synthetic placement, its returns term by term, and an officer's hands on the tracker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from openpyxl import load_workbook

from apdocs.api import render_form
from apdocs.cli import main
from apdocs.formats.xlsx.cellxml import x_escaped
from apdocs.forms import load_form

ROOT = Path(__file__).resolve().parents[1]
SCHOOL, PUPIL, PROVIDER = "Brook School", "LAC-7001", "Kestrel Tuition"
HEADINGS = (
    "school_name,school_urn,school_email,school_address,pupil_reference,provider_name,provider_urn,provider_type,"
    "sole_trader,provider_daytime_hours,provider_full_time_pupils,commissioned_by,hours_per_week,school_hours_per_week,"
    "placement_start,ehc_plan,medical_reason\n"
)


def roster_row(school: str = SCHOOL, pupil: str = PUPIL, provider: str = PROVIDER) -> str:
    school_part = f"{school},130001,dt@school.example.sch.uk,1 Brook Lane; Anytown; AN1 1AA"
    return f"{school_part},{pupil},{provider},,unregistered/other,n,15,2,school,10,15,2024-09-02,n,n\n"


ANSWERS = {
    f"q{i}": f"A full and specific answer to question {i}, reviewed every six weeks, with English, maths and science."
    for i in range(1, 16)
}
ANSWERS["q2"] = "No - Kestrel Tuition is not registered; it is a part-time placement."


def _who(completed: str, pupil: bool = True, school: str = SCHOOL) -> dict[str, Any]:
    out: dict[str, Any] = {
        "school_name": school,
        "provider_name": PROVIDER,
        "completed_by_name": "A. Teacher",
        "completed_by_role": "Designated teacher",
        "date_completed": completed,
    }
    if pupil:
        out["pupil_reference"] = PUPIL
    return out


def write_roster(folder: Path, *rows: str, name: str = "roster.csv") -> Path:
    path = folder / name
    path.write_text(HEADINGS + "".join(rows or (roster_row(),)), encoding="utf-8")
    return path


def appendix4(folder: Path, name: str, completed: str, *, blank: tuple[str, ...] = ()) -> Path:
    values = {**_who(completed), **{q: a for q, a in ANSWERS.items() if q not in blank}}
    path = folder / name
    path.write_bytes(render_form("appendix4", "docx", values))
    return path


def appendix2(folder: Path, name: str, completed: str, *, not_seen: tuple[str, ...] = (), school: str = SCHOOL) -> Path:
    values: dict[str, Any] = _who(completed, pupil=False, school=school)
    for it in load_form("appendix2").items:
        if it.id not in not_seen:
            values[f"{it.id}.seen"] = True
            values[f"{it.id}.date_seen"] = completed
    covers = {"employers_liability": 10_000_000, "public_liability": 10_000_000, "professional_indemnity": 2_000_000}
    for cover, amount in covers.items():
        values[f"insurance.{cover}.amount"] = amount
        values[f"insurance.{cover}.expiry"] = "2026-12-31"
    values["insurance.sole_trader"] = False
    path = folder / name
    path.write_bytes(render_form("appendix2", "xlsx", values))
    return path


def appendix3(folder: Path, name: str, completed: str, visit: str) -> Path:
    values: dict[str, Any] = {**_who(completed, pupil=False), "visit_date": visit, "visited_by": "Designated teacher"}
    values["overall_judgement"] = "Good"
    for area in load_form("appendix3").areas:
        values[f"{area.id}.judgement"] = "Good"
        values[f"{area.id}.notes"] = "Lesson observed; records checked."
        for src in area.sources[:2]:
            values[src.id] = True
    path = folder / name
    path.write_bytes(render_form("appendix3", "docx", values))
    return path


def cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def reconcile(db: str, roster: Path, returns: Path, tracker: Path, as_of: str) -> tuple[int, str]:
    return cli("reconcile", "--db", db, "--roster", roster, "--as-of", as_of, returns, "-o", tracker)


def apdocs_process(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """apdocs as a real separate process (for kill -9 and concurrency)."""
    return subprocess.Popen(
        [sys.executable, "-m", "apdocs", *(str(a) for a in args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def findings_rows(tracker: Path) -> dict[str, dict[str, Any]]:
    """The tracker's Findings sheet: key -> {heading: value}."""
    wb = load_workbook(tracker)
    ws = wb["Findings"]
    heads = [c.value for c in ws[1]]
    rows = {}
    for values in ws.iter_rows(min_row=2, values_only=True):
        row = dict(zip(heads, values, strict=False))
        if row.get("Key"):
            rows[row["Key"]] = row
    return rows


def key_of(tracker: Path, code: str, item: str | None = None) -> str:
    (key,) = [k for k, r in findings_rows(tracker).items() if r["Code"] == code and (item is None or r["Item"] == item)]
    return key


def officer_edits(tracker: Path, edits: dict[str, tuple[str | None, str | None]]) -> None:
    """Type into the Decision and Officer note cells of the given keys' rows, as an officer would in Excel.

    Excel saves a typed ``_xHHHH_`` with its underscore escaped (``_x005F_``); openpyxl writes text
    as it is, so the text is escaped here as Excel would.
    """
    wb = load_workbook(tracker)
    ws = wb["Findings"]
    heads = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        key = row[heads["Key"] - 1].value
        if key in edits:
            decision, note = edits[key]
            row[heads["Decision"] - 1].value = decision
            row[heads["Officer note"] - 1].value = x_escaped(note) if note else note
    wb.save(tracker)


def chase_items(tracker: Path) -> list[tuple[Any, ...]]:
    wb = load_workbook(tracker)
    return [r for r in wb["Chase list"].iter_rows(min_row=2, values_only=True) if r[0]]
