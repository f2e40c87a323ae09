"""Accessibility finishing for the Word documents apdocs sends: language, title, alt text.

Public-sector documents must be usable with a screen reader (Public Sector Bodies
Accessibility Regulations 2018): a screen reader picks its voice from the document's
language, announces the title property rather than the file name, and reads an image's
description (``wp:docPr/@descr``) in place of the picture.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm

LANGUAGE = "en-GB"


def set_language(doc: DocxDocument, language: str = LANGUAGE) -> None:
    """The document's default language (styles' docDefaults) and its language property."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), language)
    lang.set(qn("w:eastAsia"), language)
    lang.set(qn("w:bidi"), "ar-SA")  # Word's own default for right-to-left text
    doc.core_properties.language = language


def set_alt_text(inline: Any, description: str, title: str = "") -> None:
    """Alt text on a picture added with python-docx (``run.add_picture`` or ``doc.add_picture``)."""
    doc_pr = inline._inline.docPr
    doc_pr.set("descr", description)
    if title:
        doc_pr.set("title", title)


def add_logo(doc: DocxDocument, logo: Path, organisation: str) -> None:
    """The organisation's logo at the start of the first page header, with alt text."""
    header = doc.sections[0].header
    para = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
    run = para.add_run()
    picture = run.add_picture(str(logo), height=Cm(1.5))
    set_alt_text(picture, f"{organisation} logo")
    para._p.remove(run._r)
    ppr = para._p.pPr
    # The logo goes before the header's text, after the paragraph's properties.
    (ppr.addnext(run._r) if ppr is not None else para._p.insert(0, run._r))


def finish_docx(doc: DocxDocument, *, title: str, author: str, logo: Path | None = None) -> bytes:
    """Set the language, title and author (and add the logo), then serialise."""
    set_language(doc)
    cp = doc.core_properties
    cp.title = title
    cp.author = author
    cp.last_modified_by = author
    if logo is not None:
        add_logo(doc, logo, author)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def finished_template(data: bytes, *, title: str, author: str, logo: Path | None = None) -> bytes:
    """A .docx (a letter template, placeholders and all) finished by :func:`finish_docx`."""
    from docx import Document

    try:
        doc = Document(io.BytesIO(data))
    except Exception:
        return data  # not a .docx: the template compiler reports it, naming the file
    return finish_docx(doc, title=title, author=author, logo=logo)
