"""Findings: pinned codes, their severities, and the guidance sentence each rests on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

Severity = Literal["critical", "error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "error", "warning", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

#: code -> (severity, meaning). Codes and severities are a public contract.
CODES: dict[str, tuple[Severity, str]] = {
    "UNREGISTERED_FULL_TIME_PROVIDER": (
        "critical",
        "a full-time provider that must by law be registered with the DfE has no registration",
    ),
    "EL_BELOW_LEGAL_MINIMUM": ("error", "employer's liability cover below the £5m legal minimum (sole traders exempt)"),
    "PL_BELOW_CHECKLIST_MINIMUM": ("error", "public liability cover below the £2m on the Appendix 2 checklist"),
    "INSURANCE_EXPIRED": ("error", "an insurance cover's expiry date is before the as-of date"),
    "INSURANCE_NOT_EVIDENCED": ("error", "no cover amount, or no expiry date, recorded for employer's or public liability"),
    "REGISTRATION_ANSWER_CONFLICT": ("error", "the answer to q2 (or the registration number given) contradicts the roster"),
    "EVIDENCE_NOT_SEEN": ("error", "an Appendix 2 document was not seen (or not answered)"),
    "ANNUAL_ASSESSMENT_MISSING": ("error", "an Appendix 3 was returned without a visit date or any judgement"),
    "ANNUAL_ASSESSMENT_OVERDUE": ("error", "the last Appendix 3 visit was more than 12 months before the as-of date"),
    "AREA_JUDGED_INADEQUATE": ("error", "an Appendix 3 area, or the overall judgement, is Inadequate"),
    "QUESTION_UNANSWERED": ("error", "an Appendix 4 question is blank"),
    "PART_TIME_PACKAGE": (
        "error",
        "the pupil's hours across all placements, plus any in their own school, are below full time, with no medical reason",
    ),
    "RETURN_MISSING": ("error", "a school-commissioned placement has no Appendix 4, or its provider no Appendix 2 or 3"),
    "RETURN_UNREADABLE": ("error", "a returned file could not be read"),
    "INSURANCE_BELOW_COUNCIL_EXPECTATION": ("warning", "cover below the council's expectation (EL £10m, PL £10m, PI £2m)"),
    "EVIDENCE_DATE_MISSING": ("warning", "an Appendix 2 document is marked seen but the date seen is missing"),
    "EVIDENCE_STALE": ("warning", "an Appendix 2 document was seen more than 12 months before the as-of date"),
    "ANSWER_NOT_SUBSTANTIVE": ("warning", "an answer is a placeholder (N/A, TBC, see above, -), a bare yes/no, or too short"),
    "CORE_SUBJECTS_NOT_COVERED": (
        "warning",
        "q9 does not address English, maths and science, nor say they are provided elsewhere",
    ),
    "REVIEW_FREQUENCY_NOT_STATED": ("warning", "q11 does not say how often the plan is reviewed"),
    "RETURN_UNMATCHED": ("warning", "a return matches no roster placement"),
    "RETURN_FORM_UNCERTAIN": ("warning", "a return was recognised as the form from only part of its printed texts"),
    "RETURN_NOT_REQUIRED_SEIP": ("info", "the placement is commissioned by the SEIP, so the school owes no returns for it"),
    "RETURN_SUPERSEDED": ("info", "a newer return for the same placement and form replaced this one"),
}


@cache
def guidance() -> tuple[dict[str, str], dict[str, str]]:
    """(quote id -> verbatim sentence, code -> quote id), read from guidance.yaml."""
    text = resources.files("apdocs.reconcile").joinpath("guidance.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return dict(data["quotes"]), dict(data["codes"])


def guidance_for(code: str) -> str:
    quotes, codes = guidance()
    return quotes[codes[code]]


@dataclass(frozen=True, slots=True)  # slots: a country's run holds some 100,000 of them
class Finding:
    code: str
    severity: Severity
    message: str
    guidance: str
    school: str | None = None
    pupil_reference: str | None = None
    provider: str | None = None
    form: str | None = None
    item: str | None = None  # slot or item id: "q9", "e11", "insurance.public_liability", "a3" ...
    source: str | None = None  # path of the return it concerns, if any

    @classmethod
    def make(cls, code: str, message: str, **where: Any) -> Finding:
        severity, _ = CODES[code]
        return cls(code=code, severity=severity, message=message, guidance=guidance_for(code), **where)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (
            SEVERITY_RANK[self.severity],
            self.school or "",
            self.pupil_reference or "",
            self.provider or "",
            self.form or "",
            _item_order(self.item),
            self.code,
            self.source or "",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "school": self.school,
            "pupil_reference": self.pupil_reference,
            "provider": self.provider,
            "form": self.form,
            "item": self.item,
            "message": self.message,
            "guidance": self.guidance,
            "source": self.source,
        }


def _item_order(item: str | None) -> tuple[Any, ...]:
    # "e2" before "e10"; "q9" before "q11".
    if not item:
        return ()
    head = item.split(".")[0]
    digits = "".join(ch for ch in head if ch.isdigit())
    return (head.rstrip("0123456789"), int(digits) if digits else 0, item)
