"""Property: whatever is written into any slot of any form comes back out, in both formats.

Arbitrary answers for every slot (unicode, emoji, '<', '&', newlines, 10,000-character
answers, a leading '=', dates, bools, blanks) are rendered with
``apdocs.api.render_form`` and read back with ``apdocs.parse.parse``. What comes back
must equal what went in, up to the documented value conventions of
``apdocs.values.clean_text`` (answers are trimmed; a blank or a field prompt is None).
Derandomised, so CI sees the same examples every run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apdocs import values
from apdocs.api import render_form
from apdocs.forms import FORM_IDS, load_form
from apdocs.parse import parse
from apdocs.record import flatten_answers

# Characters XML 1.0 cannot hold (controls, surrogates, U+FFFE/U+FFFF) cannot reach either format.
_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.sampled_from(
    ["\n", "\t", "<", "&", ">", '"', "'", "=", "😀", "é", "ß", "—", "£", "\u200f"]
)
# a multi-code-point emoji (ZWJ sequence) is one "character" to a person, several to XML
_short = st.text(_chars, max_size=60) | st.text(_chars, max_size=20).map(lambda s: s + "👩\u200d👧")
# 10,000-character answers, built by repetition (Hypothesis caps the size of one draw)
_long = _short.map(lambda s: ((s or "long answer ") * (10_000 // max(1, len(s or "long answer ")) + 1))[:10_000])
_formula = _short.map(lambda s: "=" + s)  # must come back as text, never become a formula
_text = st.one_of(st.none(), _short, _formula, _long)


def slot_strategy(slot) -> st.SearchStrategy:
    if slot.type == "text":
        return _text
    if slot.type == "bool":
        return st.sampled_from([True, False, None])
    if slot.type == "date":
        return st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat)
    if slot.type == "choice":
        return st.none() | st.sampled_from(slot.choices)
    return st.none() | st.integers(0, 10**9).map(lambda pence: pence / 100)


def form_values(form_id: str) -> st.SearchStrategy:
    return st.fixed_dictionaries({s.id: slot_strategy(s) for s in load_form(form_id).slots()})


def expected(form_id: str, given_values: dict) -> dict:
    form = load_form(form_id)
    return {s.id: values.clean_text(v) if s.type == "text" else v for s, v in ((s, given_values[s.id]) for s in form.slots())}


def check(form_id: str, fmt: str, given_values: dict) -> None:
    data = render_form(form_id, fmt, given_values)
    rec = parse(data, path=f"roundtrip.{fmt}")
    assert rec.form == form_id
    got = flatten_answers(load_form(form_id), rec.header, rec.answers)
    want = expected(form_id, given_values)
    assert {k: got[k] for k in want if got[k] != want[k]} == {k: want[k] for k in want if got[k] != want[k]}


SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_slot_round_trips(form_id, fmt):
    @SETTINGS
    @given(form_values(form_id))
    def run(v):
        check(form_id, fmt, v)

    run()
