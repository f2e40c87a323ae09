"""Excel format against the real LibreOffice Calc: PDF output, and a school's workbook re-saved by Calc.

Two soffice runs for the whole module (one per target filter), each converting every file at once.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from apdocs.formats.xlsx import FORMAT
from apdocs.forms import FORM_IDS, load_form
from tests.office import require
from tests.test_xlsx import blank, expected_record, fill_like_a_school, school_sample

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

FORMS = list(FORM_IDS)
#: Typed by nobody: pre-filled by the Virtual School when rendering, must survive Calc as text.
PREFILLED = {"appendix4": {"q15": "=2+2 is text, not a sum"}}


@pytest.fixture(scope="module")
def office_files(libreoffice, tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("xlsx_office")
    files: dict[str, Path] = {}
    for form_id in FORMS:
        typed, _expect = school_sample(form_id)
        pre = PREFILLED.get(form_id, {})
        for slot_id in pre:
            typed.pop(slot_id, None)
        (work / f"blank_{form_id}.xlsx").write_bytes(blank(form_id))
        filled = fill_like_a_school(blank(form_id, {"reference": typed["reference"], **pre}), typed)
        (work / f"filled_{form_id}.xlsx").write_bytes(filled)
        files[f"blank_{form_id}"] = work / f"blank_{form_id}.xlsx"
        files[f"filled_{form_id}"] = work / f"filled_{form_id}.xlsx"
    pdfs = libreoffice.convert([files[f"blank_{f}"] for f in FORMS] + [files[f"filled_{f}"] for f in FORMS], "pdf", work / "pdf")
    for pdf in pdfs:
        files[f"pdf_{pdf.stem}"] = pdf
    resaved = libreoffice.convert([files[f"filled_{f}"] for f in FORMS], "xlsx:Calc MS Excel 2007 XML", work / "calc")
    for path in resaved:
        files[f"calc_{path.stem}"] = path
    return files


def _squash(text: str) -> str:
    # pdftotext breaks lines where a cell wraps, and drops the hyphen of a word broken at one
    # ("e-\nsafety" -> "esafety"): compare without whitespace or hyphens.
    return re.sub(r"[\s\-]+", "", text.replace("’", "'"))


@pytest.mark.parametrize("form_id", FORMS)
def test_blank_prints_on_a4_with_every_question(office_files, form_id):
    form = load_form(form_id)
    pdf = office_files[f"pdf_blank_{form_id}"]
    info = subprocess.run([require("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts", info), "A4 portrait"
    text = _squash(subprocess.run([require("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
    printed = [q.text for q in form.questions()] + [i.text for i in form.items] + [s.text for a in form.areas for s in a.sources]
    printed += [h.label for h in form.header] + [form.display_name, form.return_address, *form.intro]
    missing = [t for t in printed if _squash(t) not in text]
    assert missing == []


@pytest.mark.parametrize("form_id", FORMS)
def test_filled_workbook_prints_its_answers(office_files, form_id):
    text = _squash(subprocess.run([require("pdftotext"), str(office_files[f"pdf_filled_{form_id}"]), "-"],
                                  capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert _squash("VS-2024-0042") in text and _squash("Sample Provider Ltd") in text
    assert "07/10/2024" in text, "dates print as dd/mm/yyyy"


@pytest.mark.parametrize("form_id", FORMS)
def test_resaved_by_calc_reads_back_identically(office_files, form_id):
    original = FORMAT.read(office_files[f"filled_{form_id}"].read_bytes())
    resaved = FORMAT.read(office_files[f"calc_filled_{form_id}"].read_bytes(), path="calc.xlsx")
    _typed, expect = school_sample(form_id)
    expect |= PREFILLED.get(form_id, {})
    assert (original.header, original.answers) == expected_record(form_id, expect)
    assert resaved.form == form_id and resaved.form_version == original.form_version
    assert resaved.reference == original.reference
    assert resaved.header == original.header
    assert resaved.answers == original.answers
    assert [w.code for w in resaved.warnings] == [], "names survive Calc: no fallback needed"


def test_formula_looking_text_stays_text_through_calc(office_files):
    import zipfile

    data = office_files["calc_filled_appendix4"].read_bytes()
    with zipfile.ZipFile(office_files["calc_filled_appendix4"]) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any(b"<f>" in s or b"<f " in s for s in sheets)
    rec = FORMAT.read(data)
    assert rec.answers["q15"] == PREFILLED["appendix4"]["q15"]
    assert rec.answers["q2"].startswith("=")


@pytest.mark.parametrize("form_id", FORMS)
def test_calc_keeps_protection_dropdowns_and_names(office_files, form_id):
    """After a school edits in Calc the form still works: protected, dropdowns from the named lists, names kept."""
    import openpyxl

    from apdocs.formats.xlsx import slot_name

    form = load_form(form_id)
    wb = openpyxl.load_workbook(office_files[f"calc_filled_{form_id}"])
    ws = wb[form.title]
    assert ws.protection.sheet
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    kinds = {s.type for s in form.slots()}
    expected = {name for name, kind in (("list_yes_no", "bool"), ("list_judgement", "choice")) if kind in kinds}
    assert formulas == expected
    assert all(slot_name(s.id) in wb.defined_names for s in form.slots())
