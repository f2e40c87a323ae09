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
    """Match lines of a document against a set of anchors."""

    def __init__(self, anchors: list[Anchor]) -> None:
        self.anchors = [a for a in anchors if a.tokens]
        self._by_first: dict[str, list[Anchor]] = {}
        for a in self.anchors:
            self._by_first.setdefault(a.tokens[0], []).append(a)
        self._long = [a for a in self.anchors if len(a.tokens) >= FUZZY_MIN_TOKENS]
        self._long_sets = [set(a.tokens) for a in self._long]

    def match(self, line: str, *, allow: frozenset[str] | None = None) -> list[Match]:
        """Every anchor the line is (or starts with), best first.

        ``allow`` restricts to anchor kinds. An exact token prefix wins over an
        approximate whole-line match; ties keep definition order.
        """
        body = strip_numbering(line)
        toks = tokens(body)
        if not toks:
            return []
        found: list[Match] = []
        for a in self._by_first.get(toks[0], ()):
            if allow is not None and a.kind not in allow:
                continue
            n = len(a.tokens)
            if tuple(toks[:n]) == a.tokens:
                found.append(Match(a, 1.0 + n / 1000, _rest_after(body, n)))
        if not found and len(toks) >= FUZZY_MIN_TOKENS - 1:
            have = set(toks)
            for a, aset in zip(self._long, self._long_sets, strict=True):
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


def _rest_after(text: str, n_tokens: int) -> str:
    """Text following the first ``n_tokens`` tokens, without joining punctuation (":", "?", "-")."""
    end = 0
    for i, m in enumerate(_TOKEN.finditer(text.lower())):
        if i == n_tokens - 1:
            end = m.end()
            break
    rest = text[end:] if len(text.lower()) == len(text) else ""
    return rest.lstrip(" \t:?.)-–—").strip() if rest.strip(" \t:?.)-–—") else ""
