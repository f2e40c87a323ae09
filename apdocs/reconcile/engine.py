"""reconcile(): roster + parsed returns -> findings, placement statuses, evidence grid, chase list.

No I/O: everything it needs is passed in, so the same inputs always give the same result
(the date rules use ``as_of``, never today's date).

How returns are matched to the roster:

* Appendix 4 is per placement: its pupil reference and provider name (normalised:
  case, punctuation and "&"/"and" ignored) must match a roster row. A blank provider
  name matches when the pupil has only one placement.
* Appendices 2 and 3 are per commissioner and provider: the school and provider names
  must match a roster pair. A blank school name matches when only one school uses that provider.
* Of several returns of one form for the same placement (or school x provider), the one
  completed last is used (ties: the later in the input order); the others are
  ``RETURN_SUPERSEDED``.
* ``prior_returns`` are returns remembered from earlier runs (the register's memory, passed
  in as plain data so this module stays free of I/O). They take part in choosing the latest
  return, so an input older than a remembered return is ``RETURN_SUPERSEDED``; a remembered
  Appendix 3 counts even when no input has one, because the assessment is annual. A prior
  return is never itself reported: it was reported in its own run.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from apdocs.forms import load_form
from apdocs.profile import Profile, default_profile
from apdocs.reconcile import rules
from apdocs.reconcile.config import Config, default_config, load_config
from apdocs.reconcile.findings import SEVERITIES, SEVERITY_RANK, Finding
from apdocs.record import ParsedReturn, ParseFailure
from apdocs.roster import Placement, Roster, name_key

FORMS = ("appendix2", "appendix3", "appendix4")
FORM_TITLES = {"appendix2": "Appendix 2", "appendix3": "Appendix 3", "appendix4": "Appendix 4"}
Rag = Literal["red", "amber", "green"]
FormState = Literal["received", "missing", "not_required"]
Target = tuple[str, ...]  # ("placement", pupil, provider) or ("pair", school, provider)


def rag_of(findings: Iterable[Finding]) -> Rag:
    worst = min((SEVERITY_RANK[f.severity] for f in findings), default=SEVERITY_RANK["info"])
    return "red" if worst <= SEVERITY_RANK["error"] else "amber" if worst == SEVERITY_RANK["warning"] else "green"


@dataclass(frozen=True)
class FormStatus:
    form: str
    status: FormState
    source: str | None = None
    completed: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "source": self.source, "completed": self.completed}


@dataclass(frozen=True)
class PlacementResult:
    placement: Placement
    forms: tuple[FormStatus, ...]
    findings: tuple[Finding, ...]

    @property
    def rag(self) -> Rag:
        return rag_of(self.findings)

    def form(self, form_id: str) -> FormStatus:
        return next(f for f in self.forms if f.form == form_id)

    def to_dict(self) -> dict[str, Any]:
        p = self.placement
        return {
            "school": p.school.name,
            "pupil_reference": p.pupil_reference,
            "provider": p.provider.name,
            "provider_urn": p.provider.urn or None,
            "provider_type": p.provider.type,
            "commissioned_by": p.commissioned_by,
            "hours_per_week": p.hours_per_week,
            "school_hours_per_week": p.school_hours_per_week,  # the pupil's, repeated on each of their placements
            "placement_start": p.start.isoformat(),
            "forms": {f.form: f.to_dict() for f in self.forms},
            "rag": self.rag,
            "findings": {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES},
        }


EvidenceState = Literal["ok", "not_seen", "no_date", "stale", "exempt", "no_return"]


@dataclass(frozen=True)
class EvidenceRow:
    """One commissioner x provider row of the Evidence grid: e1..e25 -> state."""

    school: str
    provider: str
    source: str | None
    items: dict[str, EvidenceState]
    dates: dict[str, str | None]

    def to_dict(self) -> dict[str, Any]:
        return {"school": self.school, "provider": self.provider, "source": self.source, "items": self.items, "dates": self.dates}


@dataclass(frozen=True)
class SchoolSummary:
    name: str
    urn: str
    email: str
    address_lines: tuple[str, ...]
    rag: Rag
    counts: dict[str, int]
    owes: tuple[Finding, ...]  # the chase list: what the school still owes, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "urn": self.urn,
            "email": self.email,
            "rag": self.rag,
            "counts": self.counts,
            "owes": [f.to_dict() for f in self.owes],
        }


@dataclass(frozen=True)
class Result:
    as_of: dt.date
    config: Config
    findings: tuple[Finding, ...]
    placements: tuple[PlacementResult, ...]
    evidence: tuple[EvidenceRow, ...]
    schools: tuple[SchoolSummary, ...]
    failures: tuple[ParseFailure, ...] = ()
    returns_read: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        index = {id(f): i for i, f in enumerate(self.findings)}
        return {
            "as_of": self.as_of.isoformat(),
            "returns_read": self.returns_read,
            "returns_failed": len(self.failures),
            "counts": self.counts,
            "schools": [s.to_dict() for s in self.schools],
            # Each placement's findings as indexes into "findings": A2/A3 findings name no pupil, so
            # this is the school x provider join a consumer would otherwise rebuild by hand.
            "placements": [{**p.to_dict(), "finding_indexes": [index[id(f)] for f in p.findings]} for p in self.placements],
            "findings": [f.to_dict() for f in self.findings],
            "evidence": [e.to_dict() for e in self.evidence],
            "failures": [{"source": f.source.path, "error": f.error.to_dict()} for f in self.failures],
            "config": self.config.to_dict(),
        }


# -- the engine --------------------------------------------------------------------


@dataclass
class _Collector:
    """Findings as they are made, with the placements each one concerns."""

    findings: list[Finding] = field(default_factory=list)
    by_placement: dict[tuple[str, str], list[Finding]] = field(default_factory=lambda: defaultdict(list))
    not_owed: set[int] = field(default_factory=set)  # ids of findings no school is chased for
    profile: Profile = field(default_factory=default_profile)

    def add(self, finding: Finding, placements: Iterable[Placement] = (), *, owed: bool = True) -> None:
        # Guidance quotes mark where the letter names the authority; this Virtual School's name goes there.
        finding = replace(finding, guidance=self.profile.fill(finding.guidance))
        self.findings.append(finding)
        for p in placements:
            self.by_placement[p.key].append(finding)
        if not owed:
            self.not_owed.add(id(finding))


def reconcile(
    roster: Roster,
    records: Iterable[ParsedReturn | ParseFailure],
    config: Config | None = None,
    as_of: dt.date | None = None,
    prior_returns: Iterable[ParsedReturn] = (),
    profile: Profile | None = None,
) -> Result:
    """Reconcile parsed returns against the roster and the guidance. No I/O.

    ``prior_returns``: returns read in earlier runs (e.g. from the register), not among ``records``.
    ``profile`` words the guidance quotes (default: the bundled one). Its thresholds apply when no
    ``config`` is given; a caller's ``config`` is taken as it is (build it with
    ``load_config(profile=...)`` to keep them).
    """
    cfg = config or (load_config(profile=profile) if profile is not None else default_config())
    if as_of is None:
        raise ValueError("as_of is required, so that date rules are reproducible")
    out = _Collector(profile=profile or default_profile())
    returns: list[ParsedReturn] = []
    failures: list[ParseFailure] = []
    for r in records:
        if isinstance(r, ParsedReturn):
            returns.append(r)
        else:
            failures.append(r)
    for f in failures:
        name = Path(f.source.path).name if f.source.path else "a returned file"
        out.add(Finding.make("RETURN_UNREADABLE", f"{name} could not be read: {f.error.message}", source=f.source.path))

    current = _match_and_supersede(roster, returns, out, tuple(prior_returns))
    _roster_rules(roster, cfg, out)
    _return_rules(roster, current, cfg, as_of, out)
    placements = _placement_results(roster, current, out)
    evidence = _evidence_rows(roster, current, cfg, as_of)
    findings = tuple(sorted(out.findings, key=lambda f: f.sort_key))
    schools = _schools(roster, placements, findings, out.not_owed)
    return Result(as_of, cfg, findings, placements, evidence, schools, tuple(failures), len(returns))


def _targets(roster: Roster) -> tuple[dict[Target, list[Placement]], dict[str, set[str]]]:
    by_target: dict[Target, list[Placement]] = defaultdict(list)
    schools_by_provider: dict[str, set[str]] = defaultdict(set)
    for p in roster:
        by_target[("placement", *p.key)].append(p)
        by_target[("pair", p.school.key, p.provider.key)].append(p)
        schools_by_provider[p.provider.key].add(p.school.key)
    return by_target, schools_by_provider


def _target_of(r: ParsedReturn, roster: Roster, schools_by_provider: dict[str, set[str]]) -> Target | None:
    h = r.header
    provider = name_key(rules.as_text(h.get("provider_name")))
    if r.form == "appendix4":
        pupil = rules.as_text(h.get("pupil_reference")).casefold()
        mine = roster.for_pupil(pupil) if pupil else ()
        if provider:
            mine = tuple(p for p in mine if p.provider.key == provider)
        return ("placement", *mine[0].key) if len(mine) == 1 else None
    school = name_key(rules.as_text(h.get("school_name")))
    if not school and len(schools_by_provider.get(provider, ())) == 1:
        school = next(iter(schools_by_provider[provider]))
    return ("pair", school, provider) if provider and school in schools_by_provider.get(provider, ()) else None


def _completed(r: ParsedReturn) -> dt.date:
    return rules.as_date(r.header.get("date_completed")) or rules.as_date(r.header.get("visit_date")) or dt.date.min


def _match_and_supersede(
    roster: Roster, returns: list[ParsedReturn], out: _Collector, prior: tuple[ParsedReturn, ...] = ()
) -> dict[tuple[str, Target], ParsedReturn]:
    by_target, schools_by_provider = _targets(roster)
    groups: dict[tuple[str, Target], list[tuple[int, ParsedReturn]]] = defaultdict(list)
    # Prior returns sort before every input on a tie (negative order): a file handed in again wins.
    for i, r in enumerate(prior, -len(prior)):
        target = _target_of(r, roster, schools_by_provider) if r.form in FORMS else None
        if target is not None:
            groups[(r.form, target)].append((i, r))
    for i, r in enumerate(returns):
        target = _target_of(r, roster, schools_by_provider) if r.form in FORMS else None
        if target is None:
            h = r.header
            who = ", ".join(
                f"{label} {rules.as_text(h.get(k))!r}"
                for k, label in (("pupil_reference", "pupil"), ("provider_name", "provider"), ("school_name", "school"))
                if rules.as_text(h.get(k))
            )
            name = Path(r.source.path).name if r.source.path else "a return"
            title = FORM_TITLES.get(r.form, r.form)
            school = _roster_school_name(roster, rules.as_text(h.get("school_name")))
            out.add(
                Finding.make(
                    "RETURN_UNMATCHED",
                    f"{title} in {name} ({who or 'no school, pupil or provider given'}) matches no roster placement.",
                    school=school,
                    pupil_reference=rules.as_text(h.get("pupil_reference")) or None,
                    provider=rules.as_text(h.get("provider_name")) or None,
                    form=r.form,
                    source=r.source.path,
                )
            )
            continue
        groups[(r.form, target)].append((i, r))
    current: dict[tuple[str, Target], ParsedReturn] = {}
    for key, items in groups.items():
        items.sort(key=lambda ir: (_completed(ir[1]), ir[0]))
        if all(i < 0 for i, _ in items) and key[0] != "appendix3":
            continue  # only remembered returns: this term's Appendix 2 or 4 is still owed
        newest = items[-1][1]
        current[key] = newest
        placements = by_target[key[1]]
        p0 = placements[0]
        for i, old in items[:-1]:
            if i < 0:
                continue
            old_name = Path(old.source.path).name if old.source.path else "an earlier return"
            new_name = Path(newest.source.path).name if newest.source.path else "a newer return"
            out.add(
                Finding.make(
                    "RETURN_SUPERSEDED",
                    f"{old_name} was replaced by {new_name}.",
                    school=p0.school.name,
                    pupil_reference=p0.pupil_reference if key[1][0] == "placement" else None,
                    provider=p0.provider.name,
                    form=key[0],
                    source=old.source.path,
                ),
                placements,
            )
    return current


def _roster_school_name(roster: Roster, typed: str) -> str | None:
    key = name_key(typed)
    for s in roster.schools:
        if s.key == key:
            return s.name
    return typed or None


def _roster_rules(roster: Roster, cfg: Config, out: _Collector) -> None:
    for p in roster:
        hit = rules.unregistered_full_time(p, cfg)
        if hit:
            where = {"school": p.school.name, "pupil_reference": p.pupil_reference, "provider": p.provider.name}
            out.add(Finding.make(hit.code, hit.message, **where), [p], owed=p.commissioned_by == "school")
        if p.commissioned_by == "seip":
            out.add(
                Finding.make(
                    "RETURN_NOT_REQUIRED_SEIP",
                    f"{p.label} is commissioned by the SEIP, so {p.school.name} owes no returns for it.",
                    school=p.school.name,
                    pupil_reference=p.pupil_reference,
                    provider=p.provider.name,
                ),
                [p],
            )
    pupils: dict[str, list[Placement]] = defaultdict(list)
    for p in roster:
        pupils[p.pupil_reference.casefold()].append(p)
    for mine in pupils.values():
        hit = rules.part_time_package(mine, cfg)
        if hit:
            out.add(
                Finding.make(hit.code, hit.message, school=mine[0].school.name, pupil_reference=mine[0].pupil_reference), mine
            )


def _return_rules(
    roster: Roster, current: dict[tuple[str, Target], ParsedReturn], cfg: Config, as_of: dt.date, out: _Collector
) -> None:
    by_target, _ = _targets(roster)
    done_pairs: set[tuple[str, Target]] = set()
    for p in roster:
        pair: Target = ("pair", p.school.key, p.provider.key)
        place: Target = ("placement", *p.key)
        for form, target in (("appendix2", pair), ("appendix3", pair), ("appendix4", place)):
            if (form, target) in done_pairs:
                continue
            done_pairs.add((form, target))
            concerned = by_target[target]
            per_pupil = target[0] == "placement"
            where = {
                "school": p.school.name,
                "pupil_reference": p.pupil_reference if per_pupil else None,
                "provider": p.provider.name,
                "form": form,
            }
            r = current.get((form, target))
            required = any(c.commissioned_by == "school" for c in concerned)
            owed = required
            if r is None:
                if required:
                    whom = f"{p.pupil_reference} at {p.provider.name}" if per_pupil else p.provider.name
                    out.add(
                        Finding.make("RETURN_MISSING", f"No {FORM_TITLES[form]} has been received for {whom}.", **where),
                        # Only the school's own placements owe it, not an SEIP placement at the same provider.
                        [c for c in concerned if c.commissioned_by == "school"],
                    )
                continue
            for w in r.warnings:
                if w.code == "FORM_UNCERTAIN":  # read from wording alone: an officer should look at it
                    uncertain = Finding.make("RETURN_FORM_UNCERTAIN", w.message, source=r.source.path, **where)
                    out.add(uncertain, concerned, owed=False)
            for hit in _hits_for(form, r, p, cfg, as_of):
                out.add(Finding.make(hit.code, hit.message, item=hit.item, source=r.source.path, **where), concerned, owed=owed)


def _hits_for(form: str, r: ParsedReturn, p: Placement, cfg: Config, as_of: dt.date) -> list[rules.Hit]:
    if form == "appendix2":
        insurance = r.answers.get("insurance") or {}
        sole = rules.is_sole_trader(insurance, p.provider)
        return rules.insurance_rules(insurance, sole, cfg, as_of) + rules.evidence_rules(r.answers, sole, cfg, as_of)
    if form == "appendix3":
        return rules.assessment_rules(r.header, r.answers, cfg, as_of)
    return rules.registration_conflict_rules(r.answers, r.header, p.provider) + rules.questionnaire_rules(r.answers, cfg)


def _placement_results(
    roster: Roster, current: dict[tuple[str, Target], ParsedReturn], out: _Collector
) -> tuple[PlacementResult, ...]:
    results = []
    for p in roster:
        forms = []
        for form in FORMS:
            target: Target = ("placement", *p.key) if form == "appendix4" else ("pair", p.school.key, p.provider.key)
            r = current.get((form, target))
            if r is not None:
                done = _completed(r)
                forms.append(FormStatus(form, "received", r.source.path, None if done == dt.date.min else done.isoformat()))
            else:
                forms.append(FormStatus(form, "missing" if p.commissioned_by == "school" else "not_required"))
        mine = tuple(sorted(out.by_placement.get(p.key, ()), key=lambda f: f.sort_key))
        results.append(PlacementResult(p, tuple(forms), mine))
    results.sort(key=lambda pr: (pr.placement.school.name.casefold(), pr.placement.pupil_reference, pr.placement.provider.name))
    return tuple(results)


def _evidence_rows(
    roster: Roster, current: dict[tuple[str, Target], ParsedReturn], cfg: Config, as_of: dt.date
) -> tuple[EvidenceRow, ...]:
    items = [it.id for it in load_form("appendix2").items]
    cutoff = rules.months_before(as_of, cfg.evidence_stale_months)
    rows: dict[Target, EvidenceRow] = {}
    for p in roster:
        target: Target = ("pair", p.school.key, p.provider.key)
        if target in rows:
            continue
        r = current.get(("appendix2", target))
        states: dict[str, EvidenceState] = {}
        dates: dict[str, str | None] = {}
        sole = rules.is_sole_trader((r.answers.get("insurance") if r else None) or {}, p.provider)
        for e in items:
            data = (r.answers.get(e) or {}) if r else {}
            d = rules.as_date(data.get("date_seen"))
            dates[e] = d.isoformat() if d else None
            if r is None:
                states[e] = "no_return"
            elif e == "e1" and sole and data.get("seen") is not True:
                states[e] = "exempt"
            elif data.get("seen") is not True:
                states[e] = "not_seen"
            elif d is None:
                states[e] = "no_date"
            elif d < cutoff:
                states[e] = "stale"
            else:
                states[e] = "ok"
        rows[target] = EvidenceRow(p.school.name, p.provider.name, r.source.path if r else None, states, dates)
    return tuple(sorted(rows.values(), key=lambda e: (e.provider.casefold(), e.school.casefold())))


def _schools(
    roster: Roster, placements: tuple[PlacementResult, ...], findings: tuple[Finding, ...], not_owed: set[int]
) -> tuple[SchoolSummary, ...]:
    # Grouped in one pass each: filtering all findings and placements per school was
    # quadratic, minutes for a whole country's roster.
    by_name: dict[str | None, list[Finding]] = defaultdict(list)
    for f in findings:
        by_name[f.school].append(f)
    by_key: dict[str, list[Finding]] = defaultdict(list)
    for pr in placements:
        by_key[pr.placement.school.key].extend(pr.findings)
    out = []
    for s in sorted(roster.schools, key=lambda s: s.name.casefold()):
        mine = by_name.get(s.name, [])
        owes = tuple(f for f in mine if f.severity != "info" and id(f) not in not_owed)
        rag = rag_of(by_key.get(s.key, []) + mine)
        counts: dict[str, int] = {sev: sum(f.severity == sev for f in mine) for sev in SEVERITIES}
        out.append(SchoolSummary(s.name, s.urn, s.email, s.address_lines, rag, counts, owes))
    return tuple(out)
