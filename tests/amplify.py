"""Amplification attacks, built in the test: small files whose text a reader could multiply.

* :func:`xlsx_shared_string_bomb` - one large shared string (words and line breaks) that
  tens of thousands of cells reference: a few MB zipped, inside every zip cap, but each
  reference is the whole string again to a reader that works per cell.
* :func:`docx_repeated_paragraph` - one huge paragraph (or run) repeated to just under the
  XML part cap.

Everything is synthetic: random words from a made-up vocabulary, no form wording unless asked.
"""

from __future__ import annotations

import io
import random
import zipfile

_M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def words(n_bytes: int, *, seed: int = 14, line_every: int = 12) -> str:
    """About ``n_bytes`` of pseudo-words with a line break every ``line_every`` words.

    Drawn at random from a large vocabulary so the text compresses like prose (~3:1),
    well inside the zip ratio cap.
    """
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(20_000)]
    out: list[str] = []
    size = 0
    i = 0
    while size < n_bytes:
        w = rng.choice(vocab)
        i += 1
        sep = "\n" if i % line_every == 0 else " "
        out.append(w + sep)
        size += len(w) + 1
    return "".join(out)


_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_OD = "application/vnd.openxmlformats-officedocument"
_XLSX_TYPES = {
    "/xl/workbook.xml": f"{_OD}.spreadsheetml.sheet.main+xml",
    "/xl/worksheets/sheet1.xml": f"{_OD}.spreadsheetml.worksheet+xml",
    "/xl/sharedStrings.xml": f"{_OD}.spreadsheetml.sharedStrings+xml",
}
_DOCX_TYPES = {"/word/document.xml": f"{_OD}.wordprocessingml.document.main+xml"}


def _content_types(overrides: dict[str, str]) -> bytes:
    rows = "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{rows}</Types>'
    ).encode()


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in parts.items():
            zf.writestr(name, raw)
    return buf.getvalue()


def xlsx_shared_string_bomb(
    *, text_bytes: int = 8 * 1024 * 1024, cells: int = 99_000, prefix: str = "", marker: str | None = None
) -> bytes:
    """An .xlsx whose one shared string (``prefix`` + ~``text_bytes`` of words) ``cells`` cells reference.

    ``marker`` names a form in the custom properties (``apdocs.form``), so a reader skips
    identification and goes straight to looking for answer cells beside the wording."""
    text = prefix + words(text_bytes)
    esc = text.replace("&", "&amp;").replace("<", "&lt;")
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_M}" count="{cells}" uniqueCount="1">'
        f'<si><t xml:space="preserve">{esc}</t></si></sst>'
    )
    per_row = 50
    rows = []
    for r in range(1, cells // per_row + 2):
        n = min(per_row, cells - (r - 1) * per_row)
        if n <= 0:
            break
        row_cells = "".join(f'<c r="{_col(c)}{r}" t="s"><v>0</v></c>' for c in range(1, n + 1))
        rows.append(f'<row r="{r}">{row_cells}</row>')
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_M}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    custom_rel = custom_part = ""
    if marker:
        custom_rel = (
            '<Relationship Id="rId2" Target="docProps/custom.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"/>'
        )
        custom_part = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="apdocs.form">'
            f"<vt:lpwstr>{marker}</vt:lpwstr></property></Properties>"
        )
    parts = {
        "[Content_Types].xml": _content_types(_XLSX_TYPES),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PR}">'
            f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>{custom_rel}</Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_M}" xmlns:r="{_R}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PR}">'
            f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_R}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet.encode(),
        "xl/sharedStrings.xml": sst.encode(),
    }
    if custom_part:
        parts["docProps/custom.xml"] = custom_part.encode()
    return _zip(parts)


def _col(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def docx_repeated_paragraph(
    *, paragraph_bytes: int = 1024 * 1024, repeats: int = 9, prefix: str = "", runs: bool = False
) -> bytes:
    """A .docx whose body is one huge paragraph repeated ``repeats`` times (``runs``: as many small runs)."""
    text = prefix + words(paragraph_bytes, line_every=10**9)
    esc = text.replace("&", "&amp;").replace("<", "&lt;")
    if runs:
        chunk = 2000
        para = (
            "<w:p>"
            + "".join(f'<w:r><w:t xml:space="preserve">{esc[i : i + chunk]}</w:t></w:r>' for i in range(0, len(esc), chunk))
            + "</w:p>"
        )
    else:
        para = f'<w:p><w:r><w:t xml:space="preserve">{esc}</w:t></w:r></w:p>'
    doc = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>{para * repeats}</w:body></w:document>'
    return _docx(doc)


def _docx(document_xml: str) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _content_types(_DOCX_TYPES),
            "_rels/.rels": (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PR}">'
                f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="word/document.xml"/></Relationships>'
            ).encode(),
            "word/document.xml": document_xml.encode(),
        }
    )


def docx_nested_controls(*, form_id: str = "appendix2", text_bytes: int = 9_000_000) -> bytes:
    """A .docx whose every slot's content control is nested in the one before, around one huge
    paragraph: each control's text is the whole paragraph again (slots x text)."""
    from apdocs.forms import load_form

    form = load_form(form_id)
    slots = [s.id for s in form.slots()]
    big = words(text_bytes, line_every=10**9)
    opening = "".join(
        f'<w:sdt><w:sdtPr><w:tag w:val="apdocs:{form_id}:{form.version}:{s}"/></w:sdtPr><w:sdtContent>' for s in slots
    )
    closing = "</w:sdtContent></w:sdt>" * len(slots)
    doc = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>'
        f"{opening}<w:p><w:r><w:t>{big}</w:t></w:r></w:p>{closing}</w:body></w:document>"
    )
    return _docx(doc)
