"""Returns in other containers, made by real LibreOffice from our own filled forms, read right.

Every form is filled (every slot, multi-line answers with blank lines, dates, choices,
Yes/No, amounts), rendered as .docx and .xlsx, and converted by real LibreOffice
headless - one soffice call per target, once per test session - to:

* PDF through writer_pdf_Export (Word-style "Save as PDF") and calc_pdf_Export;
* ODT and ODS (read directly, no LibreOffice needed to read them);
* DOC, XLS and RTF (read by converting them back with a sandboxed LibreOffice), and flat
  OpenDocument (.fodt/.fods) as an example of the converter's fallback for anything else.

Each is read through :func:`apdocs.parse.parse` and must give the same answers as the
original file, with ``source.format`` naming the container and a ROUTE_FALLBACK
warning saying how it was read.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

import pytest

from apdocs.api import render_form
from apdocs.errors import ParseError
from apdocs.forms import FORM_IDS, load_form
from apdocs.parse import MAX_FILE_BYTES, detect_format, parse, parse_many
from apdocs.record import flatten_answers
from tests.test_office_roundtrip import filled

pytestmark = pytest.mark.libreoffice

# target -> (source format, LibreOffice filter)
TARGETS = {
    "pdf-docx": ("docx", "pdf:writer_pdf_Export"),
    "pdf-xlsx": ("xlsx", "pdf:calc_pdf_Export"),
    "odt": ("docx", "odt"),
    "ods": ("xlsx", "ods"),
    "doc": ("docx", "doc:MS Word 97"),
    "xls": ("xlsx", "xls:MS Excel 97"),
    "rtf": ("docx", "rtf"),
    # anything else LibreOffice opens goes through the same converter: flat OpenDocument here
    "fodt": ("docx", "fodt"),
    "fods": ("xlsx", "fods"),
}


def printable(form_id: str) -> dict:
    """The filled values, with Appendix 2's notes on one line each.

    Excel prints a cell only as tall as its row (README, Limits: Excel layout), and Appendix 2's
    note cells are one line high in the workbook: a three-line note is cut off on paper, so no
    PDF of the workbook holds it. Every other multi-line answer has the room it needs.
    """
    values = filled(form_id, multiline=True)
    return {k: (f"Value {k}" if k.endswith(".note") else v) for k, v in values.items()}


def flat(data: bytes, path: str) -> tuple[str, dict]:
    rec = parse(data, path=path)
    return rec.form, flatten_answers(load_form(rec.form), rec.header, rec.answers)


@pytest.fixture(scope="session")
def converted(libreoffice, tmp_path_factory) -> dict[tuple[str, str], tuple[bytes, bytes]]:
    """(form, target) -> (original bytes, converted bytes); one soffice call per target."""
    src = tmp_path_factory.mktemp("forms")
    originals: dict[tuple[str, str], Path] = {}
    for form_id in FORM_IDS:
        for fmt in ("docx", "xlsx", "xlsx-print"):
            p = src / fmt / f"{form_id}.{fmt.split('-')[0]}"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(
                render_form(
                    form_id, fmt.split("-")[0], printable(form_id) if fmt == "xlsx-print" else filled(form_id, multiline=True)
                )
            )
            originals[form_id, fmt] = p
    out: dict[tuple[str, str], tuple[bytes, bytes]] = {}
    for target, (fmt, filt) in TARGETS.items():
        files = [originals[f, "xlsx-print" if target == "pdf-xlsx" else fmt] for f in FORM_IDS]
        results = libreoffice.convert(files, filt, tmp_path_factory.mktemp(target))
        for form_id, original, result in zip(FORM_IDS, files, results, strict=True):
            out[form_id, target] = (original.read_bytes(), result.read_bytes())
    return out


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_answer_is_read_from_the_converted_file(converted, form_id, target):
    original, data = converted[form_id, target]
    ext = target.split("-")[0]
    want_form, want = flat(original, f"original.{TARGETS[target][0]}")
    rec = parse(data, path=f"return.{ext}")
    assert rec.form == want_form == form_id
    got = flatten_answers(load_form(rec.form), rec.header, rec.answers)
    assert {k: (want[k], got.get(k)) for k in want if got.get(k) != want[k]} == {}
    # every slot was filled in the original, so "right" is not "both empty"
    assert all(v is not None for k, v in want.items()), [k for k, v in want.items() if v is None]
    assert rec.source.format == ext == detect_format(data)
    assert rec.source.sha256 == hashlib.sha256(data).hexdigest()
    assert any(w.code == "ROUTE_FALLBACK" for w in rec.warnings), "the route must be named"
    if ext in ("odt", "ods", "doc", "xls", "fodt", "fods"):  # LibreOffice keeps our document properties there
        assert rec.form_version == load_form(form_id).version


def test_a_batch_of_mixed_containers_reads_each_for_what_it_is(converted, tmp_path):
    for (form_id, target), (_, data) in converted.items():
        (tmp_path / f"{form_id}-{target}.{target.split('-')[0]}").write_bytes(data)
    results = list(parse_many([tmp_path]))
    assert len(results) == len(converted)
    bad = [r.to_dict() for r in results if not r.ok]
    assert bad == []
    assert {r.source.format for r in results} == {"pdf", "odt", "ods", "doc", "xls", "rtf", "fodt", "fods"}


def test_single_line_answers_in_a_pdf_too(libreoffice, tmp_path):
    """Short answers sit on one line each: nothing may be joined to the next row or question."""
    for form_id in FORM_IDS:
        (tmp_path / f"{form_id}.docx").write_bytes(render_form(form_id, "docx", filled(form_id, multiline=False)))
    pdfs = libreoffice.convert(sorted(tmp_path.glob("*.docx")), "pdf:writer_pdf_Export", tmp_path / "pdf")
    for pdf in pdfs:
        want_form, want = flat((tmp_path / f"{pdf.stem}.docx").read_bytes(), "original.docx")
        got_form, got = flat(pdf.read_bytes(), str(pdf))
        assert got_form == want_form
        assert {k: (want[k], got.get(k)) for k in want if got.get(k) != want[k]} == {}


def test_a_long_answer_running_over_a_page_break_is_read_whole(libreoffice, tmp_path):
    long = "\n".join(f"Line {i} of a long answer that the school typed." for i in range(1, 101))  # over two pages
    values = filled("appendix4", multiline=True) | {"q2": long}
    (tmp_path / "long.docx").write_bytes(render_form("appendix4", "docx", values))
    (tmp_path / "long.xlsx").write_bytes(render_form("appendix4", "xlsx", values))
    pdf = libreoffice.convert([tmp_path / "long.docx"], "pdf:writer_pdf_Export", tmp_path / "pdf")[0]
    rec = parse(pdf)
    assert rec.answers["q2"] == long
    assert rec.answers["q3"] == values["q3"]


# -- what cannot be read gets its own typed error ----------------------------------------------


@pytest.fixture(scope="module")
def unreadable(libreoffice, converted, tmp_path_factory) -> dict[str, Path]:
    """A scan-only PDF and a phone photo of a filled form, and a password-protected PDF."""
    from PIL import Image

    from tests.office import require

    work = tmp_path_factory.mktemp("unreadable")
    pdf = work / "filled.pdf"
    pdf.write_bytes(converted["appendix4", "pdf-docx"][1])
    # a "scan": the pages rendered to pictures by poppler, put back into a PDF with no text layer
    subprocess.run([require("pdftoppm"), "-r", "60", "-png", str(pdf), str(work / "page")], check=True, timeout=120)
    pages = [Image.open(p).convert("RGB") for p in sorted(work.glob("page-*.png"))]
    pages[0].save(work / "scan.pdf", save_all=True, append_images=pages[1:])
    pages[0].save(work / "photo.jpg", quality=80)
    src = work / "form.docx"
    src.write_bytes(converted["appendix4", "doc"][0])
    password = (
        'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
        '"DocumentOpenPassword":{"type":"string","value":"synthetic-password"}}'
    )
    locked = libreoffice.convert([src], password, work / "locked")[0]
    return {"scan": work / "scan.pdf", "photo": work / "photo.jpg", "password": locked}


def test_scan_photo_and_password_pdf_get_their_own_typed_errors(unreadable, tmp_path):
    oversize = tmp_path / "huge.pdf"
    with oversize.open("wb") as fh:  # sparse: no 64 MiB is written
        fh.truncate(MAX_FILE_BYTES + 1)
    files = {**unreadable, "oversize": oversize}
    results = {name: next(iter(parse_many([p]))) for name, p in files.items()}
    codes = {name: (r.error.code if not r.ok else None) for name, r in results.items()}
    assert codes == {"scan": "SCANNED_IMAGE", "photo": "SCANNED_IMAGE", "password": "ENCRYPTED", "oversize": "FILE_TOO_LARGE"}
    assert "Word or Excel" in results["scan"].error.message  # what to ask the school for
    assert "JPEG" in results["photo"].error.message and results["photo"].source.format == "image"
    assert results["scan"].source.format == results["password"].source.format == "pdf"


def test_a_folder_lists_photos_for_manual_handling(unreadable, tmp_path):
    (tmp_path / "IMG_0001.jpg").write_bytes(unreadable["photo"].read_bytes())
    [r] = list(parse_many([tmp_path]))
    assert not r.ok and r.error.code == "SCANNED_IMAGE"


# -- the LibreOffice sandbox ---------------------------------------------------------------------


def test_conversion_fetches_nothing_and_leaves_no_profile(libreoffice, tmp_path, monkeypatch):
    """An RTF whose fields link a picture and a text on a server (a loopback listener here):
    converted in a network namespace with a throwaway profile, nothing is fetched or left behind.
    (In our trials LibreOffice 7.4 did not fetch these on conversion even unsandboxed: this
    guards against a version that would.)"""
    from apdocs.formats import convert
    from tests.test_bad_input import Listener

    listener = Listener()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the throwaway folders are made
    url = f"http://127.0.0.1:{listener.port}"
    rtf = (
        "{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Provider name: Linked\\par"
        f'{{\\field{{\\*\\fldinst INCLUDEPICTURE "{url}/p.png" \\\\d}}{{\\fldrslt }}}}\\par'
        f'{{\\field{{\\*\\fldinst INCLUDETEXT "{url}/t.txt"}}{{\\fldrslt kept}}}}\\par}}'
    ).encode()
    try:
        out = convert.convert(rtf, source_ext=".rtf", target="docx", path="linked.rtf")
        assert out.startswith(b"PK")
        assert listener.connections() == 0
        assert not list(tmp_path.glob("apdocs-convert-*")), "the throwaway profile was left behind"
        with pytest.raises(ParseError) as info:
            parse(rtf + b" ", path="linked.rtf")  # a different file: converted again, then judged
        assert info.value.code == "NOT_A_FORM"
        assert listener.connections() == 0
    finally:
        listener.close()


def test_without_libreoffice_a_typed_error_says_how_to_install_it(converted, monkeypatch):
    from apdocs.formats import convert

    monkeypatch.setenv("APDOCS_SOFFICE", "/nonexistent/soffice")
    data = converted["appendix4", "doc"][1] + b"\0"  # not in the conversion cache
    with pytest.raises(ParseError) as info:
        parse(data, path="old.doc")
    assert info.value.code == "CONVERTER_MISSING"
    assert "apt-get install libreoffice" in str(info.value) and "old.doc" in str(info.value)
    assert convert.soffice() is None


# -- the 2020 appendices typed over by hand, then saved as PDF -----------------------------------


def _hand_typed_2020() -> dict[str, bytes]:
    """Shapes schools make of the original forms (see tests/test_legacy_forms.py), in Word's bordered
    "Table Grid" style: ☒/☐ in separate Yes | No columns, and questions as paragraphs with answers beneath."""
    from docx import Document

    from tests.test_legacy_forms import A2, A4, A4_ANSWERS, add_with_hint, to_bytes

    a2 = Document()
    a2.add_paragraph(A2.title)
    table = a2.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    yes, no = A2.yes_no
    for cell, text in zip(
        table.rows[0].cells, [A2.columns["evidence"], yes, no, A2.labels["date_seen"], A2.labels["note"]], strict=True
    ):
        cell.text = text
    marks = {"e1": ("☒", "☐"), "e2": ("X", ""), "e3": ("☐", "☒"), "e7": ("☒", "☐")}
    for item in A2.items:
        row = table.add_row().cells
        row[0].text = item.text
        row[1].text, row[2].text = marks.get(item.id, ("☐", "☐"))
        row[3].text = "12th March 2020" if item.id in marks else ""
        row[4].text = f"Copy on file for {item.id}" if item.id in ("e1", "e7") else ""
    a4 = Document()
    a4.add_paragraph(A4.title)
    for section in A4.sections:
        a4.add_heading(section.title, level=2)
        for q in section.questions:
            add_with_hint(a4.add_paragraph(), q)
            for line in (A4_ANSWERS.get(q.id) or "").split("\n"):
                if line:
                    a4.add_paragraph(line)
            a4.add_paragraph("")
    return {"a2-2020": to_bytes(a2), "a4-2020": to_bytes(a4)}


def test_hand_typed_2020_forms_saved_as_pdf_read_as_their_word_files(libreoffice, tmp_path):
    docs = _hand_typed_2020()
    for name, data in docs.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    pdfs = libreoffice.convert([tmp_path / f"{n}.docx" for n in docs], "pdf:writer_pdf_Export", tmp_path / "pdf")
    for name, pdf in zip(docs, pdfs, strict=True):
        want = parse(docs[name], path=f"{name}.docx")
        got = parse(pdf)
        assert got.form == want.form
        assert got.answers == want.answers, name
    a2 = parse(pdfs[0])
    assert a2.answers["e1"] == {"seen": True, "date_seen": "2020-03-12", "note": "Copy on file for e1"}
    assert a2.answers["e3"]["seen"] is False


def test_the_bundled_sample_returns_as_pdf_and_opendocument(libreoffice, tmp_path):
    """samples/returns (our forms filled in different ways, a draft, a 2020 hand-typed one) saved as PDF and ODT/ODS."""
    root = Path(__file__).resolve().parents[1] / "samples" / "returns"
    words, sheets = sorted(root.glob("*.docx")), sorted(root.glob("*.xlsx"))
    made = [
        *libreoffice.convert(words, "pdf:writer_pdf_Export", tmp_path / "pdf"),
        *libreoffice.convert(words, "odt", tmp_path / "odt"),
        *libreoffice.convert(sheets, "ods", tmp_path / "ods"),
    ]
    for path in made:
        original = next(p for p in (*words, *sheets) if p.stem == path.stem)
        want, got = parse(original), parse(path)
        assert (got.form, got.header, got.answers) == (want.form, want.header, want.answers), path.name


def test_a_pdf_locked_against_changes_and_copying_is_read(libreoffice, converted, tmp_path):
    """ "Save as PDF to lock it": a permissions password (no password to open) is not a password to read."""
    src = tmp_path / "form.docx"
    src.write_bytes(converted["appendix4", "pdf-docx"][0])
    locked = (
        'pdf:writer_pdf_Export:{"RestrictPermissions":{"type":"boolean","value":"true"},'
        '"PermissionPassword":{"type":"string","value":"synthetic-owner"},"Changes":{"type":"long","value":"0"},'
        '"EnableCopyingOfContent":{"type":"boolean","value":"false"}}'
    )
    pdf = libreoffice.convert([src], locked, tmp_path / "locked")[0]
    assert b"/Encrypt" in pdf.read_bytes()
    _, want = flat(src.read_bytes(), "form.docx")
    _, got = flat(pdf.read_bytes(), str(pdf))
    assert got == want


def test_placeholders_printed_in_a_pdf_read_as_blank(libreoffice, tmp_path):
    """Word prints a blank control's placeholder ("Click or tap here to enter text.") into its PDF.
    LibreOffice does not, so the flag that hides it is removed first: the PDF then shows it as Word's does."""
    from tests.docx_edit import W, edit_document

    def show_placeholders(root) -> None:
        for flag in list(root.iter(f"{{{W}}}showingPlcHdr")):
            flag.getparent().remove(flag)

    data = edit_document(render_form("appendix4", "docx", {"q1": "Only this one", "reference": "R-1"}), show_placeholders)
    (tmp_path / "partial.docx").write_bytes(data)
    pdf = libreoffice.convert([tmp_path / "partial.docx"], "pdf:writer_pdf_Export", tmp_path / "pdf")[0]
    rec = parse(pdf)
    assert rec.answers == {q.id: ("Only this one" if q.id == "q1" else None) for q in load_form("appendix4").questions()}
    assert {k: v for k, v in rec.header.items() if v is not None} == {"reference": "R-1"}
    assert not [w for w in rec.warnings if w.code == "DATE_UNREADABLE"]


def test_reconcile_reads_returns_sent_as_pdf_and_lists_a_scan_for_manual_handling(libreoffice, unreadable, tmp_path):
    """The bundled sample returns, every Word one sent as PDF and every Excel one as ODS, plus a scan:
    the same findings as from the originals, and the scan listed as RETURN_UNREADABLE."""
    import json

    from click.testing import CliRunner

    from apdocs.cli import main

    root = Path(__file__).resolve().parents[1]
    samples = root / "samples" / "returns"
    converted_dir = tmp_path / "as-sent"
    libreoffice.convert(sorted(samples.glob("*.docx")), "pdf:writer_pdf_Export", converted_dir)
    libreoffice.convert(sorted(samples.glob("*.xlsx")), "ods", converted_dir)
    (converted_dir / "scan.pdf").write_bytes(unreadable["scan"].read_bytes())

    def findings(folder: Path) -> list:
        args = ["reconcile", "--roster", str(root / "samples" / "roster.csv"), "--as-of", "2025-03-31", str(folder), "--json"]
        result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / f"{folder.name}.xlsx")])
        data, _ = json.JSONDecoder().raw_decode(result.stdout, result.stdout.index("{"))
        return data["findings"]

    want, got = findings(samples), findings(converted_dir)

    def key(f: dict) -> tuple:
        source = Path(f["source"]).stem if f["source"] else None
        return tuple(str(v) for v in (f["code"], f["school"], f["pupil_reference"], f["provider"], f["form"], f["item"], source))

    scan = [f for f in got if f["code"] == "RETURN_UNREADABLE" and f["source"].endswith("scan.pdf")]
    assert len(scan) == 1 and "Word or Excel" in scan[0]["message"]
    assert sorted(map(key, (f for f in got if f not in scan))) == sorted(map(key, want))
