"""Find a form's printed texts (questions, items, sources, labels) in retyped documents.

Schools retype and reformat: "Q1)" or "1." before a question, straight for curly
quotes, collapsed or doubled spaces, changed case, a word dropped. Texts are compared
as lists of lower-case word tokens (punctuation, quotes and numbering gone); long
texts may differ slightly (token sequence similarity), short labels must match exactly.
All texts come from the form definitions - nothing here knows any wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

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
    return _TOKEN.findall(text.lower())


def strip_numbering(text: str) -> str:
    return _NUMBERING.sub("", text, count=1)


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
        self._len_bits: dict[int, int] = {}
        for i, a in enumerate(self._long):
            for t in self._long_sets[i]:
                self._token_bits[t] = self._token_bits.get(t, 0) | 1 << i
            self._len_bits[len(a.tokens)] = self._len_bits.get(len(a.tokens), 0) | 1 << i
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
        body = strip_numbering(line)
        toks = tokens(body)
        if not toks:
            return []
        found: list[Match] = []
        for n in self._lengths.get(toks[0], ()):  # longest first: the order of the scores below
            if n > len(toks):
                continue
            same = self._by_tokens.get(tuple(toks[:n]))
            if same is None:
                continue
            rest = None
            for a in same:
                if allow is None or a.kind in allow:
                    if rest is None:
                        rest = _rest_after(body, n)
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
        shared = 0
        for t in have:
            shared |= self._token_bits.get(t, 0)
        if not shared:
            return []
        lo = max(int(n * FUZZY_THRESHOLD / (2 - FUZZY_THRESHOLD)) - 1, 1)
        hi = int(n * (2 - FUZZY_THRESHOLD) / FUZZY_THRESHOLD) + 1
        sized = 0
        for m in range(lo, hi + 1):
            sized |= self._len_bits.get(m, 0)
        bits = shared & sized
        out = []
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out


def _rest_after(text: str, n_tokens: int) -> str:
    """Text following the first ``n_tokens`` tokens, without joining punctuation (":", "?", "-")."""
    end = 0
    for i, m in enumerate(_TOKEN.finditer(text.lower())):
        if i == n_tokens - 1:
            end = m.end()
            break
    rest = text[end:] if len(text.lower()) == len(text) else ""
    return rest.lstrip(" \t:?.)-–—").strip() if rest.strip(" \t:?.)-–—") else ""
