"""Issue 9, items 1-3: values no record may carry, in real files read by the real CLI.

* a lone surrogate (Excel's ``_xD800_`` escape) becomes U+FFFD with a TEXT_INVALID warning;
* inf/nan in a numeric cell becomes null with a NUMBER_NOT_FINITE warning, and a date serial
  that is no date is DATE_UNREADABLE while the rest of the return is still read;
* ``apdocs parse --json`` prints strict JSON (no NaN/Infinity) for the whole batch;
* zero-width joiners and non-joiners survive; zero-width spaces, BOMs and soft hyphens do not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from apdocs import api
from apdocs.parse import parse
from tests.docx_edit import edit_part

SHEET = "xl/worksheets/sheet1.xml"


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _set_cell(xml: bytes, ref: str, new_cell: str) -> bytes:
    """Replace cell ``ref`` (self-closed or not) with ``new_cell`` in a sheet's XML."""
    text = xml.decode()
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', re.S)
    assert pattern.search(text), ref
    return pattern.sub(new_cell, text, count=1).encode()


def _cell_of(data: bytes, name: str) -> str:
    """The cell reference a defined name points at (e.g. apdocs_hours_per_week -> B11)."""
    import io
    import zipfile

    wb = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    m = re.search(rf'<definedName name="{name}"[^>]*>[^!]*!\$([A-Z]+)\$(\d+)</definedName>', wb)
    assert m, name
    return m.group(1) + m.group(2)


def _hostile(form_id: str, values: dict[str, object], cells: dict[str, str]) -> bytes:
    """A rendered Excel form with the named answer cells replaced by raw cell XML."""
    data = api.render_form(form_id, "xlsx", values)
    refs = {name: _cell_of(data, name) for name in cells}

    def change(xml: bytes) -> bytes:
        for name, cell in cells.items():
            xml = _set_cell(xml, refs[name], cell.format(ref=refs[name]))
        return xml

    return edit_part(data, SHEET, change)


@pytest.fixture(scope="module")
def hostile_returns(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    a2 = _hostile(
        "appendix2",
        {"reference": "SYN-H9-1", "e2.note": "kept as typed", "insurance.employers_liability.amount": 10_000_000},
        {
            "apdocs_e1_note": '<c r="{ref}" t="inlineStr"><is><t>bad _xD800_ here</t></is></c>',
            # a whole character escaped as its UTF-16 pair is that character, not two bad halves
            "apdocs_e4_note": '<c r="{ref}" t="inlineStr"><is><t>smile _xD83D__xDE00_</t></is></c>',
            "apdocs_insurance_public_liability_amount": '<c r="{ref}"><v>nan</v></c>',
            "apdocs_e1_date_seen": '<c r="{ref}" s="10"><v>inf</v></c>',
            "apdocs_e3_date_seen": '<c r="{ref}" s="10"><v>1e300</v></c>',
        },
    )
    a4 = _hostile(
        "appendix4",
        {"reference": "SYN-H9-2", "q1": "Read despite the bad hours."},
        {"apdocs_hours_per_week": '<c r="{ref}"><v>inf</v></c>'},
    )
    (folder / "a-hostile.xlsx").write_bytes(a2)
    (folder / "b-hostile.xlsx").write_bytes(a4)
    # a good file after the bad ones: the batch must reach it
    (folder / "c-good.docx").write_bytes(api.render_form("appendix4", "docx", {"q1": "Good answer.", "reference": "SYN-H9-3"}))
    return folder


def test_parse_json_cli_survives_surrogates_and_non_finite_numbers(hostile_returns):
    # a real process with a real UTF-8 stdout: CliRunner would not show the UnicodeEncodeError
    run = subprocess.run(
        [sys.executable, "-m", "apdocs", "parse", "--json", str(hostile_returns)],
        capture_output=True,
        check=False,
        env={"PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr.decode()
    rows = _strict(run.stdout.decode("utf-8"))
    assert isinstance(rows, list) and [r["form"] for r in rows] == ["appendix2", "appendix4", "appendix4"]
    bad, hours, good = rows
    assert good["answers"]["q1"] == "Good answer."
    assert hours["header"]["hours_per_week"] is None and hours["answers"]["q1"] == "Read despite the bad hours."
    assert ("NUMBER_NOT_FINITE", "hours_per_week") in {(w["code"], w.get("where")) for w in hours["warnings"]}
    assert bad["answers"]["e1"]["note"] == "bad \ufffd here"
    assert bad["answers"]["e4"]["note"] == "smile \U0001f600"
    assert ("TEXT_INVALID", "e4.note") not in {(w["code"], w.get("where")) for w in bad["warnings"]}
    assert bad["answers"]["insurance"]["public_liability"]["amount"] is None
    assert bad["answers"]["e1"]["date_seen"] is None and bad["answers"]["e3"]["date_seen"] is None
    # the rest of the return is still read
    assert bad["answers"]["e2"]["note"] == "kept as typed"
    assert bad["answers"]["insurance"]["employers_liability"]["amount"] == 10_000_000
    codes = {(w["code"], w.get("where")) for w in bad["warnings"]}
    assert ("TEXT_INVALID", "e1.note") in codes
    assert ("NUMBER_NOT_FINITE", "insurance.public_liability.amount") in codes
    assert ("DATE_UNREADABLE", "e1.date_seen") in codes and ("DATE_UNREADABLE", "e3.date_seen") in codes


def test_joiners_are_kept_and_invisible_junk_is_stripped():
    family = "👩\u200d👧"  # one emoji, built with a zero-width joiner
    persian = "می\u200cخواهم"  # "I want": the non-joiner is part of the spelling
    junk = "\ufeffvis\u200bited\u00ad \u2060on site"
    values = {"q1": family, "q2": persian, "q3": junk, "reference": "SYN-H9-3"}
    for fmt in ("docx", "xlsx"):
        record = parse(api.render_form("appendix4", fmt, values), path=f"joiners.{fmt}")
        assert record.answers["q1"] == family, fmt
        assert record.answers["q2"] == persian, fmt
        assert record.answers["q3"] == "visited on site", fmt


def test_a_file_name_that_is_not_utf8_is_printed_not_fatal(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    bad_name = os.fsdecode(b"a-caf\xe9.docx")  # Latin-1 bytes: a lone surrogate in Python's str
    (folder / bad_name).write_bytes(b"not a zip at all")
    (folder / "b-good.docx").write_bytes(api.render_form("appendix4", "docx", {"q1": "Good answer."}))
    for args in (["--json"], []):
        run = subprocess.run(
            [sys.executable, "-m", "apdocs", "parse", *args, str(folder)],
            capture_output=True,
            check=False,
            env={"PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"},
        )
        assert run.returncode == 1, run.stderr.decode()  # one file failed, the batch went on
        out = run.stdout.decode("utf-8")
        assert "a-caf\ufffd.docx" in out
        if args:
            rows = _strict(out)
            assert [r.get("error", {}).get("code") for r in rows] == ["NOT_A_ZIP", None]
            assert rows[1]["answers"]["q1"] == "Good answer."
        else:
            assert "b-good.docx\tappendix4" in out


def test_reconcile_writes_its_tracker_when_a_file_name_is_not_utf8(tmp_path):
    root = Path(__file__).resolve().parents[1]
    returns = tmp_path / "returns"
    returns.mkdir()
    good = (root / "samples" / "returns" / "hollybank-greenway-appendix4.docx").read_bytes()
    (returns / os.fsdecode(b"greenway-r\xe9ponse.docx")).write_bytes(good)  # readable: linked from the tracker
    (returns / os.fsdecode(b"caf\xe9.docx")).write_bytes(b"not a zip at all")  # unreadable: listed
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "apdocs",
            "reconcile",
            "--roster",
            str(root / "samples" / "roster.csv"),
            "--as-of",
            "2025-03-31",
            str(returns),
            "-o",
            str(tmp_path / "tracker.xlsx"),
            "--csv",
            str(tmp_path / "findings.csv"),
        ],
        capture_output=True,
        check=False,
        env={"PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode in (0, 1), run.stderr.decode(errors="replace")
    assert "caf\ufffd.docx could not be read" in (tmp_path / "findings.csv").read_text(encoding="utf-8-sig")
    import zipfile

    with zipfile.ZipFile(tmp_path / "tracker.xlsx") as zf:
        rels = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".rels"))
    assert "greenway-r%E9ponse.docx" in rels  # the link names the file's real bytes
