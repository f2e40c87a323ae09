"""(Re)build the editable letter templates in templates/ from the Virtual School's source text.

The covering letter and Appendix 1 are the source's own words, copied paragraph by
paragraph (nothing retyped); only the personal details become placeholders:

* the addressee block and date are added above "Dear Colleague";
* the signatory's name, role, email and telephone become ``{{ signatory.* }}``;
* the return address in "... should be returned to: ..." becomes
  ``{{ return_address }} by {{ return_deadline }}``;
* where the letter names the authority, the profile's values come in (apdocs/profile.py):
  "Leicestershire" -> ``{{ authority }}``, "Leicestershire Virtual School" -> ``{{ organisation }}``,
  the postal address under the signature -> ``postal_address``, the website -> ``{{ website }}``;
* the council's letterhead lines at the foot of the letter become the page footer (``letterhead_footer``).

Rendered with Leicestershire's profile, the letter reads word for word as the source.

The feedback letter is apdocs' own wording (no source text), for staff to edit.
Run ``python templates/build_templates.py [SOURCE_TEXT]`` after changing this module;
staff may instead edit the .docx files directly in Word.
"""

from __future__ import annotations

import io
import re
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument  # the class; docx.Document is its factory function
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
SIGNATORY = {
    "Tony Barnard": "{{ signatory.name }}",
    "Virtual School Head,": "{{ signatory.role }},",
}
_RETURN = re.compile(r"(should be returned to: )\S+@\S+?(\s*)$")
#: The letter's own names for its authority, longest first, and the profile placeholder each becomes.
AUTHORITY_NAMES = (("Leicestershire Virtual School", "{{ organisation }}"), ("Leicestershire", "{{ authority }}"))
_WEBSITE = re.compile(r"^Visit the (.+) website: \S+$")


def _authority(line: str) -> str:
    for name, placeholder in AUTHORITY_NAMES:
        line = line.replace(name, placeholder)
    return line


def _lines(block: str) -> list[str]:
    return [_BOOKMARK.sub("", line).strip() for line in block.splitlines()]


def split_source(source: str) -> tuple[list[str], list[str]]:
    """(covering letter lines, Appendix 1 lines) of the source text."""
    start_a1 = source.index("\n Appendix 1") if "\n Appendix 1" in source else source.index("Appendix 1\n")
    end_a1 = source.index("\nAppendix 2", start_a1)
    return _lines(source[:start_a1]), _lines(source[start_a1:end_a1])


def _doc() -> DocxDocument:
    d = Document()
    st = d.styles["Normal"]
    st.font.name = "Arial"
    st.font.size = Pt(11)
    st.paragraph_format.space_after = Pt(6)
    for name in ("Heading 1", "Heading 2"):
        # One typeface with the body: the default heading styles use a theme font (Calibri Light).
        heading = d.styles[name]
        heading.font.name = "Arial"
        rfonts = heading.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
    d.styles["Heading 1"].font.size = Pt(14)
    for s in d.sections:
        s.left_margin = s.right_margin = Cm(2.2)
        s.top_margin = Cm(2)
        s.bottom_margin = Cm(2)
    return d


def _save(d: DocxDocument) -> bytes:
    buf = io.BytesIO()
    # The rendered letter gets the profile's organisation and a title (apdocs.reports.letters).
    d.core_properties.author = "apdocs"
    d.save(buf)
    return buf.getvalue()


def _tight(p: Paragraph) -> None:
    p.paragraph_format.space_after = Pt(0)


def _address_block(d: DocxDocument) -> None:
    _tight(d.add_paragraph("{{ school.name }}"))
    d.add_paragraph("{%p for line in school.address_lines %}")
    _tight(d.add_paragraph("{{ line }}"))
    d.add_paragraph("{%p endfor %}")
    p = d.add_paragraph("{{ letter_date }}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    p.paragraph_format.space_before = Pt(12)


def build_covering_letter(source: str) -> bytes:
    letter, _ = split_source(source)
    d = _doc()
    head = d.sections[0].header.paragraphs[0]
    head.text = "{{ organisation }}"
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    head.runs[0].bold = True
    _address_block(d)
    body = [ln for ln in letter]
    while body and not body[-1]:
        body.pop()
    # The council's letterhead (the last three lines) is the profile's `letterhead_footer`.
    body = body[:-3]
    footer = d.sections[0].footer
    footer.paragraphs[0].text = "{%p for line in letterhead_footer %}"
    foot = footer.add_paragraph("{{ line }}")
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _tight(foot)  # letterhead lines sit together, as on the council's paper
    for run in foot.runs:
        run.font.size = Pt(8)
    footer.add_paragraph("{%p endfor %}")
    signature = False
    address = False  # inside the postal address under the signature
    for line in body:
        if not line:
            continue
        if line.startswith("Regards"):
            signature = True
            d.add_paragraph(line).paragraph_format.space_before = Pt(12)
            continue
        if line.startswith("Mob:"):
            continue  # a personal mobile number has no place in a template
        if signature and line == "Leicestershire Virtual School,":
            # The lines after the organisation, up to the postcode, are the profile's postal address.
            _tight(d.add_paragraph("{{ organisation }},"))
            d.add_paragraph("{%p for line in postal_address %}")
            _tight(d.add_paragraph("{{ line }}{% if not loop.last %},{% endif %}"))
            d.add_paragraph("{%p endfor %}")
            address = True
            continue
        if address:
            if not line.startswith("Email:"):
                continue
            address = False
        website = _WEBSITE.match(line)
        if website:
            d.add_paragraph("{%p if website %}")
            p = d.add_paragraph(f"Visit the {_authority(website.group(1))} website: {{{{ website }}}}")
            _tight(p)
            p.paragraph_format.space_before = Pt(12)
            d.add_paragraph("{%p endif %}")
            continue
        line = _authority(line)
        if line.startswith("Email:"):
            line = "Email: {{ signatory.email }}"
        elif line.startswith("Tel:"):
            line = "Tel: {{ signatory.phone }}"
        line = SIGNATORY.get(line, line)
        line = _RETURN.sub(r"\1{{ return_address }} by {{ return_deadline }}.", line)
        if line.startswith("· "):
            d.add_paragraph(line[2:], style="List Bullet")
        elif signature:
            p = d.add_paragraph(line)
            _tight(p)
            if line.startswith(("{{ signatory.name", "Email:")):
                p.paragraph_format.space_before = Pt(6)
        else:
            d.add_paragraph(line).paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    return _save(d)


def build_appendix1(source: str) -> bytes:
    _, lines = split_source(source)
    d = _doc()
    for line in lines:
        if not line:
            continue
        if line == "Appendix 1":
            d.add_heading(line, level=1)
        elif line.startswith("· "):
            d.add_paragraph(line[2:], style="List Bullet")
        elif line.rstrip(":") == "References" or (
            len(line) < 60 and not line.endswith((".", ":", ";")) and not line[0].isdigit()
        ):
            d.add_heading(line, level=2)
        elif re.match(r"^\d+\. ", line):
            p = d.add_paragraph(line)
            _tight(p)
            for run in p.runs:
                run.font.size = Pt(9)
        else:
            d.add_paragraph(line).paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    return _save(d)


# apdocs' own wording for the per-school feedback letter (not from the source text).
FEEDBACK_INTRO = (
    "Thank you for the quality assurance returns for alternative provision that your school "
    "has sent to the Virtual School. We have checked them against the guidance in our letter "
    "and its appendices, as of {{ as_of }}. This letter lists what we still need from "
    "{{ school.name }}, and why."
)
FEEDBACK_ASK = (
    "Please send the missing or corrected forms to {{ return_address }} by {{ return_deadline }}, "
    "quoting the pupil reference. If anything here is wrong - for example a placement has ended - "
    "please tell us so that we can update our records."
)
FEEDBACK_NOTHING = "We need nothing further from you at present. Thank you for your co-operation."
FEEDBACK_TITLE = "Alternative provision for looked-after children: what we still need"


def mark_header_row(row: Any) -> None:
    """Mark a table row as its header, repeated at the top of each page (and read as such by screen readers)."""
    tr_pr = row._tr.get_or_add_trPr()
    if tr_pr.find(qn("w:tblHeader")) is None:
        tr_pr.append(OxmlElement("w:tblHeader"))


def build_feedback_letter() -> bytes:
    d = _doc()
    head = d.sections[0].header.paragraphs[0]
    head.text = "{{ organisation }}"
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    head.runs[0].bold = True
    _address_block(d)
    d.add_paragraph("Dear Colleague")
    d.add_heading(FEEDBACK_TITLE, level=1)
    d.add_paragraph(FEEDBACK_INTRO)
    d.add_paragraph("{%p if owes %}")
    table = d.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, ("Pupil", "Provider", "Form", "What we still need, and why"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    mark_header_row(table.rows[0])
    table.cell(1, 0).text = "{%tr for item in owes %}"
    row = table.rows[2].cells
    row[0].text = "{{ item.pupil_reference }}"
    row[1].text = "{{ item.provider }}"
    row[2].text = "{{ item.form }}"
    row[3].text = "{{ item.what }}"
    why = row[3].add_paragraph()
    run = why.add_run("Guidance: “{{ item.why }}”")
    run.italic = True
    run.font.size = Pt(9)
    run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    table.cell(3, 0).text = "{%tr endfor %}"
    # An item and its guidance stay on one page rather than breaking mid-row.
    table.rows[2]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    # Word reads cell widths, LibreOffice the table grid: set both, and stop autofit undoing them.
    # "Appendix 3" must fit the Form column on one line at 11 pt (it wrapped as "Appendi|x 3" at 2.1 cm).
    widths = (Cm(2.2), Cm(3.3), Cm(2.7), Cm(8.4))
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(width.twips)))
    for r in table.rows:
        for i, width in enumerate(widths):
            r.cells[i].width = width
    d.add_paragraph(FEEDBACK_ASK).paragraph_format.space_before = Pt(12)
    d.add_paragraph("{%p else %}")
    d.add_paragraph(FEEDBACK_NOTHING)
    d.add_paragraph("{%p endif %}")
    d.add_paragraph("Regards,").paragraph_format.space_before = Pt(12)
    for i, line in enumerate(
        ("{{ signatory.name }}", "{{ signatory.role }}", "Email: {{ signatory.email }}", "Tel: {{ signatory.phone }}")
    ):
        p = d.add_paragraph(line)
        _tight(p)
        if i == 0:
            p.paragraph_format.space_before = Pt(18)
    return _save(d)
