"""Reading and writing the register inside a caller's transaction (see :mod:`apdocs.register.db`).

Decisions are append-only: a decision is never updated or deleted except by the retention
purge. A run changes a finding's status only as the rules in :func:`record_findings` say,
and never writes a decision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apdocs.errors import ApdocsError
from apdocs.reconcile.engine import Result
from apdocs.reconcile.findings import Finding
from apdocs.reconcile.rules import as_date
from apdocs.record import ParsedReturn, SourceInfo
from apdocs.register import schema as t
from apdocs.register.keys import finding_key
from apdocs.register.model import Change, Decision, FindingState, OfficerEdit, RunView, Status
from apdocs.roster import Roster, name_key


class UnknownFinding(ApdocsError):
    code = "UNKNOWN_FINDING"


# -- decisions ----------------------------------------------------------------------


def _decision(row: Any) -> Decision:
    return Decision(row.key, row.decision, row.note, row.by, row.at, row.until, row.source)


def latest_decisions(conn: Connection, keys: Iterable[str] | None = None) -> dict[str, Decision]:
    """key -> its newest decision (the highest id: ids only grow, timestamps may tie or skew)."""
    newest = sa.select(t.decisions.c.key, sa.func.max(t.decisions.c.id).label("id")).group_by(t.decisions.c.key)
    if keys is not None:
        newest = newest.where(t.decisions.c.key.in_(list(keys)))
    sub = newest.subquery()
    rows = conn.execute(sa.select(t.decisions).join(sub, t.decisions.c.id == sub.c.id))
    return {r.key: _decision(r) for r in rows}


def decisions_for(conn: Connection, key: str) -> list[Decision]:
    rows = conn.execute(sa.select(t.decisions).where(t.decisions.c.key == key).order_by(t.decisions.c.id))
    return [_decision(r) for r in rows]


def add_decision(conn: Connection, d: Decision) -> None:
    conn.execute(
        t.decisions.insert().values(key=d.key, decision=d.decision, note=d.note, by=d.by, at=d.at, until=d.until, source=d.source)
    )


def store_edits(conn: Connection, edits: Sequence[OfficerEdit], by: str, at: dt.datetime) -> int:
    """Store what officers typed into the tracker as decisions; returns how many were new.

    Cell by cell: a cell the officer left as written keeps the register's current value, so a
    note typed into a stale tracker does not undo an acceptance made since from the CLI. An edit
    that leaves the register's decision as it is (a run killed after committing but before
    replacing the tracker reads the same edits again) adds nothing. Editing only the note of an
    acceptance keeps its review-by date.
    """
    latest = latest_decisions(conn, [e.key for e in edits])
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


def accept(conn: Connection, key: str, note: str, by: str, at: dt.datetime, until: dt.date | None) -> FindingState:
    """An officer accepts a finding from the CLI: it stays accepted on later runs while raised (until ``until``)."""
    state = _require(conn, key)
    add_decision(conn, Decision(key, "accept", note, by, at, until, "cli"))
    if state.status != "resolved" and (until is None or until >= at.date()):
        _set_status(conn, key, "accepted", at.date(), None)
    return _require(conn, key)


def reopen(conn: Connection, key: str, note: str | None, by: str, at: dt.datetime) -> FindingState:
    """Withdraw an acceptance (or ask to chase a resolved finding again): the finding is reopened."""
    state = _require(conn, key)
    add_decision(conn, Decision(key, "reopen", state.note if note is None else note, by, at, None, "cli"))
    if state.status != "reopened":
        _set_status(conn, key, "reopened", at.date(), None)
    return _require(conn, key)


# -- findings -----------------------------------------------------------------------


def _state(row: Any, decision: Decision | None) -> FindingState:
    return FindingState(
        row.key,
        row.code,
        row.severity,
        row.school,
        row.pupil_reference,
        row.provider,
        row.form,
        row.item,
        row.message,
        row.first_raised,
        row.last_raised,
        row.status,
        row.status_changed,
        decision,
    )


def _require(conn: Connection, key: str) -> FindingState:
    row = conn.execute(sa.select(t.findings).where(t.findings.c.key == key)).first()
    if row is None:
        raise UnknownFinding(f"no finding with key {key} in the register", path=key)
    return _state(row, latest_decisions(conn, [key]).get(key))


def _set_status(conn: Connection, key: str, status: Status, on: dt.date, run_id: int | None) -> None:
    conn.execute(t.findings.update().where(t.findings.c.key == key).values(status=status, status_changed=on))
    if status in ("resolved", "reopened", "accepted"):
        conn.execute(t.finding_events.insert().values(key=key, event=status, on=on, run_id=run_id))


def list_findings(conn: Connection, *, status: str | None = None, school: str | None = None) -> list[FindingState]:
    q = sa.select(t.findings)
    if status:
        q = q.where(t.findings.c.status == status)
    rows = list(conn.execute(q.order_by(t.findings.c.school, t.findings.c.pupil_reference, t.findings.c.code, t.findings.c.key)))
    if school:
        rows = [r for r in rows if name_key(r.school) == name_key(school)]
    latest = latest_decisions(conn, [r.key for r in rows]) if rows else {}
    return [_state(r, latest.get(r.key)) for r in rows]


def record_findings(conn: Connection, run_id: int, result: Result) -> RunView:
    """Bring every finding's status up to this run, and say what changed since the previous run.

    * raised for the first time: ``open`` (``accepted`` if an officer accepted its key already);
    * raised again: ``accepted`` while an acceptance stands, whatever the status was; else
      ``reopened`` if it was resolved, or accepted and the acceptance expired or was withdrawn;
      else unchanged;
    * not raised, and not already resolved: ``resolved``, dated this run's as-of date, but only
      for the schools on this run's roster (and findings about no school): a shared register may
      hold other officers' schools, which this run did not look at.
    """
    as_of = result.as_of
    raised: dict[str, Finding] = {}
    for f in result.findings:
        raised.setdefault(finding_key(f), f)
    known = {r.key: r for r in conn.execute(sa.select(t.findings))}
    decided = latest_decisions(conn)
    previous = conn.execute(sa.select(sa.func.max(t.runs.c.id)).where(t.runs.c.id < run_id, t.runs.c.finished_at.is_not(None)))
    prev_id = previous.scalar()
    # Changes since the previous run start after the newest event any earlier run made; CLI
    # decisions made between runs have no run but later ids, so they count as changes too.
    since = conn.execute(sa.select(sa.func.max(t.finding_events.c.id)).where(t.finding_events.c.run_id.is_not(None))).scalar()
    for key, f in raised.items():
        d = decided.get(key)
        accepted = d is not None and d.accepts_on(as_of)
        row = known.get(key)
        values = {"severity": f.severity, "message": f.message, "last_raised": as_of}
        if row is None:
            status: Status = "accepted" if accepted else "open"
            conn.execute(
                t.findings.insert().values(
                    key=key,
                    code=f.code,
                    school=f.school,
                    pupil_reference=f.pupil_reference,
                    provider=f.provider,
                    form=f.form,
                    item=f.item,
                    first_raised=as_of,
                    status=status,
                    status_changed=as_of,
                    **values,
                )
            )
            conn.execute(t.finding_events.insert().values(key=key, event="new", on=as_of, run_id=run_id))
            if accepted:
                conn.execute(t.finding_events.insert().values(key=key, event="accepted", on=as_of, run_id=run_id))
            continue
        conn.execute(t.findings.update().where(t.findings.c.key == key).values(**values))
        new_status: Status = row.status
        if accepted:
            new_status = "accepted"
        elif row.status in ("resolved", "accepted"):
            new_status = "reopened"
        if new_status != row.status:
            _set_status(conn, key, new_status, as_of, run_id)
    in_scope = {name_key(s.name) for s in result.schools}
    for key, row in known.items():
        if key not in raised and row.status != "resolved" and (row.school is None or name_key(row.school) in in_scope):
            _set_status(conn, key, "resolved", as_of, run_id)

    rows = {r.key: r for r in conn.execute(sa.select(t.findings).where(t.findings.c.key.in_(list(raised))))} if raised else {}
    decided = latest_decisions(conn, list(raised)) if raised else {}
    states = {k: _state(rows[k], decided.get(k)) for k in raised}
    changes = _changes_since(conn, since or 0)
    prev_as_of = conn.execute(sa.select(t.runs.c.as_of).where(t.runs.c.id == prev_id)).scalar() if prev_id else None
    return RunView(run_id, as_of, prev_as_of, states, changes)


def _changes_since(conn: Connection, after_event_id: int) -> tuple[Change, ...]:
    q = (
        sa.select(t.finding_events, t.findings)
        .join(t.findings, t.findings.c.key == t.finding_events.c.key)
        .where(t.finding_events.c.id > after_event_id)
        .order_by(t.finding_events.c.id)
    )
    rows = list(conn.execute(q))
    decided = latest_decisions(conn, {r.key for r in rows}) if rows else {}
    return tuple(Change(r.event, r.on, _state(r, decided.get(r.key))) for r in rows)


# -- runs, returns, roster ----------------------------------------------------------


def begin_run(conn: Connection, as_of: dt.date, command: str, started: dt.datetime) -> int:
    res = conn.execute(
        t.runs.insert().values(
            as_of=as_of, started_at=started, returns_read=0, returns_failed=0, findings=0, counts="{}", command=command
        )
    )
    key = res.inserted_primary_key
    assert key is not None  # an INSERT into a table with an autoincrement key always has one
    return int(key[0])


def finish_run(conn: Connection, run_id: int, result: Result, finished: dt.datetime) -> None:
    conn.execute(
        t.runs.update()
        .where(t.runs.c.id == run_id)
        .values(
            finished_at=finished,
            returns_read=result.returns_read,
            returns_failed=len(result.failures),
            findings=len(result.findings),
            counts=json.dumps(result.counts),
        )
    )


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
                path=r.source.path,
                record=json.dumps(r.to_dict(), default=str, ensure_ascii=False),
                run_id=run_id,
            )
        )
        added += 1
    return added


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
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
