"""The form definitions: pinned ids, verbatim wording, schema output."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from apdocs.cli import main
from apdocs.errors import UnknownFormError
from apdocs.forms import FORM_IDS, load_form


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def test_pinned_ids():
    a2, a3, a4 = (load_form(f) for f in FORM_IDS)
    assert [i.id for i in a2.items] == [f"e{n}" for n in range(1, 26)]
    assert [q.id for q in a4.questions()] == [f"q{n}" for n in range(1, 16)]
    assert [s.title for s in a4.sections] == ["Choice of provider", "Monitoring", "Long-term aims"]
    assert [len(s.questions) for s in a4.sections] == [6, 7, 2]
    assert [a.id for a in a3.areas] == ["a1", "a2", "a3", "a4"]
    for area, count in zip(a3.areas, [16, 7, 9, 8], strict=True):
        assert [s.id for s in area.sources] == [f"{area.id}.{n}" for n in range(1, count + 1)]


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_wording_is_verbatim_from_source(form_id, source_text):
    """Every printed string from the source block appears in the letter, character for character."""
    form = load_form(form_id)
    src = _norm(source_text)
    texts = [form.title, *form.intro]
    texts += [q.text for q in form.questions()] + [q.hint for q in form.questions() if q.hint]
    texts += [s.title for s in form.sections]
    texts += [i.text for i in form.items] + list((form.columns or {}).values())
    texts += [c.text for c in form.covers]
    texts += [a.title for a in form.areas] + [s.text for a in form.areas for s in a.sources]
    for t in texts:
        assert _norm(t) in src, t


def test_hints_belong_to_their_question(source_text):
    a4 = load_form("appendix4")
    hinted = {q.id for q in a4.questions() if q.hint}
    assert hinted == {"q4", "q5"}
    for q in a4.questions():
        if q.hint:
            # the e.g. line follows its own question in the source
            assert source_text.index(q.hint) > source_text.index(q.text)


def test_slot_ids_unique_and_tags_round_trip():
    from apdocs.forms import parse_tag, slot_id_from_title

    for form_id in FORM_IDS:
        form = load_form(form_id)
        ids = [s.id for s in form.slots()]
        assert len(ids) == len(set(ids))
        for s in form.slots():
            assert parse_tag(s.tag(form)) == (form.id, form.version, s.id)
            assert slot_id_from_title(s.title) == s.id


def test_unknown_form_is_typed_error():
    with pytest.raises(UnknownFormError) as exc:
        load_form("appendix9")
    assert exc.value.code == "FORM_UNKNOWN"


def test_schema_json_lists_entries_in_order():
    result = CliRunner().invoke(main, ["schema", "appendix4", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    form = load_form("appendix4")
    qs = [e for e in data["entries"] if e["id"].startswith("q")]
    assert [e["id"] for e in qs] == [q.id for q in form.questions()]
    assert [e["text"] for e in qs] == [q.text for q in form.questions()]
    assert qs[0]["section"] == form.sections[0].title
    a3 = json.loads(CliRunner().invoke(main, ["schema", "appendix3", "--json"]).output)
    area = next(e for e in a3["entries"] if e["id"] == "a1")
    assert area["choices"] == list(load_form("appendix3").judgements)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_pinned_ids_follow_source_order(form_id, source_text):
    """e1..e25, q1..q15 and a1.1.. number the texts in the order the source prints them."""
    form = load_form(form_id)
    src = _norm(source_text)
    # each form's block starts at its title; search forward from there, one text after another
    at = src.index(_norm(form.title))
    texts = [q.text for q in form.questions()] + [i.text for i in form.items]
    texts += [t for a in form.areas for t in (a.title, *(s.text for s in a.sources))]
    assert texts
    for t in texts:
        found = src.find(_norm(t), at)
        assert found >= 0, f"out of source order: {t}"
        at = found + 1
