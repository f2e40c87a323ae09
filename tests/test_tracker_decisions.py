"""Reading officers' decisions back from the tracker: refused when uncertain, and backups kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

import apdocs
from apdocs.fileio import is_backup_of
from apdocs.parse import parse_many
from apdocs.reconcile import load_config
from apdocs.reports.tracker import write_tracker
from apdocs.roster import load_roster
from tests.register_helpers import appendix4, cli, findings_rows, key_of, officer_edits, reconcile, write_roster


@pytest.fixture()
def first_run(tmp_path: Path) -> tuple[str, Path, Path, Path]:
    db, roster, tracker, returns = str(tmp_path / "r.db"), write_roster(tmp_path), tmp_path / "tracker.xlsx", tmp_path / "in"
    returns.mkdir()
    appendix4(returns, "a4.docx", "2025-03-01", blank=("q13",))
    assert reconcile(db, roster, returns, tracker, "2025-03-31")[0] == 0
    return db, roster, returns, tracker


def _runs(db: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])


def _refused(first_run: tuple[str, Path, Path, Path], why: str) -> None:
    db, roster, returns, tracker = first_run
    before = tracker.read_bytes()
    code, out = reconcile(db, roster, returns, tracker, "2025-04-30")
    assert code == 3, out
    assert str(tracker) in out and "TRACKER_UNREADABLE" in out and why in out
    assert tracker.read_bytes() == before, "the tracker is left as it was"
    assert _runs(db) == 1, "and the register too"
    assert not list(tracker.parent.glob("tracker.2*.xlsx")), "no backup: nothing was replaced"


def test_a_corrupt_tracker_is_refused_not_replaced(first_run: tuple[str, Path, Path, Path]) -> None:
    tracker = first_run[3]
    tracker.write_bytes(tracker.read_bytes()[:2000])
    _refused(first_run, "cannot be read back")


def test_a_tracker_whose_sheet_xml_is_damaged_is_refused_not_replaced(first_run: tuple[str, Path, Path, Path]) -> None:
    """Damage that opens fine but breaks the streamed read-back: a shared-string index past the table."""
    import re
    import zipfile

    tracker = first_run[3]
    with zipfile.ZipFile(tracker) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    key_cell = re.compile(rb't="inlineStr"><is><t>F-[0-9a-f]{10}</t></is>')
    damaged = 0
    for name, data in parts.items():
        if name.startswith("xl/worksheets/sheet"):
            parts[name], n = key_cell.subn(b't="s"><v>99999</v>', data)
            damaged += n
    assert damaged, "the tracker's keys are inline strings, as apdocs writes them"
    with zipfile.ZipFile(tracker, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    _refused(first_run, "cannot be read back (IndexError)")


def test_a_tracker_open_in_excel_is_refused(first_run: tuple[str, Path, Path, Path]) -> None:
    tracker = first_run[3]
    (tracker.parent / f"~${tracker.name}").write_bytes(b"\0" * 162)
    _refused(first_run, "open in a spreadsheet program")


def test_a_tracker_whose_decision_column_was_removed_is_refused(first_run: tuple[str, Path, Path, Path]) -> None:
    tracker = first_run[3]
    wb = load_workbook(tracker)
    ws = wb["Findings"]
    for cell in ws[1]:
        if cell.value == "Decision":
            ws.delete_cols(cell.column)
            break
    wb.save(tracker)
    _refused(first_run, "no 'Decision' column")


def test_a_decision_that_is_not_on_the_list_is_refused(first_run: tuple[str, Path, Path, Path]) -> None:
    tracker = first_run[3]
    officer_edits(tracker, {key_of(tracker, "QUESTION_UNANSWERED", "q13"): ("maybe", None)})
    _refused(first_run, "Decision must be accept, chase or blank")


def test_a_tracker_without_the_hidden_sheet_is_refused(first_run: tuple[str, Path, Path, Path]) -> None:
    tracker = first_run[3]
    wb = load_workbook(tracker)
    del wb["apdocs written"]
    wb.save(tracker)
    _refused(first_run, "hidden sheet")


def test_officers_may_sort_and_move_rows(first_run: tuple[str, Path, Path, Path]) -> None:
    db, roster, returns, tracker = first_run
    q13 = key_of(tracker, "QUESTION_UNANSWERED", "q13")
    wb = load_workbook(tracker)
    ws = wb["Findings"]
    ws.insert_rows(2, amount=3)  # rows moved down; blank rows in between
    wb.save(tracker)
    officer_edits(tracker, {q13: ("accept", "fine")})
    assert reconcile(db, roster, returns, tracker, "2025-04-30")[0] == 0
    assert findings_rows(tracker)[q13]["Status"] == "accepted"


def test_each_replaced_tracker_is_kept_under_its_own_dated_name(first_run: tuple[str, Path, Path, Path]) -> None:
    db, roster, returns, tracker = first_run
    versions = [tracker.read_bytes()]
    for as_of in ("2025-04-30", "2025-05-31"):
        assert reconcile(db, roster, returns, tracker, as_of)[0] == 0
        versions.append(tracker.read_bytes())
    backups = sorted(tracker.parent.glob("tracker.2*.xlsx"))
    assert len(backups) == 2
    assert sorted(b.read_bytes() for b in backups) == sorted(versions[:2])
    assert all(is_backup_of(b, tracker) for b in backups)
    # A later reconcile of a folder holding the tracker does not read its backups as returns.
    code, out = cli("reconcile", "--db", db, "--roster", roster, "--as-of", "2025-06-30", tracker.parent, "-o", tracker, "--json")
    assert code == 0, out
    assert '"RETURN_UNREADABLE"' not in out


def test_a_tracker_from_before_the_register_is_replaced_and_kept(tmp_path: Path) -> None:
    db, roster, tracker, returns = str(tmp_path / "r.db"), write_roster(tmp_path), tmp_path / "tracker.xlsx", tmp_path / "in"
    returns.mkdir()
    appendix4(returns, "a4.docx", "2025-03-01")
    result = apdocs.reconcile(load_roster(roster), parse_many([returns]), load_config(), dt.date(2025, 3, 31))
    write_tracker(result, tracker)  # a snapshot tracker, as apdocs wrote before the register: no decisions in it
    old = tracker.read_bytes()
    assert reconcile(db, roster, returns, tracker, "2025-03-31")[0] == 0
    (backup,) = tracker.parent.glob("tracker.2*.xlsx")
    assert backup.read_bytes() == old
    assert "Key" in next(iter(findings_rows(tracker).values()))


def test_no_cell_of_a_register_tracker_is_a_formula_whatever_was_typed(tmp_path: Path) -> None:
    """Hostile roster text (the school, provider and pupil of tests/test_tracker.py) and a hostile officer note."""
    import zipfile

    from apdocs.reports.registered_run import run_with_register
    from apdocs.roster import Roster
    from tests.test_tracker import hostile_result

    hostile = Roster(tuple(pr.placement for pr in hostile_result().placements))
    db, tracker = str(tmp_path / "r.db"), tmp_path / "t.xlsx"
    run_with_register(db, hostile, [], as_of=dt.date(2025, 3, 31), tracker=tracker)  # no returns: all missing
    key = next(iter(findings_rows(tracker)))
    officer_edits(tracker, {key: ("accept", '=HYPERLINK("http://example.invalid","click")')})
    run_with_register(db, hostile, [], as_of=dt.date(2025, 4, 30), tracker=tracker)
    assert findings_rows(tracker)[key]["Officer note"].startswith("=HYPERLINK")
    with zipfile.ZipFile(tracker) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 8  # the five snapshot sheets, Changes, Providers and the very hidden one
        for name in sheets:
            xml = z.read(name)
            assert b"<f>" not in xml and b"<f " not in xml, name


def test_an_edit_is_recorded_as_made_by_whoever_saved_the_tracker_last(first_run: tuple[str, Path, Path, Path]) -> None:
    db, roster, returns, tracker = first_run
    q13 = key_of(tracker, "QUESTION_UNANSWERED", "q13")
    officer_edits(tracker, {q13: ("accept", "fine")})
    wb = load_workbook(tracker)
    wb.properties.lastModifiedBy = "Jo Officer"  # as Excel records the user who saved the file
    wb.save(tracker)
    assert reconcile(db, roster, returns, tracker, "2025-04-30")[0] == 0
    code, out = cli("findings", "list", "--db", db, "--status", "accepted", "--json")
    assert code == 0, out
    (finding,) = json.loads(out)
    assert (finding["decision"]["by"], finding["decision"]["source"]) == ("Jo Officer", "tracker")


def test_the_decision_column_is_a_dropdown_of_accept_and_chase(first_run: tuple[str, Path, Path, Path]) -> None:
    ws = load_workbook(first_run[3])["Findings"]
    column = next(c.column_letter for c in ws[1] if c.value == "Decision")
    (choices,) = ws.data_validations.dataValidation
    assert (choices.type, choices.formula1, choices.allow_blank) == ("list", '"accept,chase"', True)
    assert str(choices.sqref) == f"{column}2:{column}{ws.max_row}"


@pytest.mark.libreoffice
def test_libreoffice_opens_a_register_tracker_and_shows_the_officer_s_note(
    libreoffice, first_run: tuple[str, Path, Path, Path]
) -> None:
    import subprocess

    from tests.office import require

    require("pdftotext")
    db, roster, returns, tracker = first_run
    officer_edits(tracker, {key_of(tracker, "QUESTION_UNANSWERED", "q13"): ("accept", "Agreed by the VS head")})
    assert reconcile(db, roster, returns, tracker, "2025-04-30")[0] == 0
    (pdf,) = libreoffice.convert([tracker], "pdf", tracker.parent / "pdf")
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert "Agreed by the VS head" in text and "Officer note" in text
    assert "Changes since the run as of 2025-03-31" in text and "Kestrel Tuition" in text
    assert "apdocs written" not in text  # the very hidden sheet is not shown, nor printed


def test_letters_that_refuse_leave_the_register_and_the_tracker_as_they_were(first_run: tuple[str, Path, Path, Path]) -> None:
    db, roster, returns, tracker = first_run
    letters = tracker.parent / "letters"
    args = ["reconcile", "--db", db, "--roster", roster, "--as-of", "2025-04-30", returns, "-o", tracker, "--letters", letters]
    assert cli(*args)[0] == 0
    before = tracker.read_bytes()
    officer_edits(tracker, {key_of(tracker, "QUESTION_UNANSWERED", "q13"): ("accept", "x")})
    edited = tracker.read_bytes()
    code, out = cli(*args)  # the letters are there already and --force is not given
    assert code == 3 and "OUTPUT_EXISTS" in out, out
    assert tracker.read_bytes() == edited != before
    assert _runs(db) == 2
    code, out = cli("findings", "list", "--db", db, "--status", "accepted", "--json")
    assert json.loads(out) == [], "the officer's edit is read again, and stored, by the next run that succeeds"


def test_accepting_an_unknown_key_is_an_error(tmp_path: Path) -> None:
    code, out = cli("findings", "accept", "F-0000000000", "--note", "x", "--db", tmp_path / "r.db")
    assert code == 3 and "UNKNOWN_FINDING" in out and "F-0000000000" in out


def test_a_key_apdocs_did_not_write_is_refused(first_run: tuple[str, Path, Path, Path]) -> None:
    tracker = first_run[3]
    wb = load_workbook(tracker)
    ws = wb["Findings"]
    column = next(c.column for c in ws[1] if c.value == "Key")
    ws.cell(row=2, column=column).value = "F-mistyped00"
    wb.save(tracker)
    _refused(first_run, "has a key apdocs did not write (F-mistyped00)")


# Notes an officer might type that read like xlsx escapes (_x0041_ is Excel's escape for "A"),
# one for each finding of first_run: each must come back exactly as typed.
ESCAPE_LIKE = ("_x0041_", "_x005F_ and ax005F_b, a pair _xD83D__xDE00_", "_x005f_x0041_", "_x0000_x0000_")
_M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _saved_by_excel(tracker: Path) -> None:
    """Move every inline string into a shared-string table (xl/sharedStrings.xml), as Excel saves text.

    openpyxl reads shared strings differently from inline ones (it deletes every "x005F_").
    """
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(tracker) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    assert "xl/sharedStrings.xml" not in parts
    sst = etree.Element(f"{{{_M}}}sst", nsmap={None: _M})
    for name in sorted(parts):
        if name.startswith("xl/worksheets/sheet"):
            root = etree.fromstring(parts[name])
            for c in root.iter(f"{{{_M}}}c"):
                inline = c.find(f"{{{_M}}}is")
                if c.get("t") == "inlineStr" and inline is not None:
                    c.remove(inline)
                    inline.tag = f"{{{_M}}}si"
                    sst.append(inline)
                    c.set("t", "s")
                    etree.SubElement(c, f"{{{_M}}}v").text = str(len(sst) - 1)
            parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts["xl/sharedStrings.xml"] = etree.tostring(sst, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(parts["[Content_Types].xml"])
    etree.SubElement(
        types,
        "{http://schemas.openxmlformats.org/package/2006/content-types}Override",
        PartName="/xl/sharedStrings.xml",
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    )
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    etree.SubElement(
        rels,
        "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship",
        Id="rIdStrings",
        Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings",
        Target="sharedStrings.xml",
    )
    parts["xl/_rels/workbook.xml.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(tracker, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _register_notes(db: str) -> dict[str, str]:
    code, out = cli("findings", "list", "--db", db, "--json")
    assert code == 0, out
    return {f["key"]: f["decision"]["note"] for f in json.loads(out) if f["decision"]}


def _sheet_texts(tracker: Path, title: str) -> list[str]:
    """The raw text of each <t> of the sheet ``title``, as the file holds it."""
    import zipfile

    from lxml import etree

    wb = load_workbook(tracker, read_only=True)
    path = wb[title]._worksheet_path
    wb.close()
    with zipfile.ZipFile(tracker) as z:
        return [t.text or "" for t in etree.fromstring(z.read(path)).iter(f"{{{_M}}}t")]


def _notes_decoded(tracker: Path) -> dict[str, str]:
    """Key -> Officer note of the Findings sheet, decoded as the spec says (apdocs' reader of returns), not as openpyxl does."""
    from apdocs.formats.ooxml import open_package
    from apdocs.formats.xlsx.book import Book

    sheet = Book(open_package(tracker.read_bytes(), path=str(tracker), kind="xlsx")).sheet("Findings")
    assert sheet is not None
    heads = {c.value: col for (row, col), c in sheet.cells.items() if row == 1}
    key, note = heads["Key"], heads["Officer note"]
    return {c.value: sheet.cells[(row, note)].value for (row, col), c in sheet.cells.items() if col == key and row > 1}


def test_a_note_that_reads_like_an_xlsx_escape_comes_back_as_typed(first_run: tuple[str, Path, Path, Path]) -> None:
    """Typed into the tracker (saved as Excel saves it), merged, written out again, re-read: never changed."""
    db, roster, returns, tracker = first_run
    notes = dict(zip(findings_rows(tracker), ESCAPE_LIKE, strict=True))
    officer_edits(tracker, {key: ("accept", note) for key, note in notes.items()})
    _saved_by_excel(tracker)
    code, out = reconcile(db, roster, returns, tracker, "2025-04-30")
    assert code == 0 and "4 officer decision(s) read" in out, out
    assert _register_notes(db) == notes
    # The new tracker holds them escaped (both the Findings sheet and the very hidden one) ...
    escaped = ("_x005F_x0041_", "_x005F_x005F_ and ax005F_b, a pair _x005F_xD83D__x005F_xDE00_")
    escaped += ("_x005F_x005f_x005F_x0041_", "_x005F_x0000_x005F_x0000_")
    for title in ("Findings", "apdocs written"):
        texts = _sheet_texts(tracker, title)
        assert all(e in texts for e in escaped), title
    # ... which decode to what was typed.
    assert _notes_decoded(tracker) == notes
    # Read back again, as apdocs wrote it and as Excel re-saves it: nobody changed anything.
    for as_of, excel in (("2025-05-31", False), ("2025-06-30", True)):
        if excel:
            _saved_by_excel(tracker)
        code, out = reconcile(db, roster, returns, tracker, as_of)
        assert code == 0 and "0 officer decision(s) read" in out, out
    assert _register_notes(db) == notes


def test_a_decoded_character_a_cell_cannot_hold_is_read_as_the_tracker_would_show_it(
    first_run: tuple[str, Path, Path, Path],
) -> None:
    """Excel saves a pasted control character as _x0007_; a crafted file may hold _x0000_ or half a pair (_xD800_)."""
    db, roster, returns, tracker = first_run
    key = next(iter(findings_rows(tracker)))
    officer_edits(tracker, {key: ("accept", "bell\x07, NUL\x00 and half \ud800 of a pair")})  # escaped as Excel saves
    code, out = reconcile(db, roster, returns, tracker, "2025-04-30")
    assert code == 0 and "1 officer decision(s) read" in out, out
    assert _register_notes(db) == {key: "bell, NUL and half \ufffd of a pair"}  # as sheet_text writes it
    code, out = reconcile(db, roster, returns, tracker, "2025-05-31")
    assert code == 0 and "0 officer decision(s) read" in out, out


@pytest.mark.libreoffice
def test_libreoffice_re_saving_the_tracker_keeps_notes_that_read_like_escapes(
    libreoffice, first_run: tuple[str, Path, Path, Path]
) -> None:
    import shutil
    import zipfile

    db, roster, returns, tracker = first_run
    notes = dict(zip(findings_rows(tracker), ESCAPE_LIKE, strict=True))
    officer_edits(tracker, {key: ("accept", note) for key, note in notes.items()})
    assert reconcile(db, roster, returns, tracker, "2025-04-30")[0] == 0  # apdocs writes the notes, escaped
    (resaved,) = libreoffice.convert([tracker], "xlsx", tracker.parent / "lo")
    shutil.copyfile(resaved, tracker)
    with zipfile.ZipFile(tracker) as z:
        assert "xl/sharedStrings.xml" in z.namelist()  # LibreOffice saves text as shared strings
    saved = _notes_decoded(tracker)
    # LibreOffice shows and saves these as typed. (7.4 shows the other two as typed too, but saves
    # them with too few escapes: _x005f_x0041_ unescaped, and only the first of _x0000_x0000_.)
    assert {key: saved[key] for key in list(notes)[:2]} == {key: notes[key] for key in list(notes)[:2]}
    # Either way the Findings sheet and the very hidden one were saved alike: no edit, nothing lost.
    code, out = reconcile(db, roster, returns, tracker, "2025-05-31")
    assert code == 0 and "0 officer decision(s) read" in out, out
    assert _register_notes(db) == notes
