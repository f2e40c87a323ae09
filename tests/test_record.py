"""apdocs.record.build_answers: the pinned answers shape, from the plan it keeps per form."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from apdocs import record
from apdocs.forms import FORM_IDS, load_form
from apdocs.forms.model import FormDefinition
from apdocs.record import build_answers, flatten_answers


def reference(form: FormDefinition, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shape, spelt out from the form's definition each time (what build_answers must give)."""
    get = values.get
    header = {h.id: get(h.id) for h in form.header}
    answers: dict[str, Any] = {}
    for q in form.questions():
        answers[q.id] = get(q.id)
    for it in form.items:
        answers[it.id] = {k: get(f"{it.id}.{k}") for k in ("seen", "date_seen", "note")}
    if form.covers:
        ins: dict[str, Any] = {"sole_trader": get("insurance.sole_trader")}
        for c in form.covers:
            ins[c.id] = {k: get(f"insurance.{c.id}.{k}") for k in ("amount", "expiry")}
        answers["insurance"] = ins
    for a in form.areas:
        answers[a.id] = {
            "judgement": get(f"{a.id}.judgement"),
            "notes": get(f"{a.id}.notes"),
            "sources": {s.id: get(s.id) for s in a.sources},
        }
    if form.areas:
        answers["overall_judgement"] = get("overall_judgement")
    return header, answers


def same(form: FormDefinition, values: dict[str, Any]) -> None:
    got = build_answers(form, values)
    assert json.dumps(got) == json.dumps(reference(form, values))  # the order of keys too


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_form_has_its_pinned_shape(form_id):
    form = load_form(form_id)
    slots = [s.id for s in form.slots()]
    for values in ({}, {s: i for i, s in enumerate(slots)}, {s: s for s in slots[::3]} | {"unknown": 1}):
        same(form, values)
        header, answers = build_answers(form, values)
        assert {k: v for k, v in flatten_answers(form, header, answers).items() if k in values} == {
            k: v for k, v in values.items() if k in slots
        }


def test_a_changed_form_gets_its_own_shape():
    """The plan is kept per form object: a form changed from another (a new object with the
    same id and version) is read in its own shape, and the original keeps its own."""
    a2, a3 = load_form("appendix2"), load_form("appendix3")
    values = {s.id: s.id for f in (a2, a3) for s in f.slots()}
    fewer = dataclasses.replace(a2, items=a2.items[:2], covers=())
    renamed = dataclasses.replace(a3, areas=tuple(dataclasses.replace(a, id=a.id + "x") for a in a3.areas[:1]))
    for form in (a2, fewer, a2, renamed, a3, fewer):
        same(form, values)
    assert list(build_answers(fewer, values)[1]) == [it.id for it in a2.items[:2]]


def test_the_plans_kept_are_bounded():
    a4 = load_form("appendix4")
    forms = [dataclasses.replace(a4, version=str(n)) for n in range(record.MAX_PLANS * 2)]
    for form in forms:
        same(form, {"q1": "x"})
        assert len(record._PLANS) <= record.MAX_PLANS
