"""`apdocs report` with a register: the trend comes from earlier terms' runs, each figure traceable to
that run's tracker, and the report only reads the register."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from apdocs.cli import main
from apdocs.reports.qa_figures import KEY_FINDINGS
from tests.register_helpers import officer_edits
from tests.test_report import RETURNS, ROSTER, paragraphs, tables

KEY_CODES = {code for codes in KEY_FINDINGS.values() for code in codes}

TERM2 = RETURNS.parent / "returns-term2"


def run(*args: object) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code in (0, 1), r.output  # 1: a sample return is unreadable on purpose
    return r.output


def trend_row(tracker: Path, label: str, date: str) -> list[str]:
    """What the trend should say of the run that wrote ``tracker``, recomputed from its sheets."""
    wb = load_workbook(tracker, read_only=True)
    placements = list(wb["Placements"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(placements[0])}
    school_rows = [r for r in placements[1:] if r[col["Commissioned by"]] == "School"]
    done = sum(all(str(r[col[f"Appendix {n}"]]).startswith("Received") for n in (2, 3, 4)) for r in school_rows)
    findings = list(wb["Findings"].iter_rows(values_only=True))
    sev = collections.Counter(r[findings[0].index("Severity")] for r in findings[1:])
    pct = round(100 * done / len(school_rows))
    return [label, date, str(len(school_rows)), str(done), f"{pct}%", *(str(sev[s]) for s in ("critical", "error", "warning"))]


@pytest.fixture()
def two_terms(tmp_path: Path) -> tuple[Path, Path, Path]:
    db = tmp_path / "register.db"
    spring, summer = tmp_path / "spring.xlsx", tmp_path / "summer.xlsx"
    run("reconcile", "--roster", ROSTER, "--db", db, "--as-of", "2025-03-31", "-o", spring, RETURNS)
    run("reconcile", "--roster", ROSTER, "--db", db, "--as-of", "2025-07-31", "-o", summer, RETURNS, TERM2)
    return db, spring, summer


def test_the_trend_is_each_earlier_term_as_its_tracker_showed_it(two_terms: tuple[Path, Path, Path], tmp_path: Path) -> None:
    db, spring, summer = two_terms
    report = tmp_path / "report.docx"
    run("report", "--roster", ROSTER, "--db", db, "--as-of", "2025-07-31", "-o", report, RETURNS, TERM2)
    trend = tables(report.read_bytes())["Period"]
    assert trend[1:] == [trend_row(spring, "Spring 2025", "31/03/2025"), trend_row(summer, "Summer 2025", "31/07/2025")]
    # the newer return resolved findings, so the two terms differ and the test can tell them apart
    assert trend[1] != trend[2]


def test_a_report_reads_the_register_and_changes_nothing_in_it(two_terms: tuple[Path, Path, Path], tmp_path: Path) -> None:
    db, _, _ = two_terms
    before = run("findings", "list", "--db", db, "--json")
    history = run("history", "--db", db, "--school", "Hollybank Primary", "--json")
    # Even with no returns given (everything then looks missing), the register keeps its statuses and runs.
    run("report", "--roster", ROSTER, "--db", db, "--as-of", "2025-12-01", "-o", tmp_path / "r.docx")
    assert run("findings", "list", "--db", db, "--json") == before
    assert run("history", "--db", db, "--school", "Hollybank Primary", "--json") == history
    assert json.loads(before), "the two runs left findings to compare"


def test_without_a_register_there_is_no_trend_and_none_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APDOCS_DB", raising=False)
    run("report", "--roster", ROSTER, "--as-of", "2025-03-31", "-o", "r.docx", RETURNS)
    assert "Period" not in tables((tmp_path / "r.docx").read_bytes())
    assert not (tmp_path / "apdocs.db").exists() and os.listdir(tmp_path) == ["r.docx"]


def test_each_key_finding_says_where_officers_stand_as_the_register_has_it(
    two_terms: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Ofsted's next question is what the school and the VS are doing about each key finding: with a
    register, every key finding's row says so (accepted, lapsed acceptance, or open since when)."""
    db, _, summer = two_terms
    as_of = "2025-07-31"
    raised = [
        f
        for f in json.loads(run("findings", "list", "--db", db, "--json"))
        if f["code"] in KEY_CODES and f["last_raised"] == as_of
    ]
    assert len(raised) >= 3, "the sample returns raise key findings to decide on"
    accepted, lapsed, chased = raised[0], raised[1], raised[2]
    run("findings", "accept", accepted["key"], "--note", "insurer renewing", "--by", "A Officer", "--db", db)
    run("findings", "accept", lapsed["key"], "--note", "visit booked", "--until", "2025-06-30", "--by", "B Officer", "--db", db)
    # a decision typed into the tracker reaches the register with the next run
    officer_edits(summer, {chased["key"]: ("chase", "emailed the school")})
    run("reconcile", "--roster", ROSTER, "--db", db, "--as-of", as_of, "-o", summer, RETURNS, TERM2)
    now = {f["key"]: f for f in json.loads(run("findings", "list", "--db", db, "--json"))}
    raised = [now[f["key"]] for f in raised]
    today = dt.datetime.now(dt.UTC).strftime("%d/%m/%Y")

    def expected(f: dict) -> str:
        since = dt.date.fromisoformat(f["first_raised"]).strftime("%d/%m/%Y")
        if f["key"] == accepted["key"]:
            return f"Accepted by A Officer on {today}"
        if f["key"] == lapsed["key"]:
            return f"Acceptance lapsed after 30/06/2025; open since {since}"
        if f["key"] == chased["key"]:
            return f"Being chased (decided {today}); open since {since}"
        return f"Reopened; first raised {since}" if f["status"] == "reopened" else f"Open since {since}"

    report = tmp_path / "report.docx"
    run("report", "--roster", ROSTER, "--db", db, "--as-of", as_of, "-o", report, RETURNS, TERM2)
    got: collections.Counter[tuple[str, ...]] = collections.Counter()
    for rows in tables(report.read_bytes()).values():
        if rows[0][:1] == ["School"] and rows[0][-1] == "Officers' action":
            got.update((r[0], r[1], r[2], r[4]) for r in rows[1:])
    want = collections.Counter((f["school"] or "", f["pupil_reference"] or "", f["provider"] or "", expected(f)) for f in raised)
    assert got == want
    # the officers' notes are free text and stay out of the report
    every_cell = [cell for rows in tables(report.read_bytes()).values() for row in rows for cell in row]
    text = "\n".join(paragraphs(report.read_bytes()) + every_cell)
    assert "Accepted by A Officer" in text and "Being chased" in text
    assert not any(note in text for note in ("insurer renewing", "visit booked", "emailed the school"))
    assert f"Key findings: {len(raised)}; accepted by officers: 1; being chased: 1; the rest open (see Key findings)." in text
