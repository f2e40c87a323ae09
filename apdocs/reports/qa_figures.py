"""The QA report's figures: coverage, key findings, findings by category, and a period's summary.

Kept apart from the document (:mod:`apdocs.reports.qa_report`) so that a run can store its summary
in the register for later trends without importing python-docx or matplotlib. Every figure is
computed from ``result.placements`` and ``result.findings``, the rows the tracker shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from apdocs.reconcile import SEVERITIES, Result

#: The key findings an inspector asks about, each a set of finding codes.
KEY_FINDINGS: dict[str, tuple[str, ...]] = {
    "Full-time providers without DfE registration": ("UNREGISTERED_FULL_TIME_PROVIDER",),
    "Insurance below the legal minimum or expired": ("EL_BELOW_LEGAL_MINIMUM", "INSURANCE_EXPIRED"),
    "Annual assessments overdue": ("ANNUAL_ASSESSMENT_OVERDUE",),
    "Areas judged Inadequate": ("AREA_JUDGED_INADEQUATE",),
}

#: Finding codes grouped the way an officer reads them (chart and table rows).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Registration": ("UNREGISTERED_FULL_TIME_PROVIDER", "REGISTRATION_ANSWER_CONFLICT"),
    "Insurance": (
        "EL_BELOW_LEGAL_MINIMUM",
        "PL_BELOW_CHECKLIST_MINIMUM",
        "INSURANCE_EXPIRED",
        "INSURANCE_NOT_EVIDENCED",
        "INSURANCE_BELOW_COUNCIL_EXPECTATION",
    ),
    "Evidence (Appendix 2)": ("EVIDENCE_NOT_SEEN", "EVIDENCE_DATE_MISSING", "EVIDENCE_STALE"),
    "Annual assessment (Appendix 3)": ("ANNUAL_ASSESSMENT_MISSING", "ANNUAL_ASSESSMENT_OVERDUE", "AREA_JUDGED_INADEQUATE"),
    "Questionnaire (Appendix 4)": (
        "QUESTION_UNANSWERED",
        "ANSWER_NOT_SUBSTANTIVE",
        "CORE_SUBJECTS_NOT_COVERED",
        "REVIEW_FREQUENCY_NOT_STATED",
    ),
    "Full-time provision": ("PART_TIME_PACKAGE",),
    "Returns": ("RETURN_MISSING", "RETURN_UNREADABLE", "RETURN_UNMATCHED", "RETURN_NOT_REQUIRED_SEIP", "RETURN_SUPERSEDED"),
}


def category_of(code: str) -> str:
    for name, codes in CATEGORIES.items():
        if code in codes:
            return name
    return "Other"


# -- figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    school: str
    required: int  # placements the school commissioned directly (SEIP ones owe no forms)
    complete: int  # ... with every form returned

    @property
    def percent(self) -> int:
        return round(100 * self.complete / self.required) if self.required else 0


def coverage(result: Result) -> tuple[list[Coverage], Coverage]:
    """Per school (roster order) and overall: school-commissioned placements with all three forms received."""
    per: dict[str, list[int]] = {s.name: [0, 0] for s in result.schools}
    for pr in result.placements:
        if pr.placement.commissioned_by != "school":
            continue
        row = per.setdefault(pr.placement.school.name, [0, 0])
        row[0] += 1
        row[1] += all(fs.status == "received" for fs in pr.forms)
    rows = [Coverage(name, req, done) for name, (req, done) in per.items()]
    return rows, Coverage("All schools", sum(r.required for r in rows), sum(r.complete for r in rows))


def by_category(result: Result) -> dict[str, dict[str, int]]:
    """Findings counted per category and severity (every category shown, zeros included)."""
    out: dict[str, dict[str, int]] = {name: {s: 0 for s in SEVERITIES} for name in CATEGORIES}
    for f in result.findings:
        out.setdefault(category_of(f.code), {s: 0 for s in SEVERITIES})[f.severity] += 1
    return out


def key_findings(result: Result) -> dict[str, list[Any]]:
    return {name: [f for f in result.findings if f.code in codes] for name, codes in KEY_FINDINGS.items()}


@dataclass(frozen=True)
class PeriodSummary:
    """One period's headline figures: what the trend needs, and what the register stores per period."""

    label: str
    as_of: dt.date
    required: int
    complete: int
    severities: dict[str, int] = field(default_factory=dict)
    key: dict[str, int] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.complete / self.required) if self.required else 0

    @property
    def serious(self) -> int:
        return self.severities.get("critical", 0) + self.severities.get("error", 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, for the register to store per period."""
        return {
            "label": self.label,
            "as_of": self.as_of.isoformat(),
            "required": self.required,
            "complete": self.complete,
            "severities": dict(self.severities),
            "key": dict(self.key),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PeriodSummary:
        return cls(
            str(data["label"]),
            dt.date.fromisoformat(str(data["as_of"])),
            int(data["required"]),
            int(data["complete"]),
            {str(k): int(v) for k, v in (data.get("severities") or {}).items()},
            {str(k): int(v) for k, v in (data.get("key") or {}).items()},
        )


def period_label(day: dt.date) -> str:
    """The school term a date falls in: Autumn (Sep-Dec), Spring (Jan-Mar), Summer (Apr-Aug)."""
    if day.month >= 9:
        return f"Autumn {day.year}"
    return f"{'Spring' if day.month <= 3 else 'Summer'} {day.year}"


def summarise(result: Result, label: str | None = None) -> PeriodSummary:
    _, total = coverage(result)
    return PeriodSummary(
        label or period_label(result.as_of),
        result.as_of,
        total.required,
        total.complete,
        {s: result.counts[s] for s in SEVERITIES},
        {name: len(found) for name, found in key_findings(result).items()},
    )
