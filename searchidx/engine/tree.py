"""The query tree: what a search asks an engine for, in searchidx's own terms.

The query language (:mod:`searchidx.query`) builds it; each engine runs it: the local
engine compiles it into Whoosh's matchers, the OpenSearch engine into the Query DSL. No
Whoosh type appears in it. Field names are searchidx's (``title``, ``body``, ``exact``,
``place``, ``source``, ``date``, ``id``); the text of a leaf is as the field's analysis
made it (folded and stemmed for ``title``/``body``, as spelled for ``exact``), except
:class:`Fuzzy`, whose word is folded but not stemmed (the engine stems what it finds).

The nodes are named tuples: immutable, comparable, and cheap to define at start-up.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Union


class Term(NamedTuple):
    """One term of a field."""

    field: str
    text: str
    boost: float = 1.0


class Phrase(NamedTuple):
    """Terms of a field in this order, at most ``slop`` positions apart."""

    field: str
    words: tuple[str, ...]
    slop: int = 1
    boost: float = 1.0


class Prefix(NamedTuple):
    """Every term of a field that begins with ``text`` (``minist*``)."""

    field: str
    text: str
    boost: float = 1.0


class Wildcard(NamedTuple):
    """Every term of a field that matches ``pattern``: ``*`` any letters, ``?`` one."""

    field: str
    pattern: str
    boost: float = 1.0


class Fuzzy(NamedTuple):
    """Every term within ``max_edits`` edits of ``text`` that shares its first
    ``prefix_letters`` letters (``ministr~``)."""

    field: str
    text: str
    max_edits: int = 1
    prefix_letters: int = 1
    boost: float = 1.0


class TermRange(NamedTuple):
    """Every term of a field between two terms (``[a TO c]``); None leaves an end open."""

    field: str
    start: str | None
    end: str | None
    include_start: bool = True
    include_end: bool = True
    boost: float = 1.0


class DateRange(NamedTuple):
    """Articles dated from ``start`` to ``end``, both included; None leaves an end open."""

    field: str
    start: dt.datetime | None
    end: dt.datetime | None
    boost: float = 1.0


class And(NamedTuple):
    """Every part matches; the scores add up. A :class:`Not` part excludes."""

    parts: tuple[Query, ...]
    boost: float = 1.0


class Or(NamedTuple):
    """At least one part matches; the scores add up, and each matching part adds
    ``coordination`` times the score's share (0: no bonus for matching more parts)."""

    parts: tuple[Query, ...]
    coordination: float = 0.0
    boost: float = 1.0


class Not(NamedTuple):
    """Articles that do not match ``part``: inside an :class:`And`, an exclusion."""

    part: Query
    boost: float = 1.0


class AndNot(NamedTuple):
    """Articles that match ``positive`` and not ``negative``, scored as ``positive``."""

    positive: Query
    negative: Query
    boost: float = 1.0


class AndMaybe(NamedTuple):
    """Articles that match ``required``; those that also match ``optional`` add its
    score (the exact-spelling bonus)."""

    required: Query
    optional: Query
    boost: float = 1.0


class Nothing(NamedTuple):
    """Matches no article (a query of exclusions alone, or nothing to search for)."""


NOTHING = Nothing()

Query = Union[Term, Phrase, Prefix, Wildcard, Fuzzy, TermRange, DateRange, And, Or, Not,
              AndNot, AndMaybe, Nothing]
"""Any node of the tree."""

LEAVES = (Term, Phrase, Prefix, Wildcard, Fuzzy, TermRange, DateRange)
EXPANDING = (Prefix, Wildcard, Fuzzy, TermRange)
"""The leaves that stand for many terms of the index, expanded against it before a search."""
