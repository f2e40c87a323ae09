"""Real processes: kill -9 at every named point of a run, and two officers' runs at once.

The process under test pauses at a named point (``APDOCS_PAUSE_AT``, see apdocs.register.faults)
and this test kills it there with a real SIGKILL, so the crash lands exactly where named
rather than at a random time. Both run against SQLite and PostgreSQL (``register_db``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from apdocs.register.faults import POINTS
from tests.register_helpers import (
    apdocs_process,
    appendix2,
    appendix4,
    cli,
    findings_rows,
    key_of,
    officer_edits,
    reconcile,
    write_roster,
)


def _wait_for_pause(proc: subprocess.Popen[str], point: str) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == f"apdocs-pause: {point}":
            return
    out, err = proc.communicate()
    pytest.fail(f"the run ended (exit {proc.returncode}) without reaching {point}:\n{out}\n{err}")


def _setup(tmp: Path, db: str) -> tuple[Path, Path, Path, str]:
    roster, tracker, returns = write_roster(tmp), tmp / "tracker.xlsx", tmp / "returns"
    returns.mkdir()
    appendix4(returns, "a4.docx", "2025-03-01", blank=("q13", "q15"))
    assert reconcile(db, roster, returns, tracker, "2025-03-31")[0] == 0
    return roster, tracker, returns, key_of(tracker, "QUESTION_UNANSWERED", "q13")


def _counts(db: str) -> tuple[int, int, int]:
    """(runs, returns, decisions) in the register."""
    import sqlalchemy as sa

    from apdocs.register import schema as t
    from apdocs.register.db import open_engine, read_transaction

    engine = open_engine(db)
    try:
        with read_transaction(engine) as conn:
            runs, returns, decisions = (
                conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in (t.runs, t.returns, t.decisions)
            )
            return runs, returns, decisions
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_kill_9_anywhere_in_a_run_leaves_the_register_as_before_or_after(register_db: str, tmp_path: Path, point: str) -> None:
    roster, tracker, returns, q13 = _setup(tmp_path, register_db)
    officer_edits(tracker, {q13: ("accept", "agreed")})
    appendix2(returns, "a2.xlsx", "2025-03-01")  # a new return for the killed run to store
    before = tracker.read_bytes()

    args = ["reconcile", "--db", register_db, "--roster", roster, "--as-of", "2025-04-30", returns, "-o", tracker]
    proc = apdocs_process(*args, env={"APDOCS_PAUSE_AT": point})
    _wait_for_pause(proc, point)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    if "://" not in register_db:
        with sqlite3.connect(register_db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    code, out = cli("findings", "list", "--db", register_db, "--json")
    assert code == 0, out
    state = {f["key"]: f for f in json.loads(out)}
    committed = POINTS.index(point) >= POINTS.index("committed")
    # As before the run (the tracker edit not stored, no new return, no run) or as after it: never between.
    if committed:
        assert _counts(register_db) == (2, 2, 1)
        assert state[q13]["status"] == "accepted"
    else:
        assert _counts(register_db) == (1, 1, 0)
        assert (state[q13]["status"], state[q13]["decision"]) == ("open", None)
    # The tracker is whole: the old one, untouched (the new one is only written after these points).
    assert tracker.read_bytes() == before
    load_workbook(tracker).close()

    # The next run completes the work, and stores the officer's edit exactly once.
    code, out = reconcile(register_db, roster, returns, tracker, "2025-04-30")
    assert code == 0, out
    row = findings_rows(tracker)[q13]
    assert (row["Status"], row["Decision"], row["Officer note"]) == ("accepted", "accept", "agreed")
    code, out = cli("history", "--db", register_db, "--pupil", "LAC-7001", "--json")
    assert len([e for e in json.loads(out) if e["kind"] == "decision"]) == 1


@pytest.mark.slow
def test_two_officers_runs_and_a_cli_decision_at_once_lose_no_decision(register_db: str, tmp_path: Path) -> None:
    roster, tracker, returns, q13 = _setup(tmp_path, register_db)
    q15 = key_of(tracker, "QUESTION_UNANSWERED", "q15")
    missing_a2 = next(k for k, r in findings_rows(tracker).items() if r["Code"] == "RETURN_MISSING" and r["Form"] == "Appendix 2")
    # A second officer works from their own copy of the tracker.
    other = tmp_path / "officer-b" / "tracker.xlsx"
    other.parent.mkdir()
    shutil.copyfile(tracker, other)
    officer_edits(tracker, {q13: ("accept", "officer A")})
    officer_edits(other, {missing_a2: ("chase", "officer B")})

    def run(out: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        args = ["reconcile", "--db", register_db, "--roster", roster, "--as-of", "2025-04-30", returns, "-o", out]
        return apdocs_process(*args, env=env)

    # Officer A's run holds the register's write lock (paused just before committing) while
    # officer B's run and officer C's CLI decision start; they must wait for it, not fail or overwrite it.
    first = run(tracker, {"APDOCS_PAUSE_AT": "before-commit", "APDOCS_PAUSE_SECONDS": "2"})
    _wait_for_pause(first, "before-commit")
    second = run(other)
    third = apdocs_process("findings", "accept", q15, "--note", "officer C", "--by", "C", "--db", register_db)
    fourth = run(tracker)  # officer A again, on the same tracker: waits for the first to replace it, then reads that
    for proc in (first, second, third, fourth):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{proc.args}:\n{out}\n{err}"

    code, out = cli("findings", "list", "--db", register_db, "--json")
    assert code == 0, out
    state = {f["key"]: f for f in json.loads(out)}
    assert (state[q13]["status"], state[q13]["decision"]["note"]) == ("accepted", "officer A")
    assert (state[q15]["status"], state[q15]["decision"]["note"]) == ("accepted", "officer C")
    assert (state[missing_a2]["decision"]["decision"], state[missing_a2]["decision"]["note"]) == ("chase", "officer B")
    # Whoever's tracker is written next shows all three.
    assert reconcile(register_db, roster, returns, other, "2025-05-31")[0] == 0
    rows = findings_rows(other)
    assert [rows[k]["Officer note"] for k in (q13, q15, missing_a2)] == ["officer A", "officer C", "officer B"]


@pytest.mark.slow
def test_two_runs_on_a_new_register_at_once_both_succeed(register_db: str, tmp_path: Path) -> None:
    roster, returns = write_roster(tmp_path), tmp_path / "returns"
    returns.mkdir()
    appendix4(returns, "a4.docx", "2025-03-01")
    procs = [
        apdocs_process(
            "reconcile", "--db", register_db, "--roster", roster, "--as-of", "2025-03-31", returns, "-o", tmp_path / f"t{i}.xlsx"
        )
        for i in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{out}\n{err}"
    assert _counts(register_db) == (2, 1, 0)
