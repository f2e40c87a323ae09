"""The rules: pure functions from answers (and roster facts) to hits.

Each rule returns :class:`Hit` values (code, message, item); the engine adds who and
where (school, pupil, provider, form, source file) and the guidance quote. No I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from apdocs.forms import load_form
from apdocs.reconcile.config import Config
from apdocs.roster import PROVIDER_TYPE_LABELS, Placement, Provider


class Hit(NamedTuple):
    code: str
    message: str
    item: str | None = None


# -- value helpers ---------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped: 31 March - 1 month = 28/29 Feb)."""
    y, m = divmod(day.month - 1 - months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        return _date_from_text(value.strip())
    return None


@lru_cache(maxsize=4096)
def _date_from_text(text: str) -> dt.date | None:
    # Cached: records carry ISO dates, a few hundred distinct ones per batch, and strptime
    # was the engine's largest single cost on a whole-country run.
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


_AMOUNT = re.compile(r"^£?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(m|million|k)?$", re.I)


def as_amount(value: Any) -> float | None:
    """Pounds from a number or text such as "£5,000,000", "5m", "£10 million"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _AMOUNT.match(value.strip().replace(" ", "") if value.strip() else "")
        if m:
            n = float(m.group(1).replace(",", ""))
            unit = (m.group(2) or "").lower()
            return n * 1_000_000 if unit in ("m", "million") else n * 1000 if unit == "k" else n
    return None


def as_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def pounds(n: float) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"£{n / 1_000_000:g}m"
    return f"£{n:,.0f}"


# -- Appendix 2: insurance and evidence ------------------------------------------

_COVER_NAMES = {
    "employers_liability": "employer's liability",
    "public_liability": "public liability",
    "professional_indemnity": "professional indemnity",
}


def is_sole_trader(insurance: dict[str, Any] | None, provider: Provider | None) -> bool:
    """Sole trader if the roster says so or the commissioner ticked it on Appendix 2."""
    return bool((provider is not None and provider.sole_trader) or (insurance or {}).get("sole_trader") is True)


def insurance_rules(insurance: dict[str, Any] | None, sole_trader: bool, cfg: Config, as_of: dt.date) -> list[Hit]:
    ins = insurance or {}
    hits: list[Hit] = []
    council = {
        "employers_liability": cfg.el_council_expectation,
        "public_liability": cfg.pl_council_expectation,
        "professional_indemnity": cfg.pi_council_expectation,
    }
    for cover, name in _COVER_NAMES.items():
        item = f"insurance.{cover}"
        if cover == "employers_liability" and sole_trader:
            continue  # the legal minimum does not apply to sole traders, nor does an employer's cover make sense
        data = ins.get(cover) or {}
        amount, expiry = as_amount(data.get("amount")), as_date(data.get("expiry"))
        if amount is None:
            if cover == "professional_indemnity":
                hits.append(
                    Hit(
                        "INSURANCE_BELOW_COUNCIL_EXPECTATION",
                        f"No {name} cover recorded; the council expects {pounds(council[cover])}.",
                        item,
                    )
                )
            else:
                hits.append(Hit("INSURANCE_NOT_EVIDENCED", f"No {name} cover amount recorded on Appendix 2.", item))
            continue
        if cover == "employers_liability" and amount < cfg.el_legal_minimum:
            hits.append(
                Hit(
                    "EL_BELOW_LEGAL_MINIMUM",
                    f"Employer's liability cover is {pounds(amount)}; the legal minimum is {pounds(cfg.el_legal_minimum)}.",
                    item,
                )
            )
        elif cover == "public_liability" and amount < cfg.pl_checklist_minimum:
            hits.append(
                Hit(
                    "PL_BELOW_CHECKLIST_MINIMUM",
                    f"Public liability cover is {pounds(amount)}; Appendix 2 asks for "
                    f"{pounds(cfg.pl_checklist_minimum)} minimum.",
                    item,
                )
            )
        elif amount < council[cover]:
            hits.append(
                Hit(
                    "INSURANCE_BELOW_COUNCIL_EXPECTATION",
                    f"{name.capitalize()} cover is {pounds(amount)}; the council expects {pounds(council[cover])}.",
                    item,
                )
            )
        if expiry is None:
            if cover != "professional_indemnity":
                hits.append(
                    Hit(
                        "INSURANCE_NOT_EVIDENCED",
                        f"No expiry date recorded for {name} cover, so it cannot be shown to be current.",
                        item,
                    )
                )
        elif expiry < as_of:
            hits.append(Hit("INSURANCE_EXPIRED", f"{name.capitalize()} cover expired on {expiry.isoformat()}.", item))
    return hits


def evidence_rules(answers: dict[str, Any], sole_trader: bool, cfg: Config, as_of: dt.date) -> list[Hit]:
    hits: list[Hit] = []
    cutoff = months_before(as_of, cfg.evidence_stale_months)
    for item in load_form("appendix2").items:
        if item.id == "e1" and sole_trader:
            continue  # e1 is the employer's liability certificate: not required of a sole trader
        data = answers.get(item.id) or {}
        seen, raw_date = data.get("seen"), data.get("date_seen")
        if seen is not True:
            state = "was not seen" if seen is False else "is not marked as seen"
            hits.append(Hit("EVIDENCE_NOT_SEEN", f"{item.id} ({item.text}) {state}.", item.id))
            continue
        date_seen = as_date(raw_date)
        if date_seen is None:
            why = "is not a date" if as_text(raw_date) else "is missing"
            hits.append(Hit("EVIDENCE_DATE_MISSING", f"{item.id} ({item.text}) was seen but the date seen {why}.", item.id))
        elif date_seen < cutoff:
            hits.append(
                Hit(
                    "EVIDENCE_STALE",
                    f"{item.id} ({item.text}) was last seen on {date_seen.isoformat()}, "
                    f"more than {cfg.evidence_stale_months} months ago.",
                    item.id,
                )
            )
    return hits


# -- Appendix 3: annual assessment -----------------------------------------------


def assessment_rules(header: dict[str, Any], answers: dict[str, Any], cfg: Config, as_of: dt.date) -> list[Hit]:
    hits: list[Hit] = []
    form = load_form("appendix3")
    visit = as_date(header.get("visit_date"))
    judgements = {a.id: as_text((answers.get(a.id) or {}).get("judgement")) for a in form.areas}
    judgements["overall_judgement"] = as_text(answers.get("overall_judgement"))
    if visit is None:
        hits.append(Hit("ANNUAL_ASSESSMENT_MISSING", "Appendix 3 was returned without a date of visit.", "visit_date"))
    elif visit < months_before(as_of, cfg.assessment_overdue_months):
        hits.append(
            Hit(
                "ANNUAL_ASSESSMENT_OVERDUE",
                f"The last assessment visit was on {visit.isoformat()}, more than {cfg.assessment_overdue_months} months ago.",
                "visit_date",
            )
        )
    if not any(judgements.values()):
        hits.append(Hit("ANNUAL_ASSESSMENT_MISSING", "Appendix 3 was returned without any judgement.", "overall_judgement"))
    titles = {a.id: a.title for a in form.areas} | {"overall_judgement": "overall"}
    for area, judgement in judgements.items():
        if judgement.casefold() == "inadequate":
            hits.append(Hit("AREA_JUDGED_INADEQUATE", f"Judged Inadequate: {titles[area]}.", area))
    return hits


# -- Appendix 4: the questionnaire -----------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!")


def questionnaire_rules(answers: dict[str, Any], cfg: Config) -> list[Hit]:
    hits: list[Hit] = []
    non_answers = {_normal(n) for n in cfg.non_answers} | {n.casefold() for n in cfg.non_answers}
    for q in load_form("appendix4").questions():
        text = as_text(answers.get(q.id))
        if not text:
            hits.append(Hit("QUESTION_UNANSWERED", f"Question {q.number} is not answered.", q.id))
            continue
        norm = _normal(text)
        if norm in non_answers or text.casefold() in non_answers:
            hits.append(Hit("ANSWER_NOT_SUBSTANTIVE", f"Question {q.number} is answered only {text!r}.", q.id))
        elif q.id in cfg.yes_no_questions:
            continue
        elif norm in {"yes", "no", "y", "n"}:
            hits.append(
                Hit("ANSWER_NOT_SUBSTANTIVE", f"Question {q.number} asks for an explanation but is answered only {text!r}.", q.id)
            )
        elif len(text) < cfg.min_answer_chars:
            hits.append(
                Hit("ANSWER_NOT_SUBSTANTIVE", f"Question {q.number} is answered in only {len(text)} characters: {text!r}.", q.id)
            )
    hits += core_subject_rules(as_text(answers.get("q9")), cfg)
    hits += review_frequency_rules(as_text(answers.get("q11")), cfg)
    return hits


def _mentions(text: str, words: Iterable[str]) -> bool:
    low = text.casefold()
    return any(re.search(rf"(?<![a-z]){re.escape(w.casefold())}(?![a-z])", low) for w in words)


def core_subject_rules(q9: str, cfg: Config) -> list[Hit]:
    if not q9:
        return []  # already QUESTION_UNANSWERED
    missing = [subject for subject, words in cfg.core_subjects.items() if not _mentions(q9, words)]
    if not missing or _mentions(q9, cfg.provided_elsewhere):
        return []
    return [
        Hit(
            "CORE_SUBJECTS_NOT_COVERED",
            f"Question 9 does not address {', '.join(missing)}, nor say it is provided elsewhere.",
            "q9",
        )
    ]


def review_frequency_rules(q11: str, cfg: Config) -> list[Hit]:
    if not q11 or any(re.search(p, q11, re.I) for p in cfg.review_frequency_patterns):
        return []
    return [Hit("REVIEW_FREQUENCY_NOT_STATED", "Question 11 does not say how often the plan will be reviewed.", "q11")]


_YES_START = re.compile(r"^\s*(yes|y)\b", re.I)
_NO_START = re.compile(r"^\s*(no|n)\b|\bnot\s+(ofsted\s+|dfe\s+)?registered\b|\bunregistered\b", re.I)


def registration_answer(text: str) -> bool | None:
    """What q2 says: True (registered), False (not), None (cannot tell)."""
    if _NO_START.search(text):
        return False
    if _YES_START.search(text):
        return True
    return None


def registration_conflict_rules(answers: dict[str, Any], header: dict[str, Any], provider: Provider) -> list[Hit]:
    hits: list[Hit] = []
    said = registration_answer(as_text(answers.get("q2")))
    on_roster = f"the roster records DfE URN {provider.urn}" if provider.registered else "the roster records no DfE registration"
    if said is True and not provider.registered:
        hits.append(Hit("REGISTRATION_ANSWER_CONFLICT", f"Question 2 says the provision is registered, but {on_roster}.", "q2"))
    elif said is False and provider.registered:
        hits.append(
            Hit("REGISTRATION_ANSWER_CONFLICT", f"Question 2 says the provision is not registered, but {on_roster}.", "q2")
        )
    number = re.sub(r"\s+", "", as_text(header.get("registration_number")))
    if number and provider.registered and number != provider.urn:
        hits.append(
            Hit(
                "REGISTRATION_ANSWER_CONFLICT",
                f"The registration number given ({number}) differs from the roster's DfE URN {provider.urn}.",
                "registration_number",
            )
        )
    return hits


# -- roster rules ----------------------------------------------------------------

EXEMPT_TYPES = frozenset({"la_maintained", "non_maintained_special"})


def unregistered_full_time(placement: Placement, cfg: Config) -> Hit | None:
    """The Appendix 1 registration test, applied to one placement."""
    p = placement.provider
    if p.type in EXEMPT_TYPES or p.registered:
        return None
    by_hours = p.daytime_hours > cfg.full_time_daytime_hours
    # The pupil's hours in their own school (school_hours_per_week) are left out on purpose. This is
    # the DfE test of whether the *provider* must register, and what it gives this pupil, measured
    # against a full-time week, is the same whether or not the pupil also spends time in school;
    # counting that time would let a split timetable hide an unregistered full-time provider.
    substantially_all = placement.hours_per_week >= cfg.substantially_all_share * cfg.full_time_package_hours
    if not (by_hours or substantially_all):
        return None
    # Every roster pupil is looked after, so the "one or more such child" limb always holds;
    # pupil numbers and EHC plans are named only to explain the finding.
    why = []
    if by_hours:
        why.append(f"operates {p.daytime_hours:g} daytime hours a week (more than {cfg.full_time_daytime_hours:g})")
    if substantially_all:
        why.append(f"gives this pupil {placement.hours_per_week:g} hours a week, substantially all of their education")
    caters = "a looked-after pupil" + (" with an EHC plan" if placement.ehc_plan else "")
    if p.full_time_pupils >= cfg.full_time_pupils:
        caters += f" and {p.full_time_pupils} full-time pupils of compulsory school age"
    label = PROVIDER_TYPE_LABELS[p.type]
    return Hit(
        "UNREGISTERED_FULL_TIME_PROVIDER",
        f"{p.name} ({label}) {' and '.join(why)}, caters for {caters}, and has no DfE registration.",
        None,
    )


def part_time_package(placements: Sequence[Placement], cfg: Config) -> Hit | None:
    """All of one pupil's placements, plus any time in their own school (a split timetable), against the full-time week."""
    ap_hours = sum(p.hours_per_week for p in placements)
    # The roster gives every placement of a pupil the same school hours; max() also counts them
    # when only one placement of a hand-built list carries them.
    school_hours = max((p.school_hours_per_week for p in placements), default=0.0)
    total = ap_hours + school_hours
    if total >= cfg.full_time_package_hours or any(p.medical_reason for p in placements):
        return None
    hours = f"{ap_hours:g} hours a week across {len(placements)} placement(s)"
    if school_hours:
        hours = f"{total:g} hours a week ({ap_hours:g} across {len(placements)} placement(s) and {school_hours:g} in school)"
    return Hit(
        "PART_TIME_PACKAGE",
        f"{placements[0].pupil_reference} has {hours}, "
        f"below full time ({cfg.full_time_package_hours:g}), and no medical reason is recorded.",
        None,
    )
