"""Issue 9, item 12: a fixed slice of benchmarks/fuzz.py runs with the suite.

The cases are the fuzzer's own (same generator, same seed), run in worker processes with the
same 10 s and 1 GiB limits; the whole run must keep every invariant.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile

from apdocs import api
from apdocs.parse import parse
from benchmarks.fuzz import LEVELS, check_record, make_case, run_case, run_cases, seeds, summarise

SLICE = range(0, 450)  # 150 cases per level; about 5 s on one core


def test_cases_are_reproducible_and_cover_every_level() -> None:
    first = [make_case(i) for i in range(6)]
    assert first == [make_case(i) for i in range(6)]
    assert {name.split(":")[2] for name, _ in first} == {level for level, _ in LEVELS}
    assert len({data for _, data in first}) == 6  # six different files, not six copies of a seed
    # rendered seeds carry no render time, so case N is the same file on any day
    blank = dict(seeds())["blank-appendix4.docx"]
    assert b"2024-01-01T00:00:00Z" in zipfile.ZipFile(io.BytesIO(blank)).read("docProps/core.xml")


def test_a_fixed_slice_keeps_every_invariant() -> None:
    # a hang is a case that never ends: 10 s is the benchmark's limit, far too tight for a busy test machine
    outcomes = run_cases(list(SLICE), jobs=1, case_seconds=600)
    summary = summarise(outcomes)
    assert summary["cases"] == len(SLICE)
    broken = [o for o in outcomes if o.status not in ("ok", "error") or o.code == "READ_FAILED"]
    assert not broken, [(o.status, o.code, o.name, o.detail, o.problems) for o in broken[:10]]
    # the slice reaches both outcomes: some damaged files are read, some refused with a code
    assert summary["read"] > 0 and summary["refused_with_code"] > 0


def test_the_invariant_checker_catches_what_it_promises_to() -> None:
    record = parse(api.render_form("appendix2", "xlsx", {"e1.seen": True}), path="a2.xlsx")
    assert check_record(record) == []
    wrong_type = dataclasses.replace(record, answers={**record.answers, "e1": {**record.answers["e1"], "seen": "Yes"}})
    assert check_record(wrong_type) == ["e1.seen: str is not a documented bool value"]
    extra_key = dataclasses.replace(record, answers={**record.answers, "e26": None})
    assert check_record(extra_key) == ["answer keys are not the form's schema ids"]
    insurance = dict(record.answers["insurance"])
    insurance["employers_liability"] = {"amount": float("nan"), "expiry": None}
    assert check_record(dataclasses.replace(record, answers={**record.answers, "insurance": insurance})) == [
        "insurance.employers_liability.amount: a non-finite number"
    ]


def test_an_escaping_exception_is_counted_not_raised(monkeypatch) -> None:
    import sys

    parse_module = sys.modules["apdocs.parse"]  # apdocs.parse the attribute is the function

    def explode(data, *, path=None):  # fault injection: stands in for a bug that escapes parse
        raise KeyError("boom")

    monkeypatch.setattr(parse_module, "parse", explode)
    outcome = run_case("case.docx", b"PK")
    assert outcome.status == "escaped" and outcome.detail.startswith("KeyError")
