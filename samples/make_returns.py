#!/usr/bin/env python3
"""Generate the synthetic returned forms in samples/returns/ for samples/roster.csv.

Every name is fictional and pupils are references, never names. Some returns are
good, some carry the problems reconciliation should find (run with ``--as-of 2025-03-31``);
tests/expected/sample_findings.json lists, by hand, what each one should produce.

    python samples/make_returns.py [OUTDIR]
    python samples/make_returns.py --term2 [OUTDIR]    # samples/returns-term2/: the next term's returns

Forms are rendered by apdocs itself (``apdocs.api.render_form``) and then "filled in"
by passing values, as a school's answers would be. One Appendix 4 is instead typed the
2020 way: a plain Word document with the questions as paragraphs and no form controls.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import docx  # the 2020-style hand-typed document only

from apdocs.api import render_form
from apdocs.fileio import atomic_write_bytes
from apdocs.forms import load_form

HERE = Path(__file__).resolve().parent

GOOD_A4 = {
    "q1": "Chosen at a multi-agency meeting with the social worker and carer; three local providers were visited and compared.",
    "q2": "Yes",
    "q3": "All staff hold enhanced DBS checks, seen on the single central record; the lead tutor is a qualified teacher.",
    "q4": "A service level agreement sets standards for safeguarding, health and safety, accommodation and education.",
    "q5": "The PEP and SEN support plan were shared by secure email and are kept in the provider's locked records.",
    "q6": "The designated teacher follows up any concern within one working day and refers to CAMHS or the EP as needed.",
    "q7": "A two-term intervention to rebuild attendance and confidence, with assessment of progress in English and maths.",
    "q8": "The provider follows our Year 9 schemes of work in English and maths so the pupil stays on track for GCSEs.",
    "q9": "Targets in English, maths and science (including IT), plus personal targets for attendance and self-regulation.",
    "q10": "Progress reports from the provider are checked against the baseline assessments by the designated teacher.",
    "q11": "Reviewed every six weeks with the pupil, carer, social worker, provider and designated teacher.",
    "q12": "Weekly phone contact with the provider and a visit to the pupil every half term.",
    "q13": "The pupil keeps their tutor group, attends Friday assemblies and joins school trips.",
    "q14": "A phased return starting with two mornings a week in school, supported by a key adult.",
    "q15": "Transition planning starts in Year 10 with careers guidance and college taster days.",
}


def a2_values(seen_on: str, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for it in load_form("appendix2").items:
        values[f"{it.id}.seen"] = True
        values[f"{it.id}.date_seen"] = seen_on
    values.update(
        {
            "insurance.sole_trader": False,
            "insurance.employers_liability.amount": 10_000_000,
            "insurance.employers_liability.expiry": "2025-09-30",
            "insurance.public_liability.amount": 10_000_000,
            "insurance.public_liability.expiry": "2025-09-30",
            "insurance.professional_indemnity.amount": 2_000_000,
            "insurance.professional_indemnity.expiry": "2025-09-30",
        }
    )
    values.update(over)
    return values


def a3_values(visit: str, judgement: str = "Good", **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"visit_date": visit, "visited_by": "Designated teacher", "overall_judgement": judgement}
    for area in load_form("appendix3").areas:
        values[f"{area.id}.judgement"] = judgement
        values[f"{area.id}.notes"] = "Lesson observed; pupils interviewed; records checked."
        for src in area.sources[:3]:
            values[src.id] = True
    values.update(over)
    return values


def who(school: str, provider: str, completed: str, pupil: str | None = None) -> dict[str, Any]:
    out = {
        "school_name": school,
        "provider_name": provider,
        "completed_by_name": "A. Teacher",
        "completed_by_role": "Designated teacher",
        "date_completed": completed,
    }
    if pupil:
        out["pupil_reference"] = pupil
    return out


HB, RA = "Hollybank Primary", "Riverside Academy"
GREENWAY, FORGE, BRIDGEFORD, MEADOW = (
    "Greenway Learning Centre",
    "Forge Farm Skills",
    "Bridgeford Independent School",
    "Meadow Lane Tuition",
)

#: file name -> (form, values). Comments say what each should trigger at as-of 2025-03-31.
RETURNS: dict[str, tuple[str, dict[str, Any]]] = {
    # Registration conflict (q2 says yes; the roster has no URN), q9 without science,
    # q11 without a frequency, q6 a bare "Yes", q13 "N/A", q15 blank.
    "hollybank-greenway-appendix4.docx": (
        "appendix4",
        {
            **who(HB, GREENWAY, "2025-02-10", "LAC-0001"),
            "hours_per_week": 25,
            **GOOD_A4,
            "q2": "Yes, they are Ofsted registered",
            "q6": "Yes",
            "q9": "Targets in English and maths, and improving attendance.",
            "q11": "With the carer and social worker at PEP meetings.",
            "q13": "N/A",
            "q15": None,
        },
    ),
    # EL exactly £5m (legal, below the council's £10m); PL £1m and expired; no PI;
    # e9 not seen, e10 undated, e11 seen 12 months + 1 day ago, e12 exactly 12 months ago.
    "hollybank-greenway-appendix2.xlsx": (
        "appendix2",
        {
            **who(HB, GREENWAY, "2025-02-10"),
            **a2_values(
                "2025-01-15",
                **{
                    "insurance.employers_liability.amount": 5_000_000,
                    "insurance.employers_liability.expiry": "2025-12-31",
                    "insurance.public_liability.amount": 1_000_000,
                    "insurance.public_liability.expiry": "2025-03-30",
                    "insurance.professional_indemnity.amount": None,
                    "insurance.professional_indemnity.expiry": None,
                    "e9.seen": False,
                    "e9.date_seen": None,
                    "e10.date_seen": None,
                    "e11.date_seen": "2024-03-30",
                    "e12.date_seen": "2024-03-31",
                },
            ),
        },
    ),
    # Visited exactly 12 months before as-of (in time); behaviour and safety Inadequate.
    "hollybank-greenway-appendix3.docx": (
        "appendix3",
        {
            **who(HB, GREENWAY, "2024-04-02"),
            **a3_values("2024-03-31", "Good", **{"a2.judgement": "Requires improvement", "a3.judgement": "Inadequate"}),
            "overall_judgement": "Requires improvement",
        },
    ),
    # Sole trader: no employer's liability and no e1 needed; PL exactly £2m (below the council's £10m).
    "hollybank-forgefarm-appendix2.docx": (
        "appendix2",
        {
            **who(HB, FORGE, "2025-02-01"),
            **a2_values(
                "2025-02-01",
                **{
                    "insurance.sole_trader": True,
                    "insurance.employers_liability.amount": None,
                    "insurance.employers_liability.expiry": None,
                    "insurance.public_liability.amount": 2_000_000,
                    "insurance.public_liability.expiry": "2026-01-31",
                    "insurance.professional_indemnity.amount": 2_000_000,
                    "insurance.professional_indemnity.expiry": "2026-01-31",
                    "e1.seen": False,
                    "e1.date_seen": None,
                },
            ),
        },
    ),
    # Last visit 12 months + 1 day before as-of: overdue.
    "hollybank-forgefarm-appendix3.xlsx": ("appendix3", {**who(HB, FORGE, "2024-03-30"), **a3_values("2024-03-30")}),
    "hollybank-forgefarm-appendix4.xlsx": (
        "appendix4",
        {
            **who(HB, FORGE, "2025-02-01", "LAC-0001"),
            "hours_per_week": 6,
            **GOOD_A4,
            "q2": "No - Forge Farm is not registered; it is a part-time farm placement.",
        },
    ),
    # An early draft, replaced by the complete return below: superseded, nothing else.
    "riverside-bridgeford-appendix4-draft.docx": (
        "appendix4",
        {**who(RA, BRIDGEFORD, "2024-12-01", "LAC-0002"), "q1": "Draft - to finish after the review meeting."},
    ),
    "riverside-bridgeford-appendix4.docx": (
        "appendix4",
        {
            **who(RA, BRIDGEFORD, "2025-01-20", "LAC-0002"),
            "hours_per_week": 32.5,
            "registration_number": "145678",
            **GOOD_A4,
            "q2": "Yes - a registered independent school, DfE URN 145678.",
        },
    ),
    "riverside-bridgeford-appendix2.xlsx": ("appendix2", {**who(RA, BRIDGEFORD, "2025-01-20"), **a2_values("2025-01-10")}),
    "riverside-bridgeford-appendix3.docx": (
        "appendix3",
        {**who(RA, BRIDGEFORD, "2025-01-20"), **a3_values("2025-01-15", "Outstanding")},
    ),
    # Matches no roster row; its typed names are hostile spreadsheet text and must stay text.
    "unknown-appendix4.docx": (
        "appendix4",
        {**who("@Unknown School", '=HYPERLINK("http://example.invalid","Tutors")', "2025-03-01", "-LAC-0099"), **GOOD_A4},
    ),
}

#: The 2020 way: a plain document, questions as paragraphs, answers typed beneath (Meadow Lane).
HAND_TYPED = "riverside-meadowlane-appendix4-2020.docx"
HAND_TYPED_HEADER = {
    "school_name": RA,
    "provider_name": MEADOW,
    "pupil_reference": "LAC-0003",
    "date_completed": "14/02/2025",
}
HAND_TYPED_ANSWERS = {**GOOD_A4, "q2": "No, it is not registered (part-time tuition)."}


def hand_typed_docx() -> bytes:
    form = load_form("appendix4")
    labels = {h.id: h.label for h in form.header}
    d = docx.Document()
    d.add_heading(form.title, level=1)
    d.add_paragraph(form.intro[0])
    for key, value in HAND_TYPED_HEADER.items():
        d.add_paragraph(f"{labels[key]}: {value}")
    for section in form.sections:
        d.add_heading(section.title, level=2)
        for q in section.questions:
            d.add_paragraph(f"{q.number}. {q.text}")
            if q.hint:
                d.add_paragraph(q.hint)
            d.add_paragraph(HAND_TYPED_ANSWERS[q.id])
    d.core_properties.author = "apdocs sample"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


#: The next term: what Hollybank sent after being chased (the demo's second term). Completed later than
#: the first Appendix 4, it supersedes it; q6, q9, q11, q13 and q15 are now answered properly, so those
#: findings are resolved. q2 still claims a registration the roster does not have.
TERM2: dict[str, tuple[str, dict[str, Any]]] = {
    "hollybank-greenway-appendix4-summer.docx": (
        "appendix4",
        {
            **who(HB, GREENWAY, "2025-06-20", "LAC-0001"),
            "hours_per_week": 25,
            **GOOD_A4,
            "q2": "Yes, they are Ofsted registered",
        },
    ),
}


def main() -> None:
    if sys.argv[1:2] == ["--term2"]:
        out = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "returns-term2"
        out.mkdir(parents=True, exist_ok=True)
        for name, (form, values) in TERM2.items():
            atomic_write_bytes(out / name, render_form(form, name.rsplit(".", 1)[1], values))
            print(out / name)
        return
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "returns"
    out.mkdir(parents=True, exist_ok=True)
    for name, (form, values) in RETURNS.items():
        fmt = name.rsplit(".", 1)[1]
        atomic_write_bytes(out / name, render_form(form, fmt, values))
        print(out / name)
    atomic_write_bytes(out / HAND_TYPED, hand_typed_docx())
    print(out / HAND_TYPED)


if __name__ == "__main__":
    main()
