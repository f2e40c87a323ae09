"""A run that remembers: officers' tracker edits in, the run recorded, the tracker written from the register.

Order, and why:

1. Take a lock beside the tracker, so two runs writing the same tracker take turns between
   reading it back and replacing it (an edit saved in between would otherwise be replaced unread).
2. Read the officers' edits back from the existing tracker. If it cannot be read back, stop
   here: nothing has changed yet.
3. In one locked register transaction: store the edits as decisions, the roster and the
   returns, reconcile with the returns remembered from earlier runs, bring each finding's
   status up to date, and build the new tracker. ``kill -9`` anywhere in it rolls it all back.
4. Commit, then keep the old tracker as a dated backup and replace it atomically. Killed between
   commit and replace, the old tracker stays: its edits are already stored, and reading them
   again next time adds nothing.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from apdocs.fileio import atomic_write_bytes, exclusive_lock, keep_backup, scratch_file
from apdocs.profile import Profile
from apdocs.reconcile import Config, Result, reconcile
from apdocs.reconcile.findings import Finding
from apdocs.record import ParsedReturn, ParseFailure
from apdocs.register import decisions, findings, runs
from apdocs.register.db import open_engine, read_transaction, write_transaction
from apdocs.register.faults import checkpoint
from apdocs.register.keys import finding_key
from apdocs.register.model import FindingState, RunView
from apdocs.register.providers import provider_rows
from apdocs.reports.qa_figures import KEY_FINDINGS, PeriodSummary, period_label, summarise
from apdocs.reports.tracker import save_tracker
from apdocs.reports.tracker_decisions import ReadBack, read_officer_edits
from apdocs.roster import Roster


@dataclass(frozen=True)
class RegisteredRun:
    result: Result
    view: RunView
    tracker: Path | None
    backup: Path | None  # the tracker this run replaced, kept under a dated name
    edits_stored: int  # officers' tracker edits stored as decisions


def officer_name() -> str:
    """Who is running apdocs, for decisions read from the tracker and `findings accept` without --by."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container, say)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def utc_now() -> dt.datetime:
    # Stored without a zone (SQLite has none); always UTC.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@contextmanager
def _tracker_lock(tracker: Path | None) -> Iterator[None]:
    if tracker is None:
        yield
        return
    tracker.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(tracker.with_name(f".{tracker.name}.lock")):
        yield


def without_accepted(result: Result, view: RunView) -> Result:
    """``result`` with accepted findings left out of what each school owes (the chase list and letters)."""

    def chased(f: Finding) -> bool:
        state = view.state(finding_key(f))
        return state is None or state.status != "accepted"

    schools = tuple(replace(s, owes=tuple(f for f in s.owes if chased(f))) for s in result.schools)
    return replace(result, schools=schools)


def run_with_register(
    db: str | os.PathLike[str] | None,
    roster: Roster,
    records: Iterable[ParsedReturn | ParseFailure],
    *,
    as_of: dt.date,
    config: Config | None = None,
    tracker: str | os.PathLike[str] | None = None,
    command: str = "reconcile",
    by: str | None = None,
    before_commit: Callable[[Result], object] | None = None,
    profile: Profile | None = None,
) -> RegisteredRun:
    """Record a run in the register ``db`` and write ``tracker`` from it (see the module docstring).

    ``before_commit`` runs inside the transaction with the result as officers see it (accepted
    findings left out of what schools owe): if it raises (feedback letters that refuse to
    overwrite, say), the run is not recorded and the tracker not replaced.
    """
    target = Path(tracker) if tracker is not None else None
    engine = open_engine(db)
    records = list(records)
    inputs = [r for r in records if isinstance(r, ParsedReturn)]
    data: IO[bytes] | None = None
    try:
        with ExitStack() as stack, _tracker_lock(target):
            read_back = read_officer_edits(target) if target is not None else ReadBack([])
            checkpoint("tracker-read")
            started = utc_now()
            with write_transaction(engine) as conn:
                checkpoint("transaction-begun")
                # Edits are the officer's who last saved the tracker, if the spreadsheet program recorded it.
                who = by or read_back.edited_by or officer_name()
                stored = decisions.store_edits(conn, read_back.edits, who, started)
                run_id = runs.begin_run(conn, as_of, command, started)
                runs.store_roster(conn, roster, as_of)
                runs.store_returns(conn, run_id, inputs, as_of)  # "received" as of the run, like its findings
                checkpoint("returns-stored")
                prior = runs.returns_from_register(conn, exclude={r.source.sha256 for r in inputs})
                result = reconcile(roster, records, config, as_of, prior_returns=prior, profile=profile)
                # The returns themselves are not needed past here (the result holds what the
                # tracker shows of them): let them go before the findings and the tracker are made.
                providers = provider_rows(roster, [*prior, *inputs]) if target is not None else []
                del records, inputs, prior
                view = findings.record_findings(conn, run_id, result)
                result = without_accepted(result, view)  # what officers see: accepted findings are not chased
                checkpoint("findings-recorded")
                # Its headline figures, as officers see them, for the QA report's trend in later terms.
                runs.finish_run(conn, run_id, result, utc_now(), summary=summarise(result).to_dict())
                if target is not None:
                    # Built into an unnamed temporary file beside the tracker (gone if the run is
                    # killed), copied into place atomically once the register has committed.
                    data = stack.enter_context(scratch_file(target.resolve().parent))
                    save_tracker(result, data, base_dir=target.resolve().parent, view=view, providers=providers)
                if before_commit is not None:
                    before_commit(result)
                checkpoint("before-commit")
            checkpoint("committed")
            backup = None
            if target is not None and data is not None:
                backup = keep_backup(target, dt.datetime.now())
                checkpoint("backup-kept")
                atomic_write_bytes(target, data)
    finally:
        engine.dispose()
    return RegisteredRun(result, view, target, backup, stored)


@dataclass(frozen=True)
class ReportInputs:
    """What the QA report takes from a register, besides its own reconcile result."""

    result: Result
    history: list[PeriodSummary]  # one summary per earlier term, oldest first
    standing: dict[str, FindingState]  # finding key -> where officers stand on it (key-finding codes only)


def report_from_register(
    db: str | os.PathLike[str] | None,
    roster: Roster,
    records: Iterable[ParsedReturn | ParseFailure],
    *,
    as_of: dt.date,
    config: Config | None = None,
    profile: Profile | None = None,
) -> ReportInputs:
    """Reconcile as a registered run would (returns remembered from earlier runs count), recording
    nothing; add the earlier terms for the trend and where officers stand on the key findings: what
    the QA report needs, in one read of the register.

    A reader such as the report must not move findings' statuses or add a run, which only
    ``reconcile`` and ``ingest`` do. The trend has one summary per earlier term (its latest run),
    oldest first; runs of ``as_of``'s own term are left out, since the report's figures stand for it.
    """
    records = list(records)
    inputs = {r.source.sha256 for r in records if isinstance(r, ParsedReturn)}
    key_codes = {code for codes in KEY_FINDINGS.values() for code in codes}
    engine = open_engine(db)
    try:
        with read_transaction(engine) as conn:
            prior = runs.returns_from_register(conn, exclude=inputs)
            stored = runs.run_summaries(conn, before=as_of)
            standing = findings.states_with_codes(conn, key_codes)
    finally:
        engine.dispose()
    result = reconcile(roster, records, config, as_of, prior_returns=prior, profile=profile)
    return ReportInputs(result, _earlier_terms(stored, period_label(as_of)), standing)


def _earlier_terms(stored: list[dict[str, Any]], current: str) -> list[PeriodSummary]:
    latest: dict[str, PeriodSummary] = {}
    for data in stored:
        try:
            summary = PeriodSummary.from_dict(data)
        except (KeyError, TypeError, ValueError):
            continue  # a summary this version cannot read: left out of the trend, not guessed
        latest[summary.label] = summary  # oldest first, so the term's latest run wins
    return sorted((p for label, p in latest.items() if label != current), key=lambda p: p.as_of)


def run_to_dict(run: RegisteredRun) -> dict[str, Any]:
    """``result.to_dict()``, each finding with what the register says of it, and the run's changes."""
    data = run.result.to_dict()
    for out, f in zip(data["findings"], run.result.findings, strict=True):
        state = run.view.state(finding_key(f))
        if state is not None:
            out.update(
                key=state.key,
                status=state.status,
                first_raised=state.first_raised.isoformat(),
                days_open=state.days_open(run.view.as_of),
                decision=state.shown_decision,
                officer_note=state.note,
            )
    events = ("new", "resolved", "reopened", "accepted")
    data["register"] = {
        "run": run.view.run_id,
        "previous_as_of": run.view.previous_as_of.isoformat() if run.view.previous_as_of else None,
        "changes": {e: [c.finding.key for c in run.view.changes if c.event == e] for e in events},
        "officer_decisions_read": run.edits_stored,
        "backup": str(run.backup) if run.backup else None,
    }
    return data


def describe_run(run: RegisteredRun) -> str:
    """One line for the officer: what changed in the register, and where the old tracker went."""
    counts = {e: sum(c.event == e for c in run.view.changes) for e in ("new", "resolved", "reopened", "accepted")}
    text = f"register: run {run.view.run_id}: " + ", ".join(f"{n} {e}" for e, n in counts.items())
    text += f"; {run.edits_stored} officer decision(s) read from the tracker"
    if run.backup is not None:
        text += f"; previous tracker kept as {run.backup}"
    return text
