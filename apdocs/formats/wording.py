"""Find a form's printed texts (questions, items, sources, labels) in retyped documents.

Shared by the Word and Excel readers (no office library here: lines of text in, matches
out), so both recognise a form - and its questions - the same way.

Schools retype and reformat: "Q1)" or "1." before a question, straight for curly
quotes, collapsed or doubled spaces, changed case, a word dropped. Texts are compared
as lists of lower-case word tokens (punctuation, quotes and numbering gone; non-ASCII
text folded by :func:`apdocs.values.normalise` first); long texts may differ slightly
(token sequence similarity), short labels must match exactly. All texts come from the
form definitions - nothing here knows any wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache

from apdocs.forms.model import FORM_IDS, FormDefinition, load_form
from apdocs.values import normalise

_TOKEN = re.compile(r"[^\W_]+|£", re.UNICODE)
# "Q1)", "1.", "1)", "Question 1:", "(a)" ... in front of a retyped question
_NUMBERING = re.compile(r"^\s*(?:(?:q(?:uestion)?\s*)?\d{1,2}\s*[.):\-]?|\(?[a-z]\)|[-•*·–])\s+", re.IGNORECASE)

#: Shortest text (in tokens) allowed to match approximately; shorter ones must be exact.
FUZZY_MIN_TOKENS = 4
#: Similarity a retyped long text needs to count as the printed one.
FUZZY_THRESHOLD = 0.84
#: Matched lines remembered per form (a form prints a few hundred; retyped copies add some).
HIT_CACHE_SIZE = 4096


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; non-ASCII text is folded first (NFKC, invisible characters out)."""
    return _TOKEN.findall(text.lower() if text.isascii() else normalise(text))


def line_key(text: str) -> tuple[str, ...]:
    """A line as compared with printed texts: its tokens once any "Q1)" numbering is gone."""
    return tuple(tokens(strip_numbering(text)))


def same_wording(line: tuple[str, ...], printed: tuple[str, ...], *, prefix: bool = False) -> bool:
    """Whether a line (:func:`line_key`) is the printed text: the same words, or (``prefix``) it
    starts with them, or - a long text retyped - nearly the same words in the same order."""
    if not printed:
        return False
    if line == printed or (prefix and line[: len(printed)] == printed):
        return True
    if len(printed) < FUZZY_MIN_TOKENS or not prefix:
        return False
    # the cheap bounds of Matcher._candidates before the sequence comparison
    n, m = len(line), len(printed)
    if min(n, m) / max(n, m) < FUZZY_THRESHOLD / (2 - FUZZY_THRESHOLD) - 0.01:
        return False
    words = set(printed)
    if len(words & set(line)) < 0.6 * len(words):
        return False
    return SequenceMatcher(None, printed, line, autojunk=False).ratio() >= FUZZY_THRESHOLD


def strip_numbering(text: str) -> str:
    return _NUMBERING.sub("", text, count=1)


@lru_cache(maxsize=1024)
def _split_line(line: str) -> tuple[str, tuple[str, ...]]:
    """(line without numbering, its tokens). Cached because :func:`identify` offers every line
    to each form's matcher in turn: an answer line - never a cache hit - is split once, not thrice."""
    body = strip_numbering(line)
    return body, tuple(tokens(body))


@dataclass(frozen=True)
class Anchor:
    """A printed text to look for, and what finding it means."""

    kind: str  # "question", "hint", "item", "source", "area", "header", "label", "stop", ...
    key: str  # slot or entry id it belongs to (or "" for pure stops)
    text: str
    tokens: tuple[str, ...]
    scope: str = ""  # e.g. the area a source belongs to


@dataclass(frozen=True)
class Match:
    anchor: Anchor
    score: float
    rest: str  # text after the anchor in the same line ("Provider name: Sunrise" -> "Sunrise")


def make_anchor(kind: str, key: str, text: str, scope: str = "") -> Anchor:
    return Anchor(kind, key, text, tuple(tokens(text)), scope)


class Matcher:
    """Match lines of a document against a set of anchors.

    Built once per form (see ``legacy.matcher_for``), so every index below is paid for once:
    exact prefixes are dictionary look-ups by token tuple, and the approximate comparison
    (difflib, the costly part) runs only against texts that could reach the threshold.
    """

    def __init__(self, anchors: list[Anchor]) -> None:
        self.anchors = [a for a in anchors if a.tokens]
        # exact: token tuple -> anchors (definition order); first token -> the lengths to try, longest first
        self._by_tokens: dict[tuple[str, ...], list[Anchor]] = {}
        lengths: dict[str, set[int]] = {}
        for a in self.anchors:
            self._by_tokens.setdefault(a.tokens, []).append(a)
            lengths.setdefault(a.tokens[0], set()).add(len(a.tokens))
        self._lengths = {t: sorted(ns, reverse=True) for t, ns in lengths.items()}
        # approximate: long anchors, with a bit per anchor in masks by token and by length
        self._long = [a for a in self.anchors if len(a.tokens) >= FUZZY_MIN_TOKENS]
        self._long_sets = [frozenset(a.tokens) for a in self._long]
        self._token_bits: dict[str, int] = {}
        # _up_to[m]: the long anchors of at most m tokens, so a range of lengths is two look-ups
        longest = max((len(a.tokens) for a in self._long), default=0)
        self._up_to = [0] * (longest + 1)
        for i, a in enumerate(self._long):
            for t in self._long_sets[i]:
                self._token_bits[t] = self._token_bits.get(t, 0) | 1 << i
            for m in range(len(a.tokens), longest + 1):
                self._up_to[m] |= 1 << i
        # Lines that hold a printed text, as every return prints them: matched once per process.
        # Only hits are kept (answers are new in each return, and this stays small).
        self._hits: dict[tuple[str, frozenset[str] | None], tuple[Match, ...]] = {}

    def match(self, line: str, *, allow: frozenset[str] | None = None) -> list[Match]:
        """Every anchor the line is (or starts with), best first.

        ``allow`` restricts to anchor kinds. An exact token prefix wins over an
        approximate whole-line match; ties keep definition order.
        """
        key = (line, allow)
        hit = self._hits.get(key)
        if hit is not None:
            return list(hit)
        found = self._match(line, allow)
        if found:
            if len(self._hits) >= HIT_CACHE_SIZE:
                self._hits.clear()  # a bound, not an LRU: a batch settles on the forms' texts again at once
            self._hits[key] = tuple(found)
        return found

    def _match(self, line: str, allow: frozenset[str] | None) -> list[Match]:
        body, toks = _split_line(line)
        if not toks:
            return []
        found: list[Match] = []
        for n in self._lengths.get(toks[0], ()):  # longest first: the order of the scores below
            if n > len(toks):
                continue
            same = self._by_tokens.get(toks[:n])
            if same is None:
                continue
            rest = None
            for a in same:
                if allow is None or a.kind in allow:
                    if rest is None:
                        rest = _rest_after(body, toks, n)
                    found.append(Match(a, 1.0 + n / 1000, rest))
        if found or len(toks) < FUZZY_MIN_TOKENS - 1:
            return found
        have = set(toks)
        for i in self._candidates(have, len(toks)):
            a, aset = self._long[i], self._long_sets[i]
            if allow is not None and a.kind not in allow:
                continue
            # cheap filter before the sequence comparison
            if len(aset & have) < 0.6 * len(aset):
                continue
            score = SequenceMatcher(None, a.tokens, toks, autojunk=False).ratio()
            if score >= FUZZY_THRESHOLD:
                found.append(Match(a, score, ""))
        found.sort(key=lambda m: -m.score)
        return found

    def _candidates(self, have: set[str], n: int) -> list[int]:
        """Indices, in definition order, of the long anchors a line of ``n`` tokens (``have``) could
        match approximately: those sharing a token with it, of a length that can reach the
        threshold (ratio = 2*M/(n+m) with M <= min(n, m), so min/max >= t/(2-t); one token of
        slack either side keeps float rounding at the boundary out of it). Answers share
        nothing with most printed texts, so most lines are compared with none."""
        # the length bound first (two look-ups): a line much longer or shorter than every long text stops here
        lo = max(int(n * FUZZY_THRESHOLD / (2 - FUZZY_THRESHOLD)) - 1, 1)
        hi = int(n * (2 - FUZZY_THRESHOLD) / FUZZY_THRESHOLD) + 1
        up_to = self._up_to
        if lo >= len(up_to):
            return []  # longer than any long anchor can stretch to
        sized = up_to[min(hi, len(up_to) - 1)] & ~up_to[lo - 1]
        if not sized:
            return []
        shared = 0
        for t in have & self._token_bits.keys():  # the set intersection runs in C; few tokens remain
            shared |= self._token_bits[t]
        bits = shared & sized
        out = []
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out


def _rest_after(text: str, words: Sequence[str], n_tokens: int) -> str:
    """Text following the first ``n_tokens`` tokens (``words``), without joining punctuation (":", "?", "-")."""
    end = 0
    for i, m in enumerate(_TOKEN.finditer(text.lower())):
        if i >= len(words) or m.group() != words[i]:
            return ""  # folding changed the words: where they end in the typed text is unknown
        if i == n_tokens - 1:
            end = m.end()
            break
    rest = text[end:] if len(text.lower()) == len(text) else ""
    return rest.lstrip(" \t:?.)-–—").strip() if rest.strip(" \t:?.)-–—") else ""


# -- anchors, all from the definition --------------------------------------------


#: Where a printed question's sentences meet: after "?" or ".", before "i.e." or a capital letter.
_SENTENCE_BREAK = re.compile(r"(?<=[?.])\s+(?=i\.e\.|[A-Z])")


def question_parts(text: str) -> list[str]:
    """A question's sentences, e.g. q1's "How did you decide ...?" and its "i.e. how were ...?"."""
    return [p.strip() for p in _SENTENCE_BREAK.split(text) if p.strip()]


def anchors_for(form: FormDefinition) -> list[Anchor]:
    """Every printed text of ``form`` with what finding it means."""
    a = [make_anchor("stop", "", t) for t in (form.title, form.name, form.display_name, form.organisation, *form.intro)]
    a += [make_anchor("header", h.id, h.label) for h in form.header]
    for s in form.sections:
        a.append(make_anchor("stop", s.id, s.title))
        for q in s.questions:
            a.append(make_anchor("question", q.id, q.text))
            first, *more = question_parts(q.text)
            if more:
                # a question retyped over several lines: its first sentence finds it, and the
                # sentences after belong to it as its hint does (never to the answer)
                a.append(make_anchor("question", q.id, first))
                a += [make_anchor("hint", q.id, part) for part in more]
            if q.hint:
                a.append(make_anchor("hint", q.id, q.hint))
    lab = form.labels
    if form.items:
        a += [make_anchor("item", it.id, it.text) for it in form.items]
        cols = form.columns or {}
        a += [make_anchor("colhead", k, v) for k, v in cols.items()]
        a += [make_anchor("colhead", k, lab[k]) for k in ("date_seen", "note") if k in lab]
    if form.insurance:
        ins = form.insurance
        a.append(make_anchor("stop", "insurance", ins["heading"]))
        a.append(make_anchor("label", "insurance.sole_trader", ins["sole_trader_label"]))
        a.append(make_anchor("colhead", "amount", ins["amount_label"]))
        a.append(make_anchor("colhead", "expiry", ins["expiry_label"]))
        a += [make_anchor("cover", c.id, c.text) for c in form.covers]
    for area in form.areas:
        a.append(make_anchor("area", area.id, area.title))
        a += [make_anchor("source", s.id, s.text, scope=area.id) for s in area.sources]
    if form.areas:
        a.append(make_anchor("colhead", "scrutinised", lab["scrutinised"]))
        a.append(make_anchor("label", "judgement", lab["judgement"]))
        a.append(make_anchor("label", "notes", lab["notes"]))
        a.append(make_anchor("label", "overall_judgement", lab["overall_judgement"]))
    # Per-slot labels ("Answer 1", "Date seen 3") may be printed too; they only stop answers.
    known = {x.tokens for x in a}
    for slot in form.slots():
        extra = make_anchor("stop", "", slot.label)
        if extra.tokens not in known:
            known.add(extra.tokens)
            a.append(extra)
    return a


def matcher_for(form: FormDefinition) -> Matcher:
    return _matcher(form.id, form.version)


@cache
def _matcher(form_id: str, version: str) -> Matcher:
    # definitions are cached by id, and hold dicts (unhashable): key the cache by id and version
    return Matcher(anchors_for(load_form(form_id)))


#: Anchor kinds that are a form's own texts (labels like "Date seen" are shared by forms).
OWN_KINDS = frozenset({"question", "item", "source", "area"})


def own_texts(form: FormDefinition) -> list[Anchor]:
    """The texts that identify a form (questions, items, sources, area titles)."""
    return [a for a in matcher_for(form).anchors if a.kind in OWN_KINDS]


# -- which form ----------------------------------------------------------------------

#: Share of a form's own texts (questions/items/sources/areas) a document must hold to be that form.
IDENTIFY_SHARE = 0.2
#: ... and never fewer than this many.
IDENTIFY_MIN = 3


def identify(lines: Iterable[str]) -> str | None:
    """The form whose own texts the lines (paragraphs, cells) hold best; None below the threshold.

    Numbering ("Q1)"), quotes, spacing and case do not count, and a long text may be
    slightly retyped (see :class:`Matcher`).
    """
    texts = [line for line in lines if line.strip()]
    best, best_share = None, 0.0
    for form_id in FORM_IDS:
        form = load_form(form_id)
        keys = {a.key for a in own_texts(form)}
        matcher = matcher_for(form)
        found = {m[0].anchor.key for line in texts if (m := matcher.match(line, allow=OWN_KINDS))}
        share = len(found) / len(keys)
        if len(found) >= IDENTIFY_MIN and share >= IDENTIFY_SHARE and share > best_share:
            best, best_share = form_id, share
    return best
