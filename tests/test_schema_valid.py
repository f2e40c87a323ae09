"""Everything apdocs writes, checked against schemas nobody here wrote: ISO/IEC 29500
Transitional plus Microsoft's Word extensions (``../shared/ooxml-xsd``), after Markup
Compatibility processing. Word repairs a file with one element out of order; LibreOffice
does not, so our own round trips cannot catch that.

Each producer below writes files into a folder; adding a writer is one function and one
line in ``PRODUCERS``.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from apdocs import api
from apdocs.cli import main
from apdocs.forms import FORM_IDS, load_form
from tests.ooxml_schema import SchemaSet, compile_schemas, validate_part

ROOT = Path(__file__).resolve().parents[1]
XSD = ROOT.parent / "shared" / "ooxml-xsd"
OFFICE_SUFFIXES = (".docx", ".xlsx", ".docm", ".xlsm")


@pytest.fixture(scope="session")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> SchemaSet:
    if not XSD.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"OOXML schemas missing: {XSD}")
        pytest.skip(f"OOXML schemas not available beside the project ({XSD})")
    return compile_schemas(XSD, tmp_path_factory.mktemp("xsd"))


def _cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # 1: the samples include a broken return on purpose


# -- producers: each writes what one command or API call writes into ``out`` -----------------


def blank_forms(out: Path) -> None:
    for form in FORM_IDS:
        for fmt in ("docx", "xlsx"):
            _cli("blank", form, "--format", fmt, "-o", str(out / f"{form}.{fmt}"))


def filled_forms(out: Path) -> None:
    """Every slot filled, with text that has to be escaped (markup, CR, a control character, _x0041_)."""
    for form_id in FORM_IDS:
        form = load_form(form_id)
        values: dict[str, object] = {}
        for slot in form.slots():
            if slot.type == "bool":
                values[slot.id] = True
            elif slot.type == "date":
                values[slot.id] = "2025-03-12"
            elif slot.type == "money":
                values[slot.id] = 5_000_000
            elif slot.choices:
                values[slot.id] = slot.choices[-1]
            else:
                values[slot.id] = "Line one <b>&amp;</b>\r\nline two\x07 _x0041_ =SUM(A1)"
        for fmt in ("docx", "xlsx"):
            (out / f"{form_id}-filled.{fmt}").write_bytes(api.render_form(form_id, fmt, values))


def pack(out: Path) -> None:
    _cli("pack", "--roster", str(ROOT / "samples" / "roster.csv"), "-o", str(out / "outbox"), "--xlsx")


def letters(out: Path) -> None:
    _cli("letters", "--roster", str(ROOT / "samples" / "roster.csv"), "-o", str(out / "letters"))


def tracker_and_feedback(out: Path) -> None:
    _cli(
        "reconcile",
        "--roster",
        str(ROOT / "samples" / "roster.csv"),
        "--as-of",
        "2025-03-31",
        str(ROOT / "samples" / "returns"),
        "-o",
        str(out / "tracker.xlsx"),
        "--letters",
        str(out / "feedback"),
    )


def report(out: Path) -> None:
    _cli(
        "report",
        "--roster",
        str(ROOT / "samples" / "roster.csv"),
        "--as-of",
        "2025-03-31",
        "-o",
        str(out / "report.docx"),
        str(ROOT / "samples" / "returns"),
    )


PRODUCERS: dict[str, Callable[[Path], None]] = {
    "blank": blank_forms,
    "filled": filled_forms,
    "pack": pack,
    "letters": letters,
    "tracker": tracker_and_feedback,
    "report": report,
}


def _xml_parts(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(n, zf.read(n)) for n in zf.namelist() if n.endswith((".xml", ".rels"))]


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_everything_apdocs_writes_is_schema_valid(producer, schemas, tmp_path):
    PRODUCERS[producer](tmp_path)
    files = sorted(p for p in tmp_path.rglob("*") if p.suffix in OFFICE_SUFFIXES)
    assert files, f"{producer} wrote no office files"
    problems = {}
    parts = 0
    for path in files:
        for name, raw in _xml_parts(path):
            parts += 1
            errors = validate_part(schemas, raw)
            if errors:
                problems[f"{path.relative_to(tmp_path)}!{name}"] = errors[:5]
    assert parts > 0
    assert not problems, problems


# -- the validator itself catches what Word would repair ---------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def test_the_validator_catches_a_paragraph_property_out_of_order(schemas):
    raw = _part(api.render_form("appendix4", "docx", {}), "word/document.xml")
    assert validate_part(schemas, raw) == []
    root = etree.fromstring(raw)
    p = next(p for p in root.iter(f"{{{W}}}p") if p.find(f"{{{W}}}pPr") is not None and len(p) > 1)
    p.append(p.find(f"{{{W}}}pPr"))  # w:pPr must come first in w:p
    errors = validate_part(schemas, etree.tostring(root))
    assert errors and any("pPr" in e for e in errors), errors


def test_the_validator_catches_sheet_data_out_of_order(schemas):
    raw = _part(api.render_form("appendix4", "xlsx", {}), "xl/worksheets/sheet1.xml")
    assert validate_part(schemas, raw) == []
    root = etree.fromstring(raw)
    root.append(root.find(f"{{{M}}}sheetData"))  # sheetData comes before mergeCells, pageSetup ...
    errors = validate_part(schemas, etree.tostring(root))
    assert errors, "an element out of order went unnoticed"


def test_the_validator_processes_markup_compatibility(schemas):
    """An Ignorable namespace nobody knows is removed; AlternateContent takes a Choice it
    understands, else the Fallback."""
    doc = (
        f'<w:document xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:x9="urn:example:unknown" mc:Ignorable="x9"><w:body><w:p x9:flag="1"><x9:note/>'
        '<mc:AlternateContent><mc:Choice Requires="x9"><x9:shape/></mc:Choice>'
        "<mc:Fallback><w:r><w:t>fallback</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p></w:body></w:document>"
    ).encode()
    assert validate_part(schemas, doc) == []
    not_ignorable = doc.replace(b' mc:Ignorable="x9"', b"")
    assert validate_part(schemas, not_ignorable) != []
