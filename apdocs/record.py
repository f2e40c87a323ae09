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
from typing import Any

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
