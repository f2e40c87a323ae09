"""Accessibility of every document apdocs sends or hands over, checked in the XML.

What a screen reader needs: the document's language (en-GB), a title property, real
headings, table header rows marked (and so repeated on each page), a title on every
content control, and alt text on every image.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

import apdocs
from apdocs.api import render_form
from apdocs.reports.letters import dated_context, feedback_context, load_letter_context, render_letter
from apdocs.reports.qa_report import PeriodSummary, build_report
from tests.test_profile import tiny_png

ROOT = Path(__file__).resolve().parents[1]
SCHOOL = {"name": "Hollybank Primary", "urn": "120001", "email": "a@b.example", "address_lines": ["1 Road"]}
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


def result() -> apdocs.reconcile.Result:
    roster = apdocs.load_roster(ROOT / "samples" / "roster.csv")
    return apdocs.reconcile(roster, apdocs.parse_many([ROOT / "samples" / "returns"]), apdocs.load_config(), dt.date(2025, 3, 31))


def documents(tmp_path: Path) -> dict[str, bytes]:
    """Each kind of Word document apdocs makes; the letters with a logo, so its alt text is checked too."""
    (tmp_path / "logo.png").write_bytes(tiny_png())
    (tmp_path / "p.yaml").write_text(
        (ROOT / "apdocs" / "profile_leicestershire.yaml").read_text(encoding="utf-8").replace("logo: null", "logo: logo.png"),
        encoding="utf-8",
    )
    profile = apdocs.profile.load_profile(tmp_path / "p.yaml")
    base = dated_context(load_letter_context(profile=profile), dt.date(2025, 4, 1))
    res = result()
    docs = {form: render_form(form, "docx") for form in ("appendix2", "appendix3", "appendix4")}
    docs["covering"] = render_letter("covering", {**base, "school": SCHOOL}, profile=profile)
    docs["appendix1"] = render_letter("appendix1", base, profile=profile)
    school = next(s for s in res.schools if s.owes)
    docs["feedback"] = render_letter("feedback", feedback_context(school, res, base), profile=profile)
    before = PeriodSummary("Autumn 2024", dt.date(2024, 12, 13), 5, 1, {"critical": 1, "error": 9})
    docs["report"] = build_report(res, profile=profile, history=[before])
    return docs


# Tables with column headings, per document. The forms' header-field blocks (label | answer) and
# Appendix 4's question blocks (question above answer) are layout, with no column headings to mark.
HEADED_TABLES = {"appendix2": 2, "appendix3": 4, "appendix4": 0, "covering": 0, "appendix1": 0, "feedback": 1, "report": None}
# The covering letter is the authority's letter, word for word: it has no sections, so no headings.
HEADINGS = {"appendix2", "appendix3", "appendix4", "appendix1", "feedback", "report"}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return documents(tmp_path_factory.mktemp("a11y"))


@pytest.mark.parametrize("name", list(HEADED_TABLES))
def test_word_documents_are_accessible(docs: dict[str, bytes], name: str) -> None:
    xml = parts(docs[name])
    styles, core, body = xml["word/styles.xml"], xml["docProps/core.xml"], xml["word/document.xml"]
    defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", styles, re.S)
    assert defaults and 'w:lang w:val="en-GB"' in defaults.group(0), "document language"
    title = re.search(r"<dc:title>([^<]+)</dc:title>", core)
    assert title and len(title.group(1).strip()) > 5, "title property"
    if name in HEADINGS:
        used = set(re.findall(r'<w:pStyle w:val="(Heading\d|Title)"', body))
        assert used & {"Heading1", "Title"}, "real headings"
        # The heading styles are Word's own (outline levels), not look-alike bold paragraphs.
        assert re.search(r'w:styleId="Heading1".*?<w:outlineLvl w:val="0"/>', styles, re.S)
    tbls = re.findall(r"<w:tbl>.*?</w:tbl>", body, re.S)
    marked = [t for t in tbls if re.search(r"<w:tr[ >](?:(?!</w:tr>).)*<w:tblHeader", t, re.S)]
    expected = HEADED_TABLES[name]
    assert len(marked) == (len(tbls) if expected is None else expected), "table header rows"
    for t in marked:  # the marked row is the first row
        first = re.search(r"<w:tr[ >].*?</w:tr>", t, re.S)
        assert first and "w:tblHeader" in first.group(0)
    every = "\n".join(v for k, v in xml.items() if k.startswith("word/"))
    for sdt_pr in re.findall(r"<w:sdtPr>.*?</w:sdtPr>", every, re.S):
        assert re.search(r'<w:alias w:val="[^"]+"', sdt_pr), f"content control without a title: {sdt_pr[:120]}"
    pictures = re.findall(r"<wp:docPr [^>]*>", every)
    for pic in pictures:
        descr = re.search(r'descr="([^"]+)"', pic)
        assert descr and len(descr.group(1)) > 5, f"image without alt text: {pic}"
    if name in ("covering", "appendix1", "feedback"):
        assert pictures, "the profile's logo is in the letter"
    if name == "report":
        assert len(pictures) == 4  # the logo and three charts


def test_excel_forms_have_a_title_and_language() -> None:
    for form in ("appendix2", "appendix3", "appendix4"):
        core = parts(render_form(form, "xlsx"))["docProps/core.xml"]
        assert re.search(r"<dc:title[^>]*>[^<]{5,}</dc:title>", core), form
        assert re.search(r"<dc:language[^>]*>en-GB</dc:language>", core), form
