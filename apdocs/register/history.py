"""A pupil's, provider's or school's timeline: returns received, what happened to findings, decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apdocs.register import schema as t
from apdocs.roster import name_key

FORM_TITLES = {"appendix2": "Appendix 2", "appendix3": "Appendix 3", "appendix4": "Appendix 4"}


@dataclass(frozen=True)
class Entry:
    on: dt.date
    kind: str  # "return", "finding", "decision"
    key: str | None  # the finding's key, for findings and decisions
    text: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "kind": self.kind, "key": self.key, "text": self.text, **self.data}


def _matches(column_value: str | None, *, pupil: str | None, provider: str | None, school: str | None) -> bool:
    if column_value is None:
        return False
    if pupil is not None:
        return column_value.casefold() == pupil.casefold()
    return name_key(column_value) == name_key(provider if provider is not None else school)


def timeline(
    conn: Connection, *, pupil: str | None = None, provider: str | None = None, school: str | None = None
) -> list[Entry]:
    """Everything the register knows about one pupil (by reference), provider or school, oldest first."""
    field = "pupil_reference" if pupil is not None else "provider" if provider is not None else "school"
    who = {"pupil": pupil, "provider": provider, "school": school}
    out: list[Entry] = []
    for r in conn.execute(sa.select(t.returns).order_by(t.returns.c.id)):
        if _matches(getattr(r, field), **who):
            done = f", completed {r.completed.isoformat()}" if r.completed else ""
            name = (r.path or "").replace("\\", "/").rsplit("/", 1)[-1]
            text = f"{FORM_TITLES.get(r.form, r.form)} received{done}: {name}"
            out.append(Entry(r.received, "return", None, text, {"form": r.form, "sha256": r.sha256, "path": r.path}))
    findings = {r.key: r for r in conn.execute(sa.select(t.findings)) if _matches(getattr(r, field), **who)}
    if findings:
        for e in conn.execute(sa.select(t.finding_events).order_by(t.finding_events.c.id)):
            if e.key not in findings:
                continue
            f = findings[e.key]
            where = " ".join(x for x in (f.pupil_reference, f.provider, FORM_TITLES.get(f.form or "", f.form), f.item) if x)
            text = f"{e.event}: {f.code} ({f.severity}) {where}: {f.message}"
            out.append(Entry(e.on, "finding", e.key, text, {"event": e.event, "code": f.code, "status_now": f.status}))
        for d in conn.execute(sa.select(t.decisions).order_by(t.decisions.c.id)):
            if d.key not in findings:
                continue
            until = f" until {d.until.isoformat()}" if d.until else ""
            text = f"decision {d.decision or '(cleared)'}{until} by {d.by} via {d.source}" + (f": {d.note}" if d.note else "")
            data = {"decision": d.decision, "by": d.by, "source": d.source, "note": d.note}
            data["at"] = d.at.isoformat(timespec="seconds")
            out.append(Entry(d.at.date(), "decision", d.key, text, data))
    order = {"return": 0, "finding": 1, "decision": 2}
    return sorted(out, key=lambda e: (e.on, order[e.kind]))
