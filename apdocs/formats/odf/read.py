"""Read an .odt or .ods return: content.xml as paragraphs and tables, then the wording route."""

from __future__ import annotations

import dataclasses

from apdocs.errors import Notice, ParseError
from apdocs.formats.textdoc import read_blocks
from apdocs.forms.model import FORM_IDS, load_form
from apdocs.record import ParsedReturn

from .package import open_odf
from .text import OFFICE, hidden_sheet_styles, sheet_blocks, text_blocks


def read_odf(data: bytes, *, path: str | None = None) -> ParsedReturn:
    pkg = open_odf(data, path=path)
    root = pkg.xml("content.xml")
    body = next(root.iter(f"{{{OFFICE}}}body"), None)
    text = next(body.iter(f"{{{OFFICE}}}text"), None) if body is not None else None
    sheets = next(body.iter(f"{{{OFFICE}}}spreadsheet"), None) if body is not None else None
    try:
        if text is not None:
            blocks, fmt = text_blocks(text), "odt"
        elif sheets is not None:
            blocks, fmt = sheet_blocks(sheets, hidden_styles=hidden_sheet_styles(root)), "ods"
        else:
            raise ParseError("this OpenDocument file is neither a text document nor a spreadsheet", code="NOT_A_FORM", path=path)
    except ParseError as exc:
        exc.path = exc.path or path
        raise
    what = "OpenDocument text" if fmt == "odt" else "OpenDocument spreadsheet"
    props = pkg.user_properties()  # what LibreOffice kept of our .docx/.xlsx properties
    record = read_blocks(
        blocks,
        data=data,
        path=path,
        fmt=fmt,
        route=f"{what} read directly",
        notices=pkg.notices,
        form_hint=props.get("apdocs.form") if props.get("apdocs.form") in FORM_IDS else None,
    )
    version = props.get("apdocs.version")
    if version and record.form == props.get("apdocs.form"):
        warnings = record.warnings
        if version != load_form(record.form).version:
            note = f"the form is version {version}; read against version {load_form(record.form).version}"
            warnings = (*warnings, Notice("FORM_VERSION", note, where=path))
        record = dataclasses.replace(
            record, form_version=version, reference=record.reference or props.get("apdocs.reference"), warnings=warnings
        )
    return record
