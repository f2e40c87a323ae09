"""Every rule, true and false at its thresholds; the engine's matching; guidance quoted verbatim."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from apdocs.errors import ParseError
from apdocs.forms import load_form
from apdocs.profile import default_profile
from apdocs.reconcile import CODES, ConfigError, default_config, load_config, reconcile, rules
from apdocs.reconcile.findings import guidance
from apdocs.record import ParsedReturn, ParseFailure, SourceInfo, build_answers
from apdocs.roster import Placement, Provider, School

AS_OF = dt.date(2025, 3, 31)
CFG = default_config()
SCHOOL = School("Hollybank Primary", "120001", "ap@hollybank.example.sch.uk", "")


def provider(**kw: Any) -> Provider:
    base = dict(name="Greenway", urn="", type="unregistered", sole_trader=False, daytime_hours=10.0, full_time_pupils=2)
    return Provider(**{**base, **kw})  # type: ignore[arg-type]


def placement(prov: Provider | None = None, **kw: Any) -> Placement:
    base = dict(
        line=2,
        school=SCHOOL,
        pupil_reference="LAC-0001",
        provider=prov or provider(),
        commissioned_by="school",
        hours_per_week=10.0,
        start=dt.date(2024, 9, 2),
        ehc_plan=False,
        medical_reason=False,
    )
    return Placement(**{**base, **kw})  # type: ignore[arg-type]


def codes(hits: list[rules.Hit]) -> list[str]:
    return [h.code for h in hits]


def cover(amount: Any, expiry: Any = "2026-01-01") -> dict[str, Any]:
    return {"amount": amount, "expiry": expiry}


def insurance(el: Any = 10e6, pl: Any = 10e6, pi: Any = 2e6, sole: bool | None = False) -> dict[str, Any]:
    return {
        "sole_trader": sole,
        "employers_liability": cover(el),
        "public_liability": cover(pl),
        "professional_indemnity": cover(pi),
    }


# -- insurance ------------------------------------------------------------------


def test_full_cover_at_council_expectation_is_clean() -> None:
    assert rules.insurance_rules(insurance(), False, CFG, AS_OF) == []


@pytest.mark.parametrize(
    ("el", "expected"),
    [
        (5_000_000, ["INSURANCE_BELOW_COUNCIL_EXPECTATION"]),  # exactly £5m: legal, below the council's £10m
        (4_999_999, ["EL_BELOW_LEGAL_MINIMUM"]),
        (9_999_999.99, ["INSURANCE_BELOW_COUNCIL_EXPECTATION"]),
        (10_000_000, []),
        ("£5,000,000", ["INSURANCE_BELOW_COUNCIL_EXPECTATION"]),
        ("4.5m", ["EL_BELOW_LEGAL_MINIMUM"]),
    ],
)
def test_employers_liability_thresholds(el: Any, expected: list[str]) -> None:
    assert codes(rules.insurance_rules(insurance(el=el), False, CFG, AS_OF)) == expected


def test_sole_trader_exempt_from_employers_liability() -> None:
    assert rules.insurance_rules(insurance(el=1_000_000), True, CFG, AS_OF) == []
    assert rules.insurance_rules(insurance(el=None), True, CFG, AS_OF) == []
    assert codes(rules.insurance_rules(insurance(el=None), False, CFG, AS_OF)) == ["INSURANCE_NOT_EVIDENCED"]
    # the form's tick or the roster's column each make a sole trader
    assert rules.is_sole_trader({"sole_trader": True}, provider()) is True
    assert rules.is_sole_trader({"sole_trader": None}, provider(sole_trader=True)) is True
    assert rules.is_sole_trader({"sole_trader": False}, provider()) is False


@pytest.mark.parametrize(
    ("pl", "expected"),
    [
        (2_000_000, ["INSURANCE_BELOW_COUNCIL_EXPECTATION"]),
        (1_999_999, ["PL_BELOW_CHECKLIST_MINIMUM"]),
        (10_000_000, []),
        (None, ["INSURANCE_NOT_EVIDENCED"]),
    ],
)
def test_public_liability_thresholds(pl: Any, expected: list[str]) -> None:
    assert codes(rules.insurance_rules(insurance(pl=pl), False, CFG, AS_OF)) == expected


@pytest.mark.parametrize(
    ("pi", "expected"),
    [(2_000_000, []), (1_999_999, ["INSURANCE_BELOW_COUNCIL_EXPECTATION"]), (None, ["INSURANCE_BELOW_COUNCIL_EXPECTATION"])],
)
def test_professional_indemnity_thresholds(pi: Any, expected: list[str]) -> None:
    assert codes(rules.insurance_rules(insurance(pi=pi), False, CFG, AS_OF)) == expected


def test_insurance_expiry() -> None:
    ins = insurance()
    ins["public_liability"]["expiry"] = AS_OF.isoformat()  # valid through the as-of day
    assert rules.insurance_rules(ins, False, CFG, AS_OF) == []
    ins["public_liability"]["expiry"] = (AS_OF - dt.timedelta(days=1)).isoformat()
    assert codes(rules.insurance_rules(ins, False, CFG, AS_OF)) == ["INSURANCE_EXPIRED"]
    ins["public_liability"]["expiry"] = None
    assert codes(rules.insurance_rules(ins, False, CFG, AS_OF)) == ["INSURANCE_NOT_EVIDENCED"]


def test_config_overrides_thresholds(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("el_legal_minimum: 6000000\nfull_time_package_hours: 25\n")
    cfg = load_config(cfg_file)
    assert codes(rules.insurance_rules(insurance(el=5_500_000), False, cfg, AS_OF)) == ["EL_BELOW_LEGAL_MINIMUM"]
    assert cfg.pl_checklist_minimum == 2_000_000  # untouched keys keep the letter's values
    cfg_file.write_text("el_legal_minimun: 1\n")
    with pytest.raises(ConfigError, match="el_legal_minimun"):
        load_config(cfg_file)
    cfg_file.write_text("full_time_pupils: many\n")
    with pytest.raises(ConfigError, match="full_time_pupils"):
        load_config(cfg_file)


# -- registration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "pupil_hours", "hit"),
    [
        ({"daytime_hours": 18}, 10, False),  # exactly 18 hours is not MORE than 18
        ({"daytime_hours": 18.5}, 10, True),
        ({"daytime_hours": 25, "urn": "123456"}, 10, False),  # registered
        ({"daytime_hours": 25, "type": "la_maintained", "urn": ""}, 10, False),
        ({"daytime_hours": 25, "type": "non_maintained_special"}, 10, False),
        ({"daytime_hours": 12}, 26, True),  # 26 h = 0.8 x 32.5: substantially all of this pupil's education
        ({"daytime_hours": 12}, 25.9, False),
        ({"daytime_hours": 25, "full_time_pupils": 0}, 10, True),  # one looked-after pupil is enough
    ],
)
def test_unregistered_full_time_provider(kw: dict[str, Any], pupil_hours: float, hit: bool) -> None:
    result = rules.unregistered_full_time(placement(provider(**kw), hours_per_week=pupil_hours), CFG)
    assert (result is not None) is hit
    if hit:
        assert result.code == "UNREGISTERED_FULL_TIME_PROVIDER"


@pytest.mark.parametrize(
    ("q2", "urn", "conflict"),
    [
        ("Yes, Ofsted registered", "", True),
        ("Yes", "123456", False),
        ("No - it is not registered", "", False),
        ("No", "123456", True),
        ("The provider is unregistered", "123456", True),
        ("We checked their website", "", False),  # cannot tell: no conflict claimed
    ],
)
def test_registration_answer_conflict(q2: str, urn: str, conflict: bool) -> None:
    hits = rules.registration_conflict_rules({"q2": q2}, {}, provider(urn=urn))
    assert codes(hits) == (["REGISTRATION_ANSWER_CONFLICT"] if conflict else [])


def test_registration_number_must_match_roster() -> None:
    prov = provider(urn="145678")
    assert rules.registration_conflict_rules({"q2": "Yes"}, {"registration_number": "145 678"}, prov) == []
    hits = rules.registration_conflict_rules({"q2": "Yes"}, {"registration_number": "999999"}, prov)
    assert [(h.code, h.item) for h in hits] == [("REGISTRATION_ANSWER_CONFLICT", "registration_number")]


# -- evidence -------------------------------------------------------------------


def a2_answers(**items: dict[str, Any]) -> dict[str, Any]:
    ok = {"seen": True, "date_seen": "2025-01-10", "note": None}
    return {it.id: items.get(it.id, ok) for it in load_form("appendix2").items}


def test_evidence_all_seen_recently_is_clean() -> None:
    assert rules.evidence_rules(a2_answers(), False, CFG, AS_OF) == []


def test_evidence_exactly_twelve_months_is_not_stale() -> None:
    hits = rules.evidence_rules(
        a2_answers(e3={"seen": True, "date_seen": "2024-03-31"}, e4={"seen": True, "date_seen": "2024-03-30"}), False, CFG, AS_OF
    )
    assert [(h.code, h.item) for h in hits] == [("EVIDENCE_STALE", "e4")]


def test_evidence_not_seen_and_date_missing() -> None:
    hits = rules.evidence_rules(
        a2_answers(
            e5={"seen": False},
            e6={"seen": None},
            e7={"seen": True, "date_seen": None},
            e8={"seen": True, "date_seen": "last year"},
        ),
        False,
        CFG,
        AS_OF,
    )
    assert [(h.code, h.item) for h in hits] == [
        ("EVIDENCE_NOT_SEEN", "e5"),
        ("EVIDENCE_NOT_SEEN", "e6"),
        ("EVIDENCE_DATE_MISSING", "e7"),
        ("EVIDENCE_DATE_MISSING", "e8"),
    ]


def test_sole_trader_need_not_show_employers_liability_certificate() -> None:
    answers = a2_answers(e1={"seen": False})
    assert rules.evidence_rules(answers, True, CFG, AS_OF) == []
    assert codes(rules.evidence_rules(answers, False, CFG, AS_OF)) == ["EVIDENCE_NOT_SEEN"]


def test_months_before_clamps_month_ends() -> None:
    assert rules.months_before(dt.date(2025, 3, 31), 1) == dt.date(2025, 2, 28)
    assert rules.months_before(dt.date(2024, 2, 29), 12) == dt.date(2023, 2, 28)
    assert rules.months_before(dt.date(2025, 1, 15), 12) == dt.date(2024, 1, 15)


# -- annual assessment ----------------------------------------------------------


def a3_answers(**judgements: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        a.id: {"judgement": judgements.get(a.id, "Good"), "notes": None, "sources": {}} for a in load_form("appendix3").areas
    }
    out["overall_judgement"] = judgements.get("overall_judgement", "Good")
    return out


@pytest.mark.parametrize(
    ("visit", "expected"),
    [("2024-03-31", []), ("2024-03-30", ["ANNUAL_ASSESSMENT_OVERDUE"]), (None, ["ANNUAL_ASSESSMENT_MISSING"])],
)
def test_annual_assessment_twelve_months(visit: str | None, expected: list[str]) -> None:
    assert codes(rules.assessment_rules({"visit_date": visit}, a3_answers(), CFG, AS_OF)) == expected


def test_no_judgement_at_all_is_missing_and_inadequate_flagged() -> None:
    blank = a3_answers(a1=None, a2=None, a3=None, a4=None, overall_judgement=None)
    assert codes(rules.assessment_rules({"visit_date": "2025-01-01"}, blank, CFG, AS_OF)) == ["ANNUAL_ASSESSMENT_MISSING"]
    hits = rules.assessment_rules({"visit_date": "2025-01-01"}, a3_answers(a3="Inadequate"), CFG, AS_OF)
    assert [(h.code, h.item) for h in hits] == [("AREA_JUDGED_INADEQUATE", "a3")]
    assert codes(rules.assessment_rules({"visit_date": "2025-01-01"}, a3_answers(a3="Requires improvement"), CFG, AS_OF)) == []


# -- questionnaire --------------------------------------------------------------

GOOD_ANSWER = "A full answer written by the commissioner, long enough to be substantive."


def a4_answers(**over: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {q.id: GOOD_ANSWER for q in load_form("appendix4").questions()}
    out["q2"] = "No"
    out["q9"] = "Targets in English, maths and science, with IT in science."
    out["q11"] = "Reviewed every six weeks with the carer and social worker."
    out.update(over)
    return out


def test_good_questionnaire_is_clean() -> None:
    assert rules.questionnaire_rules(a4_answers(), CFG) == []


@pytest.mark.parametrize("answer", ["N/A", "tbc", "See above.", "-", " n/a ", "Yes", "no"])
def test_non_answers(answer: str) -> None:
    hits = rules.questionnaire_rules(a4_answers(q5=answer), CFG)
    assert [(h.code, h.item) for h in hits] == [("ANSWER_NOT_SUBSTANTIVE", "q5")]


def test_bare_yes_no_is_a_full_answer_to_q2_only_and_blank_is_unanswered() -> None:
    assert rules.questionnaire_rules(a4_answers(q2="Yes"), CFG) == []
    assert codes(rules.questionnaire_rules(a4_answers(q2="TBC"), CFG)) == ["ANSWER_NOT_SUBSTANTIVE"]
    assert [(h.code, h.item) for h in rules.questionnaire_rules(a4_answers(q13="  ", q14=None), CFG)] == [
        ("QUESTION_UNANSWERED", "q13"),
        ("QUESTION_UNANSWERED", "q14"),
    ]


def test_too_short_threshold() -> None:
    n = CFG.min_answer_chars
    assert rules.questionnaire_rules(a4_answers(q6="x" * n), CFG) == []
    assert codes(rules.questionnaire_rules(a4_answers(q6="x" * (n - 1)), CFG)) == ["ANSWER_NOT_SUBSTANTIVE"]


@pytest.mark.parametrize(
    ("q9", "hit"),
    [
        ("Targets in English, maths and science (including IT).", False),
        ("Literacy and numeracy targets, plus GCSE combined science.", False),
        ("Targets in English and mathematics; science and IT are taught at school.", False),
        ("Targets in English and maths only, with a focus on confidence.", True),
        ("Personal and social targets, and vocational skills in construction.", True),
        ("Core subjects are provided elsewhere within the package.", False),
        ("Mathematical reasoning, English and science.", True),  # 'mathematical' is not 'maths'
    ],
)
def test_core_subjects(q9: str, hit: bool) -> None:
    assert codes(rules.core_subject_rules(q9, CFG)) == (["CORE_SUBJECTS_NOT_COVERED"] if hit else [])


@pytest.mark.parametrize(
    ("q11", "hit"),
    [
        ("Reviewed termly with the designated teacher.", False),
        ("Every 6 weeks at a PEP-style meeting.", False),
        ("Twice a term with the provider.", False),
        ("Half-termly review meetings.", False),
        ("At each review meeting, with the designated teacher and carer.", True),
        ("The designated teacher, carer and social worker will be involved.", True),
    ],
)
def test_review_frequency(q11: str, hit: bool) -> None:
    assert codes(rules.review_frequency_rules(q11, CFG)) == (["REVIEW_FREQUENCY_NOT_STATED"] if hit else [])


# -- part-time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "medical", "hit"),
    [((32.5,), False, False), ((32.4,), False, True), ((20, 12.5), False, False), ((20, 12), False, True), ((10,), True, False)],
)
def test_part_time_package(hours: tuple[float, ...], medical: bool, hit: bool) -> None:
    mine = [placement(provider(name=f"P{i}"), hours_per_week=h, medical_reason=medical) for i, h in enumerate(hours)]
    assert (rules.part_time_package(mine, CFG) is not None) is hit


@pytest.mark.parametrize(
    ("hours", "school", "hit"),
    [((20,), 12.5, False), ((20,), 12.4, True), ((14, 6), 12.5, False), ((14, 6), 0, True), ((0.5,), 32, False)],
)
def test_part_time_package_counts_hours_in_own_school(hours: tuple[float, ...], school: float, hit: bool) -> None:
    mine = [placement(provider(name=f"P{i}"), hours_per_week=h, school_hours_per_week=school) for i, h in enumerate(hours)]
    assert (rules.part_time_package(mine, CFG) is not None) is hit


def test_part_time_message_names_placement_and_school_hours() -> None:
    split = rules.part_time_package([placement(hours_per_week=14, school_hours_per_week=6.5)], CFG)
    assert split is not None and split.code == "PART_TIME_PACKAGE"
    assert "20.5 hours a week" in split.message
    assert "14 across 1 placement(s)" in split.message and "6.5 in school" in split.message
    ap_only = rules.part_time_package([placement(hours_per_week=14)], CFG)
    assert ap_only is not None and "in school" not in ap_only.message and "14 hours a week" in ap_only.message


def test_school_hours_do_not_change_the_registration_test() -> None:
    """The provider's duty to register depends on what it gives the pupil, not on the pupil's time in school."""
    share = CFG.substantially_all_share * CFG.full_time_package_hours
    below = placement(hours_per_week=share - 0.5, school_hours_per_week=CFG.full_time_package_hours)
    assert rules.unregistered_full_time(below, CFG) is None
    at = placement(hours_per_week=share, school_hours_per_week=CFG.full_time_package_hours)
    hit = rules.unregistered_full_time(at, CFG)
    assert hit is not None and hit.code == "UNREGISTERED_FULL_TIME_PROVIDER"


def test_school_hours_given_on_one_roster_row_count_for_the_pupil() -> None:
    from apdocs.roster import COLUMNS, OPTIONAL_COLUMNS, roster_from_rows

    header = [*COLUMNS, *OPTIONAL_COLUMNS]
    row = {
        "school_name": SCHOOL.name,
        "school_urn": SCHOOL.urn,
        "school_email": SCHOOL.email,
        "school_address": "",
        "pupil_reference": "LAC-0001",
        "provider_urn": "",
        "provider_type": "unregistered",
        "sole_trader": "n",
        "provider_daytime_hours": "10",
        "provider_full_time_pupils": "2",
        "commissioned_by": "school",
        "placement_start": "2024-09-02",
        "ehc_plan": "n",
        "medical_reason": "n",
    }
    greenway = {**row, "provider_name": "Greenway", "hours_per_week": "10", "school_hours_per_week": "13"}
    forge = {**row, "provider_name": "Forge Farm", "hours_per_week": "10", "school_hours_per_week": ""}

    def part_time(*rows: dict[str, str]) -> list[str]:
        roster = roster_from_rows([(1, header), *((i, [r[c] for c in header]) for i, r in enumerate(rows, 2))])
        return [f.message for f in reconcile(roster, [], as_of=AS_OF).findings if f.code == "PART_TIME_PACKAGE"]

    assert part_time(greenway, forge) == []  # 10 + 10 + 13 = 33
    assert part_time({**greenway, "school_hours_per_week": "12"}, forge) == [
        "LAC-0001 has 32 hours a week (20 across 2 placement(s) and 12 in school), "
        f"below full time ({CFG.full_time_package_hours:g}), and no medical reason is recorded."
    ]
    [message] = part_time({**greenway, "school_hours_per_week": ""}, forge)
    assert "in school" not in message


# -- guidance -------------------------------------------------------------------


def test_every_code_quotes_a_verbatim_sentence_of_the_source(source_text: str) -> None:
    quotes, by_code = guidance()
    assert set(by_code) == set(CODES)
    for code, quote_id in by_code.items():
        # Quotes mark where the letter names the authority; Leicestershire's profile gives its words back.
        quote = default_profile().fill(quotes[quote_id])
        assert quote in source_text, (code, quote)
        assert len(quote) > 30


# -- engine: matching, supersession, SEIP, failures -----------------------------


def ret(form: str, values: dict[str, Any], path: str) -> ParsedReturn:
    f = load_form(form)
    header, answers = build_answers(f, values)
    return ParsedReturn(SourceInfo(path, "0" * 64, "docx"), form, f.version, values.get("reference"), header, answers)


def roster_of(*placements: Placement):
    from apdocs.roster import Roster

    return Roster(tuple(placements))


def test_matching_supersession_unmatched_and_failures() -> None:
    p = placement(provider(name="Greenway Learning Centre"), hours_per_week=33)
    old = ret(
        "appendix4",
        {"pupil_reference": "lac-0001", "provider_name": "GREENWAY learning centre", "date_completed": "2025-01-01"},
        "old.docx",
    )
    new = ret(
        "appendix4",
        {
            "pupil_reference": "LAC-0001",
            "provider_name": "Greenway Learning Centre",
            "date_completed": "2025-02-01",
            **a4_answers(),
        },
        "new.docx",
    )
    stray = ret("appendix4", {"pupil_reference": "LAC-0099", "provider_name": "Nowhere"}, "stray.docx")
    broken = ParseFailure(SourceInfo("broken.docx", "0" * 64, "docx"), ParseError("not a Word file"))
    result = reconcile(roster_of(p), [new, old, stray, broken], as_of=AS_OF)
    got = {(f.code, f.source) for f in result.findings if f.form == "appendix4" or f.code.startswith("RETURN_")}
    assert ("RETURN_SUPERSEDED", "old.docx") in got
    assert ("RETURN_UNMATCHED", "stray.docx") in got
    assert ("RETURN_UNREADABLE", "broken.docx") in got
    assert not any(f.source == "new.docx" for f in result.findings)  # the newer return is clean
    assert result.placements[0].form("appendix4").source == "new.docx"
    assert {f.form for f in result.findings if f.code == "RETURN_MISSING"} == {"appendix2", "appendix3"}


def test_seip_placement_is_exempt_from_return_missing_but_not_registration() -> None:
    p = placement(provider(daytime_hours=25), commissioned_by="seip", hours_per_week=33)
    result = reconcile(roster_of(p), [], as_of=AS_OF)
    assert sorted(f.code for f in result.findings) == ["RETURN_NOT_REQUIRED_SEIP", "UNREGISTERED_FULL_TIME_PROVIDER"]
    assert result.schools[0].owes == ()  # the school did not commission it, so is not chased
    assert result.placements[0].rag == "red"


def test_reconcile_requires_as_of() -> None:
    with pytest.raises(ValueError, match="as_of"):
        reconcile(roster_of(placement()), [])
