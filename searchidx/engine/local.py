"""The local engine: the protocols of :mod:`.interface` on Whoosh's index files.

A :class:`LocalSnapshot` is one open Whoosh index and searcher. A search compiles the
query tree into a Whoosh query (:mod:`.compile`), its terms that stand for many expanded
first, and ranks it over whole posting lists (:mod:`.matching`) where the query allows,
else with Whoosh's matchers, both scoring with the one BM25F of :mod:`.scoring`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path

from . import whoosh_adapter  # noqa: F401 (the version check, before any Whoosh import)
from ..budget import Budget
from . import tree
from .compile import expanded, to_whoosh, words_within
from .interface import Chars, Ranked, Ranking, Sort, Span
from .matching import body_chars, has_term, rank
from .schema import analysis_version, build_schema, storage
from .scoring import weighting  # the ranking of the queries Whoosh's matchers run

from whoosh.index import EmptyIndexError  # noqa: E402

__all__ = ["OPEN_RACES", "LocalSnapshot", "create_index", "open_index",
           "readable_snapshot", "weighting"]

OPEN_RACES = (FileNotFoundError, EmptyIndexError)
"""What opening a generation raises when a rebuild swapped it away meanwhile."""


def open_index(generation: Path):
    """The Whoosh index of a generation folder."""
    return storage(generation).open_index()


def create_index(generation: Path):
    """A new, empty Whoosh index in a generation folder."""
    return storage(generation).create_index(build_schema())


def readable_snapshot(generation: Path) -> LocalSnapshot | None:
    """A snapshot of what can still be read of a generation's segments, or None (see
    :func:`~.manifest.readable_segments`)."""
    from whoosh.reading import MultiReader
    from whoosh.searching import Searcher

    from .manifest import readable_segments

    readers = readable_segments(storage(generation))
    if not readers:
        return None
    return LocalSnapshot(None, Searcher(readers[0] if len(readers) == 1 else MultiReader(readers)))


class LocalSnapshot:
    """One open Whoosh index (None for a snapshot of readable segments) and its searcher."""

    def __init__(self, index, searcher=None) -> None:
        self.index = index
        self.searcher = searcher if searcher is not None else index.searcher(
            weighting=weighting())
        self.reader = self.searcher.reader()
        leaves = self.reader.leaf_readers()
        self._segments = [leaf for leaf, _ in leaves]
        self._offsets = [offset for _, offset in leaves]
        self._field_names = frozenset(self.searcher.schema.names())

    def doc_count(self) -> int:
        return self.searcher.doc_count()

    def is_empty(self) -> bool:
        """Whether the index holds no document, not even a deleted one."""
        return self.reader.doc_count_all() == 0

    def analysis_version(self) -> int:
        return analysis_version(self.searcher.schema)

    def is_current(self) -> bool:
        if self.index is None:
            return self.searcher.up_to_date()  # (raises: no index to compare with)
        # Whoosh's up_to_date(), without its layers: every search asks.
        return whoosh_adapter.latest_toc_generation(self.index.storage, self.index.indexname) \
            == self.reader.generation()

    def close(self) -> None:
        self.searcher.close()
        if self.index is not None:
            self.index.close()

    # --- documents -----------------------------------------------------------------------

    def stored_fields(self, doc: int) -> dict[str, object]:
        # From the segment's columns: Whoosh's readers add two layers of calls and copy
        # the fields into a new dict, keeping those the schema has (all of them, mostly).
        number = bisect_right(self._offsets, doc) - 1
        segment = whoosh_adapter.columns_reader(self._segments[number])
        stored = segment.stored_fields(doc - self._offsets[number])
        if stored.keys() <= self._field_names:
            return stored
        schema = self.searcher.schema
        return {name: value for name, value in stored.items() if name in schema}

    def document_number(self, article_id: str) -> int | None:
        if not _storable(article_id):
            return None
        return self.searcher.document_number(id=article_id)

    def document(self, article_id: str) -> dict[str, object] | None:
        if not _storable(article_id):
            return None
        return self.searcher.document(id=article_id)

    # --- searching -------------------------------------------------------------------------

    def search(self, query: tree.Query, *, limit: int, exact: tree.Query | None = None,
               since: dt.date | None = None, until: dt.date | None = None,
               sort: Sort = "relevance", budget: Budget | None = None) -> Ranking:
        budget = budget if budget is not None else Budget(float("inf"))
        query, cuts = expanded(query, self.reader, budget)
        whoosh_exact = None if exact is None else to_whoosh(exact)
        ranking = _ranking(self.searcher, to_whoosh(query), whoosh_exact, limit,
                           _date_filter(since, until), sort, budget)
        return ranking._replace(notices=tuple(cuts))

    def match_spans(self, doc: int, query: tree.Query, budget: Budget) -> tuple[Span, ...]:
        query, _ = expanded(query, self.reader, budget)
        for hit in self.searcher.search(to_whoosh(query), filter={doc}, limit=1, terms=True):
            terms = {_text(term) for field, term in hit.matched_terms() if field == "body"}
            tokens = self.searcher.schema["body"].analyzer(hit["body"], chars=True)
            return tuple((t.startchar, t.endchar) for t in tokens if t.text in terms)
        return ()

    def key_terms(self, doc: int, field: str, count: int) -> list[tuple[str, float]]:
        return self.searcher.key_terms([doc], field, numterms=count)

    # --- vocabulary ----------------------------------------------------------------------------

    def has_term(self, field: str, text: str) -> bool:
        return has_term(self.reader, field, text)

    def doc_frequency(self, field: str, text: str) -> int:
        return self.reader.doc_frequency(field, text)

    def most_frequent_terms(self, field: str, count: int) -> list[tuple[float, str]]:
        return [(frequency, term.decode("utf-8"))
                for frequency, term in self.reader.most_frequent_terms(field, count)]

    def is_spelling_word(self, field: str, word: str) -> bool:
        return (self._spelling_field(field), word.encode("utf-8")) in self.reader

    def spelling_words_within(self, field: str, word: str, max_edits: int,
                              prefix_letters: int, budget: Budget | None) -> Iterator[str]:
        return words_within(self.reader, self._spelling_field(field), word, max_edits,
                            prefix_letters, budget)

    def _spelling_field(self, field: str) -> str:
        return self.reader.schema[field].spelling_fieldname(field)

    def term_occurrences(self, field: str, text: str) -> Iterator[tuple[int, Chars]]:
        if (field, text.encode("utf-8")) not in self.reader:
            return
        postings = self.reader.postings(field, text)
        while postings.is_active():
            yield postings.id(), postings.value_as("characters")
            postings.next()

    def recorded_columns(self, fields: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        reader = self.reader
        if reader.doc_count_all() == 0:
            return  # an empty reader has no columns
        rows = zip(*[whoosh_adapter.text_column(reader, name) for name in fields])
        deleted = _deleted_documents(reader)
        if not deleted:
            yield from rows
            return
        for docnum, row in enumerate(rows):
            if docnum not in deleted:
                yield row

    # --- writing -------------------------------------------------------------------------------

    def open_writer(self, processes: int = 1, lock_fd: int | None = None,
                    memory_mb: float = 0):
        """A writer to the index (a :class:`~.interface.Writer`; its ``schema`` holds
        the names of the fields the index has); with several ``processes``, one that
        splits the work over worker processes."""
        from .codec import Codec

        if processes > 1:
            from .parallel import ParallelWriter

            return ParallelWriter(self.index, processes, lock_fd,
                                  limitmb=memory_mb / processes, codec=Codec())
        from .pool import use_term_pool

        writer = self.index.writer(limitmb=memory_mb, codec=Codec())
        use_term_pool(writer, memory_mb)
        whoosh_adapter.merge_postings_in_order(writer)
        return writer


def _deleted_documents(reader) -> set[int]:
    """The numbers of the deleted documents: a few, where the live ones are all the rest
    (a set of those took longer than reading the columns)."""
    return {base + docnum for segment_reader, base in reader.leaf_readers()
            for docnum in whoosh_adapter.deleted_documents(segment_reader)}


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


# --- ranking -----------------------------------------------------------------------------------

def _ranking(searcher, query, exact, limit: int, date_filter, sort: Sort,
             budget: Budget) -> Ranking:
    """The best matches, from whole posting lists (``matching.py``) where the query allows,
    else from Whoosh."""
    if sort == "relevance":
        allowed = frozenset(searcher.docs_for_query(date_filter)) if date_filter else None
        ranking = rank(searcher, query, limit, exact, allowed, budget)
        if ranking is not None:
            return ranking
    # Every match is collected (limit=None): with a limit, Whoosh prunes its matchers as
    # the top scores rise, which miscounts the total and can lose the best hits of a
    # query with an exclusion (Reuters-21578: "U.S. trade -japan" counted 397 of 865).
    collector = searcher.collector(limit=None, terms=True, filter=date_filter,
                                   **_ordering(sort, exact))
    with contextlib.suppress(_budget_collector().TimeLimit):
        searcher.search_with_collector(query, _budget_collector()(collector, budget))
    results = collector.results()
    exact_first = sort == "relevance" and exact is not None
    return _whoosh_ranking(searcher, results, limit, exact_first)


@functools.cache
def _budget_collector():
    """A Whoosh collector that stops at the first check after the budget is spent (its
    class is made on first use: Whoosh's collectors stay out of a plain search)."""
    from whoosh import collectors

    class BudgetCollector(collectors.WrappingCollector):
        TimeLimit = collectors.TimeLimit

        def __init__(self, child, budget: Budget) -> None:
            self.child, self.budget = child, budget
            self.segments = 0  # begun so far

        def collect_matches(self) -> None:
            child = self.child
            for count, sub_docnum in enumerate(child.matches(), start=1):
                child.collect(sub_docnum)
                if not count % _DOCUMENTS_PER_CLOCK_CHECK and self.budget.stop_if_exhausted():
                    raise collectors.TimeLimit

        def set_subsearcher(self, subsearcher, offset: int) -> None:
            if self.segments and self.budget.stop_if_exhausted():
                raise collectors.TimeLimit
            self.segments += 1
            super().set_subsearcher(subsearcher, offset)

    return BudgetCollector


# Whoosh's collection checks the clock after this many documents (about a millisecond).
_DOCUMENTS_PER_CLOCK_CHECK = 256


def _whoosh_ranking(searcher, results, limit: int, exact_first: bool) -> Ranking:
    top = results[:limit]
    scores = _lifted_scores(results, top) if exact_first else _relevance_scores(top)
    matched = [frozenset(hit.matched_terms()) for hit in top]
    body_terms = [{text.decode("utf-8") for field, text in terms if field == "body"}
                  for terms in matched]
    chars = body_chars(searcher, [hit.docnum for hit in top], set().union(*body_terms))
    return Ranking(len(results), tuple(
        Ranked(hit.docnum, scores[hit.docnum], terms,
               {term: spans for term, spans in chars[hit.docnum].items() if term in words})
        for hit, terms, words in zip(top, matched, body_terms)))


def _date_filter(since: dt.date | None, until: dt.date | None):
    if not since and not until:
        return None
    from whoosh.query import DateRange

    start = dt.datetime.combine(since, dt.time.min) if since else None
    end = dt.datetime.combine(until, dt.time.max) if until else None
    return DateRange("date", start, end)


_EXACT = "exact"


def _ordering(sort: Sort, exact) -> dict[str, object]:
    """Newest first; or by relevance, where articles with the query's exact spellings
    come before those that match only once folded."""
    from whoosh import sorting

    if sort == "date":
        first = sorting.FieldFacet("date", reverse=True)
    elif exact is not None:
        first = sorting.QueryFacet({_EXACT: exact}, other="folded")  # "exact" sorts first
    else:
        return {}
    return {"sortedby": sorting.MultiFacet([first, sorting.ScoreFacet()])}


def _lifted_scores(results, top) -> dict[int, float]:
    """The scores of results ranked exact spellings first (sort keys ``(category,
    -score)``, see :func:`_ordering`): an exact one's score is lifted by the best score of
    the others, so that scores fall with the rank (as ``matching.rank`` lifts them)."""
    lift = max((-score for (category, score), _ in results.top_n if category != _EXACT),
               default=0.0)
    return {hit.docnum: -hit.score[1] + (lift if hit.score[0] == _EXACT else 0.0)
            for hit in top}


def _relevance_scores(top) -> dict[int, float]:
    """BM25F score of each hit; results sorted by date carry a sort key instead, whose last
    part is the negated score (see :func:`_ordering`)."""
    return {hit.docnum: -hit.score[-1] if isinstance(hit.score, tuple) else float(hit.score or 0)
            for hit in top}


def _storable(article_id: str) -> bool:
    """Whether ``article_id`` can be an indexed article's: ids are stored in UTF-8, which
    holds no lone surrogate (a command line's undecodable bytes arrive as such)."""
    try:
        article_id.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
