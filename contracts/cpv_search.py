"""Finding a CPV code by what a person types (issue 16 / 19): the start of a code ("8532") or
words from its label ("community health", "mental health").

One search for both ways of choosing a code: the autocomplete's JSON lookup
(``contracts.lookups.cpv_search``) and, without JavaScript, the text typed into the CPV field
(``contracts.forms.CpvCodeField``), which takes the one code the words name.

CPV 2008 does not speak as commissioners do ("mental health" is in no label), so a few words
also find the labels' own words for the same thing (``SAME_AS``).
"""

from __future__ import annotations

import re
from functools import cache

from contracts import cpv

LIMIT = 20

# A commissioner's word -> the starts of CPV labels' words for the same thing.
SAME_AS: dict[str, tuple[str, ...]] = {
    "mental": ("psychiatr", "psycholog"),
    "carer": ("care",),
    "elderly": ("elderly",),
    "older": ("elderly",),
    "disability": ("handicap",),
    "disabled": ("handicap",),
    "learning": ("handicap",),
    "drug": ("drug", "addict"),
    "alcohol": ("alcohol", "addict"),
    "substance": ("addict", "drug"),
}

_WORD = re.compile(r"[a-z0-9]+")


@cache
def _label_words() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Each code with its label and the words it is found by: its code and its label's."""
    return tuple((code, text, (code, *_WORD.findall(text.lower())))
                 for code, text in cpv.codes().items())


@cache
def _codes_by_word() -> dict[str, frozenset[str]]:
    """Each word a code is found by -> the codes found by it (about 5,000 words for 9,454
    codes, so a query word is compared with each word once, not with every label)."""
    index: dict[str, set[str]] = {}
    for code, _label, words in _label_words():
        for word in words:
            index.setdefault(word, set()).add(code)
    return {word: frozenset(codes) for word, codes in index.items()}


def _starts(query_word: str) -> tuple[str, ...]:
    return (query_word, *SAME_AS.get(query_word, ()), *SAME_AS.get(query_word.rstrip("s"), ()))


def _found_by(query_word: str) -> set[str]:
    """The codes whose code or label has a word starting as ``query_word`` (or its SAME_AS)."""
    starts = _starts(query_word)
    found: set[str] = set()
    for word, codes in _codes_by_word().items():
        if word.startswith(starts):
            found |= codes
    return found


def _kind(code: str) -> int:
    """Health and social work services (division 85, most of what partnerships commission)
    first, then other services (divisions 50-98), then supplies and works."""
    return 0 if code.startswith("85") else 1 if code[:2] >= "50" else 2


def full_matches(query: str) -> list[tuple[str, str]]:
    """The codes whose label has every word of ``query`` (as ``search`` matches words)."""
    words = _words(query)
    if not words:
        return []
    codes = set.intersection(*(_found_by(word) for word in words))
    return [(code, label) for code, label in cpv.codes().items() if code in codes]


def _words(query: str) -> list[str]:
    return [w for w in _WORD.findall((query or "").lower()) if len(w) > 1 or w.isdigit()]


def search(query: str, *, limit: int = LIMIT) -> list[tuple[str, str]]:
    """(code, label) pairs for ``query``: codes starting with its digits, in code order; or
    labels with the most of its words (each word matching the start of the code or of a
    label's word, or a word in ``SAME_AS``: "85311000 social" as a suggestion starts),
    health and social work services first (``_kind``), then in code order. Nothing for a
    query under two characters."""
    text = (query or "").strip().lower()
    if len(text) < 2:
        return []
    digits = text.replace(" ", "").split("-")[0]
    if digits.isdigit():
        return [(code, label) for code, label in cpv.codes().items()
                if code.startswith(digits)][:limit]
    words = _words(text)
    if not words:
        return []
    scores: dict[str, int] = {}
    for word in words:
        for code in _found_by(word):
            scores[code] = scores.get(code, 0) + 1
    labels = cpv.codes()
    scored = sorted((-score, _kind(code), code, labels[code]) for code, score in scores.items())
    return [(code, label) for _score, _kind_, code, label in scored[:limit]]
