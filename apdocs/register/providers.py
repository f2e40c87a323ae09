"""One row per provider across every school: what the register knows about it.

Registration comes from the roster; the insurance covers from the latest Appendix 2 any
school returned for the provider; the evidence from every Appendix 2: an item counts as
seen when any school saw it, with the latest date any school gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from apdocs.forms import load_form
from apdocs.reconcile.rules import as_amount, as_date, as_text
from apdocs.record import ParsedReturn
from apdocs.roster import Roster, name_key

COVERS = ("employers_liability", "public_liability", "professional_indemnity")


@dataclass(frozen=True)
class Cover:
    amount: float | None
    expiry: dt.date | None


@dataclass(frozen=True)
class ProviderRow:
    name: str
    urn: str
    type: str
    schools: tuple[str, ...]
    insurance_from: dt.date | None = None  # completion date of the Appendix 2 the covers come from
    covers: dict[str, Cover] = field(default_factory=dict)
    evidence: dict[str, dt.date | None] = field(default_factory=dict)  # item id -> latest date seen (None: seen, undated)


def provider_rows(roster: Roster, returns: Iterable[ParsedReturn]) -> list[ProviderRow]:
    appendix2: dict[str, list[ParsedReturn]] = {}
    for r in returns:
        if r.form == "appendix2":
            appendix2.setdefault(name_key(as_text(r.header.get("provider_name"))), []).append(r)
    items = [it.id for it in load_form("appendix2").items]
    rows: dict[str, ProviderRow] = {}
    schools: dict[str, set[str]] = {}
    for p in roster:
        schools.setdefault(p.provider.key, set()).add(p.school.name)
        rows.setdefault(p.provider.key, ProviderRow(p.provider.name, p.provider.urn, p.provider.type, ()))
    out = []
    for key, base in sorted(rows.items(), key=lambda kv: kv[1].name.casefold()):
        mine = sorted(appendix2.get(key, []), key=_completed)
        covers: dict[str, Cover] = {}
        if mine:
            insurance = mine[-1].answers.get("insurance") or {}
            for cover in COVERS:
                data = insurance.get(cover) or {}
                covers[cover] = Cover(as_amount(data.get("amount")), as_date(data.get("expiry")))
        evidence: dict[str, dt.date | None] = {}
        for r in mine:
            for e in items:
                data = r.answers.get(e) or {}
                if data.get("seen") is True:
                    seen = as_date(data.get("date_seen"))
                    prev = evidence.get(e, dt.date.min)
                    if e not in evidence or (seen is not None and (prev is None or seen > prev)):
                        evidence[e] = seen
        done = _completed(mine[-1]) if mine else None
        out.append(
            ProviderRow(
                base.name,
                base.urn,
                base.type,
                tuple(sorted(schools[key], key=str.casefold)),
                done if done != dt.date.min else None,
                covers,
                evidence,
            )
        )
    return out


def _completed(r: ParsedReturn) -> dt.date:
    return as_date(r.header.get("date_completed")) or dt.date.min
