"""Matching and ranking the common queries over whole posting lists.

Whoosh answers a query by walking a tree of matchers one posting at a time in Python:
``skip_to`` steps through a block posting by posting, and the tree is asked ``is_active``
and ``id`` millions of times on a large archive. The queries readers type most (words
that must all match in the title or the body, phrases, the bonus for exact spellings,
excluded words) are evaluated here a segment at a time instead: each term's postings are
read whole, block by block, the boolean logic is done on sets of document numbers (in
C), and only the documents that match are scored, with Whoosh's own BM25F formula and
statistics, so the ranking is the one Whoosh gives (the tests compare the two).

:func:`rank` returns None for a query it does not evaluate (wildcards, fuzzy words,
ranges, any-word matching); the caller runs those through Whoosh.
"""

from __future__ import annotations

import heapq
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate

from whoosh import query as q

from .settings import BM25_B, BM25_K1

__all__ = ["Ranked", "Ranking", "body_chars", "rank"]

Term = tuple[str, bytes]  # (field, term) as Whoosh keeps it
Chars = tuple[tuple[int, int, int], ...]  # (position, start, end) of each occurrence


@dataclass(frozen=True)
class Ranked:
    """One matching article: its document number, score and matched terms."""

    docnum: int
    score: float
    terms: frozenset[Term]
    body_chars: dict[str, Chars]
    """Where each matched body term occurs in the article's body (empty when unknown)."""


@dataclass(frozen=True)
class Ranking:
    """The best matches of a query, best first, and how many articles match in all."""

    total: int
    hits: tuple[Ranked, ...]


class Unsupported(Exception):
    """A query part this module does not evaluate (Whoosh does)."""


def rank(searcher, query, limit: int, exact=None, allowed: frozenset[int] | None = None
         ) -> Ranking | None:
    """The top ``limit`` matches of a Whoosh ``query`` by BM25F, or None if the query has
    parts this module does not evaluate.

    ``exact`` (a query) puts the articles it matches first, as a sort key before the
    score; ``allowed`` keeps only those document numbers (a date filter). Ties go to the
    lower document number, as in Whoosh.
    """
    candidates: list[tuple[tuple[int, float, int], _Segment, _Node, int]] = []
    total = 0
    for leaf, offset in searcher.leaf_searchers():
        segment = _Segment(searcher, leaf, offset, allowed)
        try:
            node = segment.node(query)
            first = segment.node(exact) if exact is not None else _EMPTY
        except Unsupported:
            return None
        docs = segment.permitted(node.docs)
        total += len(docs)
        for doc in _best(docs, node, first, limit):
            key = (0 if doc in first.docs else 1, -node.score(doc), doc + offset)
            candidates.append((key, segment, node, doc))
    best = heapq.nsmallest(limit, candidates, key=lambda candidate: candidate[0])
    return Ranking(total, tuple(segment.ranked(node, doc) for _, segment, node, doc in best))


def _best(docs: Iterable[int], node: _Node, first: _Node, limit: int) -> list[int]:
    """The ``limit`` best documents of one segment."""
    score, preferred = node.score, first.docs
    return heapq.nsmallest(limit, docs, key=lambda doc: (doc not in preferred, -score(doc), doc))


def body_chars(searcher, docnums: Iterable[int], terms: Iterable[str]) -> dict[int, dict[str, Chars]]:
    """Where each body term occurs in each article, read from the postings in one pass
    per term (for hits that Whoosh found)."""
    chars: dict[int, dict[str, Chars]] = {docnum: {} for docnum in docnums}
    for term in sorted(set(terms)):
        postings = searcher.postings("body", term)
        for docnum in sorted(chars):
            if not postings.is_active():
                break
            postings.skip_to(docnum)
            if postings.is_active() and postings.id() == docnum:
                chars[docnum][term] = tuple(postings.value_as("characters"))
    return chars


# --- reading postings ---------------------------------------------------------------------------

@dataclass
class _Postings:
    """A term's postings in one segment, read whole: sorted document numbers, weights and
    encoded values (positions, characters)."""

    ids: array
    weights: list[float]
    values: list[bytes]

    def at(self, doc: int) -> int:
        return bisect_left(self.ids, doc)


def _read_postings(matcher) -> _Postings:
    """All the postings of a term's matcher."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching import FilterMatcher

    while isinstance(matcher, FilterMatcher):  # deletions are applied by the caller
        matcher = matcher.child
    if type(matcher) is W3LeafMatcher:
        return _read_blocks(matcher)
    postings = _Postings(array("I"), [], [])
    while matcher.is_active():
        postings.ids.append(matcher.id())
        postings.weights.append(matcher.weight())
        postings.values.append(matcher.value())
        matcher.next()
    return postings


def _read_blocks(matcher) -> _Postings:
    """A whole block at a time from Whoosh's on-disk format (``whoosh3`` codec): each block
    is one pickled tuple of ids (delta-coded), weights and values, decoded here in C
    rather than a posting at a time."""
    postings = _Postings(array("I"), [], [])
    fixed_size = matcher.format.fixed_value_size()
    while not matcher._atend:
        matcher._read_data()
        ids, weights, values = matcher._data
        count = matcher._blocklength
        postings.ids.extend(ids if matcher._byteids else accumulate(ids))
        if weights is None or isinstance(weights, float):
            postings.weights.extend([1.0 if weights is None else weights] * count)
        else:
            postings.weights.extend(weights)
        if fixed_size is None or fixed_size < 0:
            postings.values.extend(values)
        elif fixed_size == 0:
            postings.values.extend([None] * count)
        else:
            postings.values.extend(values[i:i + fixed_size]
                                   for i in range(0, len(values), fixed_size))
        matcher._next_block()
    return postings


# --- evaluating a query in one segment ----------------------------------------------------------

class _Segment:
    """One segment of the index while a query is evaluated: its postings and field
    lengths, each read at most once."""

    def __init__(self, searcher, leaf, offset: int, allowed: frozenset[int] | None) -> None:
        self.searcher, self.leaf, self.offset = searcher, leaf, offset
        self.reader = leaf.reader()
        self.deleted = _deleted(self.reader)
        self.allowed = allowed
        self._postings: dict[Term, _Postings | None] = {}
        self._lengths: dict[tuple[int, str], int] = {}

    def everything(self) -> frozenset[int]:
        return frozenset(range(self.reader.doc_count_all())) - self.deleted

    def permitted(self, docs: frozenset[int]) -> frozenset[int]:
        """``docs`` within the date filter, if any."""
        if self.allowed is None:
            return docs
        return frozenset(doc for doc in docs if doc + self.offset in self.allowed)

    def postings(self, field: str, text: bytes) -> _Postings | None:
        key = (field, text)
        if key not in self._postings:
            present = key in self.reader
            self._postings[key] = _read_postings(self.reader.postings(field, text)) if present else None
        return self._postings[key]

    def length(self, doc: int, field: str) -> int:
        key = (doc, field)
        if key not in self._lengths:
            self._lengths[key] = self.leaf.doc_field_length(doc, field, 1)
        return self._lengths[key]

    def node(self, query) -> _Node:
        """The node that evaluates ``query`` here; raises :class:`Unsupported`."""
        if query is q.NullQuery:
            return _EMPTY
        kind = type(query)
        if kind is q.Term:
            return self._term(query.fieldname, query.text, query.boost)
        if kind is q.Phrase:
            return self._phrase(query)
        if kind is q.AndMaybe:
            return _AndMaybe(self.node(query.a), self.node(query.b))
        if kind is q.AndNot:
            return _AndNot(self.node(query.a), self.node(query.b))
        if kind is q.Not:  # every other article, each scoring 1 (Whoosh's InverseMatcher)
            return _Constant(self.everything() - self.node(query.query).docs, 1.0)
        if kind in (q.And, q.Or) and not getattr(query, "scale", None):
            return self._compound(query, _And if kind is q.And else _Or)
        raise Unsupported(kind.__name__)

    def _compound(self, query, node_class) -> _Node:
        children = [self.node(sub) for sub in query.subqueries]
        if not children:
            return _EMPTY
        if len(children) == 1:  # Whoosh drops the boost of a one-query group too
            return children[0]
        return _Boosted(node_class(children), query.boost)

    def _term(self, field: str, text, boost: float) -> _Node:
        schema = self.searcher.schema
        if field not in schema:
            return _EMPTY
        try:
            btext = schema[field].to_bytes(text)
        except ValueError:
            return _EMPTY
        postings = self.postings(field, btext)
        if postings is None:
            return _EMPTY
        return _Boosted(_TermNode(self, field, btext, postings), boost)

    def _phrase(self, query) -> _Node:
        field = self.searcher.schema[query.fieldname] if query.fieldname in self.searcher.schema else None
        if field is None:
            return _EMPTY
        if not field.format.supports("positions") or query.slop != 1:
            raise Unsupported("phrase")
        terms = []
        for word in query.words:
            try:
                btext = field.to_bytes(word)
            except ValueError:
                return _EMPTY
            postings = self.postings(query.fieldname, btext)
            if postings is None:
                return _EMPTY
            terms.append(_TermNode(self, query.fieldname, btext, postings))
        return _Boosted(_PhraseNode(terms, field.format), query.boost)

    def ranked(self, node: _Node, doc: int) -> Ranked:
        terms = frozenset(node.terms(doc))
        chars = {text.decode("utf-8"): tuple(_decode(self, "body", text, doc, "characters"))
                 for field, text in terms if field == "body"}
        return Ranked(doc + self.offset, node.score(doc), terms, chars)


_DELETED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _deleted(reader) -> frozenset[int]:
    """The deleted documents of a segment, found once per open reader (a segment's
    deletions do not change while it is open)."""
    if not reader.has_deletions():
        return frozenset()
    if reader not in _DELETED:
        _DELETED[reader] = frozenset(range(reader.doc_count_all())) - frozenset(reader.all_doc_ids())
    return _DELETED[reader]


def _decode(segment: _Segment, field: str, text: bytes, doc: int, astype: str):
    postings = segment.postings(field, text)
    value = postings.values[postings.at(doc)]
    return segment.searcher.schema[field].format.decode_as(astype, value)


# --- nodes: a query part's matching documents, and each one's score and matched terms --------

class _Node:
    docs: frozenset[int] = frozenset()

    def score(self, doc: int) -> float:
        return 0.0

    def terms(self, doc: int) -> Iterator[Term]:
        return iter(())


_EMPTY = _Node()


class _TermNode(_Node):
    """A term: Whoosh's BM25F score (``scoring.BM25FScorer``, the searcher's weighting as
    ``search.scoring`` makes it) of its weight in a document, with the collection
    statistics of the whole index."""

    def __init__(self, segment: _Segment, field: str, text: bytes, postings: _Postings) -> None:
        self.segment, self.field, self.term = segment, field, (field, text)
        self.postings = postings
        self.docs = frozenset(postings.ids) - segment.deleted
        searcher = segment.searcher
        self.scorable = searcher.schema[field].scorable
        self.idf = searcher.idf(field, text)
        self.avg_length = searcher.avg_field_length(field) or 1

    def score(self, doc: int) -> float:
        weight = self.postings.weights[self.postings.at(doc)]
        if not self.scorable:
            return weight
        length = self.segment.length(doc, self.field)
        return self.idf * (weight * (BM25_K1 + 1)) / (
            weight + BM25_K1 * ((1 - BM25_B) + BM25_B * length / self.avg_length))

    def terms(self, doc: int) -> Iterator[Term]:
        yield self.term


class _Boosted(_Node):
    def __new__(cls, node: _Node, boost: float):
        if boost == 1.0 or node is _EMPTY:
            return node
        return super().__new__(cls)

    def __init__(self, node: _Node, boost: float) -> None:
        self.node, self.boost, self.docs = node, boost, node.docs

    def score(self, doc: int) -> float:
        return self.node.score(doc) * self.boost

    def terms(self, doc: int) -> Iterator[Term]:
        return self.node.terms(doc)


class _And(_Node):
    def __init__(self, children: list[_Node]) -> None:
        self.children = children
        smallest, *others = sorted((child.docs for child in children), key=len)
        self.docs = smallest.intersection(*others)

    def score(self, doc: int) -> float:
        return sum(child.score(doc) for child in self.children)

    def terms(self, doc: int) -> Iterator[Term]:
        for child in self.children:
            yield from child.terms(doc)


class _Or(_Node):
    def __init__(self, children: list[_Node]) -> None:
        self.children = [child for child in children if child.docs]
        self.docs = frozenset().union(*(child.docs for child in self.children))

    def score(self, doc: int) -> float:
        return sum(child.score(doc) for child in self.children if doc in child.docs)

    def terms(self, doc: int) -> Iterator[Term]:
        for child in self.children:
            if doc in child.docs:
                yield from child.terms(doc)


class _AndMaybe(_Node):
    """``required`` decides what matches; ``optional`` adds its score where it matches too."""

    def __init__(self, required: _Node, optional: _Node) -> None:
        self.required, self.optional, self.docs = required, optional, required.docs

    def score(self, doc: int) -> float:
        bonus = self.optional.score(doc) if doc in self.optional.docs else 0.0
        return self.required.score(doc) + bonus

    def terms(self, doc: int) -> Iterator[Term]:
        yield from self.required.terms(doc)
        if doc in self.optional.docs:
            yield from self.optional.terms(doc)


class _AndNot(_Node):
    def __init__(self, positive: _Node, negative: _Node) -> None:
        self.positive = positive
        self.docs = positive.docs - negative.docs

    def score(self, doc: int) -> float:
        return self.positive.score(doc)

    def terms(self, doc: int) -> Iterator[Term]:
        return self.positive.terms(doc)


class _Constant(_Node):
    def __init__(self, docs: frozenset[int], score: float) -> None:
        self.docs, self._score = docs, score

    def score(self, doc: int) -> float:
        return self._score


class _PhraseNode(_Node):
    """Words at consecutive positions; scored as the sum of its words' scores (Whoosh's
    ``SpanNear2`` with slop 1)."""

    def __init__(self, words: list[_TermNode], field_format) -> None:
        self.words = words
        decode = field_format.decode_positions
        smallest, *others = sorted((word.docs for word in words), key=len)
        candidates = smallest.intersection(*others)

        def positions(word: _TermNode, doc: int) -> list[int]:
            return decode(word.postings.values[word.postings.at(doc)])

        self.docs = frozenset(doc for doc in candidates
                              if _in_sequence([positions(word, doc) for word in words]))

    def score(self, doc: int) -> float:
        return sum(word.score(doc) for word in self.words)

    def terms(self, doc: int) -> Iterator[Term]:
        for word in self.words:
            yield word.term


def _in_sequence(positions: list[list[int]]) -> bool:
    """Whether some position p has the first word at p, the second at p+1, and so on."""
    starts = set(positions[0])
    for offset, later in enumerate(positions[1:], 1):
        starts.intersection_update(p - offset for p in later)
        if not starts:
            return False
    return True
