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
    batch: list[dict[str, Any]] = []
    for r in records:
        if r.source.sha256 in known:
            continue
        known.add(r.source.sha256)
        h = r.header
        done = as_date(h.get("date_completed")) or as_date(h.get("visit_date"))
        batch.append(
            dict(
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
        if len(batch) >= BATCH:  # in batches: each return's record is a few kB of JSON
            conn.execute(t.returns.insert(), batch)
            batch = []
    if batch:
        conn.execute(t.returns.insert(), batch)
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
    schools = {s.key: {"name": s.name, "urn": s.urn, "email": s.email, "last_seen": on} for s in roster.schools}
    providers: dict[str, dict[str, Any]] = {}
    placements: dict[tuple[str, ...], dict[str, Any]] = {}
    for p in roster:
        if p.provider.key not in providers:
            providers[p.provider.key] = {"name": p.provider.name, "urn": p.provider.urn, "type": p.provider.type, "last_seen": on}
        placements[p.pupil_reference, p.provider.key] = (  # the roster's last row for a placement wins
            {
                "school_key": p.school.key,
                "commissioned_by": p.commissioned_by,
                "hours_per_week": p.hours_per_week,
                "start": p.start,
                "last_seen": on,
            }
        )
    _upsert_many(conn, t.schools, ("key",), {(k,): v for k, v in schools.items()})
    _upsert_many(conn, t.providers, ("key",), {(k,): v for k, v in providers.items()})
    _upsert_many(conn, t.placements, ("pupil_reference", "provider_key"), placements, {"first_seen": on})


BATCH = 2000  # rows per executemany


def _upsert_many(
    conn: Connection,
    table: sa.Table,
    where: tuple[str, ...],
    rows: dict[tuple[str, ...], dict[str, Any]],
    on_insert: dict[str, Any] | None = None,
) -> None:
    """Update the rows already there (matched on the ``where`` columns), insert the others, in batches.

    Select-then-write is safe here: every writer holds the register's write lock. The rows
    there are read whole rather than by ``IN (...)``: a country's keys could pass a database's
    parameter limit.
    """
    there = {tuple(r) for r in conn.execute(sa.select(*(table.c[k] for k in where)))}
    # Parameters named b_<column> match the row; the others name the columns set.
    update = table.update().where(sa.and_(*(table.c[k] == sa.bindparam(f"b_{k}") for k in where)))
    updates, inserts = [], []
    for ident, values in rows.items():
        if ident in there:
            updates.append({**{f"b_{k}": v for k, v in zip(where, ident, strict=True)}, **values})
        else:
            inserts.append({**dict(zip(where, ident, strict=True)), **values, **(on_insert or {})})
    for i in range(0, len(updates), BATCH):
        conn.execute(update, updates[i : i + BATCH])
    for i in range(0, len(inserts), BATCH):
        conn.execute(table.insert(), inserts[i : i + BATCH])
