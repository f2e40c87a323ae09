"""The forms as an in-memory model, built from the YAML definitions.

Definition (YAML, package data) -> model (these frozen dataclasses) -> renderers
and readers. Nothing here does I/O except :func:`load_form`, which reads package
data once and caches it.

Two views of a form are offered:

* ``entries()`` - the printed content in order (what ``apdocs schema`` prints);
* ``slots()``   - every fillable place, with a stable slot id. Slot ids are the
  public contract between renderers and readers: ``q1``; ``e1.seen``,
  ``e1.date_seen``, ``e1.note``; ``a1.1`` (scrutinised), ``a1.judgement``,
  ``a1.notes``, ``overall_judgement``; ``insurance.employers_liability.amount``;
  header fields by name (``provider_name``, ``reference`` ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any, Literal

import yaml

from apdocs.errors import DefinitionError, UnknownFormError
from apdocs.profile import Profile, default_profile

FORM_IDS: tuple[str, ...] = ("appendix2", "appendix3", "appendix4")

SlotType = Literal["text", "bool", "date", "choice", "number", "money"]

#: Tag namespace written on every content control / defined name.
TAG_PREFIX = "apdocs"
_TITLE_ID = re.compile(r"\[([A-Za-z0-9_.]+)\]\s*$")


@dataclass(frozen=True)
class Slot:
    """One fillable place on a form."""

    id: str
    type: SlotType
    label: str
    group: str  # the printed entry it belongs to: "header", "q1", "e1", "a1", ...
    choices: tuple[str, ...] = ()
    multiline: bool = False

    def tag(self, form: FormDefinition) -> str:
        """Namespaced tag carrying form, version and slot id."""
        return f"{TAG_PREFIX}:{form.id}:{form.version}:{self.id}"

    @property
    def title(self) -> str:
        """Human title that still carries the id, for suites that drop tags."""
        return f"{self.label} [{self.id}]"


def parse_tag(tag: str) -> tuple[str, str, str] | None:
    """``apdocs:appendix4:1.0:q1`` -> ``("appendix4", "1.0", "q1")``; else None."""
    parts = (tag or "").split(":")
    if len(parts) != 4 or parts[0] != TAG_PREFIX:
        return None
    return parts[1], parts[2], parts[3]


def slot_id_from_title(title: str) -> str | None:
    m = _TITLE_ID.search(title or "")
    return m.group(1) if m else None


@dataclass(frozen=True)
class Entry:
    """One printed line of a form, as ``apdocs schema`` lists it."""

    id: str
    text: str
    type: str
    section: str | None
    choices: tuple[str, ...] = ()
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "type": self.type,
            "section": self.section,
            "choices": list(self.choices),
        }
        if self.hint:
            d["hint"] = self.hint
        return d


@dataclass(frozen=True)
class HeaderField:
    id: str
    label: str
    type: SlotType


@dataclass(frozen=True)
class Question:
    id: str
    number: int
    text: str
    hint: str | None


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class EvidenceItem:
    id: str
    text: str


@dataclass(frozen=True)
class Source:
    id: str
    text: str


@dataclass(frozen=True)
class Area:
    id: str
    title: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class InsuranceCover:
    id: str
    text: str


@dataclass(frozen=True)
class FormDefinition:
    id: str
    version: str
    name: str
    title: str  # "Appendix 4"
    intro: tuple[str, ...]
    header: tuple[HeaderField, ...]
    labels: dict[str, str]
    yes_no: tuple[str, ...]
    judgements: tuple[str, ...]
    return_address: str
    organisation: str
    chrome: dict[str, str]  # words printed around the form: return_to, version, page, of
    # Appendix 4
    sections: tuple[Section, ...] = ()
    # Appendix 2
    columns: dict[str, str] | None = None
    items: tuple[EvidenceItem, ...] = ()
    insurance: dict[str, Any] | None = None
    covers: tuple[InsuranceCover, ...] = ()
    # Appendix 3
    areas: tuple[Area, ...] = ()

    @property
    def display_name(self) -> str:
        return f"{self.title}: {self.name}"

    # -- views ---------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Printed content in source order, for ``apdocs schema``."""
        out = [Entry(h.id, h.label, h.type, "header") for h in self.header]
        for s in self.sections:
            out += [Entry(q.id, q.text, "text", s.title, hint=q.hint) for q in s.questions]
        for it in self.items:
            out.append(Entry(it.id, it.text, "evidence", self.columns["evidence"] if self.columns else None, self.yes_no))
        for c in self.covers:
            out.append(Entry(f"insurance.{c.id}", c.text, "insurance", self.insurance["heading"] if self.insurance else None))
        for a in self.areas:
            out.append(Entry(a.id, a.title, "area", a.title, self.judgements))
            out += [Entry(src.id, src.text, "source", a.title, self.yes_no) for src in a.sources]
        if self.areas:
            out.append(Entry("overall_judgement", self.labels["overall_judgement"], "choice", None, self.judgements))
        return out

    def slots(self) -> list[Slot]:
        """Every fillable place, in reading order."""
        return list(self._slots)

    def slot(self, slot_id: str) -> Slot:
        """The slot with this id (KeyError if none)."""
        return self._slot_index[slot_id]

    # Forms are immutable and loaded once, so their slots are built once too: readers and
    # renderers ask for them per document.
    @cached_property
    def _slot_index(self) -> dict[str, Slot]:
        return {s.id: s for s in self._slots}

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        out = [Slot(h.id, h.type, h.label, "header") for h in self.header]
        lab = self.labels
        for s in self.sections:
            out += [Slot(q.id, "text", f"{lab['answer']} {q.number}", q.id, multiline=True) for q in s.questions]
        for it in self.items:
            n = it.id[1:]
            out += [
                Slot(f"{it.id}.seen", "bool", f"Seen {n}", it.id, self.yes_no),
                Slot(f"{it.id}.date_seen", "date", f"{lab['date_seen']} {n}", it.id),
                # multi-line: a rich-text control, since LibreOffice glues the lines of a plain one
                Slot(f"{it.id}.note", "text", f"{lab['note']} {n}", it.id, multiline=True),
            ]
        if self.insurance:
            ins = self.insurance
            out.append(Slot("insurance.sole_trader", "bool", ins["sole_trader_label"], "insurance", self.yes_no))
            for c in self.covers:
                out += [
                    Slot(f"insurance.{c.id}.amount", "money", ins["amount_label"], "insurance"),
                    Slot(f"insurance.{c.id}.expiry", "date", ins["expiry_label"], "insurance"),
                ]
        for a in self.areas:
            out += [Slot(src.id, "bool", f"{lab['scrutinised']} {src.id}", a.id, self.yes_no) for src in a.sources]
            out += [
                Slot(f"{a.id}.judgement", "choice", f"{lab['judgement']} {a.id}", a.id, self.judgements),
                Slot(f"{a.id}.notes", "text", f"{lab['notes']} {a.id}", a.id, multiline=True),
            ]
        if self.areas:
            out.append(Slot("overall_judgement", "choice", lab["overall_judgement"], "overall", self.judgements))
        return tuple(out)

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]


# -- loading -------------------------------------------------------------------


def _read_yaml(name: str) -> dict[str, Any]:
    try:
        text = resources.files("apdocs.forms").joinpath("definitions", name).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"cannot read form definition: {exc}", path=name) from exc
    if not isinstance(data, dict):
        raise DefinitionError("form definition is not a mapping", path=name)
    return data


def load_form(form_id: str, profile: Profile | None = None) -> FormDefinition:
    """Return the definition of ``appendix2``, ``appendix3`` or ``appendix4``, worded for ``profile``.

    The definitions mark where the letter names the authority (``{authority}`` ...); the
    profile (default: Leicestershire's, whose values give back the letter's words) fills them in.
    """
    return _load_form(form_id, profile or default_profile())


@cache
def _load_form(form_id: str, profile: Profile) -> FormDefinition:
    if form_id not in FORM_IDS:
        raise UnknownFormError(f"unknown form {form_id!r}; choose one of {', '.join(FORM_IDS)}")
    common = _read_yaml("common.yaml")
    data = _read_yaml(f"{form_id}.yaml")
    try:
        meta, src = data["form"], data["source"]
        fields = common["header_fields"]
        header = tuple(HeaderField(h, fields[h]["label"], fields[h]["type"]) for h in meta["header"])
        intro = src["intro"]
        intro = [profile.fill(p) for p in ([intro] if isinstance(intro, str) else intro)]
        kw: dict[str, Any] = {}
        if form_id == "appendix4":
            kw["sections"] = tuple(
                Section(
                    s["id"],
                    s["title"],
                    tuple(Question(q["id"], q["number"], q["text"], q.get("hint")) for q in s["questions"]),
                )
                for s in src["sections"]
            )
        elif form_id == "appendix2":
            kw["columns"] = dict(src["columns"])
            kw["items"] = tuple(EvidenceItem(i["id"], i["text"]) for i in src["items"])
            kw["insurance"] = dict(meta["insurance"])
            kw["covers"] = tuple(InsuranceCover(c["id"], c["text"]) for c in meta["insurance"]["covers"])
        else:
            kw["areas"] = tuple(
                Area(a["id"], a["title"], tuple(Source(s["id"], s["text"]) for s in a["sources"])) for a in src["areas"]
            )
        form = FormDefinition(
            id=meta["id"],
            version=str(meta["version"]),
            name=meta["name"],
            title=src["title"],
            intro=tuple(intro),
            header=header,
            labels=dict(meta.get("labels") or {}),
            yes_no=tuple(common["choices"]["yes_no"]),
            judgements=tuple(common["choices"]["judgement"]),
            return_address=profile.fill(common["return_address"]),
            organisation=profile.fill(common["organisation"]),
            chrome=dict(common["chrome"]),
            **kw,
        )
    except (KeyError, TypeError) as exc:
        raise DefinitionError(f"form definition is missing {exc}", path=f"{form_id}.yaml") from exc
    if form.id != form_id:
        raise DefinitionError(f"definition says id {form.id!r}", path=f"{form_id}.yaml")
    return form


def all_forms() -> list[FormDefinition]:
    return [load_form(f) for f in FORM_IDS]
