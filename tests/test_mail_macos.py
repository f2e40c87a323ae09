"""Zips and mail made on a Mac: the metadata macOS adds is listed as skipped, never read as a return.

The zips are built by :mod:`tests.macos_zip`, which writes them the way macOS's Archive
Utility (``ditto -c -k --sequesterRsrc --keepParent``) does; its docstring says how.
"""

from __future__ import annotations

import importlib.util
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.mail.extract import read_message
from tests.macos_zip import appledouble, ds_store, mac_zip
from tests.mail_helpers import DOCX, ROOT, SAMPLE_ROSTER, form_bytes, message

AS_OF = "2025-03-10"


def _read(msg: EmailMessage) -> Any:
    return read_message(msg.as_bytes(), "test.eml")


def test_archive_utility_zip_gives_only_the_forms_and_lists_the_mac_files() -> None:
    forms = {"Appendix 4 LAC-0001.docx": form_bytes("VS-A4-MAC1"), "Appendix 4 LAC-0002.docx": form_bytes("VS-A4-MAC2")}
    item = _read(message([("Returns.zip", mac_zip("Returns", forms), "application/zip")]))
    assert sorted(f.name for f in item.found) == ["Returns/Appendix 4 LAC-0001.docx", "Returns/Appendix 4 LAC-0002.docx"]
    mac = sorted(s.name for s in item.skipped if s.kind == "macos")
    assert mac == [
        "Returns/.DS_Store",
        "__MACOSX/Returns/._.DS_Store",
        "__MACOSX/Returns/._Appendix 4 LAC-0001.docx",
        "__MACOSX/Returns/._Appendix 4 LAC-0002.docx",
    ]
    assert all(s.kind == "macos" for s in item.skipped)  # nothing else was skipped
    assert all("macOS" in s.reason for s in item.skipped)


def test_appledouble_files_beside_the_forms_are_known_by_their_bytes() -> None:
    forms = {"Appendix 4.docx": form_bytes("VS-A4-MAC3")}
    item = _read(message([("Returns.zip", mac_zip("Returns", forms, alongside=True), "application/zip")]))
    assert [f.name for f in item.found] == ["Returns/Appendix 4.docx"]
    skipped = {s.name: s for s in item.skipped}
    assert set(skipped) == {"Returns/.DS_Store", "Returns/._.DS_Store", "Returns/._Appendix 4.docx"}
    assert "AppleDouble" in skipped["Returns/._Appendix 4.docx"].reason


def test_apple_mail_applefile_part_named_like_the_form_is_not_a_return() -> None:
    """Apple Mail's multipart/appledouble sends the resource half under the document's own name."""
    msg = message()
    msg.add_attachment(appledouble(), maintype="application", subtype="applefile", filename="Appendix 4.docx")
    msg.add_attachment(form_bytes("VS-A4-MAC4"), maintype="application", subtype=DOCX.split("/")[1], filename="Appendix 4.docx")
    item = _read(msg)
    assert [f.name for f in item.found] == ["Appendix 4.docx"] and item.found[0].kind == "docx"
    assert [(s.name, s.kind) for s in item.skipped] == [("Appendix 4.docx", "macos")]


def test_a_real_form_with_a_mac_looking_name_is_still_read() -> None:
    """The bytes decide: only non-form bytes are dropped for a ._ or .DS_Store name."""
    item = _read(
        message([("._Appendix 4.docx", form_bytes("VS-A4-MAC5"), DOCX), (".DS_Store", ds_store(), "application/octet-stream")])
    )
    assert [f.name for f in item.found] == ["._Appendix 4.docx"]
    assert [(s.name, s.kind) for s in item.skipped] == [(".DS_Store", "macos")]


def _make_replies_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_replies", ROOT / "samples" / "make_replies.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("macpack") / "outbox"
    res = CliRunner().invoke(main, ["pack", "--roster", str(SAMPLE_ROSTER), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_mac_zipped_reply_fills_the_tracker_with_no_unreadable_return(outbox: Path, tmp_path: Path) -> None:
    """A school zips its folder of returns on a Mac: every form counts, and nobody is chased for ._ files."""
    replies = _make_replies_module()
    rows = [
        r for r in json.loads((outbox / "manifest.json").read_text())["files"] if r["role"] == "form" and r["format"] == "docx"
    ]
    school = rows[0]["school"]
    mine = [r for r in rows if r["school"] == school]
    zipped = mac_zip("AP returns", {Path(r["file"]).name: replies.filled(r) for r in mine})
    mail = replies.reply(
        mine[0]["school_email"],
        "AP quality assurance",
        [("AP returns.zip", zipped, "application/zip")],
        msgid="<mac@synthetic.example>",
    )
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "mac.eml").write_bytes(mail.as_bytes())

    args = ["ingest", str(tmp_path / "replies"), "--archive", str(tmp_path / "archive"), "--roster", str(SAMPLE_ROSTER)]
    res = CliRunner().invoke(main, [*args, "--tracker", str(tmp_path / "tracker.xlsx"), "--as-of", AS_OF, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["tracker"]["unreadable"] == []
    assert out["tracker"]["returns_read"] == len(mine)
    assert out["ingest"]["forms_new"] == len(mine)
    mac = [s for s in out["skipped"] if s["kind"] == "macos"]
    assert len(mac) == len(mine) + 2  # a ._ per form, plus .DS_Store and its ._.DS_Store
    assert {s["via"] for s in mac} == {"AP returns.zip/"}

    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "tracker.xlsx", read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert not any("RETURN_UNREADABLE" in c or "._" in c or "__MACOSX" in c for c in cells)
