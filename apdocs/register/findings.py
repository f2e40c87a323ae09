"""Findings across runs: each run brings every finding's status up to date; officers accept or reopen.

A run changes a finding's status only as :func:`record_findings` says, and never overwrites an
officer's decision: an accepted finding stays accepted on every later run while it is raised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apdocs.errors import ApdocsError
from apdocs.reconcile.engine import Result
from apdocs.reconcile.findings import Finding
from apdocs.record_scrub import printable_text
from apdocs.register import schema as t
from apdocs.register.decisions import add_decision, latest_decisions
from apdocs.register.keys import finding_key
from apdocs.register.model import Change, Decision, FindingState, RunView, Status
from apdocs.roster import name_key


class UnknownFinding(ApdocsError):
    code = "UNKNOWN_FINDING"


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


def _printable(text: str | None) -> str | None:
    return printable_text(text) if text is not None else None


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


_TEXTS = ("code", "severity", "school", "pupil_reference", "provider", "form", "item", "message")


def _shared(state: FindingState, f: Finding) -> FindingState:
    """``state`` holding the finding's own strings where the register's equal them (not a second copy of each)."""
    same = {name: getattr(f, name) for name in _TEXTS if getattr(f, name) == getattr(state, name)}
    return replace(state, **same) if same else state


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


def states_with_codes(conn: Connection, codes: Iterable[str]) -> dict[str, FindingState]:
    """key -> state of every finding the register holds with one of ``codes``, with its latest decision.

    For readers that show where officers stand on a few kinds of finding (the QA report's key
    findings) without loading a country's worth of findings.
    """
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = list(conn.execute(sa.select(t.findings).where(t.findings.c.code.in_(wanted))))
    latest = latest_decisions(conn, [r.key for r in rows]) if rows else {}
    return {r.key: _state(r, latest.get(r.key)) for r in rows}


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
    # Only what deciding each status needs: a country's register holds some 100,000 findings.
    known = {r.key: r for r in conn.execute(sa.select(t.findings.c.key, t.findings.c.status, t.findings.c.school))}
    decided = latest_decisions(conn)
    previous = conn.execute(sa.select(sa.func.max(t.runs.c.id)).where(t.runs.c.id < run_id, t.runs.c.finished_at.is_not(None)))
    prev_id = previous.scalar()
    # Changes since the previous run start after the newest event any earlier run made; CLI
    # decisions made between runs have no run but later ids, so they count as changes too.
    since = conn.execute(sa.select(sa.func.max(t.finding_events.c.id)).where(t.finding_events.c.run_id.is_not(None))).scalar()
    # Written in batches (executemany), in the order a row-at-a-time loop would write them, so the
    # events keep their order: a whole country's run raises some 100,000 findings.
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for key, f in raised.items():
        d = decided.get(key)
        accepted = d is not None and d.accepts_on(as_of)
        row = known.get(key)
        values = {"severity": f.severity, "message": printable_text(f.message), "last_raised": as_of}
        if row is None:
            status: Status = "accepted" if accepted else "open"
            inserts.append(
                dict(
                    key=key,
                    code=f.code,
                    # Text a school typed (or a file name) may carry lone surrogates no database can store.
                    school=_printable(f.school),
                    pupil_reference=_printable(f.pupil_reference),
                    provider=_printable(f.provider),
                    form=f.form,
                    item=_printable(f.item),
                    first_raised=as_of,
                    status=status,
                    status_changed=as_of,
                    **values,
                )
            )
            events.append({"key": key, "event": "new", "on": as_of, "run_id": run_id})
            if accepted:
                events.append({"key": key, "event": "accepted", "on": as_of, "run_id": run_id})
            continue
        updates.append({"k": key, **values})
        new_status: Status = row.status
        if accepted:
            new_status = "accepted"
        elif row.status in ("resolved", "accepted"):
            new_status = "reopened"
        if new_status != row.status:
            statuses.append({"k": key, "status": new_status, "status_changed": as_of})
            events.append({"key": key, "event": new_status, "on": as_of, "run_id": run_id})
    in_scope = {name_key(s.name) for s in result.schools}
    for key, row in known.items():
        if key not in raised and row.status != "resolved" and (row.school is None or name_key(row.school) in in_scope):
            statuses.append({"k": key, "status": "resolved", "status_changed": as_of})
            events.append({"key": key, "event": "resolved", "on": as_of, "run_id": run_id})
    # An UPDATE given rows of parameters sets the columns they name ("k" is the key matched).
    by_key = t.findings.update().where(t.findings.c.key == sa.bindparam("k"))
    _execute_many(conn, t.findings.insert(), inserts)
    _execute_many(conn, by_key, updates)
    _execute_many(conn, by_key, statuses)
    _execute_many(conn, t.finding_events.insert(), events)
    del inserts, updates, statuses, events, known

    # Read back whole tables rather than `key IN (...)`: a large run's keys could pass a database's parameter limit.
    decided = latest_decisions(conn)
    rows = conn.execute(sa.select(t.findings))
    read = {r.key: _shared(_state(r, decided.get(r.key)), raised[r.key]) for r in rows if r.key in raised}
    states = {k: read[k] for k in raised}
    del read
    changes = _changes_since(conn, since or 0, states, decided)
    prev_as_of = conn.execute(sa.select(t.runs.c.as_of).where(t.runs.c.id == prev_id)).scalar() if prev_id else None
    return RunView(run_id, as_of, prev_as_of, states, changes)


BATCH = 2000  # rows per executemany: few round trips, and no huge parameter lists held at once


def _execute_many(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(statement, rows[i : i + BATCH])


def _changes_since(
    conn: Connection, after_event_id: int, states: dict[str, FindingState], decided: dict[str, Decision]
) -> tuple[Change, ...]:
    """The events after ``after_event_id``, each with its finding's state now.

    ``states`` (this run's findings, read after its writes) and ``decided`` (the latest
    decisions, likewise) are the same as reading them again here: they are shared, not
    read twice, because a country's first run has a change for each of some 100,000 findings.
    """
    q = (
        sa.select(t.finding_events, t.findings)
        .join(t.findings, t.findings.c.key == t.finding_events.c.key)
        .where(t.finding_events.c.id > after_event_id)
        .order_by(t.finding_events.c.id)
    )
    changes = []
    for r in conn.execute(q):
        state = states.get(r.key)
        changes.append(Change(r.event, r.on, state if state is not None else _state(r, decided.get(r.key))))
    return tuple(changes)
