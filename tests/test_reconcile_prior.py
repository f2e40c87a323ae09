"""reconcile(prior_returns=...): the register's memory reaches the rules as plain data, with no I/O."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import apdocs
from tests.register_helpers import appendix3, appendix4, write_roster


def _read(path: Path) -> apdocs.ParsedReturn:
    result = next(iter(apdocs.parse_many([path])))
    assert isinstance(result, apdocs.ParsedReturn)
    return result


def test_a_prior_appendix3_counts_and_a_prior_appendix4_does_not(tmp_path: Path) -> None:
    roster = apdocs.load_roster(write_roster(tmp_path))
    a3 = _read(appendix3(tmp_path, "a3.docx", "2024-05-01", visit="2024-04-20"))
    a4 = _read(appendix4(tmp_path, "a4.docx", "2025-01-10"))
    result = apdocs.reconcile(roster, [], apdocs.load_config(), dt.date(2025, 6, 30), prior_returns=[a3, a4])
    found = {(f.code, f.form) for f in result.findings}
    assert ("ANNUAL_ASSESSMENT_OVERDUE", "appendix3") in found  # judged from the remembered visit
    assert ("RETURN_MISSING", "appendix3") not in found
    assert ("RETURN_MISSING", "appendix4") in found  # owed again this term
    assert result.returns_read == 0


def test_an_input_older_than_a_prior_return_is_superseded_and_the_prior_is_judged(tmp_path: Path) -> None:
    roster = apdocs.load_roster(write_roster(tmp_path))
    newer = _read(appendix4(tmp_path, "new.docx", "2025-05-01"))
    older = _read(appendix4(tmp_path, "old.docx", "2025-03-01", blank=("q15",)))
    result = apdocs.reconcile(roster, [older], apdocs.load_config(), dt.date(2025, 6, 30), prior_returns=[newer])
    codes = [f.code for f in result.findings]
    assert codes.count("RETURN_SUPERSEDED") == 1 and "QUESTION_UNANSWERED" not in codes
    (superseded,) = [f for f in result.findings if f.code == "RETURN_SUPERSEDED"]
    assert superseded.source == older.source.path


def test_the_same_return_as_input_and_prior_is_one_return(tmp_path: Path) -> None:
    roster = apdocs.load_roster(write_roster(tmp_path))
    a4 = _read(appendix4(tmp_path, "a4.docx", "2025-05-01"))
    result = apdocs.reconcile(roster, [a4], apdocs.load_config(), dt.date(2025, 6, 30), prior_returns=[a4])
    assert "RETURN_SUPERSEDED" not in [f.code for f in result.findings]
