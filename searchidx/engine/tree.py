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


class Require(NamedTuple):
    """Articles that match both ``scored`` and ``required``, scored as ``scored`` alone
    (the query language's ``REQUIRE``)."""

    scored: Query
    required: Query
    boost: float = 1.0


class Nothing(NamedTuple):
    """Matches no article (a query of exclusions alone, or nothing to search for)."""


NOTHING = Nothing()

Query = Union[Term, Phrase, Prefix, Wildcard, Fuzzy, TermRange, DateRange, And, Or, Not,
              AndNot, AndMaybe, Require, Nothing]
"""Any node of the tree."""

EXPANDING = (Prefix, Wildcard, Fuzzy, TermRange)
"""The leaves that stand for many terms of the index, expanded against it before a search."""


# --- normalizing -----------------------------------------------------------------------

def normalized(node: Query) -> Query:
    """``node`` without redundancy, as the query parser leaves its trees (Whoosh's
    ``normalize()``): an And (Or) inside an And (Or) merged into it, repeated parts and
    :class:`Nothing` dropped, a compound of one part replaced by that part (the boosts
    multiplied) and of none by :data:`NOTHING`, a phrase of one word made a term."""
    kind = type(node)
    if kind is And or kind is Or:
        return _normalized_compound(node)
    if kind is Phrase:
        if len(node.words) > 1:
            return node
        return Term(node.field, node.words[0]) if node.words else NOTHING
    if kind is Not:
        part = normalized(node.part)
        return NOTHING if part == NOTHING else node._replace(part=part)
    if kind in _BINARY:
        first, second = (normalized(part) for part in node[:2])
        return _BINARY[kind](first, second)
    return node


def _normalized_compound(node: And | Or) -> Query:
    kind = type(node)
    parts: list[Query] = []
    for part in node.parts:
        part = normalized(part)
        if type(part) is kind:
            parts += [with_boost(inner, boost_of(inner) * part.boost) for inner in part.parts]
        else:
            parts.append(part)
    unique = list({_identity(part): part for part in parts if part != NOTHING}.values())
    if not unique:
        return NOTHING
    if len(unique) == 1:
        only = unique[0]
        if node.boost == 1.0 and boost_of(only) == 1.0:
            return only
        return with_boost(only, boost_of(only) * node.boost)
    return node._replace(parts=tuple(unique))


def _identity(node: Query) -> tuple:
    """What tells ``node`` apart from any other tree: its kind and fields, and those of
    its parts (named tuples of different kinds with equal fields compare equal; keying
    by ``repr`` took 85 µs for a query of eight words)."""
    kind = type(node)
    if kind in _LEAVES:
        return kind, node
    return (kind, *(tuple(map(_identity, value)) if type(value) is tuple
                    else _identity(value) if isinstance(value, tuple) else value
                    for value in node))


_LEAVES = frozenset({Term, Phrase, Prefix, Wildcard, Fuzzy, TermRange, DateRange, Nothing})


def _normalized_and_not(positive: Query, negative: Query) -> Query:
    if positive == NOTHING:
        return NOTHING
    return positive if negative == NOTHING else AndNot(positive, negative)


def _normalized_and_maybe(required: Query, optional: Query) -> Query:
    if required == NOTHING:
        return NOTHING
    return required if optional == NOTHING else AndMaybe(required, optional)


def _normalized_require(scored: Query, required: Query) -> Query:
    return NOTHING if NOTHING in (scored, required) else Require(scored, required)


_BINARY = {AndNot: _normalized_and_not, AndMaybe: _normalized_and_maybe,
           Require: _normalized_require}


def boost_of(node: Query) -> float:
    """The node's boost (1 for :class:`Nothing`)."""
    return getattr(node, "boost", 1.0)


def with_boost(node: Query, boost: float) -> Query:
    """``node`` boosted so (a binary node passes the boost to its scored parts, as
    Whoosh's do)."""
    kind = type(node)
    if kind is Nothing:
        return node
    if kind is AndNot:
        return AndNot(with_boost(node.positive, boost), node.negative)
    if kind is Require:
        return Require(with_boost(node.scored, boost), node.required)
    if kind is AndMaybe:
        return AndMaybe(with_boost(node.required, boost), with_boost(node.optional, boost))
    return node._replace(boost=boost)
