"""What the register holds, as plain values: findings with their status, decisions, changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["open", "resolved", "accepted", "reopened"]
STATUSES: tuple[Status, ...] = ("open", "resolved", "accepted", "reopened")
#: What an officer may put in the tracker's Decision column ("" = no decision).
TRACKER_DECISIONS = ("accept", "chase", "")
#: Everything a decision row may say: the CLI can also reopen.
DECISIONS = (*TRACKER_DECISIONS, "reopen")
Event = Literal["new", "resolved", "reopened", "accepted"]


@dataclass(frozen=True)
class OfficerEdit:
    """What an officer changed in a finding's row of the tracker since apdocs wrote it.

    ``None``: that cell is as apdocs wrote it, so the register's current value stands (it may
    have changed since, from the CLI or another tracker: a stale cell must not undo it).
    """

    key: str
    decision: str | None
    note: str | None


@dataclass(frozen=True)
class Decision:
    key: str
    decision: str
    note: str
    by: str
    at: dt.datetime
    until: dt.date | None
    source: str  # "tracker" or "cli"

    def accepts_on(self, day: dt.date) -> bool:
        """An acceptance in force on ``day``: after its review-by date the finding is open again."""
        return self.decision == "accept" and (self.until is None or day <= self.until)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "decision": self.decision,
            "note": self.note,
            "by": self.by,
            "at": self.at.isoformat(timespec="seconds"),
            "until": self.until.isoformat() if self.until else None,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)  # slots: a country's run holds some 100,000 of them
class FindingState:
    """A finding as the register knows it, across runs."""

    key: str
    code: str
    severity: str
    school: str | None
    pupil_reference: str | None
    provider: str | None
    form: str | None
    item: str | None
    message: str
    first_raised: dt.date
    last_raised: dt.date
    status: Status
    status_changed: dt.date
    decision: Decision | None = None  # the latest one, if any

    def days_open(self, as_of: dt.date) -> int:
        """Days from first raised to ``as_of``, or to when it was resolved."""
        end = self.status_changed if self.status == "resolved" else as_of
        return max(0, (end - self.first_raised).days)

    @property
    def shown_decision(self) -> str:
        """What the tracker's Decision cell shows: "accept" only while the acceptance stands."""
        d = self.decision
        if d is None:
            return ""
        if d.decision == "accept":
            return "accept" if self.status == "accepted" else ""
        return d.decision if d.decision in TRACKER_DECISIONS else ""

    @property
    def note(self) -> str:
        return self.decision.note if self.decision else ""

    def to_dict(self, as_of: dt.date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "code": self.code,
            "severity": self.severity,
            "school": self.school,
            "pupil_reference": self.pupil_reference,
            "provider": self.provider,
            "form": self.form,
            "item": self.item,
            "message": self.message,
            "status": self.status,
            "status_changed": self.status_changed.isoformat(),
            "first_raised": self.first_raised.isoformat(),
            "last_raised": self.last_raised.isoformat(),
            "decision": self.decision.to_dict() if self.decision else None,
        }
        if as_of is not None:
            out["days_open"] = self.days_open(as_of)
        return out


@dataclass(frozen=True)
class Change:
    """Something that happened to a finding since the previous run."""

    event: Event
    on: dt.date
    finding: FindingState


@dataclass(frozen=True)
class RunView:
    """The register's view after a run: what the tracker shows beside the run's own result."""

    run_id: int
    as_of: dt.date
    previous_as_of: dt.date | None
    states: dict[str, FindingState]  # key -> state, for every finding this run raised
    changes: tuple[Change, ...]
    edits_stored: int = 0

    def state(self, key: str) -> FindingState | None:
        return self.states.get(key)
