"""The Virtual School's roster: one row per placement of a looked-after pupil with a provider.

A roster is CSV (UTF-8, with or without BOM) or XLSX (first sheet), with a header row
naming the columns in :data:`COLUMNS` (and any of :data:`OPTIONAL_COLUMNS` it uses). Every
row is validated; every problem is collected with its line number and the whole roster is
refused at once (:class:`~apdocs.errors.RosterError`), so a tracker is never built from half a roster.

Every pupil on the roster is looked after: that is why the roster exists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from apdocs.errors import ApdocsError, RosterError

ProviderType = Literal["la_maintained", "non_maintained_special", "registered_independent", "unregistered"]
Commissioner = Literal["school", "seip"]

#: Column name -> what it holds. All are required in the header; ``school_address``
#: and ``provider_urn`` may be blank in a row.
COLUMNS: dict[str, str] = {
    "school_name": "commissioning school's name",
    "school_urn": "school's DfE URN (digits)",
    "school_email": "contact email for the school's AP lead",
    "school_address": "postal address for letters (optional; may be blank; use ';' or new lines between lines)",
    "pupil_reference": "pupil reference (never a name), e.g. LAC-0001",
    "provider_name": "provider's name",
    "provider_urn": "provider's DfE URN / registration number; blank if none",
    "provider_type": "LA-maintained | non-maintained special school | registered independent school | unregistered/other",
    "sole_trader": "y/n: the provider is a sole trader",
    "provider_daytime_hours": "hours per week the provider operates in the daytime",
    "provider_full_time_pupils": "number of full-time pupils of compulsory school age at the provider",
    "commissioned_by": "school | SEIP",
    "hours_per_week": "this pupil's hours per week at this provider",
    "placement_start": "placement start date (YYYY-MM-DD or DD/MM/YYYY)",
    "ehc_plan": "y/n: the pupil has an EHC plan",
    "medical_reason": "y/n: a medical reason makes a part-time package appropriate",
}
#: Columns a roster may leave out of its header altogether; a blank cell means the same as no column.
#: ``school_hours_per_week`` belongs to the pupil, not the placement: a pupil on several rows may give
#: it on each (the same number every time) or on one row only, leaving the others blank.
OPTIONAL_COLUMNS: dict[str, str] = {
    "school_hours_per_week": "this pupil's hours per week in their own school (optional; blank = 0)",
}
OPTIONAL_VALUES = frozenset({"school_address", "provider_urn", *OPTIONAL_COLUMNS})

_PROVIDER_TYPES: dict[str, ProviderType] = {
    "la-maintained": "la_maintained",
    "la maintained": "la_maintained",
    "la_maintained": "la_maintained",
    "local authority maintained": "la_maintained",
    "non-maintained special school": "non_maintained_special",
    "non maintained special school": "non_maintained_special",
    "non_maintained_special": "non_maintained_special",
    "nmss": "non_maintained_special",
    "registered independent school": "registered_independent",
    "registered_independent": "registered_independent",
    "independent school": "registered_independent",
    "unregistered/other": "unregistered",
    "unregistered": "unregistered",
    "other": "unregistered",
}
PROVIDER_TYPE_LABELS: dict[str, str] = {
    "la_maintained": "LA-maintained",
    "non_maintained_special": "non-maintained special school",
    "registered_independent": "registered independent school",
    "unregistered": "unregistered/other",
}
_YES = frozenset({"y", "yes", "true", "1"})
_NO = frozenset({"n", "no", "false", "0"})
_URN = re.compile(r"^[0-9]{5,8}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@lru_cache(maxsize=1 << 16)
def name_key(name: str | None) -> str:
    """Normalise an organisation name for matching ("St. Mary's & Co" == "st marys and co").

    Cached: reconcile asks for every school's and provider's key many times over (a
    10,000-placement roster names ~1,000 schools and a few hundred providers)."""
    text = (name or "").casefold().replace("&", " and ")
    text = re.sub(r"[^0-9a-z]+", " ", text.replace("'", "").replace("’", ""))
    return " ".join(text.split())


@dataclass(frozen=True)
class School:
    name: str
    urn: str
    email: str
    address: str

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def address_lines(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in re.split(r"[;\n]", self.address) if p.strip())


@dataclass(frozen=True)
class Provider:
    name: str
    urn: str  # "" when the provider has no DfE registration
    type: ProviderType
    sole_trader: bool
    daytime_hours: float
    full_time_pupils: int

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def registered(self) -> bool:
        return bool(self.urn)


@dataclass(frozen=True)
class Placement:
    """One roster row: a looked-after pupil placed with one provider by one commissioner."""

    line: int
    school: School
    pupil_reference: str
    provider: Provider
    commissioned_by: Commissioner
    hours_per_week: float
    start: dt.date
    ehc_plan: bool
    medical_reason: bool
    #: The pupil's weekly hours in their own school (a split timetable), the same on each of the
    #: pupil's placements; 0 when the roster does not say.
    school_hours_per_week: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the placement: pupil reference x provider."""
        return (self.pupil_reference.casefold(), self.provider.key)

    @property
    def label(self) -> str:
        return f"{self.pupil_reference} at {self.provider.name}"


@dataclass(frozen=True)
class Roster:
    placements: tuple[Placement, ...]
    path: str | None = None

    def __iter__(self) -> Iterator[Placement]:
        return iter(self.placements)

    def __len__(self) -> int:
        return len(self.placements)

    @property
    def schools(self) -> tuple[School, ...]:
        seen: dict[str, School] = {}
        for p in self.placements:
            seen.setdefault(p.school.key, p.school)
        return tuple(seen.values())

    @property
    def providers(self) -> tuple[Provider, ...]:
        seen: dict[str, Provider] = {}
        for p in self.placements:
            seen.setdefault(p.provider.key, p.provider)
        return tuple(seen.values())

    def for_pupil(self, pupil_reference: str) -> tuple[Placement, ...]:
        return self._by_pupil.get(pupil_reference.casefold(), ())

    @cached_property
    def _by_pupil(self) -> dict[str, tuple[Placement, ...]]:
        # Built once: reconcile looks up every Appendix 4's pupil, and a scan per return made
        # a whole-country run quadratic (15,000 returns x 10,000 placements).
        out: dict[str, list[Placement]] = {}
        for p in self.placements:
            out.setdefault(p.pupil_reference.casefold(), []).append(p)
        return {k: tuple(v) for k, v in out.items()}


# -- loading -------------------------------------------------------------------


def load_roster(path: str | Path) -> Roster:
    """Read and validate a roster file (``.csv`` or ``.xlsx``)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RosterError(f"cannot read roster: {exc.strerror or exc}", path=str(p)) from exc
    rows = _xlsx_rows(data, str(p)) if data[:2] == b"PK" else _csv_rows(data, str(p))
    return roster_from_rows(rows, path=str(p))


def roster_from_rows(rows: Iterable[tuple[int, Sequence[str]]], *, path: str | None = None) -> Roster:
    """Validate ``(line number, cells)`` rows, the first being the header."""
    errors: list[dict[str, Any]] = []
    it = iter(rows)
    try:
        header_line, header = next(it)
    except StopIteration:
        raise RosterError("roster is empty", path=path, context={"errors": [{"line": 1, "message": "no header row"}]}) from None
    names = [h.strip().casefold() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        err = {"line": header_line, "message": f"missing column(s): {', '.join(missing)}"}
        raise RosterError(f"line {header_line}: {err['message']}", path=path, context={"errors": [err]})
    index = {c: names.index(c) for c in (*COLUMNS, *OPTIONAL_COLUMNS) if c in names}

    placements: list[Placement] = []
    stated_school_hours: set[int] = set()  # lines whose school_hours_per_week cell is not blank
    for line, cells in it:
        if not any(str(c).strip() for c in cells):
            continue  # blank lines are harmless
        raw = dict.fromkeys(OPTIONAL_COLUMNS, "")
        raw |= {c: (str(cells[i]).strip() if i < len(cells) and cells[i] is not None else "") for c, i in index.items()}
        row_errors: list[str] = []
        placement = _row(line, raw, row_errors)
        errors += [{"line": line, "message": m} for m in row_errors]
        if placement is not None:
            placements.append(placement)
            if raw["school_hours_per_week"]:
                stated_school_hours.add(line)
    if not placements and not errors:
        errors.append({"line": header_line, "message": "roster has a header but no placements"})
    errors += _consistency(placements)
    hours_errors, placements = _school_hours(placements, stated_school_hours)
    errors += hours_errors
    if errors:
        errors.sort(key=lambda e: e["line"])
        summary = "; ".join(f"line {e['line']}: {e['message']}" for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        raise RosterError(f"roster has {len(errors)} problem(s): {summary}{more}", path=path, context={"errors": errors})
    return Roster(tuple(placements), path)


def _row(line: int, raw: dict[str, str], errors: list[str]) -> Placement | None:
    def required(col: str) -> str:
        value = raw[col]
        if not value and col not in OPTIONAL_VALUES:
            errors.append(f"{col} is blank")
        return value

    def yes_no(col: str) -> bool:
        value = required(col).casefold()
        if value in _YES:
            return True
        if value in _NO:
            return False
        if value:
            errors.append(f"{col} must be y or n, not {raw[col]!r}")
        return False

    def number(col: str, low: float, high: float) -> float | None:
        """The cell as a number; None if blank or already reported as wrong, so no second message follows."""
        value = required(col)
        if not value:
            return None
        try:
            n = float(value)
        except ValueError:
            errors.append(f"{col} must be a number, not {value!r}")
            return None
        if not low <= n <= high:
            errors.append(f"{col} must be between {low:g} and {high:g}, not {value}")
            return None
        return n

    school_name, pupil, provider_name = required("school_name"), required("pupil_reference"), required("provider_name")
    school_urn, provider_urn = required("school_urn"), raw["provider_urn"]
    for col, urn in (("school_urn", school_urn), ("provider_urn", provider_urn)):
        if urn and not _URN.match(urn):
            errors.append(f"{col} must be 5 to 8 digits, not {urn!r}")
    email = required("school_email")
    if email and not _EMAIL.match(email):
        errors.append(f"school_email is not an email address: {email!r}")
    ptype_raw = required("provider_type")
    ptype = _PROVIDER_TYPES.get(" ".join(ptype_raw.casefold().split()))
    if ptype_raw and ptype is None:
        errors.append(f"provider_type {ptype_raw!r} is not one of: {', '.join(PROVIDER_TYPE_LABELS.values())}")
    if ptype == "registered_independent" and not provider_urn:
        errors.append("provider_type is registered independent school but provider_urn is blank")
    sole_trader = yes_no("sole_trader")
    daytime = number("provider_daytime_hours", 0, 168) or 0.0
    pupils = number("provider_full_time_pupils", 0, 100000) or 0.0
    if pupils != int(pupils):
        errors.append("provider_full_time_pupils must be a whole number")
    by = required("commissioned_by").casefold()
    commissioner: Commissioner | None = "school" if by == "school" else "seip" if by == "seip" else None
    if by and commissioner is None:
        errors.append(f"commissioned_by must be school or SEIP, not {raw['commissioned_by']!r}")
    hours = number("hours_per_week", 0, 60)
    if hours == 0:
        errors.append("hours_per_week must be more than 0")
    school_hours = number("school_hours_per_week", 0, 60)  # optional: never reported blank, 0 is allowed
    start = _date(required("placement_start"), errors)
    ehc, medical = yes_no("ehc_plan"), yes_no("medical_reason")
    if errors or ptype is None or commissioner is None or start is None:
        return None
    school = School(school_name, school_urn, email, raw["school_address"])
    provider = Provider(provider_name, provider_urn, ptype, sole_trader, daytime, int(pupils))
    return Placement(line, school, pupil, provider, commissioner, hours or 0.0, start, ehc, medical, school_hours or 0.0)


def _date(value: str, errors: list[str]) -> dt.date | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    errors.append(f"placement_start must be a date (YYYY-MM-DD or DD/MM/YYYY), not {value!r}")
    return None


def _consistency(placements: list[Placement]) -> list[dict[str, Any]]:
    """A school or provider named on several rows must be described the same way on each."""
    errors: list[dict[str, Any]] = []
    first_school: dict[str, Placement] = {}
    first_provider: dict[str, Placement] = {}
    seen: dict[tuple[str, str], int] = {}
    for p in placements:
        s0 = first_school.setdefault(p.school.key, p)
        if (s0.school.urn, s0.school.email.casefold()) != (p.school.urn, p.school.email.casefold()):
            errors.append({"line": p.line, "message": f"school {p.school.name!r} has a different URN or email on line {s0.line}"})
        v0 = first_provider.setdefault(p.provider.key, p)
        if v0.provider != p.provider:
            errors.append({"line": p.line, "message": f"provider {p.provider.name!r} is described differently on line {v0.line}"})
        if p.key in seen:
            errors.append({"line": p.line, "message": f"{p.label} is already on line {seen[p.key]}"})
        seen.setdefault(p.key, p.line)
    return errors


def _school_hours(placements: list[Placement], stated: set[int]) -> tuple[list[dict[str, Any]], list[Placement]]:
    """One school_hours_per_week per pupil: the rows that state it must agree, and blank rows take it from them.

    ``stated`` holds the lines whose cell was not blank, so an explicit 0 on one row and 15 on
    another is a conflict, while a blank row beside a 15 is not.
    """
    errors: list[dict[str, Any]] = []
    first: dict[str, Placement] = {}
    for p in placements:
        if p.line not in stated:
            continue
        p0 = first.setdefault(p.pupil_reference.casefold(), p)
        if p0.school_hours_per_week != p.school_hours_per_week:
            errors.append(
                {
                    "line": p.line,
                    "message": f"school_hours_per_week for {p.pupil_reference} is {p.school_hours_per_week:g} here "
                    f"but {p0.school_hours_per_week:g} on line {p0.line} (give one number per pupil)",
                }
            )
    hours = {ref: p.school_hours_per_week for ref, p in first.items()}
    resolved = [replace(p, school_hours_per_week=hours.get(p.pupil_reference.casefold(), 0.0)) for p in placements]
    return errors, resolved


# -- file formats --------------------------------------------------------------


def _csv_rows(data: bytes, path: str) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"roster is not UTF-8 text (byte {exc.start})", path=path) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # reader.line_num is the physical line a row ended on, which is what a person sees.
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise RosterError(f"line {reader.line_num}: malformed CSV: {exc}", path=path) from exc


def _xlsx_rows(data: bytes, path: str) -> list[tuple[int, list[str]]]:
    """Rows of the first worksheet as text, through the same vetted opener as returned forms."""
    from apdocs.formats.xlsx.table import read_rows

    try:
        return read_rows(data, path=path)
    except ApdocsError as exc:
        raise RosterError(
            f"roster is not a readable .xlsx workbook: {exc.message} ({exc.code})", path=path, context={"cause": exc.code}
        ) from exc
