"""Runs, the returns they read and the roster they ran on, as the register remembers them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apdocs.reconcile.engine import Result
from apdocs.reconcile.rules import as_date
from apdocs.record import ParsedReturn, SourceInfo
from apdocs.record_scrub import printable_text
from apdocs.register import schema as t
from apdocs.roster import Roster


def begin_run(conn: Connection, as_of: dt.date, command: str, started: dt.datetime) -> int:
    res = conn.execute(
        t.runs.insert().values(
            as_of=as_of, started_at=started, returns_read=0, returns_failed=0, findings=0, counts="{}", command=command
        )
    )
    key = res.inserted_primary_key
    assert key is not None  # an INSERT into a table with an autoincrement key always has one
    return int(key[0])


def finish_run(
    conn: Connection, run_id: int, result: Result, finished: dt.datetime, summary: dict[str, Any] | None = None
) -> None:
    """Close the run with its counts; ``summary`` is its headline figures (plain JSON values), kept for trends."""
    conn.execute(
        t.runs.update()
        .where(t.runs.c.id == run_id)
        .values(
            finished_at=finished,
            returns_read=result.returns_read,
            returns_failed=len(result.failures),
            findings=len(result.findings),
            counts=json.dumps(result.counts),
            summary=json.dumps(summary, sort_keys=True) if summary is not None else None,
        )
    )


def run_summaries(conn: Connection, before: dt.date | None = None) -> list[dict[str, Any]]:
    """The finished runs' summaries, oldest first (by as-of date, then start); runs with none are left out.

    ``before``: only runs whose as-of date is earlier.
    """
    query = sa.select(t.runs.c.summary).where(t.runs.c.finished_at.is_not(None), t.runs.c.summary.is_not(None))
    if before is not None:
        query = query.where(t.runs.c.as_of < before)
    rows = conn.execute(query.order_by(t.runs.c.as_of, t.runs.c.started_at, t.runs.c.id)).scalars()
    out = []
    for text in rows:
        try:
            data = json.loads(text)
        except ValueError:
            continue  # a hand-edited register: one run missing from a trend is better than no report
        if isinstance(data, dict):
            out.append(data)
    return out


def store_returns(conn: Connection, run_id: int, records: Iterable[ParsedReturn], received: dt.date) -> int:
    """Remember every return read (once per file content); returns how many were new."""
    known = set(conn.execute(sa.select(t.returns.c.sha256)).scalars())
    added = 0
    for r in records:
        if r.source.sha256 in known:
            continue
        known.add(r.source.sha256)
        h = r.header
        done = as_date(h.get("date_completed")) or as_date(h.get("visit_date"))
        conn.execute(
            t.returns.insert().values(
                sha256=r.source.sha256,
                form=r.form,
                school=_text(h.get("school_name")),
                pupil_reference=_text(h.get("pupil_reference")),
                provider=_text(h.get("provider_name")),
                completed=done,
                received=received,
                # A file name that is not UTF-8 carries lone surrogates, which no database can store.
                path=printable_text(r.source.path) if r.source.path else None,
                record=printable_text(json.dumps(r.to_dict(), default=str, ensure_ascii=False)),
                run_id=run_id,
            )
        )
        added += 1
    return added


def _text(value: Any) -> str | None:
    text = " ".join(printable_text(str(value)).split()) if value is not None else ""
    return text or None


def returns_from_register(conn: Connection, exclude: Iterable[str] = ()) -> list[ParsedReturn]:
    """Every remembered return, rebuilt as a ParsedReturn, except those whose sha256 is in ``exclude``."""
    skip = set(exclude)
    out = []
    for row in conn.execute(sa.select(t.returns.c.sha256, t.returns.c.record).order_by(t.returns.c.id)):
        if row.sha256 in skip:
            continue
        data = json.loads(row.record)
        src = data["source"]
        out.append(
            ParsedReturn(
                SourceInfo(src.get("path"), src["sha256"], src.get("format") or ""),
                data["form"],
                data.get("form_version"),
                data.get("reference"),
                data.get("header") or {},
                data.get("answers") or {},
            )
        )
    return out


def store_roster(conn: Connection, roster: Roster, on: dt.date) -> None:
    """Schools, providers and placements as the roster gives them today (names, never pupils' names)."""
    for s in roster.schools:
        _upsert(conn, t.schools, {"key": s.key}, {"name": s.name, "urn": s.urn, "email": s.email, "last_seen": on})
    seen: set[str] = set()
    for p in roster:
        if p.provider.key not in seen:
            seen.add(p.provider.key)
            values = {"name": p.provider.name, "urn": p.provider.urn, "type": p.provider.type, "last_seen": on}
            _upsert(conn, t.providers, {"key": p.provider.key}, values)
        where = {"pupil_reference": p.pupil_reference, "provider_key": p.provider.key}
        values = {
            "school_key": p.school.key,
            "commissioned_by": p.commissioned_by,
            "hours_per_week": p.hours_per_week,
            "start": p.start,
            "last_seen": on,
        }
        _upsert(conn, t.placements, where, values, {"first_seen": on})


def _upsert(
    conn: Connection, table: sa.Table, where: dict[str, Any], values: dict[str, Any], on_insert: dict[str, Any] | None = None
) -> None:
    # Select-then-write is safe here: every writer holds the register's write lock.
    cond = sa.and_(*(table.c[k] == v for k, v in where.items()))
    if conn.execute(sa.select(sa.literal(1)).select_from(table).where(cond)).first():
        conn.execute(table.update().where(cond).values(**values))
    else:
        conn.execute(table.insert().values(**where, **values, **(on_insert or {})))
