"""End to end on the bundled samples: real files -> real parse -> reconcile -> tracker, JSON, letters."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.errors import RosterError
from apdocs.parse import parse_many
from apdocs.record import ParsedReturn
from apdocs.roster import load_roster

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
EXPECTED = json.loads((ROOT / "tests" / "expected" / "sample_findings.json").read_text(encoding="utf-8"))
KEYS = ("code", "school", "pupil_reference", "provider", "form", "item")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("e2e")
    code, text = run(
        "reconcile",
        "--roster",
        str(SAMPLES / "roster.csv"),
        "--as-of",
        EXPECTED["as_of"],
        str(SAMPLES / "returns"),
        "-o",
        str(out / "tracker.xlsx"),
        "--csv",
        str(out / "findings.csv"),
        "--letters",
        str(out / "letters"),
        "--json",
    )
    return {"code": code, "json": json.loads(text), "dir": out}


def test_sample_findings_match_hand_written_expectation(outputs: dict) -> None:
    data = outputs["json"]
    assert outputs["code"] == 0
    assert (data["returns_read"], data["returns_failed"]) == (EXPECTED["returns_read"], EXPECTED["returns_failed"])
    got = sorted(json.dumps([f[k] for k in KEYS]) for f in data["findings"])
    want = sorted(json.dumps(f) for f in EXPECTED["findings"])
    assert got == want
    assert {s["name"]: s["rag"] for s in data["schools"]} == EXPECTED["school_rag"]
    assert {f"{p['pupil_reference']} {p['provider']}": p["rag"] for p in data["placements"]} == EXPECTED["placement_rag"]
    for f in data["findings"]:
        assert f["guidance"] and f["message"]


def test_tracker_sheets_and_same_content_as_json(outputs: dict) -> None:
    wb = openpyxl.load_workbook(outputs["dir"] / "tracker.xlsx")
    # Changes and Providers come from the register; "apdocs written" is its very hidden record of
    # the decisions as written, for reading officers' edits back.
    visible = ["Summary", "Placements", "Findings", "Evidence", "Chase list", "Changes", "Providers"]
    assert wb.sheetnames == [*visible, "apdocs written"]
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"] == visible
    findings = wb["Findings"]
    assert "Findings" in findings.tables
    rows = list(findings.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(outputs["json"]["findings"])
    assert {r[1] for r in rows} == {f["code"] for f in outputs["json"]["findings"]}
    placements = wb["Placements"]
    assert placements.max_row - 1 == len(outputs["json"]["placements"])
    links = [c.hyperlink.target for row in placements.iter_rows(min_row=2) for c in row if c.hyperlink]
    assert links and all((outputs["dir"] / t).resolve().exists() for t in links)
    chase = wb["Chase list"]
    emails = {r[1] for r in chase.iter_rows(min_row=2, values_only=True)}
    assert "senco@riverside-academy.example.org" in emails
    owed = sum(len(s["owes"]) for s in outputs["json"]["schools"])
    assert chase.max_row - 1 == owed
    evidence = wb["Evidence"]
    assert [c.value for c in evidence[1]][2:] == [f"e{i}" for i in range(1, 26)]
    assert evidence.conditional_formatting


def test_split_timetable_pupil_is_not_part_time_and_its_school_hours_are_shown(outputs: dict) -> None:
    data = outputs["json"]
    part_time = {f["pupil_reference"] for f in data["findings"] if f["code"] == "PART_TIME_PACKAGE"}
    assert "LAC-0004" in part_time and "LAC-0001" not in part_time  # 25 + 6 at providers + 6.5 in school
    hours = {(p["pupil_reference"], p["provider"]): p["school_hours_per_week"] for p in data["placements"]}
    assert hours["LAC-0001", "Forge Farm Skills"] == hours["LAC-0001", "Greenway Learning Centre"] == 6.5
    assert hours["LAC-0004", "County Pupil Referral Unit"] == 0
    ws = openpyxl.load_workbook(outputs["dir"] / "tracker.xlsx")["Placements"]
    rows = list(ws.iter_rows(values_only=True))
    col = rows[0].index("School hours / week")
    assert {r[col] for r in rows[1:] if r[1] == "LAC-0001"} == {6.5}
    assert {r[col] for r in rows[1:] if r[1] != "LAC-0001"} == {None}


def _roster_with_school_hours(tmp_path: Path, first: str, second: str) -> Path:
    """The sample roster with LAC-0001's school hours (lines 2 and 3) set to ``first`` and ``second``."""
    lines = (SAMPLES / "roster.csv").read_text(encoding="utf-8").splitlines()
    for i, value in ((1, first), (2, second)):
        assert ",6.5," in lines[i]
        lines[i] = lines[i].replace(",6.5,", f",{value},")
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return roster


@pytest.mark.parametrize(
    ("first", "second", "in_message"),
    [("", "", "31 hours a week across 2 placement(s)"), ("1", "", "32 hours a week (31 across 2 placement(s) and 1 in school)")],
)
def test_too_few_school_hours_leave_the_pupil_part_time(tmp_path: Path, first: str, second: str, in_message: str) -> None:
    roster = _roster_with_school_hours(tmp_path, first, second)
    code, text = run("reconcile", "--roster", str(roster), "--as-of", "2025-03-31", str(SAMPLES / "returns"), "--json")
    assert code == 0
    findings = json.loads(text)["findings"]
    [message] = [f["message"] for f in findings if f["code"] == "PART_TIME_PACKAGE" and f["pupil_reference"] == "LAC-0001"]
    assert in_message in message
    assert ("in school" in message) is bool(first)


def test_conflicting_school_hours_are_a_roster_error(tmp_path: Path) -> None:
    roster = _roster_with_school_hours(tmp_path, "6.5", "5")
    args = ["reconcile", "--roster", str(roster), str(SAMPLES / "returns"), "-o", str(tmp_path / "t.xlsx")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3
    assert "roster.csv:3: school_hours_per_week for LAC-0001 is 5 here but 6.5 on line 2" in result.output
    assert not (tmp_path / "t.xlsx").exists()


def test_hostile_text_stays_text_in_tracker_and_csv(outputs: dict) -> None:
    with zipfile.ZipFile(outputs["dir"] / "tracker.xlsx") as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(outputs["dir"] / "tracker.xlsx")
    cells = [
        c for row in wb["Findings"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
    ]
    assert cells and all(c.data_type == "s" for c in cells)
    csv_text = (outputs["dir"] / "findings.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in csv_text and "'@Unknown School" in csv_text and "'-LAC-0099" in csv_text
    assert ",=HYPERLINK(" not in csv_text and ",@Unknown" not in csv_text


def test_one_feedback_letter_per_school(outputs: dict) -> None:
    letters = sorted(p.name for p in (outputs["dir"] / "letters").iterdir())
    assert letters == ["feedback-hollybank-primary.docx", "feedback-oakfield-high-school.docx", "feedback-riverside-academy.docx"]


def test_unreadable_return_is_listed_and_exit_1(tmp_path: Path) -> None:
    returns = tmp_path / "returns"
    shutil.copytree(SAMPLES / "returns", returns)
    (returns / "scanned.docx").write_bytes(b"%PDF-1.4 not a Word file")
    code, text = run("reconcile", "--roster", str(SAMPLES / "roster.csv"), "--as-of", "2025-03-31", str(returns), "--json")
    assert code == 1
    data, _ = json.JSONDecoder().raw_decode(text, text.index("{"))  # the failure, on stderr, follows the JSON
    bad = [f for f in data["findings"] if f["code"] == "RETURN_UNREADABLE"]
    assert len(bad) == 1 and bad[0]["source"].endswith("scanned.docx")


def test_invalid_roster_is_fatal_and_writes_nothing(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    lines = (SAMPLES / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",school,32.5,", ",school,lots,")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["reconcile", "--roster", str(roster), str(SAMPLES / "returns"), "-o", str(tmp_path / "t.xlsx")]
    )
    assert result.exit_code == 3
    assert "roster.csv:4: hours_per_week must be a number" in result.output
    assert not (tmp_path / "t.xlsx").exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_each_roster_problem_is_printed_once(tmp_path: Path, as_json: bool) -> None:
    roster = tmp_path / "roster.csv"
    lines = (SAMPLES / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",school,32.5,", ",school,lots,")
    lines[5] = lines[5].replace(",school,", ",council,")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RosterError) as raised:
        load_roster(roster)
    problems = [e["message"] for e in raised.value.context["errors"]]
    assert len(problems) >= 2 and len(set(problems)) == len(problems)  # distinct, so each can be counted

    args = ["reconcile", "--roster", str(roster), str(SAMPLES / "returns"), "-o", str(tmp_path / "t.xlsx")]
    result = CliRunner().invoke(main, args + (["--json"] if as_json else []))
    assert result.exit_code == 3
    assert result.stdout == ""  # a fatal error writes no (partial) JSON
    for message in problems:
        assert result.stderr.count(message) == 1, (message, result.stderr)
    assert f"roster has {len(problems)} problem(s)" in result.stderr


def test_tracker_is_replaced_and_inputs_are_protected(tmp_path: Path) -> None:
    tracker = tmp_path / "tracker.xlsx"
    args = ("reconcile", "--roster", str(SAMPLES / "roster.csv"), "--as-of", "2025-03-31", "-o", str(tracker))
    code, _ = run(*args)
    assert code == 0 and zipfile.is_zipfile(tracker)
    first = tracker.read_bytes()
    code, _ = run(*args)
    assert code == 0 and zipfile.is_zipfile(tracker)
    assert [p.read_bytes() for p in tmp_path.glob("tracker.2*.xlsx")] == [first]  # replaced, and kept as a dated backup
    # A file in its place that cannot be read back as a tracker may hold an officer's work: it is not replaced.
    tracker.write_bytes(b"old")
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 3 and tracker.read_bytes() == b"old" and "TRACKER_UNREADABLE" in result.output
    roster_copy = tmp_path / "roster.csv"
    shutil.copy(SAMPLES / "roster.csv", roster_copy)
    result = CliRunner().invoke(main, ["reconcile", "--roster", str(roster_copy), "-o", str(roster_copy)])
    assert result.exit_code == 3 and roster_copy.read_bytes() == (SAMPLES / "roster.csv").read_bytes()


def test_regenerating_samples_gives_the_same_parsed_content(tmp_path: Path) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, str(SAMPLES / "make_returns.py"), str(tmp_path)], check=True, capture_output=True)

    def content(folder: Path) -> dict[str, tuple]:
        out = {}
        for r in parse_many([folder]):
            assert isinstance(r, ParsedReturn), r
            out[Path(r.source.path).name] = (r.form, r.header, r.answers)
        return out

    committed, fresh = content(SAMPLES / "returns"), content(tmp_path)
    assert committed.keys() == fresh.keys() and len(committed) == EXPECTED["returns_read"]
    assert committed == fresh


def test_feedback_letters_are_not_overwritten_without_force(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    edited = letters / "feedback-riverside-academy.docx"
    edited.write_bytes(b"an officer's edited letter")
    args = ["reconcile", "--roster", str(SAMPLES / "roster.csv"), "--as-of", "2025-03-31", str(SAMPLES / "returns")]
    args += ["--letters", str(letters), "-o", str(tmp_path / "tracker.xlsx")]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 3 and "exists" in refused.output
    assert edited.read_bytes() == b"an officer's edited letter"
    assert sorted(p.name for p in letters.iterdir()) == [edited.name]  # no other letter written either
    assert not (tmp_path / "tracker.xlsx").exists()  # nor the tracker: the run refused as a whole
    code, _ = run(*args, "--force")
    assert code == 0 and zipfile.is_zipfile(edited) and len(list(letters.iterdir())) == 3


def test_a_tracker_kept_inside_the_returns_folder_is_not_read_back(tmp_path: Path) -> None:
    returns = tmp_path / "returns"
    shutil.copytree(SAMPLES / "returns", returns)
    args = ["reconcile", "--roster", str(SAMPLES / "roster.csv"), "--as-of", "2025-03-31", str(returns)]
    args += ["-o", str(returns / "tracker.xlsx")]
    assert run(*args)[0] == 0
    code, _ = run(*args)  # second run: the tracker from the first is now in the folder
    assert code == 0
    findings = openpyxl.load_workbook(returns / "tracker.xlsx")["Findings"]
    assert not any("tracker.xlsx" in str(c.value or "") for row in findings.iter_rows() for c in row)
