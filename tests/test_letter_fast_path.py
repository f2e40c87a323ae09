"""render_letter's fast path (template parts docxtpl never renders copied, not re-saved) gives
the same parts as docxtpl rendering and saving the whole template, and steps aside when a render
adds a relationship."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from docxtpl import DocxTemplate, RichText

from apdocs.profile import default_profile
from apdocs.reports import letters
from apdocs.reports.letters import dated_context, load_letter_context, render_letter, school_context, template_path
from apdocs.roster import School

SCHOOL = School("Ysgol Gŵyr & St Mary's", "123456", "lead@example.org", "1 Road; Town; AB1 2CD")


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def docxtpl_whole(name: str, context: dict) -> bytes:
    # The template as render_letter starts from it: finished (language, title, author) first.
    tpl = DocxTemplate(io.BytesIO(letters._compile(*_key(name)).data))
    tpl.render(context, jinja_env=letters._env(), autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["covering", "appendix1"])
def test_fast_path_gives_every_part_docxtpl_would(name):
    context = {**dated_context(load_letter_context(), dt.date(2026, 3, 2)), "school": school_context(SCHOOL)}
    fast, whole = parts(render_letter(name, context)), parts(docxtpl_whole(name, context))
    assert set(fast) == set(whole)
    for part, data in whole.items():
        if part == "docProps/core.xml":  # python-docx stamps the save time; the rest must match
            continue
        assert fast[part] == data, part
    if name == "covering":  # Appendix 1 names no school
        assert "Ysgol Gŵyr &amp; St Mary" in fast["word/document.xml"].decode()


def test_a_render_that_adds_a_link_takes_the_full_save(monkeypatch):
    """A RichText link adds a relationship to document.xml.rels, which only docxtpl's save writes."""
    compiled = letters._compile(*_key("covering"))
    link = RichText()
    context = {**dated_context(load_letter_context(), dt.date(2026, 3, 2)), "school": school_context(SCHOOL)}
    tpl = letters._render(compiled.skeleton, context, template_path("covering"))
    assert letters._fast_output(tpl, compiled) is not None  # the plain render takes the fast path
    link.add("our site", url_id=tpl.build_url_id("https://example.org/"))
    assert letters._fast_output(tpl, compiled) is None  # a new relationship: the full save


def _key(name: str) -> tuple[str, int, float, str, str, None, None]:
    p = template_path(name)
    st = p.stat()
    return str(p.resolve()), st.st_size, st.st_mtime, letters.TITLES[name], default_profile().organisation, None, None
