"""The postings of a segment while it is written, held term by term.

Whoosh's writer hands every posting, ``(field, term, document, weight, value)``, to a pool
that gives them back sorted when the segment is written. Whoosh's ``PostingPool`` keeps
each posting as a tuple and sorts them all; past its memory limit it pickles every posting
to a run file and merges the runs back one posting at a time. A :class:`TermPool` keeps
each term's postings together, in the order they come (which is the order of their
document numbers), so that only the terms are sorted and a run is written and read back a
piece at a time (the build time and memory it saves: docs/performance.md).
"""

from __future__ import annotations

import heapq
import marshal
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from operator import itemgetter
from typing import Any

from whoosh.system import pack_uint
from whoosh.util import random_name

from . import counters, speedups, whoosh_adapter

__all__ = ["CountedTerms", "OccurringTerms", "PooledPostings", "TermPool", "run_terms",
           "use_term_pool"]

# TermPool.add_field adds a field's CountedTerms or OccurringTerms through the compiled
# loop where it was built (its Python loop is the reference, and takes every other input).
_c = speedups.compiled("postings")

# Bytes of memory counted for a term and for one of its postings (besides the term's and
# the value's own bytes): a term's key, dict slot and lists; a posting's list slots and
# weight (tracemalloc's figures on real postings).
_TERM_BYTES = 400
_POSTING_BYTES = 80
# A run is written and read back in pieces of about this many postings: merging the runs
# holds one piece of each in memory.
_RUN_CHUNK_POSTINGS = 8192
_CHUNK_SIZE = struct.Struct("<I")
# What writing a term costs besides its postings, in postings: the ranges' bounds share
# out the terms and postings by it (a worker's part of the finish took about 4 us a term
# and 1.5-2 us a posting on Reuters; split by postings alone, the range holding the
# spelling words took 10-15 % longer to write than the other, and the other worker waited).
_TERM_COST = 1

# (field, term, documents, weights, values): one term's postings.
_TermPostings = tuple[str, bytes, list[int], list[Any], list[Any]]
_term_key = itemgetter(0, 1)


class OccurringTerms:
    """A document's terms in one field, each with its occurrences (a list of ``(position,
    start, end)``), as a field's ``index`` gives them to :meth:`TermPool.add_field`:
    iterating gives each posting as Whoosh's fields do, ``(term, frequency, weight,
    value)``, the frequency the number of occurrences, the weight it times ``boost``, the
    value ``encode`` of them: a varying :class:`~.codec.Occurrences`' encode, whose
    layout the compiled loop writes (a field of another format gives a plain iterable)."""

    counted = False  # each term's frequency given, not its occurrences

    def __init__(self, terms: dict, boost: float, encode: Callable[[Any], bytes]) -> None:
        self.terms, self.boost, self.value_of = terms, boost, encode

    def __iter__(self) -> Iterator[tuple[bytes, int, Any, bytes]]:
        boost, value_of, counted = self.boost, self.value_of, self.counted
        for term, found in self.terms.items():
            frequency = found if counted else len(found)
            yield term.encode("utf-8"), frequency, boost * frequency, value_of(found)


class CountedTerms(OccurringTerms):
    """A document's terms in one field, each with its frequency, as
    :class:`OccurringTerms` (the value Whoosh's ``pack_uint`` of the frequency)."""

    counted = True

    def __init__(self, terms: dict[str, int], boost: float) -> None:
        super().__init__(terms, boost, pack_uint)


class TermPool:
    """A pool of postings for Whoosh's ``SegmentWriter``: ``add`` one posting at a time,
    then ``iter_postings`` gives them all, sorted by field, term and document.

    ``limitmb`` bounds the memory it holds (as Whoosh's ``limitmb`` does): past it, the
    postings so far go to a run in ``tempstorage``, Whoosh's temporary storage of the segment.
    """

    def __init__(self, tempstorage, limitmb: float) -> None:
        self.fieldnames: set[str] = set()  # Whoosh's writers read this
        self.runs: list[str] = []
        self._tempstorage = tempstorage
        self._limit = limitmb * 2**20
        self._size = 0
        # field -> term -> its postings, each as three items: document, weight, value (one
        # flat list per term: a posting is one extend, not three appends)
        self._fields: dict[str, dict[bytes, list]] = {}
        self._unordered: set[tuple[str, bytes]] = set()
        # Once the terms are split into ranges (``split``), each run is written as one
        # run per range, and ``ranged_runs[r]`` names range r's, oldest first.
        self.bounds: list[tuple[str, bytes]] | None = None
        self.ranged_runs: list[list[str]] = []

    def add(self, posting: tuple[str, bytes, int, Any, Any]) -> None:
        fieldname, text, docnum, weight, value = posting
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        held = terms.get(text)
        if held is None:
            terms[text] = [docnum, weight, value]
            self._size += _TERM_BYTES + len(text)
        else:
            if docnum < held[-3]:
                self._unordered.add((fieldname, text))
            held += (docnum, weight, value)
        self._size += _POSTING_BYTES + (len(value) if value else 0)
        if self._size > self._limit:
            self.save()

    def add_field(self, fieldname: str, docnum: int, items: Iterable[tuple], boost: float,
                  last_value: Any = None) -> tuple[int, Any]:
        """:meth:`add` of each of a document's postings in one field, as a field's ``index``
        gives them, ``(term, frequency, weight, value)``, each weight times ``boost`` (as
        Whoosh's writer adds them, in one loop, not a call and a tuple a posting); the sum
        of the frequencies, and the last value (``last_value`` if there was none). A field
        is held (and named in ``fieldnames``) once it has a posting, as :meth:`add` holds it."""
        terms = self._fields.get(fieldname)
        held_before = terms is not None
        if not held_before:
            terms = {}
        added = None
        if _c is not None and type(items) in (OccurringTerms, CountedTerms):
            added = _c.add_terms(terms, self._unordered, fieldname, docnum, items.terms,
                                 items.boost, items.value_of, items.counted, boost,
                                 last_value, _TERM_BYTES, _POSTING_BYTES)
        if added is None:
            added = self._added(terms, fieldname, docnum, items, boost, last_value)
        length, last_value, size = added
        if terms and not held_before:
            self._fields[fieldname] = terms
            self.fieldnames.add(fieldname)
        self._size += size
        if self._size > self._limit:
            self.save()
        return length, last_value

    def _added(self, terms: dict[bytes, list], fieldname: str, docnum: int,
               items: Iterable[tuple], boost: float, last_value: Any) -> tuple[int, Any, int]:
        """Add each of ``items`` to ``terms`` (a field's terms held, as :meth:`add_field`
        says): the sum of the frequencies, the last value, the bytes counted."""
        length = size = 0
        for text, frequency, weight, last_value in items:
            weight *= boost
            length += frequency
            held = terms.get(text)
            if held is None:
                terms[text] = [docnum, weight, last_value]
                size += _TERM_BYTES + len(text)
            else:
                if docnum < held[-3]:
                    self._unordered.add((fieldname, text))
                held += (docnum, weight, last_value)
            size += _POSTING_BYTES + (len(last_value) if last_value else 0)
        return length, last_value, size

    def split(self, bounds: list[tuple[str, bytes]]) -> None:
        """From now on write each run as one run per range of terms: range r holds the
        terms from ``bounds[r - 1]`` (the first from the start) up to ``bounds[r]``."""
        self.bounds = bounds
        self.ranged_runs = [[] for _ in range(len(bounds) + 1)]

    def fullness(self) -> float:
        """How much of its memory limit the postings held take (1: a run is written)."""
        return self._size / self._limit

    def even_bounds(self, count: int) -> list[tuple[str, bytes]]:
        """The bounds (see :meth:`split`) of ``count`` ranges that share the writing of
        the terms held about evenly, each term counted as its postings and
        ``_TERM_COST`` (none held: every range but the first is empty)."""
        # (a term holds three entries a posting: its document, weight and value)
        sizes = [(fieldname, text, len(held) // 3 + _TERM_COST)
                 for fieldname in sorted(self._fields)
                 for text, held in sorted(self._fields[fieldname].items())]
        total = sum(size for _, _, size in sizes)
        bounds: list[tuple[str, bytes]] = []
        held = 0
        for fieldname, text, size in sizes:
            if len(bounds) < count - 1 and held >= total * (len(bounds) + 1) / count:
                bounds.append((fieldname, text))
            held += size
        last = (chr(0x10FFFF), b"")  # after every key: the ranges left are empty
        return bounds + [last] * (count - 1 - len(bounds))

    def save(self) -> None:
        """Write the postings held so far to a new run (one per range, once split)."""
        if self._fields:
            self.share_out(keep=None)

    def share_out(self, keep: int | None) -> Iterator[_TermPostings]:
        """Write the postings held to runs (one per range, once split) but those of
        range ``keep``, which are given back (terms in order, read as they are asked
        for); the pool holds nothing after."""
        kept: Iterator[_TermPostings] = iter(())
        if self.bounds is None:
            self.runs.append(self._write_run(self._sorted_terms()))
        else:
            for number, pieces in enumerate(self._ranged_texts()):
                if number == keep:
                    kept = self._terms_of(pieces)
                elif any(texts for _, texts in pieces):
                    # each range's owner merges every worker's runs: in smaller pieces,
                    # they hold as much memory as one worker's runs in whole pieces
                    self.ranged_runs[number].append(
                        self._write_run(self._terms_of(pieces), len(self.ranged_runs)))
        self._fields, self._unordered, self._size = {}, set(), 0
        return kept

    def _write_run(self, terms: Iterable[_TermPostings], shared_by: int = 1) -> str:
        """Write a run, in pieces of ``_RUN_CHUNK_POSTINGS`` postings over ``shared_by``."""
        name = f"{random_name()}.termrun"  # the temporary folder is shared by all writers
        with self._tempstorage.create_file(name) as run:
            for chunk in _chunks(terms, max(1, _RUN_CHUNK_POSTINGS // shared_by)):
                data = marshal.dumps(chunk)
                run.write(_CHUNK_SIZE.pack(len(data)) + data)
        return name

    def iter_postings(self) -> PooledPostings:
        """Every posting as ``(field, term, document, weight, value)``, in order."""
        return PooledPostings(self._merged_terms())

    def cleanup(self) -> None:
        """Delete the runs (Whoosh's writer calls this when the segment is done)."""
        for name in self._all_runs():
            self._tempstorage.delete_file(name)
        self.runs, self.ranged_runs = [], [[] for _ in self.ranged_runs]

    def _all_runs(self) -> list[str]:
        """Every run written, oldest first (those before the split are older)."""
        return self.runs + [name for runs in self.ranged_runs for name in runs]

    def _merged_terms(self) -> Iterator[_TermPostings]:
        """Each term's postings, terms in order; a term held in several runs comes once
        from each, oldest first (its documents ascending throughout)."""
        sources = [self._read_run(name) for name in self._all_runs()]
        sources.append(self._sorted_terms())
        if len(sources) == 1:
            return sources[0]
        return heapq.merge(*sources, key=_term_key)  # stable: runs keep their order

    def _sorted_terms(self) -> Iterator[_TermPostings]:
        return self._terms_of([(fieldname, sorted(terms))
                               for fieldname, terms in sorted(self._fields.items())])

    def _terms_of(self, pieces: list[tuple[str, list[bytes]]]) -> Iterator[_TermPostings]:
        """The postings held of each piece's terms, ``(field, its terms in order)``, read
        as they are asked for (from what the pool holds now, even once emptied)."""
        return _held_terms(self._fields, self._unordered, pieces)

    def _ranged_texts(self) -> list[list[tuple[str, list[bytes]]]]:
        """Each range's terms held, as (field, its terms in order) in order (found with a
        bisection where a bound falls in a field, not a comparison a term)."""
        bounds = self.bounds
        ranges: list[list[tuple[str, list[bytes]]]] = [[] for _ in range(len(bounds) + 1)]
        for fieldname in sorted(self._fields):
            texts = sorted(self._fields[fieldname])
            number, start = bisect_right(bounds, (fieldname, texts[0])), 0
            while number < len(bounds) and bounds[number][0] == fieldname:
                end = bisect_left(texts, bounds[number][1], start)
                ranges[number].append((fieldname, texts[start:end]))
                number, start = number + 1, end
            ranges[number].append((fieldname, texts[start:]))
        return ranges

    def _read_run(self, name: str) -> Iterator[_TermPostings]:
        return run_terms(self._tempstorage, name)


def _held_terms(fields: dict[str, dict[bytes, list]], unordered: set[tuple[str, bytes]],
                pieces: list[tuple[str, list[bytes]]]) -> Iterator[_TermPostings]:
    for fieldname, texts in pieces:
        terms = fields[fieldname]
        for text in texts:
            held = terms[text]
            docnums, weights, values = held[::3], held[1::3], held[2::3]
            if (fieldname, text) in unordered:
                docnums, weights, values = _by_document(docnums, weights, values)
            yield fieldname, text, docnums, weights, values


def run_terms(tempstorage, name: str) -> Iterator[_TermPostings]:
    """The terms of a pool's run ``name`` in ``tempstorage``, in order."""
    with tempstorage.open_file(name).raw_file() as run:
        while header := run.read(_CHUNK_SIZE.size):
            # marshal.load on a file reads it a value at a time: many times slower
            yield from marshal.loads(run.read(_CHUNK_SIZE.unpack(header)[0]))


class PooledPostings:
    """A pool's postings, in order: one at a time as ``(field, term, document, weight,
    value)`` (as Whoosh's writers take them), or :meth:`terms`, each term's together."""

    def __init__(self, terms: Iterator[_TermPostings]) -> None:
        self._terms = terms

    def __iter__(self) -> Iterator[tuple[str, bytes, int, Any, Any]]:
        for fieldname, text, docnums, weights, values in self._terms:
            yield from zip(repeat(fieldname), repeat(text), docnums, weights, values)

    def terms(self) -> Iterator[_TermPostings]:
        """``(field, term, documents, weights, values)``, a term's postings together (a
        term held in several runs comes once from each, oldest first)."""
        return self._terms


def use_term_pool(writer, limitmb: float) -> None:
    """Give Whoosh's ``SegmentWriter`` (before it is given documents) a :class:`TermPool`.

    Whoosh's writer makes its own ``PostingPool`` and ignores a pool class passed to it.
    """
    counters["term_pool"] += 1
    whoosh_adapter.replace_pool(writer, TermPool(writer.temp_storage(), limitmb))
    whoosh_adapter.add_fields_at_once(writer)


def _by_document(docnums: list, weights: list, values: list) -> tuple[list, list, list]:
    order = sorted(range(len(docnums)), key=docnums.__getitem__)
    return ([docnums[i] for i in order], [weights[i] for i in order],
            [values[i] for i in order])


def _chunks(terms: Iterable[_TermPostings], postings: int) -> Iterator[list[_TermPostings]]:
    """The terms in lists of at least ``postings`` postings (the last may have fewer)."""
    chunk: list[_TermPostings] = []
    held = 0
    for term in terms:
        chunk.append(term)
        held += len(term[2])
        if held >= postings:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk
