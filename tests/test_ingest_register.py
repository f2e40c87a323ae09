"""ingest records its run in the register too, and an officer's decision in its tracker survives re-ingesting."""

from __future__ import annotations

import json
from pathlib import Path

from tests.register_helpers import cli, findings_rows, officer_edits

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def test_a_decision_in_the_ingest_tracker_survives_later_passes(tmp_path: Path) -> None:
    db, tracker, archive = str(tmp_path / "register.db"), tmp_path / "tracker.xlsx", tmp_path / "archive"
    args = ["ingest", SAMPLES / "replies", "--archive", archive, "--roster", SAMPLES / "roster.csv", "--tracker", tracker]
    args += ["--db", db]
    code, out = cli(*args, "--as-of", "2025-03-31")
    assert code == 1, out  # one sample reply is broken on purpose
    assert "register: run 1" in out
    key = next(k for k, r in findings_rows(tracker).items() if r["Code"] == "PART_TIME_PACKAGE")
    officer_edits(tracker, {key: ("accept", "visit booked for next week")})
    for as_of, read_back in (("2025-04-30", 1), ("2025-05-31", 0)):
        code, out = cli(*args, "--as-of", as_of, "--json")
        assert code == 1, out
        assert f"{read_back} officer decision(s) read from the tracker" in json.loads(out)["tracker"]["register"]
        row = findings_rows(tracker)[key]
        assert (row["Status"], row["Decision"], row["Officer note"]) == ("accepted", "accept", "visit booked for next week")
