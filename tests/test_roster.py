"""Roster loading: typed rows, and every problem reported with its line number."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from apdocs.errors import RosterError
from apdocs.roster import COLUMNS, OPTIONAL_COLUMNS, load_roster, name_key

ROOT = Path(__file__).resolve().parents[1]
GOOD = {
    "school_name": "Hollybank Primary",
    "school_urn": "120001",
    "school_email": "ap.lead@hollybank.example.sch.uk",
    "school_address": "1 Hollybank Road; Anytown",
    "pupil_reference": "LAC-0001",
    "provider_name": "Greenway Learning Centre",
    "provider_urn": "",
    "provider_type": "unregistered/other",
    "sole_trader": "n",
    "provider_daytime_hours": "25",
    "provider_full_time_pupils": "8",
    "commissioned_by": "school",
    "hours_per_week": "25",
    "placement_start": "2024-09-02",
    "ehc_plan": "y",
    "medical_reason": "n",
}


def write_csv(tmp_path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns or list(COLUMNS), extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / "roster.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def errors_of(exc: pytest.ExceptionInfo[RosterError]) -> list[tuple[int, str]]:
    return [(e["line"], e["message"]) for e in exc.value.context["errors"]]


def test_sample_roster_loads_typed_rows() -> None:
    roster = load_roster(ROOT / "samples" / "roster.csv")
    assert len(roster) == 7
    first = roster.placements[0]
    assert first.line == 2
    assert first.provider.type == "unregistered" and not first.provider.registered
    assert first.start == dt.date(2024, 9, 2) and first.ehc_plan is True and first.medical_reason is False
    assert {p.commissioned_by for p in roster} == {"school", "seip"}
    assert [s.name for s in roster.schools] == ["Hollybank Primary", "Riverside Academy", "Oakfield High School"]
    with pytest.raises(AttributeError):
        first.hours_per_week = 1  # type: ignore[misc]


def test_every_bad_row_is_reported_with_its_line(tmp_path: Path) -> None:
    rows = [
        GOOD,
        {**GOOD, "pupil_reference": "LAC-0002", "hours_per_week": "lots", "sole_trader": "maybe"},
        {**GOOD, "pupil_reference": "LAC-0003", "placement_start": "31/02/2024", "commissioned_by": "council"},
        {**GOOD, "pupil_reference": "", "school_email": "not-an-email"},
    ]
    with pytest.raises(RosterError) as exc:
        load_roster(write_csv(tmp_path, rows))
    errs = errors_of(exc)
    lines = {line for line, _ in errs}
    assert lines == {3, 4, 5}
    text = " ".join(m for _, m in errs)
    for expected in ("hours_per_week must be a number", "sole_trader must be y or n", "placement_start", "commissioned_by"):
        assert expected in text
    assert (5, "pupil_reference is blank") in errs
    assert "line 3" in str(exc.value) and str(tmp_path / "roster.csv") in str(exc.value)


def test_non_numeric_hours_is_one_problem_not_two(tmp_path: Path) -> None:
    with pytest.raises(RosterError) as exc:
        load_roster(write_csv(tmp_path, [{**GOOD, "hours_per_week": "lots"}]))
    assert errors_of(exc) == [(2, "hours_per_week must be a number, not 'lots'")]
    with pytest.raises(RosterError) as exc:
        load_roster(write_csv(tmp_path, [{**GOOD, "hours_per_week": "0"}]))
    assert errors_of(exc) == [(2, "hours_per_week must be more than 0")]
    with pytest.raises(RosterError) as exc:  # once out of range, not also checked as a whole number (int(inf) raises)
        load_roster(write_csv(tmp_path, [{**GOOD, "provider_full_time_pupils": "inf"}]))
    assert errors_of(exc) == [(2, "provider_full_time_pupils must be between 0 and 100000, not inf")]


# -- school_hours_per_week: optional, one number per pupil --------------------------

WITH_SCHOOL_HOURS = [*COLUMNS, *OPTIONAL_COLUMNS]
FORGE = {"provider_name": "Forge Farm Skills"}  # a second placement of the same pupil


def school_hours(tmp_path: Path, rows: list[dict[str, str]]) -> dict[tuple[int, str], float]:
    roster = load_roster(write_csv(tmp_path, rows, WITH_SCHOOL_HOURS))
    return {(p.line, p.pupil_reference): p.school_hours_per_week for p in roster}


def test_school_hours_column_may_be_left_out() -> None:
    assert "school_hours_per_week" not in COLUMNS  # so rosters written before it still load
    roster = load_roster(ROOT / "samples" / "roster.csv")
    by_pupil = {p.pupil_reference: p.school_hours_per_week for p in roster}
    assert by_pupil["LAC-0001"] == 6.5 and by_pupil["LAC-0004"] == 0


def test_school_hours_absent_or_blank_is_zero(tmp_path: Path) -> None:
    roster = load_roster(write_csv(tmp_path, [GOOD, {**GOOD, **FORGE}]))
    assert [p.school_hours_per_week for p in roster] == [0, 0]
    assert school_hours(tmp_path, [{**GOOD, "school_hours_per_week": ""}]) == {(2, "LAC-0001"): 0}


def test_school_hours_given_once_or_repeated_belong_to_the_pupil(tmp_path: Path) -> None:
    rows = [
        {**GOOD, "school_hours_per_week": ""},
        {**GOOD, **FORGE, "school_hours_per_week": "12.5"},  # given on one row only: the blank row takes it
        {**GOOD, "pupil_reference": "LAC-0002", "school_hours_per_week": "10"},
        {**GOOD, **FORGE, "pupil_reference": "lac-0002", "school_hours_per_week": "10.0"},  # repeated, same number
        {**GOOD, "pupil_reference": "LAC-0003", "school_hours_per_week": "0"},
    ]
    assert school_hours(tmp_path, rows) == {
        (2, "LAC-0001"): 12.5,
        (3, "LAC-0001"): 12.5,
        (4, "LAC-0002"): 10,
        (5, "lac-0002"): 10,
        (6, "LAC-0003"): 0,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("three", "school_hours_per_week must be a number, not 'three'"),
        ("-2", "school_hours_per_week must be between 0 and 60, not -2"),
        ("nan", "school_hours_per_week must be between 0 and 60, not nan"),
    ],
)
def test_bad_school_hours_is_one_problem_with_its_line(tmp_path: Path, value: str, message: str) -> None:
    rows = [{**GOOD, "pupil_reference": "LAC-0002"}, {**GOOD, "school_hours_per_week": value}]
    with pytest.raises(RosterError) as exc:
        load_roster(write_csv(tmp_path, rows, WITH_SCHOOL_HOURS))
    assert errors_of(exc) == [(3, message)]
    assert "line 3" in str(exc.value) and str(tmp_path / "roster.csv") in str(exc.value)


@pytest.mark.parametrize(("first", "second"), [("12", "10"), ("0", "12")])
def test_conflicting_school_hours_for_one_pupil_are_refused(tmp_path: Path, first: str, second: str) -> None:
    rows = [
        {**GOOD, "school_hours_per_week": first},
        {**GOOD, "pupil_reference": "LAC-0002", "school_hours_per_week": "4"},
        {**GOOD, **FORGE, "school_hours_per_week": ""},  # blank beside a number: not a conflict
        {**GOOD, **FORGE, "pupil_reference": "LAC-0002", "school_hours_per_week": "4"},
        {**GOOD, "provider_name": "Meadow Lane Tuition", "school_hours_per_week": second},
    ]
    with pytest.raises(RosterError) as exc:
        load_roster(write_csv(tmp_path, rows, WITH_SCHOOL_HOURS))
    [(line, message)] = errors_of(exc)
    assert line == 6 and "school_hours_per_week" in message and "LAC-0001" in message and "line 2" in message
    assert str(tmp_path / "roster.csv") in str(exc.value)


def test_missing_column_is_named(tmp_path: Path) -> None:
    cols = [c for c in COLUMNS if c != "medical_reason"]
    with pytest.raises(RosterError, match="medical_reason"):
        load_roster(write_csv(tmp_path, [GOOD], cols))


def test_duplicate_placement_and_inconsistent_provider(tmp_path: Path) -> None:
    rows = [GOOD, GOOD, {**GOOD, "pupil_reference": "LAC-0009", "provider_daytime_hours": "10"}]
    with pytest.raises(RosterError) as exc:
        load_roster(write_csv(tmp_path, rows))
    errs = errors_of(exc)
    assert any(line == 3 and "already on line 2" in m for line, m in errs)
    assert any(line == 4 and "described differently on line 2" in m for line, m in errs)


def test_registered_independent_needs_urn(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="provider_urn is blank"):
        load_roster(write_csv(tmp_path, [{**GOOD, "provider_type": "registered independent school"}]))


def test_empty_and_undecodable(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(RosterError, match="empty"):
        load_roster(empty)
    header_only = write_csv(tmp_path, [])
    with pytest.raises(RosterError, match="no placements"):
        load_roster(header_only)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(",".join(COLUMNS).encode() + b"\n\xa3\xff\n")
    with pytest.raises(RosterError, match="not UTF-8"):
        load_roster(latin)
    with pytest.raises(RosterError, match="cannot read"):
        load_roster(tmp_path / "nope.csv")


def test_xlsx_roster_reads_like_csv(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))
    row = [GOOD[c] for c in COLUMNS]
    row[list(COLUMNS).index("placement_start")] = dt.date(2024, 9, 2)  # a real date cell
    row[list(COLUMNS).index("hours_per_week")] = 25
    ws.append(row)
    ws.append([{**GOOD, "pupil_reference": "LAC-0002"}[c] for c in COLUMNS])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    roster = load_roster(path)
    assert [p.pupil_reference for p in roster] == ["LAC-0001", "LAC-0002"]
    assert roster.placements[0].start == dt.date(2024, 9, 2) and roster.placements[0].hours_per_week == 25
    ws.append([{**GOOD, "pupil_reference": "LAC-0003", "ehc_plan": "perhaps"}[c] for c in COLUMNS])
    wb.save(path)
    with pytest.raises(RosterError) as exc:
        load_roster(path)
    assert errors_of(exc) == [(4, "ehc_plan must be y or n, not 'perhaps'")]


def test_xlsx_school_hours_numbers_blanks_and_problems(tmp_path: Path) -> None:
    cols = [*COLUMNS, *OPTIONAL_COLUMNS]
    path = tmp_path / "roster.xlsx"

    def save(*rows: dict[str, object]) -> Path:
        wb = openpyxl.Workbook()
        wb.active.append(cols)
        for row in rows:
            wb.active.append([row.get(c) for c in cols])  # None: an empty cell
        wb.save(path)
        return path

    a = {**GOOD, "hours_per_week": 20}
    roster = load_roster(save({**a, "school_hours_per_week": 12.5}, {**a, **FORGE}, {**a, "pupil_reference": "LAC-0002"}))
    assert [p.school_hours_per_week for p in roster] == [12.5, 12.5, 0]
    for value, message in (
        ("some", "school_hours_per_week must be a number, not 'some'"),
        (-1, "school_hours_per_week must be between 0 and 60, not -1"),
    ):
        with pytest.raises(RosterError) as exc:
            load_roster(save(a, {**a, **FORGE, "school_hours_per_week": value}))
        assert errors_of(exc) == [(3, message)]
    with pytest.raises(RosterError) as exc:
        load_roster(save({**a, "school_hours_per_week": 10}, {**a, **FORGE, "school_hours_per_week": 12}))
    [(line, message)] = errors_of(exc)
    assert line == 3 and "school_hours_per_week" in message and "line 2" in message and "roster.xlsx" in str(exc.value)


def test_name_key_ignores_case_punctuation_and_ampersand() -> None:
    assert name_key("St. Mary’s & Co ") == name_key("st marys and co")
    assert name_key("Greenway Learning Centre") != name_key("Greenway Learning")


def test_hostile_xlsx_roster_is_a_roster_error(tmp_path: Path) -> None:
    """A roster workbook goes through the same vetted opener as returns: no DTDs, no bombs."""
    import io
    import zipfile

    wb = openpyxl.Workbook()
    wb.active.append(list(COLUMNS))
    good = io.BytesIO()
    wb.save(good)
    hostile = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(hostile, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                at = data.index(b"<workbook")
                data = data[:at] + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + data[at:]
            dst.writestr(info, data)
    path = tmp_path / "roster.xlsx"
    path.write_bytes(hostile.getvalue())
    with pytest.raises(RosterError) as exc:
        load_roster(path)
    assert "DTD_FORBIDDEN" in str(exc.value) and "roster.xlsx" in str(exc.value)
