"""Matching and ranking the common queries over whole posting lists.

Whoosh answers a query by walking a tree of matchers one posting at a time in Python:
``skip_to`` steps through a block posting by posting, and the tree is asked ``is_active``
and ``id`` millions of times on a large archive. The queries readers type most (words
that must all match in the title or the body, phrases, the bonus for exact spellings,
excluded words) are evaluated here a segment at a time instead: each term's postings are
read a block at a time, the boolean logic is done on sets of document numbers (in C),
or on the bitmaps segments keep of their common words' documents, as numbers (in C, a
machine word at a time), and only the documents that match are scored, all at once,
with the BM25F function Whoosh's matchers are given too (:mod:`.scoring`) and Whoosh's
statistics, so the ranking and the scores are the ones Whoosh gives (the tests compare
the two). The rarest part of a conjunction is read first; the others read only the blocks
that can hold its documents (a block's header gives its last document number). A phrase
intersects its words' positions, keyed by document, in one set operation. Every match is
counted, but where there are many, only those that can still place are scored: the parts
of the query are scored from the highest possible score down until the matches of the
rest could not score enough (MaxScore), and a large group of matches from the highest
score each could have in its postings' blocks down (block-max).

:func:`rank` returns None for a query it does not evaluate (wildcards, fuzzy words,
ranges, any-word matching); the caller runs those through Whoosh.
"""

from __future__ import annotations

import heapq
import io
import math
import operator
import pickle
import re
import weakref
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from functools import cached_property, lru_cache, partial, reduce
from itertools import accumulate, chain, compress, repeat
from operator import attrgetter, itemgetter
from typing import NamedTuple

from whoosh import query as q
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from ..analysis import (EXTENSION_FIELDS, PAIR_SIGNATURE_BYTES, SIGNATURE_FIELDS, extension_bits,
                        pair_bits, pair_code)
from ..budget import Budget
from ..settings import TERM_INFO_CACHE
from . import counters, whoosh_adapter
from .codec import (Block, Occurrences, PerDocumentReader, PlacedValues, bitmap_of,
                    block_infos, block_max_weight, block_spans, dense_bitmap, head_in_place,
                    joined_values, keyed_positions, occurrence_positions, values_in_place,
                    varying_positions, weight_list)
from .interface import Chars, MatchedTerm as Term, Ranked, Ranking
from .scoring import bm25, length_norm, term_score

__all__ = ["body_chars", "has_term", "rank"]

class Unsupported(Exception):
    """A query part this module does not evaluate (Whoosh does)."""


def rank(searcher, query, limit: int, exact=None, allowed: frozenset[int] | None = None,
         budget: Budget | None = None) -> Ranking | None:
    """The top ``limit`` matches of a Whoosh ``query`` by BM25F, or None if the query has
    parts this module does not evaluate.

    ``exact`` (a query) puts the articles it matches first, as a sort key before the
    score, and their scores are lifted by the best score of the others, so that scores
    fall with the rank; ``allowed`` keeps only those document numbers (a date filter).
    Ties go to the lower document number, as in Whoosh. Once the time ``budget`` is
    spent, the segments not yet evaluated are left out.
    """
    best: list[tuple[bool, float, int, _Segment, _Node]] = []
    total, lift = 0, 0.0
    statistics: dict[str, tuple[bool, float]] = {}  # the same for every segment
    for number, (leaf, offset) in enumerate(searcher.leaf_searchers()):
        if number and budget is not None and budget.stop_if_exhausted():
            break
        segment = _Segment(searcher, leaf, offset, allowed, statistics)
        try:
            node = segment.node(query)
            first = segment.node(exact) if exact is not None else _EMPTY
        except Unsupported:
            return None
        docs = node.within(segment.allowed_here())
        first.within(docs)
        total += len(docs)
        keys, others_best = _best(docs, node, first, limit, offset)
        lift = max(lift, others_best)
        best.extend(key + (segment, node) for key in keys)
    best = heapq.nlargest(limit, best, key=itemgetter(0, 1, 2))
    return Ranking(total, tuple(
        segment.ranked(node, -negative_docnum - segment.offset, score + lift * preferred)
        for preferred, score, negative_docnum, segment, node in best))


def _best(docs: frozenset[int], node: _Node, first: _Node, limit: int, offset: int
          ) -> tuple[list[tuple[bool, float, int]], float]:
    """The ``limit`` best documents of one segment, as keys that sort best last: whether
    ``first`` (exact spellings) matches, the score, and the negated document number in
    the whole index (ties go to the lower document number); and the best score of a
    document ``first`` does not match (0 if ``first`` matches none)."""
    preferred, matches = first.matched, len(docs)
    docs, scores = _scored(docs, node, preferred, limit)
    counters["matches_unscored"] += matches - len(docs)
    others_best = max((score for doc, score in zip(docs, scores) if doc not in preferred),
                      default=0.0) if preferred else 0.0
    if 0 < limit < len(docs):  # only a score up to the limit-th best, or a preferred one, places
        floor = _floor(scores, limit)
        kept = [at for at, score in enumerate(scores) if score >= floor]
        if preferred:
            kept = sorted({*kept, *(at for at, doc in enumerate(docs) if doc in preferred)})
        docs, scores = [docs[at] for at in kept], [scores[at] for at in kept]
    negated = [-(doc + offset) for doc in docs]
    keys = heapq.nlargest(limit, zip(map(preferred.__contains__, docs), scores, negated))
    return keys, others_best


def _scored(docs: frozenset[int], node: _Node, preferred: frozenset[int], limit: int
            ) -> tuple[list[int], list[float]]:
    """The documents that can be among the best ``limit``, and their scores; the others
    are never scored (MaxScore, Turtle and Flood 1995). The query's parts are taken from
    the highest possible score down; the documents matching each part are scored, until
    what the documents matching none of the parts so far could score at most (the sum of
    the other parts' greatest scores) is below the limit-th best score already found.
    A part's documents are grouped by which of the later parts they match, and a group
    whose bound (without the parts it does not match) is below that score is not scored.
    The best document that is not preferred is always scored (its score lifts theirs)."""
    parts = sorted(node.parts(), key=attrgetter("bound"), reverse=True) \
        if 0 < limit < len(docs) // _PRUNE_ABOVE_MATCHES_PER_HIT else []
    if not parts or len(parts) > _PRUNE_MAX_PARTS:
        listed = list(docs)
        return listed, node.scores(listed)
    listed = list(docs & preferred)  # preferred articles place before any other: scored first
    scores, pending, ahead = node.scores(listed), docs - preferred, len(listed)
    places = max(limit - ahead, 1)  # places left for articles that are not preferred
    essential: set[_Node] = set()
    for at, part in enumerate(parts):
        if _cannot_place(node.bound_without(essential), scores[ahead:], places):
            return listed, scores
        new = pending & part.matched
        pending = pending - new
        groups = _by_parts_matched(node, new, essential, parts[at + 1:])
        _score_placing(node, groups, listed, scores, ahead, places)
        essential.add(part)
    new = list(pending)  # empty, as every match matches some part (scored if not)
    return listed + new, scores + node.scores(new)


def _score_placing(node: _Node, groups: list[tuple[float, _Docs, set[_Node]]],
                   listed: list[int], scores: list[float], ahead: int, places: int) -> None:
    """Adds to ``listed`` and ``scores`` the documents of ``groups`` (a bound, documents,
    and the parts they do not match; the highest bound first) that can place among the
    best ``places`` of ``scores[ahead:]``, scored in two batches: the first groups, enough
    to fill the places, then all the others whose bound reaches the floor those set. A
    large group reached once the places are filled with a floor near its bound is scored
    apart, document by document bounded in the postings' blocks (see
    :func:`_score_bounded`)."""
    batch: list[int] = []
    for number, (bound, group, without) in enumerate(groups):
        if len(scores) - ahead < places <= len(scores) - ahead + len(batch):
            _add_scores(node, batch, listed, scores)
            batch = []
        if _cannot_place(bound, scores[ahead:], places):
            counters["match_groups_unscored"] += len(groups) - number
            break
        if len(group) >= _BLOCK_BOUNDS_ABOVE_MATCHES:
            _add_scores(node, batch, listed, scores)  # (the floor as high as it can be first)
            batch = []
            if _floor(scores[ahead:], places) >= _BOUNDED_FLOOR_SHARE * bound:
                _score_bounded(node, list(group), without, listed, scores, ahead, places)
                continue
        batch += group
    _add_scores(node, batch, listed, scores)


def _score_bounded(node: _Node, docs: list[int], without: set[_Node], listed: list[int],
                   scores: list[float], ahead: int, places: int) -> None:
    """Adds to ``listed`` and ``scores`` those of ``docs`` (matching none of ``without``)
    that can place among the best ``places`` of ``scores[ahead:]``, by the highest score
    each can have in the postings' blocks that could hold it (see :meth:`_Node.bounds_of`):
    the highest bound first, in batches as large as the places, then doubling, until the
    floor they raise is above the next bound. (Block-max pruning, Ding and Suel 2011.)
    Bounding costs about a third of scoring, and the bounds of a block's greatest weight
    are often far above a document's score: the documents are bounded only where those of
    a sample fall below the floor as often as ``_BOUNDED_SAMPLE_BELOW``, else all scored."""
    floor = _floor(scores[ahead:], places) / _BOUND_MARGIN
    sample = docs[::max(len(docs) // _BOUNDED_SAMPLE, 1)]
    below = sum(map(floor.__gt__, node.bounds_of(sample, without)))
    if below < _BOUNDED_SAMPLE_BELOW * len(sample):
        _add_scores(node, docs, listed, scores)
        return
    counters["matches_bounded"] += len(docs)
    bounds = node.bounds_of(docs, without)
    order = sorted(compress(range(len(docs)), map(floor.__le__, bounds)),
                   key=bounds.__getitem__, reverse=True)
    start, size = 0, places
    while start < len(order) and bounds[order[start]] >= floor:
        _add_scores(node, list(map(docs.__getitem__, order[start:start + size])), listed, scores)
        floor = _floor(scores[ahead:], places) / _BOUND_MARGIN
        start, size = start + size, size * 2


def _add_scores(node: _Node, docs: list[int], listed: list[int], scores: list[float]) -> None:
    """Adds ``docs`` to ``listed`` and their scores to ``scores``."""
    if docs:
        listed += docs
        scores += node.scores(docs)


def _by_parts_matched(node: _Node, docs: _Docs, excluded: set[_Node],
                      later: list[_Node]) -> list[tuple[float, _Docs, set[_Node]]]:
    """``docs`` (which match none of ``excluded``) in groups by which of the ``later``
    parts they match, with the highest score in each (``node``'s bound without the parts
    it does not match) and those parts, the highest first. A document matching a part of
    high bound (a word of the title) is scored before one matching only the others, which the
    floor then often leaves out. Only the first ``_SPLIT_PARTS`` later parts split
    (the others are counted as matched), and only ``_SPLIT_ABOVE_MATCHES`` or more.
    A group is listed only if it is scored (listing a bitmap costs more than a set)."""
    groups = [(excluded, docs)]
    if len(docs) >= _SPLIT_ABOVE_MATCHES:
        for part in later[:_SPLIT_PARTS]:
            matched = _like(docs, part.matched)
            groups = [split for without, group in groups
                      for split in ((without, group & matched), (without | {part}, group - matched))
                      if split[1]]
    bounded = [(node.bound_without(without), group, without)
               for without, group in groups if group]
    return sorted(bounded, key=itemgetter(0), reverse=True)


def _cannot_place(bound: float, scores: list[float], places: int) -> bool:
    """Whether a score of at most ``bound`` is below the best ``places`` of ``scores``."""
    return bound * _BOUND_MARGIN < _floor(scores, places)


def _floor(scores: list[float], places: int) -> float:
    """The least score that places among the best ``places`` of ``scores`` (-inf while
    they are fewer): a document placing must score at least as much (ties go to the
    lower document number)."""
    return heapq.nlargest(places, scores)[-1] if len(scores) >= places else -math.inf


# Pruning is tried when a segment has at least this many matches for each hit asked for,
# and the query at most this many parts: each step of pruning scores the new documents on
# every part, so its cost grows with the square of the parts (a query of expanded
# wildcards, 800 parts: 4 s pruned, 0.3 s scoring every match at once).
_PRUNE_ABOVE_MATCHES_PER_HIT = 20
_PRUNE_MAX_PARTS = 64
# A pruning step's new matches are split by the next parts they match (see
# _by_parts_matched) when there are at least this many, by at most this many parts.
_SPLIT_ABOVE_MATCHES = 128
_SPLIT_PARTS = 4
# A group of at least this many matches is scored bounded in the postings' blocks (see
# _score_bounded) if the floor is at least _BOUNDED_FLOOR_SHARE of the group's bound and, of
# a sample of about _BOUNDED_SAMPLE, this share is bounded below the floor. (At ten times
# Reuters, where bounding paid, the floor was 0.83 to 0.96 of the bound; elsewhere 0.66, 0.75.)
_BLOCK_BOUNDS_ABOVE_MATCHES = 256
_BOUNDED_FLOOR_SHARE = 0.7
_BOUNDED_SAMPLE = 32
_BOUNDED_SAMPLE_BELOW = 0.5
# A bound is computed with the same floating-point operations as a score, in another order:
# this much more covers the rounding.
_BOUND_MARGIN = 1 + 1e-9


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

class _Postings:
    """A term's postings in one segment, decoded a block at a time as they are needed.

    The term's whole extent of Whoosh's ``whoosh3`` format is read at once: after a magic
    number, each block is a signed length (negative for the last), an info tuple (count,
    last id, …, compression) and the ids (delta-coded), weights and values, pickled and
    maybe compressed, or a :class:`~searchidx.engine.codec.Block` whose ids and weights are two
    arrays and whose values are packed apart. Blocks are decoded in C, not a posting at a
    time; their values are unpacked only for the documents asked about. A few candidates
    are looked up in the blocks (by bisection), their weights kept; many, or all, are
    matched against the blocks' arrays of document numbers in C, and weights are read only
    for the documents scored (counting every match needs only their numbers).
    """

    def __init__(self, reader, field: str, text: bytes, terminfo=None) -> None:
        """The postings of ``field``:``text`` in a segment's reader (whose entry
        ``terminfo`` is, if the caller has it); raises Whoosh's ``TermNotFound`` if no
        document there has the term."""
        if terminfo is None:
            terminfo = _term_info(reader, field, text)
        if terminfo is None:
            raise TermNotFound(f"{field}:{text!r}")
        self.count: int = terminfo.doc_frequency()
        self.max_weight: float = terminfo.max_weight()
        self.min_length: int = terminfo.min_length() or 0
        self.weights: dict[int, float] = {}
        """The weight of each document read so far."""
        self._blocks: dict[int, tuple[Sequence[int], Sequence[float], object]] = {}
        self._heads: dict[int, tuple[Sequence[int], Sequence[float], int]] = {}  # (see _head)
        self._joined: dict[int, tuple[Sequence[int], Sequence[float], Sequence[int] | None,
                                      bytes, int]] = {}
        self._in_weights: set[int] = set()  # numbers of blocks all in ``weights``
        self._fixed_size = reader.schema[field].format.fixed_value_size()
        self._last_ids: list[int] = []
        self._headers: list[_Header] = []  # (none for postings not read in blocks)
        self._infos_pickled = False
        self._max_weights: dict[int, float] = {}  # of the blocks read so far (see max_weights)
        self.bits: _Bits | None = None
        """The term's documents as bits, where the segment keeps their bitmap."""
        if not whoosh_adapter.is_whoosh3_term_info(terminfo):  # another codec's
            counters["postings_one_at_a_time"] += 1
            self._fixed_size = None
            self._read_whole(*_one_at_a_time(reader.postings(field, text)))
        elif terminfo.is_inlined():  # a rare term's postings, kept in its entry
            counters["postings_inlined"] += 1
            self._fixed_size = None
            self._read_whole(*terminfo.inlined_postings())
        else:
            counters["postings_blocks"] += 1
            self._raw, self._headers, self._infos_pickled = _extent(
                whoosh_adapter.postings_file(reader), terminfo)
            self._last_ids = [header.last_id for header in self._headers]
            bitmap = dense_bitmap(self._raw, self._headers[-1].end)
            if bitmap is not None:
                self.bits = _Bits(int.from_bytes(bitmap, "little"), bitmap)
            counters["postings_dense" if self.bits is not None else "postings_sparse"] += 1

    @property
    def in_blocks(self) -> bool:
        """Whether the postings are read in blocks (with their infos), else as one."""
        return bool(self._headers)

    def max_weights(self, numbers: Sequence[int]) -> list[float]:
        """The greatest weight of each of these blocks (0.0 past the last), each read from
        its info once (postings read in blocks)."""
        known = self._max_weights
        for number in set(numbers).difference(known):
            known[number] = self._max_weight(number)
        return list(map(known.__getitem__, numbers))

    def _max_weight(self, number: int) -> float:
        """The greatest weight in block ``number`` (0.0 past the last), in the single
        precision its weights are kept in: the info holds it unrounded, and a weight that
        rounds up (a title boost of 2.2) would score above a bound made from that."""
        if number == len(self._headers):
            return 0.0
        weight = self._pickled_max_weights[number] if self._infos_pickled else \
            block_max_weight(self._raw, self._headers[number].start)
        return array("f", (weight,))[0]

    @cached_property
    def _pickled_max_weights(self) -> list[float]:
        """Each block's greatest weight, from the infos whoosh3 pickled (read at once)."""
        return [info[2] for info, _, _ in _unpickled_infos(self._raw, _blocks_start())]

    def all_ids(self) -> frozenset[int]:
        """Every document number of the term (deleted ones too)."""
        return frozenset(self._every_id())

    def _every_id(self) -> Iterator[int]:
        return self._ids_in(range(len(self._last_ids)))

    def value(self, doc: int) -> bytes | None:
        """The encoded value (positions, characters) of the document's posting."""
        span = self._span(doc)
        return None if span is None else span[0][span[1]:span[2]]

    def keyed_positions(self, docs: Sequence[int], offset: int,
                        decode: Callable[[bytes], Iterable[int]]) -> list[int]:
        """Each position of the term in those of ``docs`` (rising) that have it, less
        ``offset``, keyed by document: ``doc * _POSITION_SPAN + position - offset``; their
        weights are kept in ``weights``. ``decode`` reads a value's positions. Only the
        blocks that could hold one of ``docs`` are read."""
        return keyed_positions(self._joined_values, self._last_ids, docs, _POSITION_SPAN,
                               -offset, decode, self.weights)

    def _blocks_around(self, docs: AbstractSet[int]) -> Iterable[int]:
        """The numbers of the blocks that could hold these documents."""
        count = len(self._last_ids)
        if len(docs) >= _RANGE_COSTS_A_BLOCK_PER_CANDIDATES * count:
            return range(count)
        if len(docs) >= _DENSE_CANDIDATES_PER_BLOCK * count:  # (not a bisection each)
            return list(self._blocks_holding(docs))
        return sorted({number for number in self.block_numbers(docs) if number < count})

    def _blocks_holding(self, docs: AbstractSet[int]) -> Iterator[int]:
        """The numbers of the blocks whose range of document numbers holds one of
        ``docs``, many for the blocks: each found in C among the first of its range
        (``_PROBED_DOCUMENTS``), else (a date filter's candidates, all in a few blocks)
        the blocks between the least and the greatest of ``docs``, found once. (Finding
        those two costs about 50 ns a document: 1.5 ms for 15,000.)"""
        start, ends = 0, None
        for number, last in enumerate(self._last_ids):
            if not docs.isdisjoint(range(start, min(last, start + _PROBED_DOCUMENTS) + 1)):
                yield number
            else:
                ends = ends or (min(docs), max(docs))
                if ends[0] <= last and start <= ends[1]:
                    yield number
            start = last + 1

    def find(self, candidates: _Docs) -> _Docs:
        """The candidates that have the term: looked up in its bitmap if it has one, else
        one by one in its blocks (their weights kept in ``weights``) or, if many, found
        among its blocks' document numbers. Candidates given as bits give bits where the
        term has a bitmap (intersected as numbers); else, if many, its document numbers
        are looked up in theirs."""
        if type(candidates) is _Bits:
            if self.bits is not None:
                return candidates & self.bits
            if len(candidates) * _FIND_POSTINGS_PER_CANDIDATE >= self.count:
                return frozenset(candidates.among(self._every_id()))
            candidates = frozenset(candidates)  # few: each looked up
        if self.bits is not None and len(candidates) < self.count:  # (~60 ns a candidate)
            return frozenset(self.bits.among(candidates))
        if len(candidates) * _FIND_POSTINGS_PER_CANDIDATE >= self.count:
            return candidates.intersection(self._ids_in(self._blocks_around(candidates)))
        found = self._weights_found(candidates)
        self.weights.update(found)
        return frozenset(found)

    def weights_of(self, docs: Sequence[int]) -> list[float]:
        """The weights of these documents, which have the term: those not known yet are
        looked up one by one if they are few for the term's postings, else their blocks
        fill ``weights``."""
        weights = self.weights
        missing = set(docs).difference(weights)
        if len(missing) * _LOOKUP_POSTINGS_PER_CANDIDATE >= self.count:
            self._fill(self._blocks_around(missing))
        elif missing:
            weights.update(self._weights_found(missing))
        return list(map(weights.__getitem__, docs))

    def _weights_found(self, docs: Iterable[int]) -> dict[int, float]:
        """The weight of each of ``docs`` that has the term. The blocks are walked in order,
        each bisected from the last document's place (one loop: at ten times Reuters a
        query looks up a thousand documents or more, each in a block of its own)."""
        found: dict[int, float] = {}
        last_ids, number, block_end = self._last_ids, 0, -1
        for doc in sorted(docs):
            if doc > block_end:
                number = bisect_left(last_ids, doc, number)
                if number == len(last_ids):
                    break
                ids, weights, _ = self._head(number)
                block_end, at = ids[-1], 0
            at = bisect_left(ids, doc, at)
            if ids[at] == doc:
                found[doc] = weights[at]
        return found

    def block_numbers(self, docs: Iterable[int]) -> Iterator[int]:
        """The number of the block that could hold each document (past the last for a
        document after the term's last)."""
        return map(partial(bisect_left, self._last_ids), docs)

    def _ids_in(self, numbers: Iterable[int]) -> Iterator[int]:
        """The document numbers of these blocks, in order."""
        return chain.from_iterable(self._block(number)[0] for number in numbers)

    def _fill(self, numbers: Iterable[int]) -> None:
        for number in numbers:
            if number not in self._in_weights:
                self._in_weights.add(number)
                ids, weights, _ = self._block(number)
                self.weights.update(zip(ids, weights))

    def _head(self, number: int) -> tuple[Sequence[int], Sequence[float], object]:
        """A block's document numbers and their weights, the first two of three items (the
        third is not for the caller), read once: where they lie, without its values
        (:func:`~searchidx.engine.codec.head_in_place`: a third less than the whole block,
        for the one weight a block gives most word queries at ten times Reuters), else as
        :meth:`_block` reads it."""
        known = self._blocks.get(number) or self._heads.get(number)
        if known is not None:
            return known
        header = self._headers[number]
        head = None if header.compressed else head_in_place(self._raw, header.start)
        if head is None:
            return self._block(number)
        self._heads[number] = head
        return head

    def _block(self, number: int) -> tuple[Sequence[int], Sequence[float], object]:
        """A block's document numbers, their weights and its values, decoded once."""
        if number in self._blocks:
            return self._blocks[number]
        header = self._headers[number]
        head = None if header.compressed else \
            self._heads.pop(number, None) or head_in_place(self._raw, header.start)
        values = None if head is None else values_in_place(self._raw, head[2], header.end)
        if values is not None:  # (most blocks)
            counters["blocks_read_in_place"] += 1
            self._blocks[number] = placed = (head[0], head[1], values)
            return placed
        data = self._raw[header.start:header.end]
        if header.compressed:
            data = zlib.decompress(data)
        block = pickle.loads(data)
        if type(block) is Block:
            counters["blocks_split"] += 1
            ids, weights = block.ids_and_weights()
            values = block
        else:  # a small block, or one written before blocks were split
            counters["blocks_whole"] += 1
            deltas, weights, values = block
            ids = list(accumulate(deltas))
        self._blocks[number] = decoded = (ids, weight_list(weights, len(ids)), values)
        return decoded

    def _read_whole(self, ids: Sequence[int], weights, values) -> None:
        """Postings read other than in blocks, as block 0."""
        self._blocks[0] = (ids, weight_list(weights, len(ids)), values)
        self._last_ids = list(ids[-1:])

    def _span(self, doc: int) -> tuple[bytes, int, int] | None:
        """Where ``doc``'s value is: in ``data[start:end]`` (None for a format without
        values)."""
        ids, _, ends, data, base = self._joined_values(bisect_left(self._last_ids, doc))
        if ends is None:
            return None
        at = bisect_left(ids, doc)
        return data, base + ends[at - 1] if at else base, base + ends[at]

    def _joined_values(self, number: int
                       ) -> tuple[Sequence[int], Sequence[float], Sequence[int] | None, bytes, int]:
        """A block's ids, their weights, where its values end, the data holding them and
        where the first begins there: value ``i`` is ``data[base + ends[i - 1]:base +
        ends[i]]``, from ``base`` for the first (see
        :func:`~searchidx.engine.codec.keyed_positions`). The values of a block read in
        place are not copied."""
        joined = self._joined.get(number)
        if joined is None:
            ids, weights, values = self._block(number)
            size, base = self._fixed_size, 0
            if type(values) is PlacedValues:
                ends, base = values.ends_at()
                data = values.data
            elif type(values) is Block:
                ends, data = values.joined_values()
            elif size is None or size < 0:
                ends, data = joined_values(values)
            elif size == 0:
                ends, data = None, b""
            else:  # Whoosh joins values of a fixed size itself
                ends, data = range(size, size * (len(ids) + 1), size), values
            self._joined[number] = joined = (ids, weights, ends, data, base)
        return joined


# A term is looked up document by document (by bisection in its blocks) when it has more
# than this many postings for each candidate; otherwise the candidates are intersected
# with its blocks' document numbers (or, for their weights, its blocks fill a dictionary).
_LOOKUP_POSTINGS_PER_CANDIDATE = 4
# Finding which candidates have a term looks them up only where it has more than this many
# postings for each: intersecting them with its blocks' ids costs about 47 ns a posting,
# a lookup about 0.4 µs, and either reads (decodes) nearly every block.
_FIND_POSTINGS_PER_CANDIDATE = 16
# Candidates this many times as many as a term's blocks are in nearly every block.
_DENSE_CANDIDATES_PER_BLOCK = 8
# How many of a block's document numbers (from its first) are looked up among many
# candidates to see that it holds one: soon found where they are spread over the segment.
_PROBED_DOCUMENTS = 256
# Finding the range of this many candidates costs about what reading a block of 512 does
# (55 against 73 µs): with this many for each of a term's blocks, every block is read.
_RANGE_COSTS_A_BLOCK_PER_CANDIDATES = 1000


class _Header(NamedTuple):
    count: int
    last_id: int
    start: int  # of the block's data within the extent
    end: int
    compressed: bool


def _extent(postfile, terminfo) -> tuple[bytes, list[_Header], bool]:
    """A term's postings as one string of bytes, the headers of its blocks, and whether
    whoosh3 pickled the blocks' infos."""
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # whoosh3 3.54 reads the length as a 1-tuple
        (length,) = length
    raw = whoosh_adapter.read_at(postfile, offset, length)
    position = _blocks_start()
    infos = block_infos(raw, position)
    counters["block_infos_fixed" if infos else "block_infos_pickled"] += 1
    pickled = not infos
    infos = infos or _pickled_infos(raw, position)
    return raw, [_Header(count, last_id, start, end, bool(compression))
                 for count, last_id, compression, start, end in infos], pickled


def _blocks_start() -> int:
    """Where a term's first block begins in its extent: after whoosh3's magic number."""
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

    return len(WHOOSH3_HEADER_MAGIC)


def _pickled_infos(raw: bytes, position: int) -> list[tuple[int, int, int, int, int]]:
    """What :func:`~searchidx.engine.codec.block_infos` reads, from blocks whose infos whoosh3
    pickled."""
    return [(count, last_id, compression, end_of_info, end)
            for (count, last_id, _, compression, _, _), end_of_info, end
            in _unpickled_infos(raw, position)]


def _unpickled_infos(raw: bytes, position: int) -> Iterator[tuple[tuple, int, int]]:
    """Each block's info as whoosh3 pickled it, where it ends, and where the block ends."""
    stream = io.BytesIO(raw)
    for start, end in block_spans(raw, position):
        stream.seek(start)
        info = pickle.load(stream)
        yield info, stream.tell(), end


def _one_at_a_time(matcher) -> tuple[list[int], list[float], list]:
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    return ids, weights, values


# --- evaluating a query in one segment ----------------------------------------------------------

class _Segment:
    """One segment of the index while a query is evaluated: its postings and field
    lengths, each read at most once."""

    def __init__(self, searcher, leaf, offset: int, allowed: frozenset[int] | None,
                 statistics: dict[str, tuple[bool, float]] | None = None) -> None:
        """``statistics``: the fields' (see :meth:`statistics`), shared by the segments
        of one search (None: this segment's own)."""
        self.searcher, self.leaf, self.offset = searcher, leaf, offset
        self.reader = leaf.reader()
        self.deleted = whoosh_adapter.deleted_documents(self.reader)
        self.allowed = allowed
        self._postings: dict[Term, _Postings | None] = {}
        self._lengths: dict[str, bytes | Callable[[int], int]] = {}
        self._statistics = {} if statistics is None else statistics
        self._term_infos = _term_infos(self.reader)

    def statistics(self, field: str) -> tuple[bool, float]:
        """Whether ``field`` is scored, and its average length in the whole index (looked
        up once for all the field's terms)."""
        if field not in self._statistics:
            searcher = self.searcher
            self._statistics[field] = (searcher.schema[field].scorable,
                                       searcher.avg_field_length(field) or 1)
        return self._statistics[field]

    @cached_property
    def deleted_bits(self) -> int:
        """The segment's deleted documents as bits (see :class:`_Bits`)."""
        return _bits_of(self.deleted)

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
        key = (field, text)
        postings = self._postings.get(key, _UNKNOWN)
        if postings is _UNKNOWN:
            terminfo = _term_info(self.reader, field, text, self._term_infos)  # remembered
            postings = self._postings[key] = None if terminfo is None else \
                _Postings(self.reader, field, text, terminfo)
        return postings

    def bm25(self, field: str, idf: float, avg_length: float, docs: Sequence[int],
             weights: Sequence[float]) -> list[float]:
        """The BM25F score (:func:`~searchidx.engine.scoring.bm25`, the one Whoosh's
        matchers use too) of a term with these weights in these documents."""
        if field not in self._lengths:
            self._lengths[field] = _field_lengths(self.reader, self.leaf, field)
        lengths = self._lengths[field]
        if not isinstance(lengths, bytes):
            norms = (length_norm(lengths(doc), avg_length) for doc in docs)
            return list(map(bm25, repeat(idf), weights, norms))
        # One byte a document: a normalizer for each code; many documents share a score.
        if len(docs) >= _SCORES_SHARED_FROM:
            scores = _Scores(idf, _length_norms(avg_length))
            return list(map(scores.__getitem__, zip(weights, map(lengths.__getitem__, docs))))
        norms = map(_length_norms(avg_length).__getitem__, map(lengths.__getitem__, docs))
        return list(map(bm25, repeat(idf), weights, norms))

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
        if kind is whoosh_adapter.AndNot or kind is q.AndNot:
            return _AndNot(self.node(query.a), self.node(query.b))
        if kind is q.Not:  # every other article, each scoring 1 (Whoosh's InverseMatcher)
            return _Not(self.node(query.query), self.everything())
        if kind in (q.And, q.Or) and not getattr(query, "scale", None):
            return self._compound(query, _And if kind is q.And else
                                  partial(_Or, documents=self.reader.doc_count()))
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
        pairs = list(zip(query.words, query.words[1:]))
        bits = [bit for pair in pairs for bit in pair_bits(*pair)]
        return _Boosted(_PhraseNode(terms, self.signatures(query.fieldname), bits,
                                    self.extensions(query.fieldname),
                                    [pair_code(*pair) for pair in pairs]), query.boost)

    def signatures(self, field: str) -> bytes | None:
        """The pair signature of each document's ``field`` here (None if it has none)."""
        name = SIGNATURE_FIELDS.get(field)
        if name is None or name not in self.searcher.schema:
            return None
        perdoc = whoosh_adapter.columns_reader(self.reader)
        if not isinstance(perdoc, PerDocumentReader):  # a segment written by whoosh3's codec
            counters["signatures_none"] += 1
            return None
        counters["signatures_column"] += 1
        return perdoc.fixed_column_bytes(name, self.searcher.schema[name].column_type)

    def extensions(self, field: str) -> tuple | None:
        """The pair signatures' extensions of ``field`` here (see
        :meth:`~searchidx.engine.codec.PerDocumentReader.var_column_parts`; None if it has
        none: a segment written before they were)."""
        name = EXTENSION_FIELDS.get(field)
        if name is None or name not in self.searcher.schema:
            return None
        perdoc = whoosh_adapter.columns_reader(self.reader)
        if not isinstance(perdoc, PerDocumentReader):
            return None
        counters["pair_extensions_column"] += 1
        return perdoc.var_column_parts(name, self.searcher.schema[name].column_type)

    def ranked(self, node: _Node, doc: int, score: float) -> Ranked:
        terms = frozenset(node.terms(doc))
        decode = self.searcher.schema["body"].format.decode_characters  # (decode_as's method)
        postings = self._postings  # (a matched term's are there)
        chars = {term[1].decode("utf-8"): tuple(decode(postings[term].value(doc)))
                 for term in terms if term[0] == "body"}
        return Ranked(doc + self.offset, score, terms, chars)


class _Scores(dict):
    """The BM25F score (:func:`~searchidx.engine.scoring.bm25`) of a term of ``idf`` for each
    ``(weight, length code)`` asked, computed once (a look-up in C costs about half a call
    of the function)."""

    def __init__(self, idf: float, norms: Sequence[float]) -> None:
        """``norms``: the length normalizer of each code."""
        super().__init__()
        self.idf, self.norms = idf, norms

    def __missing__(self, key: tuple[float, int]) -> float:
        weight, code = key
        score = self[key] = bm25(self.idf, weight, self.norms[code])
        return score


# Scores are shared through _Scores from this many documents: below, computing each
# distinct pair's score costs about what sharing saves.
_SCORES_SHARED_FROM = 1024

_TERM_INFOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _term_infos(reader) -> dict:
    """The term entries remembered for an open segment reader (see :func:`_term_info`)."""
    infos = _TERM_INFOS.get(reader)
    if infos is None:
        infos = _TERM_INFOS[reader] = {}
    return infos


def _term_info(reader, field: str, text: bytes, infos: dict | None = None):
    """A term's entry in a segment's term dictionary, None if the segment lacks the term;
    remembered for the open reader (in ``infos``, its :func:`_term_infos` if the caller
    has them): a segment's terms never change, and looking one up reads its hash table a
    few bytes at a time through Python file calls (a tenth of a typical search). The most
    recent ``TERM_INFO_CACHE`` entries are kept."""
    if infos is None:
        infos = _term_infos(reader)
    key = (field, text)
    info = infos.pop(key, _UNKNOWN)  # put back last: the least recent go first
    if info is _UNKNOWN:
        try:
            info = reader.term_info(field, text)
        except TermNotFound:
            info = None
        if len(infos) >= TERM_INFO_CACHE:
            del infos[next(iter(infos))]
    infos[key] = info
    return info


def has_term(reader, field: str, text: str) -> bool:
    """Whether a segment of ``reader`` has the term (the entries each segment remembers
    answer the joined names a query asks about again and again)."""
    schema = reader.schema
    if field not in schema:
        return False
    text = schema[field].to_bytes(text)
    return any(_term_info(leaf, field, text) is not None for leaf, _ in reader.leaf_readers())


_UNKNOWN = object()


@lru_cache(maxsize=64)
def _length_norms(avg_length: float) -> list[float]:
    """BM25's length normalization for each of the 256 codes of a field's length."""
    return [length_norm(byte_to_length(code), avg_length) for code in range(256)]


def _field_lengths(reader, leaf, field: str) -> bytes | Callable[[int], int]:
    """Each document's length in ``field`` as Whoosh's scorer reads it: the bytes of the
    whole column (a code for each document) where the segment was written by
    :class:`~searchidx.engine.codec.Codec`, else a function of the document number."""
    perdoc = whoosh_adapter.columns_reader(reader)
    lengths = perdoc.length_bytes(field) if isinstance(perdoc, PerDocumentReader) else None
    counters["lengths_per_document" if lengths is None else "lengths_column"] += 1
    if lengths is None:
        return partial(leaf.doc_field_length, fieldname=field, default=1)
    return lengths


# --- sets of documents as bits ---------------------------------------------------------------

class _Bits:
    """A set of document numbers as the bits of a number (bit ``d``: document ``d``),
    made from the bitmaps segments keep of their common words (``codec.dense_tail``):
    intersected, joined and counted a machine word at a time, in C, where a set of a
    common word's documents costs about 47 ns each to make. It answers the operations
    the nodes use of a frozenset (``len``, ``in``, iteration in ascending order, ``&``,
    ``|``, ``-``), not equality or subset tests; with a frozenset, ``&``, ``|`` and ``-``
    give bits (the frozenset, the smaller, made into bits), and its members are listed
    (costing about twice a set's making) only where they are scored."""

    __slots__ = ("bits", "_bytes")

    def __init__(self, bits: int, data: bytes | memoryview | None = None) -> None:
        """``data``: the same bits as little-endian bytes, if the caller has them."""
        self.bits = bits
        self._bytes = data

    def __len__(self) -> int:
        return self.bits.bit_count()

    def __bool__(self) -> bool:
        return self.bits != 0

    def __contains__(self, doc: int) -> bool:
        return bool(self.among((doc,)))

    def among(self, docs: Iterable[int]) -> list[int]:
        """Those of ``docs`` in the set, in their order (a byte looked up for each)."""
        data = self._data
        size = len(data)
        return [doc for doc in docs if (at := doc >> 3) < size and data[at] >> (doc & 7) & 1]

    def __iter__(self) -> Iterator[int]:
        """The documents in ascending order: each byte that has one, found in C (by a
        regular expression where they are few, which skips the others faster), gives
        its bits' documents from a table."""
        data = self._data
        offsets = _BIT_OFFSETS
        if len(self) * _BYTES_A_DOCUMENT_SPARSE < len(data):
            places = map(re.Match.start, _NONZERO_BYTE.finditer(data))
        else:
            places = compress(range(len(data)), data)
        for at in places:
            base = at << 3
            for offset in offsets[data[at]]:
                yield base + offset

    @property
    def _data(self) -> bytes | memoryview:
        """The bits as little-endian bytes, made once."""
        if self._bytes is None:
            self._bytes = self.bits.to_bytes((self.bits.bit_length() + 7) // 8, "little")
        return self._bytes

    def __and__(self, other: _Docs) -> _Bits:
        return _Bits(self.bits & _bits_of(other))

    def __or__(self, other: _Docs) -> _Bits:
        return _Bits(self.bits | _bits_of(other))

    def __sub__(self, other: _Docs) -> _Bits:
        return _Bits(self.bits & ~_bits_of(other))

    def __rsub__(self, other: frozenset[int]) -> _Bits:
        return _Bits(_bits_of(other) & ~self.bits)

    __rand__, __ror__ = __and__, __or__


_Docs = frozenset[int] | _Bits
"""A node's documents: a set, or bits where they come from common words' bitmaps."""

# The bits set in each value of a byte.
_BIT_OFFSETS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))
# Bits are listed by finding their bytes with _NONZERO_BYTE where there are fewer documents
# than one for this many bytes (at ten times Reuters, 900 documents: 0.33 ms, 0.57 ms
# looking at every byte; from about one document in 9 bytes, every byte is faster).
_BYTES_A_DOCUMENT_SPARSE = 10
_NONZERO_BYTE = re.compile(rb"[^\x00]")


def _like(model: _Docs, docs: _Docs) -> _Docs:
    """``docs`` as bits where ``model`` is bits (made once: each ``&`` or ``-`` of bits
    with a set makes the set into bits again), else as they are."""
    return _Bits(_bits_of(docs)) if type(model) is _Bits and type(docs) is not _Bits else docs


def _bits_of(docs: _Docs) -> int:
    """``docs`` as bits (see :class:`_Bits`)."""
    if type(docs) is _Bits:
        return docs.bits
    return int.from_bytes(bitmap_of(docs, max(docs)), "little") if docs else 0


# --- nodes: a query part's matching documents, and their scores and matched terms -----------
#
# ``within(candidates)`` returns the candidates a node matches (``None``: every document)
# and remembers them in ``matched``, as a set or as bits (:class:`_Bits`, given only to the
# nodes that take them, ``takes_bits``); ``scores(docs)`` and ``terms(doc)`` are only asked
# about documents in ``matched``. Scores are computed for many documents at once, with
# comprehensions rather than a call per document.

class _Node:
    estimate = 0
    """About how many documents match (a conjunction starts from its rarest part)."""
    bound = 0.0
    """The highest score a document can have here (for pruning)."""
    takes_bits = True
    """Whether ``_within`` takes candidates as :class:`_Bits` (else they are listed)."""

    def __init__(self) -> None:
        self.matched: _Docs = frozenset()

    def within(self, candidates: _Docs | None) -> _Docs:
        if not self.takes_bits and type(candidates) is _Bits:
            candidates = frozenset(candidates)
        found = self._within(candidates)
        self.matched = self.matched | found if self.matched else found  # (no copy of the first)
        return found

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        return frozenset()

    def scores(self, docs: Sequence[int]) -> list[float]:
        return [0.0] * len(docs)

    def terms(self, doc: int) -> Iterator[Term]:
        return iter(())

    def parts(self) -> Iterator[_Node]:
        """The parts whose matches and bounds pruning weighs: terms, phrases, exclusions;
        a node that adds up others' scores gives their parts."""
        yield self

    def bound_without(self, parts: set[_Node]) -> float:
        """The highest score here of a document that matches none of ``parts``."""
        return 0.0 if self in parts else self.bound

    def bounds_of(self, docs: Sequence[int], parts: set[_Node]) -> list[float]:
        """The highest score here of each of ``docs``, which match none of ``parts``:
        within the blocks of the postings that could hold it (see :meth:`_TermNode.bounds_of`),
        else :meth:`bound_without`."""
        return [self.bound_without(parts)] * len(docs)


_EMPTY = _Node()


class _Sum(_Node):
    """A node whose score is the sum of some of its children's (``summed``)."""

    summed: list[_Node]

    @cached_property
    def bound(self) -> float:
        return self.bound_without(set())

    def parts(self) -> Iterator[_Node]:
        for child in self.summed:
            yield from child.parts()

    def bound_without(self, parts: set[_Node]) -> float:
        return sum(child.bound_without(parts) for child in self.summed)

    def bounds_of(self, docs: Sequence[int], parts: set[_Node]) -> list[float]:
        return list(reduce(partial(map, operator.add),
                           (child.bounds_of(docs, parts) for child in self.summed),
                           repeat(0.0, len(docs))))  # (an OR of words all absent here sums none)


def _halves_summed(score_lists: list[list[float]]) -> list[float]:
    """The score lists added up as Whoosh's ``make_binary_tree`` adds its matchers' scores
    (a phrase's words): the first half's sum plus the second half's."""
    if len(score_lists) == 1:
        return score_lists[0]
    half = len(score_lists) // 2
    return list(map(operator.add, _halves_summed(score_lists[:half]),
                    _halves_summed(score_lists[half:])))


class _TermNode(_Node):
    """A term: the BM25F score (:mod:`~searchidx.engine.scoring`, the searcher's weighting
    too) of its weight in a document, with the collection statistics of the whole index."""

    def __init__(self, segment: _Segment, field: str, text: bytes, postings: _Postings) -> None:
        """The term's bitmap, if the segment keeps one, gives its documents (as
        :class:`_Bits`) where there are no candidates or they are bits: a phrase's words
        too (intersecting two common words' bits, then listing what is left for the
        signatures, took 15-25 % less of a phrase's time at ten times Reuters than a set of
        the rarer's documents looked up one by one in the other's bits)."""
        super().__init__()
        self.segment, self.field, self.term = segment, field, (field, text)
        self.postings = postings
        self.estimate = postings.count
        self.scorable, self.avg_length = segment.statistics(field)
        self.idf = segment.searcher.idf(field, text)
        self.bound = postings.max_weight
        if self.scorable:
            self.bound = term_score(self.idf, postings.max_weight, postings.min_length,
                                    self.avg_length)

    def _within(self, candidates: _Docs | None) -> _Docs:
        postings, bits = self.postings, self.postings.bits
        if bits is not None and (candidates is None or type(candidates) is _Bits):
            counters["documents_from_bitmaps"] += 1
        if candidates is None:
            if bits is not None:
                return _Bits(bits.bits & ~self.segment.deleted_bits)
            ids, deleted = postings.all_ids(), self.segment.deleted
            return ids - deleted if deleted else ids
        return postings.find(candidates)

    def scores(self, docs: Sequence[int]) -> list[float]:
        return self._scores_of_weights(docs, self.postings.weights_of(docs))

    def bounds_of(self, docs: Sequence[int], parts: set[_Node]) -> list[float]:
        """The score each document would have with the greatest weight of the block of the
        postings that could hold it, in its own length (a score grows with the weight):
        found in C, but for the score's one call a document."""
        if not self.postings.in_blocks or self in parts:
            return super().bounds_of(docs, parts)
        greatest = self.postings.max_weights(list(self.postings.block_numbers(docs)))
        return self._scores_of_weights(docs, greatest)

    def _scores_of_weights(self, docs: Sequence[int], weights: list[float]) -> list[float]:
        """The score of each of ``docs`` with these weights of the term (the weights
        themselves in a field that is not scored)."""
        if not self.scorable:
            return weights
        return self.segment.bm25(self.field, self.idf, self.avg_length, docs, weights)

    def keyed_positions(self, docs: Sequence[int], offset: int) -> list[int]:
        """Each position of the term in those of ``docs`` that have it, less ``offset``,
        keyed by document: ``doc * _POSITION_SPAN + position - offset``."""
        return self.postings.keyed_positions(docs, offset, self._decode_positions)

    @cached_property
    def _decode_positions(self) -> Callable[[bytes], Sequence[int]]:
        return _positions_decoder(self.segment.searcher.schema[self.field].format)

    def terms(self, doc: int) -> Iterator[Term]:
        yield self.term


class _Boosted(_Sum):
    def __new__(cls, node: _Node, boost: float):
        if boost == 1.0 or node is _EMPTY:
            return node
        return super().__new__(cls)

    def __init__(self, node: _Node, boost: float) -> None:
        super().__init__()
        self.node, self.boost, self.estimate = node, boost, node.estimate
        self.summed = [node]

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        return self.node.within(candidates)

    def scores(self, docs: Sequence[int]) -> list[float]:
        boost = self.boost
        return [score * boost for score in self.node.scores(docs)]

    def bound_without(self, parts: set[_Node]) -> float:
        return self.node.bound_without(parts) * self.boost

    def bounds_of(self, docs: Sequence[int], parts: set[_Node]) -> list[float]:
        return list(map(operator.mul, self.node.bounds_of(docs, parts), repeat(self.boost)))

    def terms(self, doc: int) -> Iterator[Term]:
        return self.node.terms(doc)


class _And(_Sum):
    def __init__(self, children: list[_Node]) -> None:
        super().__init__()
        self.children = self.summed = children
        self.estimate = min(child.estimate for child in children)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        for child in sorted(self.children, key=lambda child: child.estimate):
            candidates = child.within(candidates)
        return candidates

    def scores(self, docs: Sequence[int]) -> list[float]:
        # Whoosh joins the largest parts first (its ``And`` weighs a part by minus its size).
        return _tree_summed([(-child.estimate, child.scores(docs)) for child in self.children])

    def terms(self, doc: int) -> Iterator[Term]:
        for child in self.children:
            yield from child.terms(doc)


class _Or(_Sum):
    def __init__(self, children: list[_Node], documents: int) -> None:
        """``documents``: how many the segment holds, the most that can match."""
        super().__init__()
        self.children = self.summed = [child for child in children if child is not _EMPTY]
        self.estimate = min(sum(child.estimate for child in self.children), documents)
        self._absent = len(children) - len(self.children)  # parts matching nothing

    def _within(self, candidates: _Docs | None) -> _Docs:
        found = [docs for docs in (child.within(candidates) for child in self.children) if docs]
        if any(type(docs) is _Bits for docs in found):
            return _Bits(reduce(operator.or_, map(_bits_of, found)))
        largest = max(found, key=len, default=frozenset())
        # (a word in the body and in no title, or in titles only where the body has it)
        if all(docs <= largest for docs in found if docs is not largest):
            return largest
        return frozenset().union(*found)

    def scores(self, docs: Sequence[int]) -> list[float]:
        # Whoosh joins the smallest parts first; a part adds 0.0 where it does not match.
        zeros = [0.0] * len(docs)
        summed = _tree_summed([(0, None)] * self._absent + [
            (child.estimate, _plus_scores(zeros, child, docs)) for child in self.children])
        return zeros if summed is None else summed

    def terms(self, doc: int) -> Iterator[Term]:
        for child in self.children:
            if doc in child.matched:
                yield from child.terms(doc)


def _tree_summed(weighted: list[tuple[int, list[float] | None]]) -> list[float] | None:
    """The score lists added up in the order of Whoosh's tree of matchers
    (``make_weighted_tree``): the two lightest first, their sum placed after the parts of
    equal weight, until one is left (None: a part with no scores, as a missing term)."""
    parts = sorted(weighted, key=itemgetter(0))
    while len(parts) > 1:
        (weight, first), (other_weight, second) = parts[0], parts[1]
        del parts[:2]
        joined = first if second is None else second if first is None else \
            list(map(operator.add, first, second))
        weight += other_weight
        parts.insert(bisect_right(parts, weight, key=itemgetter(0)), (weight, joined))
    return parts[0][1]


def _plus_scores(totals: list[float], node: _Node, docs: Sequence[int]) -> list[float]:
    """``totals`` (one for each of ``docs``) plus ``node``'s score where it matches."""
    matched = node.matched
    some = matched.among(docs) if type(matched) is _Bits else \
        list(filter(matched.__contains__, docs))
    if len(some) == len(docs):  # all of them, added in C
        return list(map(operator.add, totals, node.scores(docs)))
    # elsewhere 0.0 is added: the totals stay exact
    scores = dict(zip(some, node.scores(some)))
    return list(map(operator.add, totals, map(scores.get, docs, repeat(0.0))))


class _AndMaybe(_Sum):
    """``required`` decides what matches; ``optional`` adds its score where it matches too."""

    def __init__(self, required: _Node, optional: _Node) -> None:
        super().__init__()
        self.required, self.optional, self.estimate = required, optional, required.estimate
        self.summed = [required, optional]

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        found = self.required.within(candidates)
        self.optional.within(found)
        return found

    def scores(self, docs: Sequence[int]) -> list[float]:
        return _plus_scores(self.required.scores(docs), self.optional, docs)

    def terms(self, doc: int) -> Iterator[Term]:
        yield from self.required.terms(doc)
        if doc in self.optional.matched:
            yield from self.optional.terms(doc)


class _AndNot(_Sum):
    def __init__(self, positive: _Node, negative: _Node) -> None:
        super().__init__()
        self.positive, self.negative, self.estimate = positive, negative, positive.estimate
        self.summed = [positive]

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        found = self.positive.within(candidates)
        return found - self.negative.within(found)

    def scores(self, docs: Sequence[int]) -> list[float]:
        return self.positive.scores(docs)

    def terms(self, doc: int) -> Iterator[Term]:
        return self.positive.terms(doc)


class _Not(_Node):
    """Every other document, each scoring 1 (Whoosh's ``InverseMatcher``)."""

    bound = 1.0
    takes_bits = False

    def __init__(self, excluded: _Node, everything: frozenset[int]) -> None:
        super().__init__()
        self.excluded, self.everything = excluded, everything
        self.estimate = len(everything)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        candidates = self.everything if candidates is None else candidates & self.everything
        return candidates - self.excluded.within(candidates)

    def scores(self, docs: Sequence[int]) -> list[float]:
        return [1.0] * len(docs)


class _PhraseNode(_Node):
    """Words at consecutive positions; scored as the sum of its words' scores (Whoosh's
    ``SpanNear2`` with slop 1). Where the field has pair signatures, only the articles
    whose signature has the phrase's pairs (``bits``) are looked at, and of those with an
    extension (``extensions``), only those whose extension has them too (``codes``)."""

    takes_bits = False

    def __init__(self, words: list[_TermNode], signatures: bytes | None = None,
                 bits: Sequence[int] = (), extensions: tuple | None = None,
                 codes: Sequence[int] = ()) -> None:
        super().__init__()
        self.words, self.signatures, self.bits = words, signatures, bits
        self.extensions, self.codes = extensions, codes
        self.estimate = min(word.estimate for word in words)
        self.bound = sum(word.bound for word in words)

    def _within(self, candidates: frozenset[int] | None) -> frozenset[int]:
        by_rarity = sorted(enumerate(self.words), key=lambda item: item[1].estimate)
        docs = candidates
        for _, word in by_rarity:  # the rarest first, then while intersecting is cheap
            if docs is not None and word.estimate >= _SIGNATURE_FIRST * len(docs):
                break
            docs = word.within(docs)
        if self.signatures is not None:
            docs = self._signed(docs)
            if self.extensions is not None:
                docs = self._extended(docs)
        docs = sorted(docs)  # (after the signatures: sorting 5,000 numbers takes 0.5 ms)
        # The rarest word's positions make a set; the others' only probe it (no set of a
        # common word's many positions is made). A word not intersected above is looked up
        # in its blocks as its positions are read.
        (offset, rarest), *others = by_rarity
        starts = set(rarest.keyed_positions(docs, offset))
        for offset, word in others:
            starts = starts.intersection(word.keyed_positions(docs, offset))
        return frozenset(key // _POSITION_SPAN for key in starts)

    def scores(self, docs: Sequence[int]) -> list[float]:
        return _halves_summed([word.scores(docs) for word in self.words])

    def terms(self, doc: int) -> Iterator[Term]:
        for word in self.words:
            yield word.term

    def _signed(self, docs: Iterable[int]) -> list[int]:
        """The documents whose signature has all the phrase's pair bits: a bit a pass over
        those left, the bytes holding it gathered (:func:`_gathered`) and tested by a
        table."""
        signatures, size = self.signatures, PAIR_SIGNATURE_BYTES
        docs = list(docs)
        for byte, mask in _byte_places(self.bits):
            held = _gathered(signatures, [doc * size + byte for doc in docs])
            docs = list(compress(docs, bytes(held).translate(_has_bit(mask))))
        return docs

    def _extended(self, docs: list[int]) -> list[int]:
        """Of the documents whose signature has the phrase's pair bits, those without an
        extension and those whose extension has its pairs' bits too."""
        data, offsets, lengths = self.extensions
        places = _ExtensionPlaces(self.codes)
        kept = []
        for doc, size, at in zip(docs, _gathered(lengths, docs), _gathered(offsets, docs)):
            if size:
                for byte, mask in places[size]:
                    if not data[at + byte] & mask:
                        break
                else:
                    kept.append(doc)
            else:
                kept.append(doc)
        counters["phrase_candidates_ruled_out"] += len(docs) - len(kept)
        return kept


class _ExtensionPlaces(dict):
    """Where the bits of pairs (their ``codes``) are in an extension of each size, found
    the first time a size is asked for: ``[(byte, mask), ...]``."""

    def __init__(self, codes: Sequence[int]) -> None:
        super().__init__()
        self.codes = codes

    def __missing__(self, size: int) -> list[tuple[int, int]]:
        places = self[size] = _byte_places(bit for code in self.codes
                                           for bit in extension_bits(code, size))
        return places


def _gathered(values: Sequence[int], places: Sequence[int]) -> Sequence[int]:
    """``values[place]`` for each of ``places``, read in one call, in C: the reads of a
    large segment's columns (a cache miss each) overlap, where a loop in Python makes them
    one at a time (at ten times Reuters, a phrase's pair signatures 30-40 % sooner)."""
    # (a first place more: itemgetter gives a tuple only for two or more)
    return itemgetter(0, *places)(values)[1:] if places else ()


@lru_cache(maxsize=8)
def _has_bit(mask: int) -> bytes:
    """A table for ``bytes.translate``: each byte's value to 1 if it has the bit of ``mask``,
    else to 0."""
    return bytes(1 if value & mask else 0 for value in range(256))


def _byte_places(bits: Iterable[int]) -> list[tuple[int, int]]:
    """Where each of these bit numbers is in a Bloom filter's bytes: ``(byte, mask)``, bit
    ``i`` in byte ``i >> 3`` at ``i & 7``."""
    return [(bit >> 3, 1 << (bit & 7)) for bit in bits]


# A phrase's signatures are looked at before the next word's postings when that word is in
# this many times as many documents as the candidates so far (where intersecting them
# would look the candidates up one by one), else the word is intersected first: reading a
# signature is a cache miss in a large segment's (26 MB at 208,000 articles), and
# intersecting in C was the cheaper below this (at 4, phrases took 4-8 % longer there).
_SIGNATURE_FIRST = 16


def _positions_decoder(field_format) -> Callable[[bytes], Sequence[int]]:
    """``field_format.decode_positions``; for :class:`~searchidx.engine.codec.Occurrences`, the
    same without copying a single position into a list."""
    if type(field_format) is Occurrences:
        counters["positions_packed"] += 1
        return varying_positions if field_format.varying else occurrence_positions
    counters["positions_decoded"] += 1
    return field_format.decode_positions


# A phrase's words are matched on positions keyed by document, ``doc * span + position``:
# the span exceeds any position (the largest an Occurrences value holds is 2**31 - 1). It
# is odd: a set places an int by its low bits, and with a span of 2**32 the keys of one
# position in many documents all fell in one place (making a set of them took twice as long).
_POSITION_SPAN = 2 ** 32 + 1
