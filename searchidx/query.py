"""The query language: turning what a reader types into a query tree (:mod:`.engine.tree`).

Plain words must all match, in the title or the body. Also understood: ``"exact
phrase"``, ``AND``/``OR``/``NOT``, ``-word``, ``field:value`` (title, body, place, source,
date, id), ``date:2024-03..2024-12``, ``prefix*`` and ``word~`` (fuzzy). The analysis
rules (folding, stemming) apply inside all of them. The syntax is read by Whoosh's parser
inside the engine (:mod:`searchidx.engine.whoosh_syntax`); on top of it, here:

- **aliases**: a run of query words that is a term of an alias group finds every term of
  the group ("DPRK" finds "North Korea"); a term of several words matches as a phrase;
- **joined names**: each run of two or three adjacent query words also matches the words
  written as one ("Ha Noi" finds "Hanoi", "Buon Ma Thuot" finds "Buonmathuot", "Kim
  Jongun" finds "Kim Jong-un"); the index side joins names written apart, so "Hanoi"
  finds "Hà Nội";
- **accents**: words typed with diacritics add a bonus for articles that spell them
  exactly so, so "Sơn" ranks "Bùi Thanh Sơn" above an English "son"; a query without
  diacritics treats every spelling alike.

Malformed syntax falls back to the plain words, with a notice that says so. A query of
plain words only (the common case) is built without the parser, into the tree the
parser would make (a property test compares the two).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import NamedTuple

from typing import TYPE_CHECKING

from .aliases import Aliases, AliasMatch
from .analysis import (JOINED_MAX_WORDS, exact_query_terms, is_acronym, prose_query_terms,
                       tokenize)
from .engine.tree import NOTHING, And, AndMaybe, AndNot, Or, Phrase, Query, Term, normalized
from .settings import (EXACT_SPELLING_BOOST, HEADLINE_MIN_WORDS, MAX_FUZZY_EDITS,
                       MAX_QUERY_CHARS, MIN_WILDCARD_PREFIX)

if TYPE_CHECKING:
    from .engine.interface import Snapshot

__all__ = ["ParsedQuery", "QueryBuilder", "bounded", "has_exclusion", "joined_notices",
           "plain_words", "syntax_problem"]

SEARCH_FIELDS = ("title", "body")
QUERY_FIELDS = frozenset({"title", "body", "place", "source", "date", "id"})
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_FIELD_PREFIX = re.compile(r'(?:^|[\s(+-])(\w+):(?=(\S?))')
_HYPHEN = "-"
_OPERATOR_WORD = re.compile(rf"\b(?:{'|'.join(_OPERATORS)})\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PLAIN_WORD = re.compile(r"\w+")
_WILDCARD = re.compile(r"[*?]")
_FUZZY = re.compile(r"~(\d*)(?:/\d*)?\)*$")
_PARTIAL_DATE = r"\d{4}(?:-\d{1,2}){0,2}"
_DATE_VALUE = re.compile(r"\bdate:(\[[^\]]*\]?|\S+)")
_CALENDAR_DATE = re.compile(r"\b\d{4}-\d{1,2}(?:-\d{1,2})?\b")
_DATE_RANGE = re.compile(rf"\bdate:({_PARTIAL_DATE})?\.\.({_PARTIAL_DATE})?(?=\s|\)|$)")


class ParsedQuery(NamedTuple):  # not a dataclass: making one takes a cold start ~1 ms
    """A query tree, and how the text was read when it was not read as written."""

    query: Query
    notice: str | None = None
    exact: Query | None = None
    """The query's accented words and acronyms as spelled: articles that match it rank
    above those that match only once folded. None when the query has none."""


def syntax_problem(text: str) -> str | None:
    """Why ``text`` is not well-formed query syntax, or None if it is."""
    if text.count('"') % 2:
        return "unbalanced quote"
    outside_quotes = re.sub(r'"[^"]*"', "phrase", text)
    depth = 0
    for char in outside_quotes:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth:
        return "unbalanced parenthesis"
    for match in _FIELD_PREFIX.finditer(outside_quotes):
        name, following = match[1], match[2]
        if name not in QUERY_FIELDS:
            return f"unknown field {name!r}"
        if not following or following in "()":
            return f"nothing after {name}:"
    for word in outside_quotes.split():
        problem = _wildcard_or_fuzzy_problem(word)
        if problem:
            return problem
    date_problem = _date_problem(outside_quotes)
    if date_problem:
        return date_problem
    words = outside_quotes.replace("(", " ( ").replace(")", " ) ").split()
    for before, word, after in zip(["("] + words, words, words[1:] + [")"]):
        if word in _OPERATORS - {"NOT"} and (before in _OPERATORS | {"("}
                                             or after in _OPERATORS | {")"}):
            return f"{word} needs a word on each side"
        if word == "NOT" and after in _OPERATORS | {")"}:
            return "NOT needs a word after it"
    return None


def _date_problem(text: str) -> str | None:
    """A ``date:`` value naming a month or day the calendar does not have (1987-02-30)."""
    values = " ".join(match[1] for match in _DATE_VALUE.finditer(text))
    for written in _CALENDAR_DATE.findall(values):
        year, month, day = (int(part) for part in (written + "-1-1").split("-")[:3])
        try:
            dt.date(year, month, day)
        except ValueError:
            return f"{written} is not a date"
    return None


def _wildcard_or_fuzzy_problem(word: str) -> str | None:
    """Wildcards and fuzziness that would expand to a large part of the vocabulary."""
    term = word.split(":", 1)[-1].lstrip("(+-")
    wildcard = _WILDCARD.search(term)
    if wildcard and len(re.sub(r"\W", "", term[:wildcard.start()])) < MIN_WILDCARD_PREFIX:
        return f"a wildcard needs at least {MIN_WILDCARD_PREFIX} letters before it"
    fuzzy = _FUZZY.search(term)
    if fuzzy and int(fuzzy[1] or 1) > MAX_FUZZY_EDITS:
        return f"fuzzy matching allows at most ~{MAX_FUZZY_EDITS} edits"
    return None


class QueryBuilder:
    """Builds query trees with one set of aliases (None: no aliases)."""

    def __init__(self, aliases: Aliases | None, snapshot: Snapshot | None = None) -> None:
        self.aliases = aliases
        self.snapshot = snapshot  # to offer only the joined words the index has; None: all
        self._indexed: dict[str, bool] = {}

    def parse(self, text: str, *, any_word: bool = False) -> ParsedQuery:
        """Parse ``text``; ``any_word=True`` lets articles match some of the words."""
        text, shortened = bounded(text)
        text = _headline_operators_as_words(text)
        plain = None if any_word else self._plain_query(text)
        if plain is not None:
            return self._finished(plain, text, shortened)
        text = _DATE_RANGE.sub(_date_range_syntax, text)
        excluded = _only_excluded(text)
        if excluded:
            return ParsedQuery(NOTHING, joined_notices(shortened, _only_exclusions(excluded)))
        problem = syntax_problem(text)
        if problem is None:
            query, problem = self._parsed_or_why_not(text, any_word)
            if query is not None:
                return self._finished(query, text, shortened)
        return self.plain(text, problem, any_word=any_word, shortened=shortened)

    def plain(self, text: str, problem: str, *, any_word: bool = False,
              shortened: str | None = None) -> ParsedQuery:
        """The plain words of a query that could not be read as written, and why."""
        words = plain_words(text)
        notice = (f"could not read the query {text!r} ({problem}); searching for the words: "
                  f"{' '.join(words) or '(none)'}")
        query = self.parsed_syntax(" ".join(words), any_word) if words else NOTHING
        return self._finished(query, text, joined_notices(shortened, notice))

    def parsed_syntax(self, text: str, any_word: bool) -> Query:
        """The tree of query syntax, each run of plain words in it read by :meth:`read_run`
        (raises for text the parser cannot read)."""
        from .engine.whoosh_syntax import parse

        return parse(text, SEARCH_FIELDS, self.read_run, any_word)

    def _parsed_or_why_not(self, text: str, any_word: bool) -> tuple[Query | None, str | None]:
        """``(query, None)``, or ``(None, problem)`` if the parser cannot make sense of
        ``text``."""
        try:
            query = self.parsed_syntax(text, any_word)
        except Exception as error:  # noqa: BLE001 (Whoosh raises bare Exceptions for bad dates)
            return None, str(error) or type(error).__name__
        return (query, None) if query != NOTHING else (None, "nothing to search for")

    def _plain_query(self, text: str) -> Query | None:
        """The tree of plain words, or of one quoted phrase of plain words, made without
        the parser; None for any other text. Such text is well-formed, has no date range
        and excludes nothing, so it is not checked for those."""
        if _are_plain(words := text.split()):
            return self._plain_words_query(words)
        if _is_plain_phrase(text):
            phrase = _plain_phrase_query(text[1:-1])
            return None if phrase == NOTHING else phrase
        return None

    def _plain_words_query(self, words: Sequence[str]) -> Query:
        """The tree the parser makes of plain words, made without it: its generic
        machinery (taggers, filters, syntax nodes) took about a sixth of a typical
        search's time, for queries that need none of it."""
        parts = []
        for index, alternatives in self.read_run(words):
            if index is None:  # an alias group
                parts.extend(alternatives)
                continue
            (term,) = self._prose_terms(words[index])  # a plain word is one term
            word = Or(tuple(Term(field, term) for field in SEARCH_FIELDS))
            parts.append(Or((word, *alternatives)) if alternatives else word)
        return normalized(And(tuple(parts)))

    def read_run(self, words: Sequence[str]) -> list[tuple[int | None, list[Query]]]:
        """How a run of plain query words is read, in order: ``(index, queries)`` for each
        word, with the queries of the joined forms it may also match ("Ha Noi" → "HaNoi",
        "Jong-un" → "Jongun"); ``(None, [query])`` for each run of words that is a term of
        an alias group ("DPRK", "North Korea"), matching the whole group."""
        matches = self.aliases.find(list(words)) if self.aliases else []
        parts: list[tuple[int | None, list]] = []
        position = 0
        for match in [*matches, None]:
            stop = match.start if match else len(words)
            parts.extend((position + index, joined) for index, joined
                         in enumerate(self._joined_forms(words[position:stop])))
            if match:
                parts.append((None, [self.alias_query(match)]))
                position = match.end
        return parts

    def _joined_forms(self, words: Sequence[str]) -> list[list[Query]]:
        """For each word, the queries of its joined forms that the index has: each run of
        two or three adjacent words it is in ("Buon Ma Thuot" → "BuonMa", "BuonMaThuot")."""
        joined = []
        for index, word in enumerate(words):
            forms = ["".join(words[start:start + length])
                     for length in range(2, JOINED_MAX_WORDS + 1)
                     for start in range(max(index - length + 1, 0),
                                        min(index, len(words) - length) + 1)]
            if _HYPHEN in word:
                forms.append(word.replace(_HYPHEN, ""))
            # A joined word the index lacks would match nothing, at the cost of a matcher.
            joined.append([self.any_field(form) for form in forms if self.is_indexed(form)])
        return joined

    def _finished(self, query: Query, text: str, notice: str | None) -> ParsedQuery:
        """The query with a bonus for the exact spellings of its accented words and
        acronyms, which also rank first (see :attr:`ParsedQuery.exact`)."""
        words = dict.fromkeys(term for term in exact_query_terms(text)
                              if term not in _OPERATORS)
        if query == NOTHING or not words:
            return ParsedQuery(query, notice)
        exact = Or(tuple(Term("exact", word, EXACT_SPELLING_BOOST) for word in words))
        return ParsedQuery(AndMaybe(query, exact), notice, exact)

    # --- building blocks for the runs of plain words ----------------------------------

    def any_field(self, text: str) -> Query:
        """``text`` in the title or the body: a term, or a phrase if it has several words;
        an acronym ("UN") only as written in capitals."""
        if is_acronym(text):
            return Term("exact", text)
        words = self._prose_terms(text)
        if len(words) == 1:
            return Or(tuple(Term(field, words[0]) for field in SEARCH_FIELDS))
        return Or(tuple(Phrase(field, tuple(words)) for field in SEARCH_FIELDS))

    def _prose_terms(self, text: str) -> list[str]:
        """The title and body terms of ``text`` as a query reads it (folded, stemmed)."""
        return prose_query_terms(text)

    def is_indexed(self, word: str) -> bool:
        """Whether ``word`` is a term of the title or the body (True without a snapshot)."""
        if self.snapshot is None:
            return True
        if word not in self._indexed:  # a joined pair is asked about from both its words
            terms = self._prose_terms(word)
            self._indexed[word] = len(terms) == 1 and any(
                self.snapshot.has_term(field, terms[0]) for field in SEARCH_FIELDS)
        return self._indexed[word]

    def alias_query(self, match: AliasMatch) -> Query:
        """Any term of the matched alias group, each kept apart from longer terms of other
        groups that contain it ("Republic of Korea" is not "…People's Republic of Korea")."""
        assert self.aliases is not None
        alternatives = []
        for form in match.forms:
            query = self.any_field(form)
            longer = self.aliases.longer_forms_containing(form)
            if longer:
                query = AndNot(query, Or(tuple(self.any_field(other) for other in longer)))
            alternatives.append(query)
        return Or(tuple(alternatives))


def bounded(text: str) -> tuple[str, str | None]:
    """The query without control characters, cut at a word if it is too long to be a
    query (with a notice saying so)."""
    text = _CONTROL.sub(" ", text).strip()
    if len(text) <= MAX_QUERY_CHARS:
        return text, None
    cut = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUERY_CHARS]
    return cut, f"the query was cut to its first {len(cut)} characters"


_ONLY_EXCLUSIONS = ("nothing to search for: the query only excludes words ({words}); "
                    "add a word to look for, as in “{example} -{first}”")
# The word that example offers, unless the excluded word is that one.
_EXCLUSION_EXAMPLES = ("Korea", "Vietnam")


def _only_exclusions(excluded: list[str]) -> str:
    """The notice for a query of exclusions alone, with an example that looks for a word
    it does not exclude."""
    example = next(word for word in _EXCLUSION_EXAMPLES
                   if word.lower() != excluded[0].lower())
    return _ONLY_EXCLUSIONS.format(words=", ".join(excluded), first=excluded[0],
                                   example=example)


def _only_excluded(text: str) -> list[str]:
    """The excluded words of a query that has nothing but exclusions (``-oil``,
    ``NOT oil``, ``-oil -gas``); empty if it looks for something."""
    words = re.sub(r'"([^"]*)"', lambda match: match[1].replace(" ", "_"), text)
    words = words.replace("(", " ").replace(")", " ").split()
    excluded = []
    for before, word in zip(["", *words], words):
        if word.startswith("-") and len(word) > 1:
            excluded.append(word[1:])
        elif before == "NOT" and word not in _OPERATORS:
            excluded.append(word)
        elif word not in _OPERATORS:
            return []
    return [word.replace("_", " ") for word in excluded]


def has_exclusion(text: str) -> bool:
    """Whether a query excludes something (``-word``, ``NOT word``; in a pasted headline,
    NOT is a word)."""
    return bool(_EXCLUSION.search(_headline_operators_as_words(text)))


_EXCLUSION = re.compile(r"(?:^|[\s(])(?:-(?=\S)|NOT\s)")


def joined_notices(*notices: str | None) -> str | None:
    """The notices that were given, in one line (None if none was)."""
    return "; ".join(notice for notice in notices if notice) or None


def _are_plain(words: Sequence[str]) -> bool:
    """Whether there are words, each letters and digits only and none an operator."""
    return bool(words) and all(_PLAIN_WORD.fullmatch(word) and word not in _OPERATORS
                               for word in words)


def _is_plain_phrase(text: str) -> bool:
    """Whether ``text`` is one quoted phrase of plain words (``"oil prices"``)."""
    return len(text) > 2 and text[0] == text[-1] == '"' and _are_plain(text[1:-1].split())


def _plain_phrase_query(words: str) -> Query:
    """The tree the parser makes of a quoted phrase of plain words, made without it (an
    eighth of such a search's time): the phrase's terms in the title or the body (a term
    if it has one, :data:`NOTHING` if none)."""
    terms = tuple(prose_query_terms(words))
    return normalized(Or(tuple(Phrase(field, terms) for field in SEARCH_FIELDS)))


def _headline_operators_as_words(text: str) -> str:
    """In a long query written all in capitals (a pasted headline, "BANK OF ENGLAND DOES
    NOT INTERVENE"), AND/OR/NOT are words, not operators."""
    letters = [char for char in text if char.isalpha()]
    shouted = bool(letters) and all(char.isupper() for char in letters)
    if not shouted or len(text.split()) < HEADLINE_MIN_WORDS:
        return text
    return _OPERATOR_WORD.sub(lambda match: match[0].lower(), text)


def plain_words(text: str) -> list[str]:
    """The folded words of a query, without its operators (unless nothing else is left)."""
    words = [word for word in text.split() if word.strip("()") not in _OPERATORS]
    return tokenize(" ".join(words)) or tokenize(text)


def _date_range_syntax(match: re.Match[str]) -> str:
    """``date:2024-03..2024-12`` in Whoosh's range syntax, ``date:[2024-03 TO 2024-12]``;
    either end may be left open (``date:2024..``)."""
    start, end = match[1], match[2]
    if not (start or end):
        return match[0]
    return f"date:[{start + ' ' if start else ''}TO{' ' + end if end else ''}]"
