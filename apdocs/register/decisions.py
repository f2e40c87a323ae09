"""Officers' decisions: append-only rows, never updated or deleted (except by the retention purge).

Runs never write decisions; officers do, from the tracker (read back by
apdocs.reports.tracker_decisions) or the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apdocs.record_scrub import printable_text
from apdocs.register import schema as t
from apdocs.register.model import Decision, OfficerEdit


def _decision(row: Any) -> Decision:
    return Decision(row.key, row.decision, row.note, row.by, row.at, row.until, row.source)


def latest_decisions(conn: Connection, keys: Iterable[str] | None = None) -> dict[str, Decision]:
    """key -> its newest decision (the highest id: ids only grow, timestamps may tie or skew).

    ``keys`` narrows the answer in Python, not with ``IN (...)``, which a database may cap.
    """
    newest = sa.select(sa.func.max(t.decisions.c.id).label("id")).group_by(t.decisions.c.key).subquery()
    rows = conn.execute(sa.select(t.decisions).join(newest, t.decisions.c.id == newest.c.id))
    wanted = set(keys) if keys is not None else None
    return {r.key: _decision(r) for r in rows if wanted is None or r.key in wanted}


def decisions_for(conn: Connection, key: str) -> list[Decision]:
    rows = conn.execute(sa.select(t.decisions).where(t.decisions.c.key == key).order_by(t.decisions.c.id))
    return [_decision(r) for r in rows]


def add_decision(conn: Connection, d: Decision) -> None:
    conn.execute(
        # printable_text: a note or name given on a command line that is not UTF-8 carries lone surrogates.
        t.decisions.insert().values(
            key=d.key,
            decision=d.decision,
            note=printable_text(d.note),
            by=printable_text(d.by),
            at=d.at,
            until=d.until,
            source=d.source,
        )
    )


def store_edits(conn: Connection, edits: Sequence[OfficerEdit], by: str, at: dt.datetime) -> int:
    """Store what officers typed into the tracker as decisions; returns how many were new.

    Cell by cell: a cell the officer left as written keeps the register's current value, so a
    note typed into a stale tracker does not undo an acceptance made since from the CLI. An edit
    that leaves the register's decision as it is (a run killed after committing but before
    replacing the tracker reads the same edits again) adds nothing. Editing only the note of an
    acceptance keeps its review-by date.
    """
    latest = latest_decisions(conn) if edits else {}
    stored = 0
    for e in edits:
        before = latest.get(e.key)
        decision = e.decision if e.decision is not None else (before.decision if before else "")
        note = e.note if e.note is not None else (before.note if before else "")
        if before is not None and (before.decision, before.note) == (decision, note):
            continue
        if before is None and (decision, note) == ("", ""):
            continue
        until = before.until if before is not None and before.decision == decision == "accept" else None
        d = Decision(e.key, decision, note, by, at, until, "tracker")
        add_decision(conn, d)
        latest[e.key] = d
        stored += 1
    return stored
