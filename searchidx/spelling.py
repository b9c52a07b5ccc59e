"""Spelling corrections for a query that found nothing: confident ones only, written as
the archive writes the words.

Only plain words are corrected, and only those the index does not contain: field
prefixes, operators, quoted phrases, wildcards, ranges, dates and every word the index
has stay byte for byte as typed. The candidates for a word are the index's words within
one edit of it (two for a longer word) that begin with its first letter, and the words
one edit away at the first letter. Candidates that share a stem find the same articles:
they make one reading of the word. Each reading is scored as a noisy channel scores it:
the number of articles that have it, times the odds that its likeliest candidate was
typed as the word (see :func:`_typing_odds`). The best reading is taken only if it scores
at least ``CORRECTION_MIN_SCORE`` and more than the next: "injected" is not turned into a
rare "inverted" two letters away.

A corrected word is shown in the form the archive writes it most often ("Nguyn" becomes
"Nguyễn"), read from its occurrences in a sample of articles.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from itertools import islice, product
from string import ascii_lowercase
from typing import TYPE_CHECKING, NamedTuple

from .analysis import TOKEN_PATTERN, prose_query_terms, tokenize
from .budget import Budget
from .query import SEARCH_FIELDS
from .settings import (CORRECTION_EDIT_ODDS_PER_LETTER, CORRECTION_LONGEST_WORD,
                       CORRECTION_MAX_WORDS, CORRECTION_MIN_SCORE, CORRECTION_SHORT_WORD,
                       CORRECTION_SHORTEST_WORD, CORRECTION_SURFACE_SAMPLE,
                       CORRECTION_WRONG_LETTER_ODDS)

if TYPE_CHECKING:
    from .engine.interface import Snapshot

__all__ = ["spelling_correction"]

# A quoted phrase (left whole), or a run of other characters.
_QUERY_PART = re.compile(r'"[^"]*"?|[^\s"]+')
# What may hold a plain word: in brackets, after a "+" or the name of a field of prose
# ("title:Nguyn"), before a comma or a full stop.
_WORD_PLACE = re.compile(rf"[(+]*(?:(?:{'|'.join(SEARCH_FIELDS)}):)?([^()]+?)\)*[,.;!?]*")
_NOT_LETTERS = re.compile(r"[\d_]")
# The operators of the query language (and TO of its ranges): syntax, never words.
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})


class _Word(NamedTuple):
    """A plain word of a query: where it is in the text, as typed, and folded."""

    start: int
    end: int
    typed: str
    folded: str


def spelling_correction(snapshot: Snapshot, text: str, budget: Budget) -> str | None:
    """``text`` with each plain word that the index does not contain replaced by its
    confident correction, as the archive writes it; None if no word was corrected."""
    words = list(_plain_query_words(text))
    if len(words) > CORRECTION_MAX_WORDS:
        return None
    corrected, position = [], 0
    for word in words:
        if budget.stop_if_exhausted():
            return None
        correction = _correction(snapshot, word, budget)
        if correction:
            corrected += [text[position:word.start], correction]
            position = word.end
    return "".join([*corrected, text[position:]]) if corrected else None


def _plain_query_words(text: str) -> Iterator[_Word]:
    """The plain words of a query, outside quotes and syntax, that are one word when folded."""
    for part in _QUERY_PART.finditer(text):
        match = _WORD_PLACE.fullmatch(part[0])
        if match is None or not _is_letters(match[1]) or match[1] in _OPERATORS:
            continue
        folded = _folded(match[1])
        if folded:
            yield _Word(part.start() + match.start(1), part.start() + match.end(1),
                        match[1], folded)


def _is_letters(text: str) -> bool:
    """Whether ``text`` is one word of letters (with their marks)."""
    return bool(TOKEN_PATTERN.fullmatch(text)) and not _NOT_LETTERS.search(text)


def _correction(snapshot: Snapshot, word: _Word, budget: Budget) -> str | None:
    """The written form of the confident correction of a word, or None."""
    length = len(word.folded)
    if not CORRECTION_SHORTEST_WORD <= length <= CORRECTION_LONGEST_WORD \
            or _is_known(snapshot, word.typed):
        return None
    maxdist = 1 if length <= CORRECTION_SHORT_WORD else 2
    readings = sorted(_readings(snapshot, word.folded, maxdist, budget), reverse=True)
    if not readings:
        return None
    best, runner_up = readings[0], (readings[1].score if len(readings) > 1 else 0.0)
    if best.score < CORRECTION_MIN_SCORE or best.score == runner_up:
        return None
    return _written_form(snapshot, best)


def _is_known(snapshot: Snapshot, word: str) -> bool:
    return any(snapshot.doc_frequency(field, term) for field in SEARCH_FIELDS
               for term in prose_query_terms(word))


class _Reading(NamedTuple):
    """Candidates that share a prose term (a stem: "price", "prices"), so find the same
    articles: one reading of the word, scored by its likeliest candidates."""

    score: float
    term: str
    likeliest: frozenset[str]


def _readings(snapshot: Snapshot, word: str, maxdist: int, budget: Budget) -> list[_Reading]:
    """The readings of a folded word that the index does not contain, each scored by the
    number of articles that have its term times the odds that its likeliest candidate
    was typed as ``word``."""
    candidates = set(snapshot.spelling_words_within("body", word, maxdist, 1, budget))
    candidates.update(candidate for candidate in _first_letter_edits(word)
                      if snapshot.is_spelling_word("body", candidate))
    candidates.discard(word)
    by_term: dict[str, dict[str, float]] = {}
    for candidate in candidates:
        if budget.stop_if_exhausted():
            break
        for term in prose_query_terms(candidate):
            by_term.setdefault(term, {})[candidate] = _typing_odds(candidate, word)
    readings = []
    for term, odds in by_term.items():
        best = max(odds.values())
        readings.append(_Reading(snapshot.doc_frequency("body", term) * best, term,
                                 frozenset(c for c, value in odds.items() if value == best)))
    return readings


def _typing_odds(meant: str, typed: str) -> float:
    """The odds that ``meant`` was typed as ``typed``, by the likeliest edits between the
    two (Damerau-Levenshtein, weighted). Each edit weighs the odds of a slip, which grow
    with the word's length; a letter added or replaced must also be the very letter that
    was typed, one of many, so it weighs less than a letter dropped, doubled, or two
    swapped."""
    slip = min(1.0, CORRECTION_EDIT_ODDS_PER_LETTER * len(typed))
    wrong = slip * CORRECTION_WRONG_LETTER_ODDS
    odds = [[0.0] * (len(typed) + 1) for _ in range(len(meant) + 1)]
    for i, j in product(range(len(meant) + 1), range(len(typed) + 1)):
        if not (i or j):
            odds[i][j] = 1.0
            continue
        doubled = j > 1 and typed[j - 1] == typed[j - 2]
        ways = [odds[i - 1][j] * slip if i else 0.0,  # a letter of meant dropped
                odds[i][j - 1] * (slip if doubled else wrong) if j else 0.0]  # one added
        if i and j:
            ways.append(odds[i - 1][j - 1] * (1.0 if meant[i - 1] == typed[j - 1] else wrong))
        if i > 1 and j > 1 and meant[i - 1] == typed[j - 2] and meant[i - 2] == typed[j - 1]:
            ways.append(odds[i - 2][j - 2] * slip)  # two letters swapped
        odds[i][j] = max(ways)
    return odds[-1][-1]


def _first_letter_edits(word: str) -> Iterator[str]:
    """The words one edit from ``word`` at its first letter (the other candidates keep
    it): a letter dropped, added, replaced, or swapped with the next."""
    rest = word[1:]
    yield rest
    yield word[1:2] + word[0] + word[2:]
    for letter in ascii_lowercase:
        yield letter + word
        yield letter + rest


def _written_form(snapshot: Snapshot, reading: _Reading) -> str:
    """The form in which the archive most often writes the reading's likeliest candidates
    ("Nguyễn" for "nguyen"); the first of them, folded, if the sample has none."""
    forms = _written_forms(snapshot, reading.term)
    written = (form for form, _ in forms.most_common() if _folded(form) in reading.likeliest)
    return next(written, min(reading.likeliest))


def _folded(text: str) -> str | None:
    """A written word folded, as the index has it (None for a joined name)."""
    words = tokenize(text)
    return words[0] if len(words) == 1 else None


def _written_forms(snapshot: Snapshot, term: str) -> Counter[str]:
    """How often each form is written for the body ``term`` in the first
    ``CORRECTION_SURFACE_SAMPLE`` articles that have it."""
    forms: Counter[str] = Counter()
    occurrences = snapshot.term_occurrences("body", term)
    for docnum, chars in islice(occurrences, CORRECTION_SURFACE_SAMPLE):
        body = snapshot.stored_fields(docnum).get("body", "")
        forms.update(body[start:end] for _, start, end in chars)
    return forms
