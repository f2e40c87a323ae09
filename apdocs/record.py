"""Typed records for returned forms, and the pinned JSON shape they serialise to.

A reader produces a flat mapping ``slot id -> value`` (see ``apdocs.forms.model``);
:func:`build_answers` turns that into the nested, per-form ``answers`` shape that
``apdocs parse --json`` prints and that reconciliation consumes:

* appendix4: ``{"q1": str|None, ... "q15": str|None}``
* appendix2: ``{"e1": {"seen": bool|None, "date_seen": "YYYY-MM-DD"|None, "note": str|None}, ...,
  "insurance": {"sole_trader": bool|None, "employers_liability": {"amount": float|None,
  "expiry": "YYYY-MM-DD"|None}, ...}}``
* appendix3: ``{"a1": {"judgement": str|None, "notes": str|None, "sources": {"a1.1": bool|None, ...}},
  ..., "overall_judgement": str|None}``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from apdocs.errors import ApdocsError, Notice
from apdocs.forms.model import FormDefinition


@dataclass(frozen=True)
class SourceInfo:
    path: str | None
    sha256: str
    format: str  # "docx", "xlsx", ...

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "format": self.format}


@dataclass(frozen=True)
class ParsedReturn:
    """One returned form, read."""

    source: SourceInfo
    form: str
    form_version: str | None
    reference: str | None
    header: dict[str, Any]
    answers: dict[str, Any]
    warnings: tuple[Notice, ...] = ()

    ok = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "form": self.form,
            "form_version": self.form_version,
            "reference": self.reference,
            "header": dict(self.header),
            "answers": self.answers,
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True)
class ParseFailure:
    """A file that could not be read; kept so a batch can report it and go on."""

    source: SourceInfo
    error: ApdocsError
    warnings: tuple[Notice, ...] = field(default=())

    ok = False

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source.to_dict(), "error": self.error.to_dict()}


def build_answers(form: FormDefinition, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split flat slot values into (header, answers) in the pinned shape.

    Missing slots become ``None``; unknown keys are ignored.
    """
    plan = _plan(form)
    get = values.get
    header = {h: get(h) for h in plan.header}
    answers: dict[str, Any] = {q: get(q) for q in plan.questions}
    for it, seen, date_seen, note in plan.items:
        answers[it] = {"seen": get(seen), "date_seen": get(date_seen), "note": get(note)}
    if plan.covers is not None:
        ins: dict[str, Any] = {"sole_trader": get("insurance.sole_trader")}
        for c, amount, expiry in plan.covers:
            ins[c] = {"amount": get(amount), "expiry": get(expiry)}
        answers["insurance"] = ins
    for a, judgement, notes, sources in plan.areas:
        answers[a] = {"judgement": get(judgement), "notes": get(notes), "sources": {s: get(s) for s in sources}}
    if plan.areas:
        answers["overall_judgement"] = get("overall_judgement")
    return header, answers


class _Plan(NamedTuple):
    """The slot ids :func:`build_answers` reads for one form, in the order of the pinned shape
    (made once per form: every record of a batch has its form's ~100 ids, built as f-strings)."""

    form: FormDefinition  # kept, so the id() it is found by is not another form's while it is
    header: tuple[str, ...]
    questions: tuple[str, ...]
    items: tuple[tuple[str, str, str, str], ...]  # item id; its seen, date_seen, note slots
    covers: tuple[tuple[str, str, str], ...] | None  # cover id; its amount, expiry slots (None: no insurance)
    areas: tuple[tuple[str, str, str, tuple[str, ...]], ...]  # area id; judgement, notes, source slots


#: Plans by id() of their form: forms are frozen and loaded once, but a FormDefinition holds
#: dicts (unhashable). Bounded: a process meets a few forms (one per form and profile).
_PLANS: dict[int, _Plan] = {}
MAX_PLANS = 64


def _plan(form: FormDefinition) -> _Plan:
    plan = _PLANS.get(id(form))
    if plan is not None and plan.form is form:
        return plan
    plan = _Plan(
        form,
        tuple(h.id for h in form.header),
        tuple(q.id for q in form.questions()),
        tuple((it.id, f"{it.id}.seen", f"{it.id}.date_seen", f"{it.id}.note") for it in form.items),
        tuple((c.id, f"insurance.{c.id}.amount", f"insurance.{c.id}.expiry") for c in form.covers) if form.covers else None,
        tuple((a.id, f"{a.id}.judgement", f"{a.id}.notes", tuple(s.id for s in a.sources)) for a in form.areas),
    )
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(form)] = plan
    return plan


def flatten_answers(form: FormDefinition, header: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`build_answers`: nested shape -> flat slot values."""
    flat: dict[str, Any] = {h.id: header.get(h.id) for h in form.header}
    for q in form.questions():
        flat[q.id] = answers.get(q.id)
    for it in form.items:
        for k in ("seen", "date_seen", "note"):
            flat[f"{it.id}.{k}"] = (answers.get(it.id) or {}).get(k)
    if form.covers:
        ins = answers.get("insurance") or {}
        flat["insurance.sole_trader"] = ins.get("sole_trader")
        for c in form.covers:
            for k in ("amount", "expiry"):
                flat[f"insurance.{c.id}.{k}"] = (ins.get(c.id) or {}).get(k)
    for a in form.areas:
        area = answers.get(a.id) or {}
        flat[f"{a.id}.judgement"] = area.get("judgement")
        flat[f"{a.id}.notes"] = area.get("notes")
        for s in a.sources:
            flat[s.id] = (area.get("sources") or {}).get(s.id)
    if form.areas:
        flat["overall_judgement"] = answers.get("overall_judgement")
    return flat
