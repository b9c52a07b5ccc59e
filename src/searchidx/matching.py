"""Matching and ranking the common queries over whole posting lists.

Whoosh answers a query by walking a tree of matchers one posting at a time in Python:
``skip_to`` steps through a block posting by posting, and the tree is asked ``is_active``
and ``id`` millions of times on a large archive. The queries readers type most (words
that must all match in the title or the body, phrases, the bonus for exact spellings,
excluded words) are evaluated here a segment at a time instead: each term's postings are
read a block at a time, the boolean logic is done on sets of document numbers (in C),
and only the documents that match are scored, with Whoosh's own BM25F formula and
statistics, so the ranking is the one Whoosh gives (the tests compare the two). The
rarest part of a conjunction is read first; the others read only the blocks that can
hold its documents (a block's header gives its last document number).

:func:`rank` returns None for a query it does not evaluate (wildcards, fuzzy words,
ranges, any-word matching); the caller runs those through Whoosh.
"""

from __future__ import annotations

import heapq
import io
import itertools
import pickle
import struct
import weakref
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property, partial
from operator import itemgetter
from typing import NamedTuple

from whoosh import query as q
from whoosh.util.numeric import byte_to_length

from .settings import BM25_B, BM25_K1

__all__ = ["Ranked", "Ranking", "body_chars", "rank"]

Term = tuple[str, bytes]  # (field, term) as Whoosh keeps it
Chars = tuple[tuple[int, int, int], ...]  # (position, start, end) of each occurrence


class Ranked(NamedTuple):  # named tuples, not dataclasses: quicker to make at start-up
    """One matching article: its document number, score and matched terms."""

    docnum: int
    score: float
    terms: frozenset[Term]
    body_chars: dict[str, Chars]
    """Where each matched body term occurs in the article's body (empty when unknown)."""


class Ranking(NamedTuple):
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
        docs = node.within(segment.allowed_here())
        first.within(docs)
        total += len(docs)
        for doc in _best(docs, node, first, limit):
            key = (0 if doc in first.matched else 1, -node.score(doc), doc + offset)
            candidates.append((key, segment, node, doc))
    best = heapq.nsmallest(limit, candidates, key=lambda candidate: candidate[0])
    return Ranking(total, tuple(segment.ranked(node, doc, -key[1])
                                for key, segment, node, doc in best))


def _best(docs: Iterable[int], node: _Node, first: _Node, limit: int) -> list[int]:
    """The ``limit`` best documents of one segment: by ``first`` (exact spellings), then
    score, then document number."""
    score, preferred = node.score, first.matched
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

class _Block:
    """Decoded postings: sorted document numbers, and their weights and encoded values
    (positions, characters) as Whoosh's format keeps them."""

    def __init__(self, ids: Sequence[int], weights, values, fixed_size: int | None) -> None:
        self.ids, self.weights, self.values, self.fixed_size = ids, weights, values, fixed_size

    @cached_property
    def _index_of(self) -> dict[int, int]:
        return dict(zip(self.ids, range(len(self.ids))))

    def find(self, doc: int) -> int | None:
        return self._index_of.get(doc)

    def weight(self, index: int) -> float:
        weights = self.weights
        if weights is None or isinstance(weights, float):  # all 1.0, or all the same
            return 1.0 if weights is None else weights
        return weights[index]

    def value(self, index: int):
        size = self.fixed_size
        if size is None or size < 0:
            return self.values[index]
        return self.values[index * size:(index + 1) * size] if size else None


class _Postings:
    """A term's postings in one segment, decoded a block at a time as they are needed.

    The term's whole extent of Whoosh's ``whoosh3`` format is read at once: after a magic
    number, each block is a signed length (negative for the last), a pickled info tuple
    (count, last id, …, compression) and the pickled, maybe compressed, tuple of ids
    (delta-coded), weights and values; blocks are decoded in C, not a posting at a time.
    """

    def __init__(self, matcher) -> None:
        from whoosh.codec.whoosh3 import W3LeafMatcher
        from whoosh.matching import FilterMatcher

        while isinstance(matcher, FilterMatcher):  # deletions are applied by the caller
            matcher = matcher.child
        self._blocks: dict[int, _Block] = {}
        self._ids: frozenset[int] | None = None
        if type(matcher) is W3LeafMatcher:
            self._raw, self._headers = _extent(matcher)
            self._last_ids = [header.last_id for header in self._headers]
            self.count = sum(header.count for header in self._headers)
            self._fixed_size = matcher.format.fixed_value_size()
            self._byte_ids = matcher._byteids
        else:  # postings kept in the term's entry (a rare term) or another codec's
            self._blocks[0] = _one_at_a_time(matcher)
            self._last_ids = [self._blocks[0].ids[-1]] if self._blocks[0].ids else []
            self.count = len(self._blocks[0].ids)

    def ids(self) -> frozenset[int]:
        """The document numbers of the decoded blocks."""
        if self._ids is None:
            self._ids = frozenset(itertools.chain.from_iterable(
                block.ids for block in self._blocks.values()))
        return self._ids

    def find(self, doc: int) -> tuple[_Block, int] | None:
        """Where ``doc``'s posting is, among the decoded blocks."""
        block = self._blocks.get(bisect_left(self._last_ids, doc))
        index = block.find(doc) if block else None
        return None if index is None else (block, index)

    def weight(self, doc: int) -> float:
        block, index = self.find(doc)
        return block.weight(index)

    def value(self, doc: int):
        block, index = self.find(doc)
        return block.value(index)

    def read_all(self) -> None:
        self._decode(range(len(self._last_ids)))

    def read_around(self, docs: Iterable[int]) -> None:
        """Decode the blocks that could hold these document numbers."""
        count = len(self._last_ids)
        self._decode({number for number in map(partial(bisect_left, self._last_ids), docs)
                      if number < count})

    def _decode(self, numbers: Iterable[int]) -> None:
        for number in numbers:
            if number not in self._blocks:
                self._blocks[number] = self._decode_block(self._headers[number])
                self._ids = None

    def _decode_block(self, header: _Header) -> _Block:
        data = self._raw[header.start:header.end]
        if header.compressed:
            data = zlib.decompress(data)
        ids, weights, values = pickle.loads(data)
        if not self._byte_ids:
            ids = array("I", itertools.accumulate(ids))
        return _Block(ids, weights, values, self._fixed_size)


class _Header(NamedTuple):
    count: int
    last_id: int
    start: int  # of the block's data within the extent
    end: int
    compressed: bool


def _extent(matcher) -> tuple[bytes, list[_Header]]:
    """A term's postings as one string of bytes, and the headers of its blocks."""
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

    length = matcher._length[0] if isinstance(matcher._length, tuple) else matcher._length
    raw = matcher._postfile.get(matcher._startoffset, length)
    stream, headers = io.BytesIO(raw), []
    stream.seek(len(WHOOSH3_HEADER_MAGIC))
    while True:
        (size,) = _BLOCK_SIZE.unpack(stream.read(_BLOCK_SIZE.size))
        end = stream.tell() + abs(size)
        count, last_id, _, compression, _, _ = pickle.load(stream)
        headers.append(_Header(count, last_id, stream.tell(), end, bool(compression)))
        if size < 0:
            return raw, headers
        stream.seek(end)


_BLOCK_SIZE = struct.Struct("!i")


def _one_at_a_time(matcher) -> _Block:
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    return _Block(ids, weights, values, None)


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
        self._lengths: dict[str, Callable[[int], int]] = {}

    def everything(self) -> frozenset[int]:
        return frozenset(range(self.reader.doc_count_all())) - self.deleted

    def allowed_here(self) -> frozenset[int] | None:
        """The documents of this segment within the date filter (None: no filter)."""
        if self.allowed is None:
            return None
        end = self.offset + self.reader.doc_count_all()
        return frozenset(doc - self.offset for doc in self.allowed if self.offset <= doc < end)

    def postings(self, field: str, text: bytes) -> _Postings | None:
        """The term's postings here, or None if no document here has it."""
        from whoosh.reading import TermNotFound

        key = (field, text)
        if key not in self._postings:
            try:
                self._postings[key] = _Postings(self.reader.postings(field, text))
            except TermNotFound:
                self._postings[key] = None
        return self._postings[key]

    def length(self, doc: int, field: str) -> int:
        if field not in self._lengths:
            self._lengths[field] = _field_lengths(self.reader, self.leaf, field)
        return self._lengths[field](doc)

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
            return _Not(self.node(query.query), self.everything())
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
        return _Boosted(_PhraseNode(terms), query.boost)


    def ranked(self, node: _Node, doc: int, score: float) -> Ranked:
        terms = frozenset(node.terms(doc))
        chars = {text.decode("utf-8"): tuple(_decode(self, "body", text, doc, "characters"))
                 for field, text in terms if field == "body"}
        return Ranked(doc + self.offset, score, terms, chars)


_DELETED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _deleted(reader) -> frozenset[int]:
    """The deleted documents of a segment, found once per open reader (a segment's
    deletions do not change while it is open)."""
    if not reader.has_deletions():
        return frozenset()
    if reader not in _DELETED:
        _DELETED[reader] = frozenset(range(reader.doc_count_all())) - frozenset(reader.all_doc_ids())
    return _DELETED[reader]


def _field_lengths(reader, leaf, field: str) -> Callable[[int], int]:
    """Each document's length in ``field``, as Whoosh's scorer reads it; from the bytes of
    the whole column where the segment was written by :class:`~searchidx.codec.Codec`."""
    from .codec import PerDocumentReader

    perdoc = getattr(reader, "_perdoc", None)
    lengths = perdoc.length_bytes(field) if isinstance(perdoc, PerDocumentReader) else None
    if lengths is None:
        return partial(leaf.doc_field_length, fieldname=field, default=1)
    return lambda doc: byte_to_length(lengths[doc])


def _decode(segment: _Segment, field: str, text: bytes, doc: int, astype: str):
    value = segment.postings(field, text).value(doc)
    return segment.searcher.schema[field].format.decode_as(astype, value)


# --- nodes: a query part's matching documents, and each one's score and matched terms --------
#
# ``within(candidates)`` returns the candidates a node matches (``None``: every document)
# and remembers them in ``matched``, which ``score`` and ``terms`` then consult: a node is
# only ever scored for documents it was asked about.

class _Node:
    estimate = 0
    """About how many documents match (a conjunction starts from its rarest part)."""

    def __init__(self) -> None:
        self.matched: frozenset[int] = frozenset()

    def within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        found = self._within(candidates)
        self.matched = self.matched | found
        return found

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        return frozenset()

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
        super().__init__()
        self.segment, self.field, self.term = segment, field, (field, text)
        self.postings = postings
        self.estimate = postings.count
        searcher = segment.searcher
        self.scorable = searcher.schema[field].scorable
        self.idf = searcher.idf(field, text)
        self.avg_length = searcher.avg_field_length(field) or 1

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        postings = self.postings
        if candidates is None:
            postings.read_all()
            return postings.ids() - self.segment.deleted
        postings.read_around(candidates)
        return candidates & postings.ids()

    def score(self, doc: int) -> float:
        weight = self.postings.weight(doc)
        if not self.scorable:
            return weight
        length = self.segment.length(doc, self.field)
        return self.idf * (weight * (BM25_K1 + 1)) / (
            weight + BM25_K1 * ((1 - BM25_B) + BM25_B * length / self.avg_length))

    def positions(self, doc: int) -> list[int]:
        return self._decode_positions(self.postings.value(doc))

    @cached_property
    def _decode_positions(self) -> Callable[[bytes], list[int]]:
        return _positions_decoder(self.segment.searcher.schema[self.field].format)

    def terms(self, doc: int) -> Iterator[Term]:
        yield self.term


class _Boosted(_Node):
    def __new__(cls, node: _Node, boost: float):
        if boost == 1.0 or node is _EMPTY:
            return node
        return super().__new__(cls)

    def __init__(self, node: _Node, boost: float) -> None:
        super().__init__()
        self.node, self.boost, self.estimate = node, boost, node.estimate

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        return self.node.within(candidates)

    def score(self, doc: int) -> float:
        return self.node.score(doc) * self.boost

    def terms(self, doc: int) -> Iterator[Term]:
        return self.node.terms(doc)


class _And(_Node):
    def __init__(self, children: list[_Node]) -> None:
        super().__init__()
        self.children = children
        self.estimate = min(child.estimate for child in children)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        for child in sorted(self.children, key=lambda child: child.estimate):
            candidates = child.within(candidates)
        return candidates

    def score(self, doc: int) -> float:
        return sum(child.score(doc) for child in self.children)

    def terms(self, doc: int) -> Iterator[Term]:
        for child in self.children:
            yield from child.terms(doc)


class _Or(_Node):
    def __init__(self, children: list[_Node]) -> None:
        super().__init__()
        self.children = [child for child in children if child is not _EMPTY]
        self.estimate = sum(child.estimate for child in self.children)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        return frozenset().union(*(child.within(candidates) for child in self.children))

    def score(self, doc: int) -> float:
        return sum(child.score(doc) for child in self.children if doc in child.matched)

    def terms(self, doc: int) -> Iterator[Term]:
        for child in self.children:
            if doc in child.matched:
                yield from child.terms(doc)


class _AndMaybe(_Node):
    """``required`` decides what matches; ``optional`` adds its score where it matches too."""

    def __init__(self, required: _Node, optional: _Node) -> None:
        super().__init__()
        self.required, self.optional, self.estimate = required, optional, required.estimate

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        found = self.required.within(candidates)
        self.optional.within(found)
        return found

    def score(self, doc: int) -> float:
        bonus = self.optional.score(doc) if doc in self.optional.matched else 0.0
        return self.required.score(doc) + bonus

    def terms(self, doc: int) -> Iterator[Term]:
        yield from self.required.terms(doc)
        if doc in self.optional.matched:
            yield from self.optional.terms(doc)


class _AndNot(_Node):
    def __init__(self, positive: _Node, negative: _Node) -> None:
        super().__init__()
        self.positive, self.negative, self.estimate = positive, negative, positive.estimate

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        found = self.positive.within(candidates)
        return found - self.negative.within(found)

    def score(self, doc: int) -> float:
        return self.positive.score(doc)

    def terms(self, doc: int) -> Iterator[Term]:
        return self.positive.terms(doc)


class _Not(_Node):
    """Every other document, each scoring 1 (Whoosh's ``InverseMatcher``)."""

    def __init__(self, excluded: _Node, everything: frozenset[int]) -> None:
        super().__init__()
        self.excluded, self.everything = excluded, everything
        self.estimate = len(everything)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        candidates = self.everything if candidates is None else candidates & self.everything
        return candidates - self.excluded.within(candidates)

    def score(self, doc: int) -> float:
        return 1.0


class _PhraseNode(_Node):
    """Words at consecutive positions; scored as the sum of its words' scores (Whoosh's
    ``SpanNear2`` with slop 1)."""

    def __init__(self, words: list[_TermNode]) -> None:
        super().__init__()
        self.words = words
        self.estimate = min(word.estimate for word in words)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        for word in sorted(self.words, key=lambda word: word.estimate):
            candidates = word.within(candidates)
        return frozenset(doc for doc in candidates
                         if _in_sequence([word.positions(doc) for word in self.words]))

    def score(self, doc: int) -> float:
        return sum(word.score(doc) for word in self.words)

    def terms(self, doc: int) -> Iterator[Term]:
        for word in self.words:
            yield word.term


def _positions_decoder(field_format) -> Callable[[bytes], list[int]]:
    """``field_format.decode_positions``; for Whoosh's ``Characters`` format (a count,
    then a pickled list of (position step, start step, length)), the same positions
    summed in C instead of a Python loop."""
    from whoosh.formats import Characters

    if type(field_format) is not Characters:
        return field_format.decode_positions

    def decode(value: bytes) -> list[int]:
        if not value.endswith(b"."):  # as Whoosh: the pickle's last byte may be trimmed
            value += b"."
        return list(itertools.accumulate(map(itemgetter(0), pickle.loads(value[_COUNT_BYTES:]))))

    return decode


_COUNT_BYTES = 4


def _in_sequence(positions: list[list[int]]) -> bool:
    """Whether some position p has the first word at p, the second at p+1, and so on."""
    starts = set(positions[0])
    for offset, later in enumerate(positions[1:], 1):
        starts.intersection_update(p - offset for p in later)
        if not starts:
            return False
    return True
