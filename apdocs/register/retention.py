"""Storage limitation (UK GDPR): forget what is older than the retention period.

``purge(before)`` deletes returns received before the date, findings last raised before it
(with their decisions and events), and placements last seen on a roster before it. Runs are
kept: they hold dates and counts, nothing about a child.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apdocs.register import schema as t


def purge(conn: Connection, before: dt.date) -> dict[str, int]:
    """Delete what is older than ``before``; returns how many rows of each kind went."""
    keys = list(conn.execute(sa.select(t.findings.c.key).where(t.findings.c.last_raised < before)).scalars())
    counts = {"returns": conn.execute(t.returns.delete().where(t.returns.c.received < before)).rowcount}
    counts["findings"] = counts["decisions"] = counts["finding_events"] = 0
    for i in range(0, len(keys), 500):  # in batches: databases limit how many parameters one statement takes
        batch = keys[i : i + 500]
        counts["decisions"] += conn.execute(t.decisions.delete().where(t.decisions.c.key.in_(batch))).rowcount
        counts["finding_events"] += conn.execute(t.finding_events.delete().where(t.finding_events.c.key.in_(batch))).rowcount
        counts["findings"] += conn.execute(t.findings.delete().where(t.findings.c.key.in_(batch))).rowcount
    counts["placements"] = conn.execute(t.placements.delete().where(t.placements.c.last_seen < before)).rowcount
    return counts
