"""What the layers above ask of an engine: the contract every engine implements.

Above the engine (search, query, spelling, indexer, library) nothing sees how an index
is kept: they hand an engine a query tree (:mod:`.tree`) and get back document
references, scores, stored fields and text offsets. The local engine
(:mod:`.local`) runs on Whoosh's index files; a remote engine (OpenSearch) implements
the same protocols. No Whoosh type appears here, in the arguments or in the results.

A document reference (``doc``) is an engine's own number for a document within one
open :class:`Snapshot`: valid only with that snapshot, and never shown to a reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterator
from typing import Literal, NamedTuple, Protocol

from ..budget import Budget
from .tree import Query

Sort = Literal["relevance", "date"]
Span = tuple[int, int]
"""``(start, end)`` character offsets in a text."""
Chars = tuple[tuple[int, int, int], ...]
"""``(position, start, end)`` of each occurrence of a term in a text."""
MatchedTerm = tuple[str, bytes]
"""``(field, term)`` of a term a document matched."""


class Ranked(NamedTuple):  # named tuples, not dataclasses: quicker to make at start-up
    """One matching article: its document reference, score and matched terms."""

    docnum: int
    score: float
    terms: frozenset[MatchedTerm]
    body_chars: dict[str, Chars]
    """Where each matched body term occurs in the article's body (empty when unknown)."""


class Ranking(NamedTuple):
    """The best matches of a query, best first, and how many articles match in all."""

    total: int
    hits: tuple[Ranked, ...]
    notices: tuple[str, ...] = ()
    """One line for each term of the query that stood for more words of the index than a
    query may search (``minist*``), saying how many were searched."""


class Fragment(NamedTuple):
    """A stretch of an article's original text, and the matched words in it."""

    start: int
    end: int
    matches: list[Span]


class Snapshot(Protocol):
    """One open, unchanging view of an index: what a search reads. Not shared between
    threads (each thread opens its own)."""

    def doc_count(self) -> int:
        """How many live articles the index holds."""

    def analysis_version(self) -> int:
        """The analysis the index's terms were made with (1: before it was recorded)."""

    def is_current(self) -> bool:
        """Whether no writer has committed since the snapshot was opened."""

    def close(self) -> None:
        """Release the snapshot's files."""

    # --- documents ---------------------------------------------------------------------

    def stored_fields(self, doc: int) -> dict[str, object]:
        """The stored fields of a document: id, path, title, body (the original text),
        date (a datetime or None), place, source, url, hash, stamp."""

    def document_number(self, article_id: str) -> int | None:
        """The document of an article id, or None."""

    def document(self, article_id: str) -> dict[str, object] | None:
        """The stored fields of the article with this id, or None."""

    # --- searching ---------------------------------------------------------------------

    def search(self, query: Query, *, limit: int, exact: Query | None = None,
               since: dt.date | None = None, until: dt.date | None = None,
               sort: Sort = "relevance", budget: Budget | None = None) -> Ranking:
        """The top ``limit`` articles matching ``query`` and how many match in all.

        Terms that stand for many (:data:`~.tree.EXPANDING`) are expanded against the
        index first, within the caps of :mod:`searchidx.settings` (each cut gives a
        notice). ``exact`` (the query's exact spellings) ranks the articles it matches
        first, their scores lifted above the others'; ``since``/``until`` keep the
        articles dated within those days; ``sort="date"`` puts the newest first. Once the
        time ``budget`` is spent, the search returns what it has."""

    def match_spans(self, doc: int, query: Query, budget: Budget) -> tuple[Span, ...]:
        """Offsets in the document's body (its original text) of the words ``query``
        matches there, in text order; empty if it does not match."""

    def key_terms(self, doc: int, field: str, count: int) -> list[tuple[str, float]]:
        """The ``count`` most telling terms of a document's field, with their weights."""

    # --- vocabulary ----------------------------------------------------------------------

    def has_term(self, field: str, text: str) -> bool:
        """Whether a term (as the field's analysis makes it) is in the index."""

    def doc_frequency(self, field: str, text: str) -> int:
        """How many articles have the term."""

    def most_frequent_terms(self, field: str, count: int) -> list[tuple[float, str]]:
        """``(frequency, term)`` of the field's most frequent terms."""

    def is_spelling_word(self, field: str, word: str) -> bool:
        """Whether a folded, unstemmed word is among the words written in the field."""

    def spelling_words_within(self, field: str, word: str, max_edits: int,
                              prefix_letters: int, budget: Budget | None
                              ) -> Iterator[str]:
        """The words written in the field (folded, unstemmed) that share the first
        ``prefix_letters`` letters of ``word`` and are within ``max_edits`` edits of it,
        in order; stops when the ``budget`` is spent."""

    def term_occurrences(self, field: str, text: str) -> Iterator[tuple[int, Chars]]:
        """Each document that has a term of a field with character offsets (the body),
        in document order, with where the term occurs in it."""

    # --- what the indexer compares ---------------------------------------------------------

    def recorded_columns(self, fields: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        """For each live document, its values of the given recorded fields (id, path,
        hash, stamp), in document order."""


class Writer(Protocol):
    """Changes to an index, seen by readers only once committed."""

    schema: Container[str]
    """The names of the fields the index has (one built by an earlier searchidx may lack
    newer ones): a document gives only those."""

    def add_document(self, **fields: object) -> None:
        """Add an article (fields named as in :meth:`Snapshot.stored_fields`)."""

    def update_document(self, **fields: object) -> None:
        """Replace the article with the same id (or add it)."""

    def delete_by_term(self, field: str, text: str) -> int:
        """Delete the articles whose field has this term; how many."""

    def commit(self, **options: object) -> None:
        """Make the changes visible, atomically."""

    def cancel(self) -> None:
        """Drop the changes."""
