"""apdocs.values: what people type into returned forms, read without guessing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apdocs import values as v
from apdocs.forms import load_form

# -- yes / no -------------------------------------------------------------------------

YES_NO = [
    ("Yes", True, None),
    ("YES", True, None),
    ("Y", True, None),
    ("y", True, None),
    ("✓", True, None),
    ("✔", True, None),
    ("☒", True, None),
    ("☑", True, None),
    ("X", True, None),
    ("x", True, None),
    ("Seen", True, None),
    ("TRUE", True, None),
    ("Yes – seen 12/03/2020", True, "2020-03-12"),
    ("Yes - seen 3rd Sep 20", True, "2020-09-03"),
    ("✓ 1.4.21", True, "2021-04-01"),
    ("No", False, None),
    ("N", False, None),
    ("no.", False, None),
    ("Not seen", False, None),
    ("Not yet – awaiting copy", False, None),
    ("FALSE", False, None),
    ("☐", False, None),
    ("☒ Yes ☐ No", True, None),
    ("☐ Yes ☒ No", False, None),
    ("Yes ☒ No ☐", True, None),
    ("Yes ☐ No ☒", False, None),
    ("☐ Yes ☐ No", None, None),
    ("☒ Yes ☒ No", None, None),
    ("", None, None),
    ("   \n ", None, None),
    (None, None, None),
    ("Choose an item.", None, None),
    ("N/A", None, None),
    ("maybe", None, None),
    ("Now", None, None),
    (True, True, None),
    (False, False, None),
    (1, True, None),
    (0, False, None),
]


@pytest.mark.parametrize(("text", "answer", "iso"), YES_NO)
def test_parse_yes_no(text, answer, iso):
    assert v.parse_yes_no(text) == (answer, iso)


def test_read_yes_no_flags_only_text_it_did_not_understand():
    assert v.read_yes_no("Yes") == (True, None, None)
    assert v.read_yes_no("") == (None, None, None)
    assert v.read_yes_no("N/A") == (None, None, None)
    value, iso, notice = v.read_yes_no("perhaps next week", where="e3.seen")
    assert (value, iso) == (None, None)
    assert notice is not None and notice.code == "YES_NO_UNCLEAR" and notice.where == "e3.seen"
    assert "perhaps" not in notice.message  # notices never repeat what was typed


@pytest.mark.parametrize(
    ("yes", "no", "answer", "code"),
    [
        ("☒", "☐", True, None),
        ("☐", "☒", False, None),
        ("X", "", True, None),
        ("", "x", False, None),
        ("✓", None, True, None),
        ("", "", None, None),
        ("☐", "☐", None, None),
        ("X", "X", None, "YES_NO_CONFLICT"),
        ("Yes", "", True, None),
    ],
)
def test_separate_yes_no_columns(yes, no, answer, code):
    value, notice = v.read_yes_no_columns(yes, no, where="a1.1")
    assert value is answer
    assert (notice.code if notice else None) == code


# -- dates ------------------------------------------------------------------------------

DATES = [
    ("12/03/2020", "2020-03-12"),
    ("12.3.20", "2020-03-12"),
    ("12-03-2020", "2020-03-12"),
    ("12 03 2020", "2020-03-12"),
    ("1/4/21", "2021-04-01"),
    ("12th March 2020", "2020-03-12"),
    ("12th of March, 2020", "2020-03-12"),
    ("3 Sept 2020", "2020-09-03"),
    ("3rd Sep 20", "2020-09-03"),
    ("1st Jan. 2021", "2021-01-01"),
    ("22nd February 2024", "2024-02-22"),
    ("12-Mar-2020", "2020-03-12"),
    ("Thursday 12 March 2020", "2020-03-12"),
    ("Thu, 12 March 2020", "2020-03-12"),
    ("March 12, 2020", "2020-03-12"),
    ("2020-03-12", "2020-03-12"),
    ("2020/03/12", "2020-03-12"),
    ("2020-03-12T00:00:00Z", "2020-03-12"),
    ("2020-03-12T09:30:00+01:00", "2020-03-12"),
    ("  12/03/2020 \n", "2020-03-12"),
    ("29/02/2024", "2024-02-29"),
]
NOT_DATES = [
    "13/25/2020",  # US order is never guessed
    "03/13/2020",
    "31/02/2020",
    "29/02/2023",
    "32/01/2020",
    "March 2020",
    "2020",
    "12/03",
    "soon",
    "",
    "1/1/1800",
    "12/03/20200",
    "Click or tap to enter a date.",
]


@pytest.mark.parametrize(("text", "iso"), DATES)
def test_parse_date_uk(text, iso):
    assert v.parse_date_uk(text) == dt.date.fromisoformat(iso)


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_a_date(text):
    assert v.parse_date_uk(text) is None


def test_date_values_pass_through():
    assert v.parse_date_uk(dt.date(2020, 3, 12)) == dt.date(2020, 3, 12)
    assert v.parse_date_uk(dt.datetime(2020, 3, 12, 15, 0)) == dt.date(2020, 3, 12)
    assert v.read_date(dt.date(2020, 3, 12)) == ("2020-03-12", None)
    assert v.parse_date_uk(43902) is None  # Excel serials are the xlsx reader's business


def test_read_date_keeps_unreadable_text_with_a_warning():
    assert v.read_date("12/03/2020") == ("2020-03-12", None)
    assert v.read_date("  ") == (None, None)
    assert v.read_date("Click or tap to enter a date.") == (None, None)
    text, notice = v.read_date(" 13/25/2020 ", where="e1.date_seen")
    assert text == "13/25/2020"
    assert notice.code == "DATE_UNREADABLE" and notice.where == "e1.date_seen"
    text, notice = v.read_date("March 2020")
    assert text == "March 2020" and "month and year" in notice.message


def test_find_date_inside_text():
    assert v.find_date("seen on 3rd Sep 20 by JB") == dt.date(2020, 9, 3)
    assert v.find_date("copy 13/25/2020 then 01/02/2021") == dt.date(2021, 2, 1)
    assert v.find_date("no date here") is None


def test_without_date_takes_out_the_date_find_date_reads():
    assert v.without_date("Yes – seen 12/03/2020") == "Yes – seen "
    assert v.without_date("Seen 3rd Sep 20 by JB") == "Seen  by JB"
    assert v.without_date("copy 13/25/2020 then 01/02/2021") == "copy 13/25/2020 then "
    assert v.without_date("Seen 12–03–2020 (copy)") == "Seen  (copy)"  # en dashes, as Word autocorrects
    assert v.without_date("no date here") == "no date here"


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)), st.sampled_from(["Yes – seen ", "Seen on ", ""]))
def test_without_date_leaves_no_date_behind(d, prefix):
    text = prefix + d.strftime("%d/%m/%Y") + " ok"
    assert v.find_date(text) == d
    assert v.without_date(text) == prefix + " ok"
    assert v.find_date(v.without_date(text)) is None


@settings(max_examples=300)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_any_uk_written_date_reads_back(d):
    for text in (
        d.strftime("%d/%m/%Y"),
        f"{d.day}.{d.month}.{d.year}",
        d.isoformat(),
        f"{d.day} {d.strftime('%B')} {d.year}",
        f"{d.day} {d.strftime('%b')} {d.year}",
    ):
        assert v.parse_date_uk(text) == d, text


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_two_digit_years_are_this_century(d):
    assert v.parse_date_uk(d.strftime("%d/%m/%y")) == d


@given(st.integers(1, 31), st.integers(13, 99), st.integers(1900, 2099))
def test_month_over_twelve_is_never_swapped(day, month, year):
    assert v.parse_date_uk(f"{day}/{month}/{year}") is None


@given(st.text(max_size=80))
def test_parsers_never_raise(text):
    v.parse_date_uk(text)
    v.read_date(text)
    v.parse_yes_no(text)
    v.read_yes_no(text)
    v.parse_money(text)
    v.read_money(text)
    v.is_placeholder(text)
    v.find_date(text)
    v.without_date(text)
    v.read_yes_no_columns(text, text)
    cleaned = v.clean_text(text)
    assert cleaned is None or (cleaned == cleaned.strip() and cleaned)


# -- money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("£5,000,000", 5_000_000.0),
        ("5m", 5_000_000.0),
        ("£5M", 5_000_000.0),
        ("5 million", 5_000_000.0),
        ("£5 Million", 5_000_000.0),
        ("10,000,000.00", 10_000_000.0),
        ("£2m", 2_000_000.0),
        ("£2.5m", 2_500_000.0),
        ("GBP 10k", 10_000.0),
        ("£5 000 000", 5_000_000.0),
        ("Up to £10m any one claim", 10_000_000.0),
        ("£1bn", 1_000_000_000.0),
        ("250000", 250_000.0),
        (5_000_000, 5_000_000.0),
        (2.5e6, 2_500_000.0),
    ],
)
def test_parse_money(text, amount):
    assert v.parse_money(text) == amount


@pytest.mark.parametrize("text", ["", None, "ten million", "see schedule", "Enter text", True, -5])
def test_not_money(text):
    assert v.parse_money(text) is None


def test_read_money():
    assert v.read_money("£5m") == (5_000_000.0, None)
    assert v.read_money("") == (None, None)
    text, notice = v.read_money("see attached schedule", where="insurance.public_liability.amount")
    assert text == "see attached schedule" and notice.code == "MONEY_UNREADABLE"


@given(st.integers(0, 10**12))
def test_money_written_with_commas_reads_back(n):
    assert v.parse_money(f"£{n:,}") == float(n)
    assert v.parse_money(f"{n:,}.00") == float(n)


# -- placeholders and text ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Click or tap here to enter text.",
        "Choose an item.",
        "Click or tap to enter a date.",
        "Click here to enter text.",
        "Click here to enter a date.",
        "Enter text",
        "[Type here]",
        "  click or tap here to enter text  ",
        "Click\u00a0or tap here to enter text.",
    ],
)
def test_placeholders(text):
    assert v.is_placeholder(text)
    assert v.clean_text(text) is None


@pytest.mark.parametrize("text", ["Yes", "Choose an item from the list below and tell us why", "Click here", "Enter"])
def test_answers_are_not_placeholders(text):
    assert not v.is_placeholder(text)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("  hello  ", "hello"),
        ("line one\r\nline two", "line one\nline two"),
        ("a\rb", "a\nb"),
        ("soft\x0bbreak", "soft\nbreak"),
        ("trailing   \nspaces\t\n", "trailing\nspaces"),
        ("no\u00a0break", "no break"),
        ("zero\u200bwidth", "zerowidth"),
        ("Excel_x000D_\nbreak", "Excel\nbreak"),
        ("para\n\nkept", "para\n\nkept"),
        ("", None),
        ("  \n\t ", None),
        (None, None),
        (12, "12"),
    ],
)
def test_clean_text(text, cleaned):
    assert v.clean_text(text) == cleaned


@pytest.mark.parametrize(
    ("typed", "want", "notice"),
    [
        ("good", "Good", None),
        ("  requires   IMPROVEMENT ", "Requires improvement", None),
        ("☒ Good", "Good", None),
        ("Good (see notes)", "Good", None),
        ("Good or Outstanding", "Good or Outstanding", "CHOICE_UNREADABLE"),
        ("Brilliant", "Brilliant", "CHOICE_UNREADABLE"),
        ("", None, None),
        ("Choose an item.", None, None),
    ],
)
def test_read_choice(typed, want, notice):
    from apdocs.forms import load_form

    choices = load_form("appendix3").judgements
    value, note = v.read_choice(typed, choices, where="a1.judgement")
    assert value == want
    assert (note.code if note else None) == notice


def test_read_typed_dispatches_on_slot_type():
    judgements = list(load_form("appendix3").judgements)
    assert v.read_typed("bool", "Yes – seen 12/03/2020") == (True, None)
    assert v.read_typed("date", "12th March 2020") == ("2020-03-12", None)
    assert v.read_typed("money", "£5m") == (5_000_000.0, None)
    assert v.read_typed("choice", f"  {judgements[1].upper()} ", choices=judgements) == (judgements[1], None)
    assert v.read_typed("text", "Click or tap here to enter text.") == (None, None)
    assert v.read_typed("text", "line one\r\nline two ") == ("line one\nline two", None)
    _, notice = v.read_typed("date", "soon", where="e1.date_seen")
    assert notice.code == "DATE_UNREADABLE" and notice.where == "e1.date_seen"


def test_one_normaliser_folds_what_retyping_changes():
    from apdocs.values import normalise

    assert normalise("Employer\u2019s  \u201cCompulsory\u201d\u00a0Liability \u2013 Insurance") == (
        'employer\'s "compulsory" liability - insurance'
    )
    assert normalise("zero\u200bwidth\nand  Tabs\t") == "zerowidth and tabs"
    assert normalise("ASCII  Stays  Simple ") == "ascii stays simple"


# The tables as str.translate reads them, against the faster replacing normalise and clean_text use.
_TABLE_CHARS = "".join(chr(k) for t in (v._INVISIBLE_FOR_MATCHING, v._DASHES, v._QUOTES) for k in t)
_MIXED = st.text(st.sampled_from(_TABLE_CHARS + "ab -'\"\n\xa0\u2028é’😀\u200c\u200d\u0301ﬁＡ12/"), max_size=40)


@given(_MIXED)
def test_the_tables_are_applied_as_str_translate_would(text):
    matching = text.translate(v._INVISIBLE_FOR_MATCHING).translate(v._DASHES).translate(v._QUOTES)
    assert v._replace_each(text, v._FOR_MATCHING) == matching
    assert v._replace_each(text, v._DROP_INVISIBLE) == text.translate(v._INVISIBLE)
    assert v._replace_each(text, v._DASHES_ONLY) == text.translate(v._DASHES)


@given(_MIXED)
def test_normalise_and_clean_text_read_non_ascii_as_before(text):
    import unicodedata

    before = unicodedata.normalize("NFKC", text).translate(v._INVISIBLE_FOR_MATCHING).translate(v._DASHES).translate(v._QUOTES)
    assert v.normalise(text) == " ".join(before.split()).casefold()
    typed = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\xa0", " ").translate(v._INVISIBLE)
    want = "\n".join(line.rstrip() for line in typed.split("\n")).strip()
    assert v.clean_text(text) == (None if not want or v.is_placeholder(want) else want)


def test_text_cleaning_keeps_what_it_should():
    typed = "\u200b We\u2019ve\u00a0seen \u2013 it\u00ad\u2019s  fine\u2060 \n\u2028"
    assert v.clean_text(typed) == "We\u2019ve seen \u2013 it\u2019s  fine"
    assert v.clean_text("\ufeffClick or tap here to enter text.\u200b") is None
    assert v.clean_text("\u2018Click\u2019 here to enter text") == "\u2018Click\u2019 here to enter text"
    assert v.without_date("Seen \u2013 12\u201303\u20132020 ok") == "Seen \u2013  ok"


_DIGITS = st.text(st.sampled_from("0123456789"), min_size=1, max_size=5)


@given(
    st.one_of(
        st.builds(
            lambda y, m, d, t: f"{y}-{m}-{d}{t}", _DIGITS, _DIGITS, _DIGITS, st.sampled_from(["", "T00:00:00Z", "T23:59:59Z"])
        ),
        st.builds(lambda d, m, y: f"{d}/{m}/{y}", _DIGITS, _DIGITS, _DIGITS),
        st.dates(min_value=dt.date(1800, 1, 1)).map(lambda d: d.isoformat() + "T00:00:00Z"),
        st.dates(min_value=dt.date(1800, 1, 1)).map(lambda d: f"{d.day}/{d.month}/{d.year}"),
    )
)
@example("2020-02-30T00:00:00Z")
@example("2100-01-01")
@example("1899-12-31T00:00:00Z")
@example("31/04/2020")
@example("0/1/2020")
@example("２０２０-03-12")
@example("12/03/٢٠٢٠")
@example("2020-03-12t00:00:00z")
def test_plain_dates_read_as_the_general_way_reads_them(text):
    """parse_date_uk reads a picker's ISO date and dd/mm/yyyy at once: as the general path would."""
    assert v.parse_date_uk(text) == v._parse_date_text(text)
