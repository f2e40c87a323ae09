"""Normalise values as people type them into returned forms. Pure functions, no I/O.

Readers get text out of a cell or content control; these turn it into the value
conventions of a flat slot mapping (bool / ISO date str / float / str / None).
Where a value cannot be read, the ``read_*`` helpers keep what was typed and
return a :class:`~apdocs.errors.Notice` for the record, so nothing is lost
silently and nothing is guessed. Notice messages never repeat the typed text
(it may be a child's data); they say what kind of value could not be read.

Dates are UK day-first. US month-first order is never guessed: ``13/25/2020``
is unreadable, not 25 January. Two-digit years are in the 2000s (``12.3.20`` is
2020): these forms concern current placements, never the 1900s.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from apdocs.errors import Notice

# -- text ------------------------------------------------------------------------

#: Prompts Word, LibreOffice and Excel templates show in an empty field.
PLACEHOLDERS = frozenset(
    {
        "click or tap here to enter text",
        "click here to enter text",
        "click or tap to enter a date",
        "click here to enter a date",
        "choose an item",
        "choose an item from the list",
        "select an item",
        "select",
        "please select",
        "select one",
        "enter text",
        "enter text here",
        "enter a date",
        "type here",
        "type text here",
        "your answer",
        "dd/mm/yyyy",
        "dd/mm/yy",
        "dd-mm-yyyy",
    }
)
_PLACEHOLDER_RE = re.compile(r"^(?:click|tap)(?: or (?:click|tap))?(?: here)? to (?:enter|add|choose|select)\b.*$")
#: Characters that show nothing and mean nothing in a typed answer: zero-width space, word
#: joiner, BOM / zero-width no-break space, soft hyphen, invisible maths operators, Mongolian
#: vowel separator. Zero-width joiner and non-joiner (U+200D, U+200C) are NOT here: they build
#: emoji sequences and are part of how Persian and Indic scripts are spelt.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"))
#: For comparing wording only (never shown): joiners too, since a retyped question may differ by one.
_INVISIBLE_FOR_MATCHING = {**_INVISIBLE, **dict.fromkeys(map(ord, "\u200c\u200d"))}
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _as_replacements(*tables: Mapping[int, str | None]) -> tuple[tuple[str, str], ...]:
    """Translation tables as (character, replacement) pairs for :func:`_replace_each`."""
    return tuple((chr(k), r or "") for table in tables for k, r in table.items())


def _replace_each(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """``text.translate`` of the tables ``pairs`` came from, ~10x faster on non-ASCII text:
    str.translate looks every character up in the table (a miss raises and clears a LookupError
    inside, ~40 ns), where a membership test per table character runs at C speed. The same
    result, since no replacement is a character of any table (each is taken out or made ASCII)."""
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


_DROP_INVISIBLE = _as_replacements(_INVISIBLE)
_FOR_MATCHING = _as_replacements(_INVISIBLE_FOR_MATCHING, _DASHES, _QUOTES)
_DASHES_ONLY = _as_replacements(_DASHES)
assert all(new.isascii() for _old, new in _FOR_MATCHING)


def normalise(text: str) -> str:
    """One-line, case-folded form of ``text`` for comparing (never shown): NFKC, invisible
    characters out, dashes as "-", curly quotes straight, runs of spaces as one.

    The one normaliser: values are matched with it here, and printed wording is matched on
    its tokens (:mod:`apdocs.formats.wording`) by the Word and Excel readers alike."""
    if text.isascii():  # NFKC and the tables only touch non-ASCII: skip them (most answers)
        return " ".join(text.split()).casefold()
    text = _replace_each(unicodedata.normalize("NFKC", text), _FOR_MATCHING)  # the three tables, in turn
    return " ".join(text.split()).casefold()


#: For ASCII text, a quick no: what is_placeholder strips from the front (whitespace as
#: str.split() sees it, then its trimming set) and the three characters a prompt can then
#: start with. None of them holds a space, so they are the text's own, only lower-cased.
_PROMPT_LEAD = "".join(c for c in map(chr, range(128)) if c.isspace()) + " .:[]()<>_-"
_PROMPT_START = frozenset(p[:3] for p in PLACEHOLDERS) | {"cli", "tap"}  # _PLACEHOLDER_RE: "click" or "tap"
assert all(len(p) == 3 and " " not in p for p in _PROMPT_START)


def is_placeholder(text: Any) -> bool:
    """Whether ``text`` is an empty field's prompt, e.g. "Click or tap here to enter text."."""
    if not isinstance(text, str):
        return False
    if text.isascii():
        # Most answers: how they start already rules a prompt out, with no normalising
        # (for ASCII, normalise() only collapses whitespace and lower-cases).
        if text.lstrip(_PROMPT_LEAD)[:3].lower() not in _PROMPT_START:
            return False
    t = normalise(text).strip(" .:…[]()<>_-")
    return bool(t) and (t in PLACEHOLDERS or bool(_PLACEHOLDER_RE.match(t)))


def clean_text(text: Any) -> str | None:
    """Trim a typed answer, keeping its internal line breaks; blank or prompt -> None.

    Line endings become ``\\n`` (Word's vertical-tab soft break and Excel's
    ``_x000D_`` remnants included); trailing spaces on each line are dropped;
    no-break spaces become spaces; invisible characters are removed.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    if "_x000D_" in text:
        text = text.replace("_x000D_", "")
    if "\r" in text or "\x0b" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
    if not text.isascii():  # the rest only touch non-ASCII characters
        text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\xa0", " ")
        text = _replace_each(text, _DROP_INVISIBLE)
    if "\n" in text:
        out = "\n".join([line.rstrip() for line in text.split("\n")]).strip()
    else:
        out = text.strip()
    if not out or out in _SEEN_PROMPTS:
        return None
    if is_placeholder(out):
        if len(_SEEN_PROMPTS) < 256:  # a bound: prompts are few (ours and the suites'); answers are never kept
            _SEEN_PROMPTS.add(out)
        return None
    return out


#: Exact prompt texts met before: every empty field of every return shows one of a few.
_SEEN_PROMPTS: set[str] = set()


# -- dates -------------------------------------------------------------------------

_MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?\.?,?\s+"
_YEAR = r"(?P<y>\d{4}|\d{2})"
_WEEKDAY_RE = re.compile("^" + _WEEKDAY)
_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?$"
)
_YMD_SLASH = re.compile(r"^(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})$")
_DMY = re.compile(r"^(?P<d>\d{1,2})\s*(?P<sep>[/.\-])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*" + _YEAR + r"$")
_DMY_SPACED = re.compile(r"^(?P<d>\d{1,2})\s+(?P<m>\d{1,2})\s+(?P<y>\d{4})$")
_D_MON_Y = re.compile(r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s\-/.]*" + _MONTH + r"[\s,\-/.]*" + _YEAR + r"$")
_MON_D_Y = re.compile(r"^" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+" + _YEAR + r"$")
_MON_Y = re.compile(r"^" + _MONTH + r"[\s,\-/]*(?P<y>\d{4})$")
#: Years accepted in a form (anything else is a typo, not a date).
MIN_YEAR, MAX_YEAR = 1900, 2099


def _year(text: str) -> int:
    y = int(text)
    return 2000 + y if len(text) == 2 else y


def _make(y: int, m: int, d: int) -> _dt.date | None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


def _date_text(text: str) -> str:
    t = normalise(text).strip(" .,;:")
    return _WEEKDAY_RE.sub("", t)


def parse_date_uk(text: Any) -> _dt.date | None:
    """A date typed the UK way (day first), or None when it is not a whole, valid date.

    Accepts 12/03/2020, 12.3.20, 12-03-2020, 12 03 2020, 12th March 2020, 3 Sept 2020,
    3rd Sep 20, Thursday 12 March 2020, March 12, 2020, 2020-03-12, 2020/03/12 and the
    date picker's stored 2020-03-12T00:00:00Z. ``date``/``datetime`` values pass through.
    A month and year alone ("March 2020") is not a date: None.
    """
    if isinstance(text, _dt.datetime):
        return text.date()
    if isinstance(text, _dt.date):
        return text
    if not isinstance(text, str) or len(text) > 64:
        return None
    if plain := _PLAIN_DATE.fullmatch(text):
        y, m, d, d2, m2, y2 = plain.groups()
        return _make(int(y), int(m), int(d)) if y is not None else _make(int(y2), int(m2), int(d2))
    return _parse_date_text(text)


#: The commonest dates, read without normalising: a date picker's stored ISO date
#: (2020-03-12T00:00:00Z) and 12/03/2020, in ASCII digits. Nothing in them for normalise() to
#: change but the case of T and Z, and _ISO and _DMY read them so below.
_PLAIN_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?|([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"
)


def _parse_date_text(text: str) -> _dt.date | None:
    """:func:`parse_date_uk` of a string of at most 64 characters, the general way."""
    t = _date_text(text)
    if m := _ISO.match(t) or _YMD_SLASH.match(t):
        return _make(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := _DMY.match(t) or _DMY_SPACED.match(t):
        return _make(_year(m["y"]), int(m["m"]), int(m["d"]))
    if m := _D_MON_Y.match(t) or _MON_D_Y.match(t):
        return _make(_year(m["y"]), _MONTHS[m["mon"]], int(m["d"]))
    return None


def is_month_year(text: Any) -> bool:
    """Whether ``text`` names only a month and year, e.g. "March 2020"."""
    return isinstance(text, str) and len(text) <= 64 and bool(_MON_Y.match(_date_text(text)))


def read_date(text: Any, *, where: str | None = None) -> tuple[str | None, Notice | None]:
    """ISO date for a typed date; blank -> (None, None); unreadable -> (typed text, DATE_UNREADABLE)."""
    if isinstance(text, _dt.date):
        day = text.date() if isinstance(text, _dt.datetime) else text  # as parse_date_uk passes it through
        return day.isoformat(), None
    raw = clean_text(text)
    if raw is None:
        return None, None
    d = parse_date_uk(raw)
    if d is not None:
        return d.isoformat(), None
    why = "only a month and year were given" if is_month_year(raw) else "it is not a day/month/year date"
    return raw, Notice("DATE_UNREADABLE", f"a date could not be read ({why}); the text was kept as typed", where=where)


_DATE_INSIDE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*(?:\d{4}|\d{2})(?!\d)"
    r"|\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+[a-z]{3,9}\.?,?\s+(?:\d{4}|\d{2})(?!\d)",
    re.IGNORECASE,
)


def find_date(text: Any) -> _dt.date | None:
    """The first whole date written inside free text, e.g. "Yes – seen 12/03/2020"."""
    if not isinstance(text, str):
        return None
    for m in _DATE_INSIDE.finditer(normalise(text)[:500]):
        if (d := parse_date_uk(m.group(0))) is not None:
            return d
    return None


def without_date(text: str) -> str:
    """``text`` with the first whole date in it taken out ("Yes – seen 12/03/2020" -> "Yes – seen ").

    Matches on the text as typed (only dashes unified, which keeps every position), so
    what is left is the typed text itself, not a normalised copy.
    """
    for m in _DATE_INSIDE.finditer(_replace_each(text, _DASHES_ONLY)[:500]):
        if parse_date_uk(m.group(0)) is not None:
            return text[: m.start()] + text[m.end() :]
    return text


# -- yes / no ---------------------------------------------------------------------------

#: Marks that mean "ticked" in a cell or check box.
TICKS = frozenset("✓✔☒☑☓■●✅")
UNTICKED = frozenset("☐□○")
_NO_RE = re.compile(r"^(?:no|n|not|nope|false|none|missing|awaiting|pending)\b")
_BOXES = "".join(sorted(TICKS | UNTICKED)) + "x"
#: "☒ Yes ☐ No" (a mark before each word) or "Yes ☒ No ☐" (after), in one cell.
_PAIR_BEFORE = re.compile(r"([" + _BOXES + r"])\s*(yes|no)\b")
_PAIR_AFTER = re.compile(r"\b(yes|no)\s*[:\-]?\s*([" + _BOXES + r"])(?![a-z])")
_YES_RE = re.compile(r"^(?:yes|y|yep|seen|true|ticked|checked|received|provided|done|in place|confirmed|x)\b")
_NOT_APPLICABLE = frozenset({"n/a", "na", "n.a.", "not applicable", "-", "--"})


def parse_yes_no(text: Any) -> tuple[bool | None, str | None]:
    """(answer, ISO date found in the text) for a Yes/No or "seen" cell.

    Yes: Yes, Y, ✓, ✔, ☒, ☑, X (a mark in a seen column), Seen, "Yes – seen 12/03/2020", TRUE, 1.
    No: No, N, Not seen, "Not yet – awaiting copy", FALSE, 0, ☐ alone (an unticked box).
    Blank, N/A or anything else: None.
    """
    if isinstance(text, bool):
        return text, None
    if isinstance(text, (int, float)) and text in (0, 1):
        return bool(text), None
    raw = clean_text(text)
    if raw is None:
        return None, None
    found = find_date(raw)
    iso = found.isoformat() if found else None
    t = normalise(raw)
    if t in _NOT_APPLICABLE:
        return None, iso
    before = [(box, word) for box, word in _PAIR_BEFORE.findall(t)]
    after = [(box, word) for word, box in _PAIR_AFTER.findall(t)]
    pairs = after if len(after) > len(before) else before  # whichever reading explains more marks
    if len(pairs) >= 2 or (pairs and pairs[0][0] in UNTICKED):
        ticked = {word for box, word in pairs if box not in UNTICKED}
        return (ticked == {"yes"} if len(ticked) == 1 else None), iso
    first = t[0]
    if first in TICKS:
        return True, iso
    if set(t) <= UNTICKED | {" "}:
        return False, iso
    if t in ("1", "0"):
        return t == "1", iso
    t = t.lstrip("".join(UNTICKED) + " ")
    if _NO_RE.match(t):
        return False, iso
    if _YES_RE.match(t):
        return True, iso
    return None, iso


def read_yes_no(text: Any, *, where: str | None = None) -> tuple[bool | None, str | None, Notice | None]:
    """Like :func:`parse_yes_no`, with a YES_NO_UNCLEAR notice when something was typed but not understood."""
    value, iso = parse_yes_no(text)
    if value is None and not isinstance(text, bool):
        raw = clean_text(text)
        if raw is not None and normalise(raw) not in _NOT_APPLICABLE:
            return None, iso, Notice("YES_NO_UNCLEAR", "a Yes/No answer could not be read", where=where)
    return value, iso, None


def is_mark(text: Any) -> bool:
    """Whether a cell of a separate Yes or No column is marked (☒, ✓, X, Yes, TRUE ...)."""
    if isinstance(text, bool):
        return text
    raw = clean_text(text)
    if raw is None:
        return False
    t = normalise(raw)
    if t[0] in TICKS or t in ("x", "1"):
        return True
    if set(t) <= UNTICKED | {" "}:
        return False
    return bool(re.match(r"^(?:yes|y|true|ticked|checked)\b", t))


def read_yes_no_columns(yes_cell: Any, no_cell: Any, *, where: str | None = None) -> tuple[bool | None, Notice | None]:
    """Answer from separate "Yes" and "No" columns/boxes; both marked -> (None, YES_NO_CONFLICT)."""
    yes, no = is_mark(yes_cell), is_mark(no_cell)
    if yes and no:
        return None, Notice("YES_NO_CONFLICT", "both Yes and No were marked", where=where)
    if yes or no:
        return yes, None
    return None, None


# -- money ---------------------------------------------------------------------------------

_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mil": 1e6,
    "mill": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
}
_MONEY = re.compile(
    r"(?P<num>\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?P<mult>"
    + "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
    + r")?(?![a-z])"
)


def parse_money(text: Any) -> float | None:
    """An amount of money: "£5,000,000", "5m", "£5M", "5 million", "10,000,000.00", "£2.5m", "GBP 10k".

    The first amount in the text is taken; no amount -> None.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text) if 0 <= text < math.inf else None  # nan fails both comparisons
    raw = clean_text(text)
    if raw is None or len(raw) > 200:
        return None
    t = normalise(raw).replace("£", " ").replace("gbp", " ")
    m = _MONEY.search(t)
    if not m:
        return None
    value = float(m["num"].replace(",", "").replace(" ", ""))
    if m["mult"]:
        value *= _MULTIPLIERS[m["mult"]]
    # A run of 400 digits is a float too big to hold (inf): not an amount anyone has
    return round(value, 2) if math.isfinite(value) else None


def read_money(text: Any, *, where: str | None = None) -> tuple[float | str | None, Notice | None]:
    """Amount as float; blank -> (None, None); unreadable -> (typed text, MONEY_UNREADABLE)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if isinstance(text, float) and not math.isfinite(text):
            return None, Notice("NUMBER_NOT_FINITE", "a number was infinite or not a number; left blank", where=where)
        return parse_money(text), None
    raw = clean_text(text)
    if raw is None:
        return None, None
    value = parse_money(raw)
    if value is not None:
        return value, None
    return raw, Notice("MONEY_UNREADABLE", "an amount could not be read; the text was kept as typed", where=where)


# -- choices -------------------------------------------------------------------------


def read_choice(text: Any, choices: Sequence[str], *, where: str | None = None) -> tuple[str | None, Notice | None]:
    """One of ``choices`` (e.g. a judgement) as typed; blank -> (None, None).

    Case and spacing are ignored. A choice written inside more text ("Good (see notes)",
    "☒ Good") counts when exactly one choice fits; otherwise the typed text is kept with
    a CHOICE_UNREADABLE notice.
    """
    raw = clean_text(text)
    if raw is None:
        return None, None
    want = " ".join(raw.split()).casefold()
    for c in choices:
        if c.casefold() == want:
            return c, None
    hits = [c for c in choices if re.search(rf"\b{re.escape(c.casefold())}\b", want)]
    if len(hits) == 1:
        return hits[0], None
    return raw, Notice("CHOICE_UNREADABLE", "a choice did not match the list; kept as typed", where=where)


# -- by slot type ---------------------------------------------------------------------


def read_typed(kind: str, text: Any, *, choices: Sequence[str] = (), where: str | None = None) -> tuple[Any, Notice | None]:
    """The value of a slot of type ``kind`` ("text", "date", "bool", "money", "number", "choice")
    from what was typed, with a notice when it could not be read.

    The one dispatch from slot type to reader, shared by the Word and Excel readers so
    a typed answer means the same in either format.
    """
    if kind == "text":  # free text, the commonest slot: straight to the cleaner _read_typed ends with
        return clean_text(text), None
    if type(text) is str and len(text) <= _SHORT:
        # Yes/No, dates, judgements, amounts and prompts: a small vocabulary that recurs in
        # every return of a batch, read once each (free text is never kept)
        return _read_short(kind, text, tuple(choices), where)
    return _read_typed(kind, text, choices, where)


#: Longest non-text value remembered by :func:`read_typed` ("Yes - seen 12th September 2020" fits).
_SHORT = 40


@lru_cache(maxsize=8192)
def _read_short(kind: str, text: str, choices: tuple[str, ...], where: str | None) -> tuple[Any, Notice | None]:
    return _read_typed(kind, text, choices, where)


def _read_typed(kind: str, text: Any, choices: Sequence[str], where: str | None) -> tuple[Any, Notice | None]:
    if kind == "date":
        return read_date(text, where=where)
    if kind == "bool":
        value, _iso, notice = read_yes_no(text, where=where)
        return value, notice
    if kind in ("money", "number"):
        return read_money(text, where=where)
    if kind == "choice":
        return read_choice(text, choices, where=where)
    return clean_text(text), None
