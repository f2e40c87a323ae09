"""The register against a real SQLite file and a real PostgreSQL server: decisions survive runs.

Every test here runs twice (``register_db``): once on a SQLite file, once on a fresh database
on a PostgreSQL server the tests start (skipped locally without the server binaries, failed
under CI).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.register_helpers import (
    PUPIL,
    appendix2,
    appendix3,
    appendix4,
    chase_items,
    cli,
    findings_rows,
    key_of,
    officer_edits,
    reconcile,
    write_roster,
)


def _findings(db: str, *extra: str) -> dict[str, dict[str, Any]]:
    code, out = cli("findings", "list", "--db", db, "--json", *extra)
    assert code == 0, out
    return {f["key"]: f for f in json.loads(out)}


def _term1(tmp: Path) -> Path:
    """Term 1: Appendix 4 with q13 and q15 blank, Appendix 2 with e9 not seen, no Appendix 3."""
    d = tmp / "term1"
    d.mkdir()
    appendix4(d, "a4.docx", "2025-03-01", blank=("q13", "q15"))
    appendix2(d, "a2.xlsx", "2025-03-01", not_seen=("e9",))
    return d


def _term2(tmp: Path) -> Path:
    """Term 2, new returns: q15 now answered (q13 still blank), and the Appendix 3 at last."""
    d = tmp / "term2"
    d.mkdir()
    appendix4(d, "a4-summer.docx", "2025-05-01", blank=("q13",))
    appendix2(d, "a2.xlsx", "2025-03-01", not_seen=("e9",))
    appendix3(d, "a3.docx", "2025-05-01", visit="2025-04-20")
    return d


def test_a_decision_typed_into_the_tracker_survives_three_runs_one_with_new_returns(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "out" / "tracker.xlsx"
    term1, term2 = _term1(tmp_path), _term2(tmp_path)
    assert reconcile(register_db, roster, term1, tracker, "2025-03-31")[0] == 0
    q13 = key_of(tracker, "QUESTION_UNANSWERED", "q13")
    q15 = key_of(tracker, "QUESTION_UNANSWERED", "q15")
    e9 = key_of(tracker, "EVIDENCE_NOT_SEEN", "e9")
    missing_a3 = next(k for k, r in findings_rows(tracker).items() if r["Code"] == "RETURN_MISSING" and r["Form"] == "Appendix 3")
    assert {r["Status"] for r in findings_rows(tracker).values()} == {"open"}
    assert any(r[7] and "q13" in str(r[6]) for r in chase_items(tracker))

    officer_edits(tracker, {q13: ("accept", "Agreed with the VS head: q13 does not apply"), e9: ("chase", "=asked 3 April")})

    for as_of, returns in (("2025-04-30", term1), ("2025-06-30", term2), ("2025-07-31", term2)):
        code, out = reconcile(register_db, roster, returns, tracker, as_of)
        assert code == 0, out
        rows = findings_rows(tracker)
        assert rows[q13]["Status"] == "accepted"
        assert rows[q13]["Decision"] == "accept"
        assert rows[q13]["Officer note"] == "Agreed with the VS head: q13 does not apply"
        assert rows[q13]["First raised"].date().isoformat() == "2025-03-31"
        assert rows[e9]["Decision"] == "chase"
        assert rows[e9]["Officer note"] == "=asked 3 April"  # kept as text, not made a formula
        chased = [r for r in chase_items(tracker) if r[6] == "q13"]
        assert chased == [], "an accepted finding is not chased"

    # The new returns in the second of those runs resolved q15 and the missing Appendix 3.
    state = _findings(register_db)
    assert state[q15]["status"] == "resolved" and state[q15]["status_changed"] == "2025-06-30"
    assert state[missing_a3]["status"] == "resolved"
    assert state[q13]["status"] == "accepted"
    assert state[q13]["decision"]["source"] == "tracker"
    # The officer's edit was stored once, not once per run.
    code, out = cli("history", "--db", register_db, "--pupil", PUPIL, "--json")
    decisions = [e for e in json.loads(out) if e["kind"] == "decision" and e["key"] == q13]
    assert len(decisions) == 1


def test_a_cli_decision_survives_three_runs_and_a_stale_tracker_does_not_undo_it(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    term1 = _term1(tmp_path)
    term1b = tmp_path / "term1b"
    shutil.copytree(term1, term1b)
    appendix3(term1b, "a3.docx", "2025-04-10", visit="2025-04-01")  # new returns in a later run
    assert reconcile(register_db, roster, term1, tracker, "2025-03-31")[0] == 0
    q15 = key_of(tracker, "QUESTION_UNANSWERED", "q15")
    q13 = key_of(tracker, "QUESTION_UNANSWERED", "q13")

    code, out = cli("findings", "accept", q15, "--note", "Not applicable at primary", "--by", "J. Officer", "--db", register_db)
    assert code == 0, out
    assert _findings(register_db, "--status", "accepted")[q15]["decision"]["by"] == "J. Officer"

    # The tracker on disk was written before that decision: its blank Decision cell is not an edit.
    for as_of, returns in (("2025-04-30", term1), ("2025-05-31", term1b), ("2025-06-30", term1b)):
        assert reconcile(register_db, roster, returns, tracker, as_of)[0] == 0
        rows = findings_rows(tracker)
        assert (rows[q15]["Status"], rows[q15]["Decision"], rows[q15]["Officer note"]) == (
            "accepted",
            "accept",
            "Not applicable at primary",
        )

    # And the other way round: accepted in the tracker, then reopened from the CLI. The tracker
    # still says "accept" as it was written, so the next run must not accept it again.
    officer_edits(tracker, {q13: ("accept", "ok")})
    assert reconcile(register_db, roster, term1b, tracker, "2025-07-31")[0] == 0
    assert _findings(register_db)[q13]["status"] == "accepted"
    assert cli("findings", "reopen", q13, "--db", register_db)[0] == 0
    assert reconcile(register_db, roster, term1b, tracker, "2025-08-31")[0] == 0
    assert _findings(register_db)[q13]["status"] == "reopened"
    assert findings_rows(tracker)[q13]["Decision"] is None


def test_resolved_then_reopened_and_the_changes_sheet_says_so(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    terms = []
    for i, (done, blank) in enumerate((("2025-03-01", ("q15",)), ("2025-05-01", ()), ("2025-07-01", ("q15",)))):
        d = tmp_path / f"t{i}"
        d.mkdir()
        appendix4(d, f"a4-{i}.docx", done, blank=blank)
        terms.append(d)
    assert reconcile(register_db, roster, terms[0], tracker, "2025-03-31")[0] == 0
    q15 = key_of(tracker, "QUESTION_UNANSWERED", "q15")

    assert reconcile(register_db, roster, terms[1], tracker, "2025-05-31")[0] == 0
    state = _findings(register_db)[q15]
    assert (state["status"], state["status_changed"]) == ("resolved", "2025-05-31")
    assert q15 not in findings_rows(tracker)
    changes = _changes(tracker)
    assert ("Resolved", q15) in changes

    assert reconcile(register_db, roster, terms[2], tracker, "2025-07-31")[0] == 0
    state = _findings(register_db)[q15]
    assert (state["status"], state["status_changed"], state["first_raised"]) == ("reopened", "2025-07-31", "2025-03-31")
    row = findings_rows(tracker)[q15]
    assert (row["Status"], row["Days open"]) == ("reopened", 122)
    assert ("Reopened", q15) in _changes(tracker)
    assert ("Resolved", q15) not in _changes(tracker), "the Changes sheet covers only the time since the previous run"


def _changes(tracker: Path) -> list[tuple[str, str]]:
    ws = load_workbook(tracker)["Changes"]
    return [(r[0], r[2]) for r in ws.iter_rows(min_row=4, values_only=True) if r[2]]


def test_an_acceptance_with_a_review_date_reopens_after_it(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    term1 = _term1(tmp_path)
    assert reconcile(register_db, roster, term1, tracker, "2025-03-31")[0] == 0
    e9 = key_of(tracker, "EVIDENCE_NOT_SEEN", "e9")
    assert cli("findings", "accept", e9, "--note", "insurer's letter due", "--until", "2025-04-15", "--db", register_db)[0] == 0
    assert reconcile(register_db, roster, term1, tracker, "2025-04-10")[0] == 0
    assert findings_rows(tracker)[e9]["Status"] == "accepted"
    assert reconcile(register_db, roster, term1, tracker, "2025-04-30")[0] == 0
    row = findings_rows(tracker)[e9]
    assert (row["Status"], row["Decision"], row["Officer note"]) == ("reopened", None, "insurer's letter due")
    assert ("Reopened", e9) in _changes(tracker)


def test_the_latest_visit_in_the_register_counts_when_its_file_is_not_an_input(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    with_a3, without_a3 = tmp_path / "a", tmp_path / "b"
    with_a3.mkdir()
    without_a3.mkdir()
    appendix3(with_a3, "a3.docx", "2025-01-20", visit="2025-01-15")
    appendix4(with_a3, "a4.docx", "2025-01-20")
    appendix4(without_a3, "a4-later.docx", "2025-06-01")
    assert reconcile(register_db, roster, with_a3, tracker, "2025-03-31")[0] == 0

    assert reconcile(register_db, roster, without_a3, tracker, "2025-06-30")[0] == 0
    codes = {(r["Code"], r["Form"]) for r in findings_rows(tracker).values()}
    assert ("RETURN_MISSING", "Appendix 3") not in codes
    assert ("ANNUAL_ASSESSMENT_OVERDUE", "Appendix 3") not in codes

    assert reconcile(register_db, roster, without_a3, tracker, "2026-02-28")[0] == 0
    overdue = [r for r in findings_rows(tracker).values() if r["Code"] == "ANNUAL_ASSESSMENT_OVERDUE"]
    assert len(overdue) == 1 and "2025-01-15" in overdue[0]["Message"]


def test_a_return_older_than_one_in_the_register_is_superseded(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    newer, older = tmp_path / "newer", tmp_path / "older"
    newer.mkdir()
    older.mkdir()
    appendix4(newer, "a4-may.docx", "2025-05-01")
    appendix4(older, "a4-march.docx", "2025-03-01", blank=("q15",))
    assert reconcile(register_db, roster, newer, tracker, "2025-05-31")[0] == 0
    assert reconcile(register_db, roster, older, tracker, "2025-06-30")[0] == 0
    rows = findings_rows(tracker).values()
    superseded = [r for r in rows if r["Code"] == "RETURN_SUPERSEDED"]
    assert len(superseded) == 1 and "a4-march.docx" in superseded[0]["Message"]
    assert not [r for r in rows if r["Code"] == "QUESTION_UNANSWERED"], "the newer return from the register is the one judged"


def test_purge_forgets_what_is_older_than_the_retention_period(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    term1 = _term1(tmp_path)
    assert reconcile(register_db, roster, term1, tracker, "2025-03-31")[0] == 0
    q13 = key_of(tracker, "QUESTION_UNANSWERED", "q13")
    assert cli("findings", "accept", q13, "--note", "n/a", "--db", register_db)[0] == 0
    code, out = cli("register", "purge", "--before", "2025-01-01", "--db", register_db, "--json")
    assert code == 0 and json.loads(out)["deleted"]["findings"] == 0
    code, out = cli("register", "purge", "--before", "2999-01-01", "--db", register_db, "--json")
    deleted = json.loads(out)["deleted"]
    assert deleted["returns"] == 2 and deleted["findings"] >= 4 and deleted["decisions"] == 1, deleted
    assert _findings(register_db) == {}
    assert json.loads(cli("history", "--db", register_db, "--pupil", PUPIL, "--json")[1]) == []


def test_history_gives_a_pupils_timeline(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    assert reconcile(register_db, roster, _term1(tmp_path), tracker, "2025-03-31")[0] == 0
    q13 = key_of(tracker, "QUESTION_UNANSWERED", "q13")
    assert cli("findings", "accept", q13, "--note", "agreed", "--db", register_db)[0] == 0
    code, out = cli("history", "--db", register_db, "--pupil", PUPIL.lower(), "--json")
    entries = json.loads(out)
    assert code == 0
    assert [e["form"] for e in entries if e["kind"] == "return"] == ["appendix4"]  # Appendix 2 is per provider, not pupil
    assert {"new"} <= {e["event"] for e in entries if e["kind"] == "finding" and e["key"] == q13}
    assert [e["note"] for e in entries if e["kind"] == "decision"] == ["agreed"]
    code, text = cli("history", "--db", register_db, "--provider", "KESTREL tuition")
    assert code == 0 and "Appendix 2 received" in text and q13 in text


def test_an_officer_s_run_does_not_resolve_another_officer_s_schools(register_db: str, tmp_path: Path) -> None:
    from tests.register_helpers import roster_row

    mine, theirs = write_roster(tmp_path), write_roster(tmp_path, roster_row("Fern School", "LAC-8001"), name="theirs.csv")
    returns = _term1(tmp_path)
    assert reconcile(register_db, mine, returns, tmp_path / "mine.xlsx", "2025-03-31")[0] == 0
    brook = _findings(register_db)
    (tmp_path / "nothing").mkdir()
    assert reconcile(register_db, theirs, tmp_path / "nothing", tmp_path / "theirs.xlsx", "2025-04-30")[0] == 0
    after = _findings(register_db)
    assert {after[k]["status"] for k in brook} == {"open"}, "Brook School's findings were not looked at, so not resolved"
    assert any(f["school"] == "Fern School" and f["code"] == "RETURN_MISSING" for f in after.values())


def test_a_note_typed_into_a_stale_tracker_keeps_a_cli_acceptance_made_since(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    term1 = _term1(tmp_path)
    assert reconcile(register_db, roster, term1, tracker, "2025-03-31")[0] == 0
    e9 = key_of(tracker, "EVIDENCE_NOT_SEEN", "e9")
    assert cli("findings", "accept", e9, "--note", "cli note", "--until", "2025-12-31", "--db", register_db)[0] == 0
    # The tracker on disk predates that: its Decision cell is still blank. The officer types only a note.
    officer_edits(tracker, {e9: (None, "insurer's letter arrived")})
    assert reconcile(register_db, roster, term1, tracker, "2025-04-30")[0] == 0
    state = _findings(register_db)[e9]
    assert state["status"] == "accepted"
    assert (state["decision"]["decision"], state["decision"]["note"], state["decision"]["until"]) == (
        "accept",
        "insurer's letter arrived",
        "2025-12-31",
    )
    row = findings_rows(tracker)[e9]
    assert (row["Decision"], row["Officer note"]) == ("accept", "insurer's letter arrived")


def test_reconcile_json_carries_keys_statuses_and_changes(register_db: str, tmp_path: Path) -> None:
    roster, tracker = write_roster(tmp_path), tmp_path / "tracker.xlsx"
    term1 = _term1(tmp_path)
    args = ("reconcile", "--db", register_db, "--roster", roster, term1, "-o", tracker, "--json")
    code, out = cli(*args, "--as-of", "2025-03-31")
    first = json.loads(out)
    assert code == 0 and first["register"]["run"] == 1 and first["register"]["previous_as_of"] is None
    keys = {f["key"] for f in first["findings"]}
    assert set(first["register"]["changes"]["new"]) == keys
    assert {f["status"] for f in first["findings"]} == {"open"}
    code, out = cli(*args, "--as-of", "2025-04-30")
    second = json.loads(out)
    assert second["register"]["changes"]["new"] == [] and second["register"]["previous_as_of"] == "2025-03-31"
    assert {f["days_open"] for f in second["findings"]} == {30}


def test_providers_sheet_gives_the_latest_insurance_and_evidence_seen_by_any_school(register_db: str, tmp_path: Path) -> None:
    from tests.register_helpers import roster_row

    roster = write_roster(tmp_path, roster_row(), roster_row("Fern School", "LAC-8001"))
    tracker, spring, summer = tmp_path / "tracker.xlsx", tmp_path / "spring", tmp_path / "summer"
    spring.mkdir()
    summer.mkdir()
    appendix2(spring, "brook-a2.xlsx", "2025-01-10", not_seen=("e9", "e10"))
    appendix2(summer, "fern-a2.xlsx", "2025-05-20", not_seen=("e10",), school="Fern School")
    assert reconcile(register_db, roster, spring, tracker, "2025-03-31")[0] == 0
    # Only Fern's return is an input this time; Brook's comes from the register.
    assert reconcile(register_db, roster, summer, tracker, "2025-06-30")[0] == 0
    ws = load_workbook(tracker)["Providers"]
    heads = [c.value for c in ws[1]]
    (row,) = [dict(zip(heads, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert row["Provider"] == "Kestrel Tuition" and row["Schools"] == "Brook School\nFern School"
    assert row["Insurance from Appendix 2 of"].date().isoformat() == "2025-05-20"
    assert (row["EL cover"], row["EL expiry"].date().isoformat()) == (10_000_000, "2026-12-31")
    assert "e9 (2025-05-20)" in row["Evidence seen by any school"]  # Fern saw it, Brook did not
    assert row["Not seen by any school"] == "e10"
    changes = {(r[0], r[4], r[5]) for r in load_workbook(tracker)["Changes"].iter_rows(min_row=4, values_only=True)}
    assert ("New", "RETURN_MISSING", "Brook School") in changes  # an Appendix 2 is owed every term
    assert ("Resolved", "RETURN_MISSING", "Fern School") in changes


def test_a_file_name_that_is_not_utf8_is_remembered_and_keeps_its_key(register_db: str, tmp_path: Path) -> None:
    import os

    roster, tracker, returns = write_roster(tmp_path), tmp_path / "tracker.xlsx", tmp_path / "returns"
    returns.mkdir()
    appendix4(returns, os.fsdecode(b"r\xe9ponse.docx"), "2025-03-01", blank=("q15",))  # a lone surrogate in Python's str
    (returns / os.fsdecode(b"caf\xe9.docx")).write_bytes(b"not a zip at all")
    for as_of in ("2025-03-31", "2025-04-30"):
        code, out = reconcile(register_db, roster, returns, tracker, as_of)
        assert code == 1, out  # the unreadable one is listed
    state = _findings(register_db)
    unreadable = [f for f in state.values() if f["code"] == "RETURN_UNREADABLE"]
    assert len(unreadable) == 1 and unreadable[0]["status"] == "open" and "\ufffd" in unreadable[0]["message"]
    assert any(f["code"] == "QUESTION_UNANSWERED" for f in state.values())
    code, out = cli("history", "--db", register_db, "--pupil", PUPIL, "--json")
    assert code == 0 and "r\ufffdponse.docx" in out
