"""The library API: :class:`SearchIndex` opens an index, fills it and searches it.

::

    from searchidx import SearchIndex
    with SearchIndex.open("my-index", create=True) as idx:
        report = idx.index(["articles/"])
        for hit in idx.search("Vu", limit=10):
            print(hit.title, hit.date, hit.score, hit.snippet)
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .errors import IndexNotFound
from .index import IndexStore, default_location
from .settings import DEFAULT_LIMIT, LOCK_WAIT_SECONDS

# The modules for writing, searching (they load Whoosh's query parser), checking and
# articles are imported by the methods that use them: a command loads only what it needs.
if TYPE_CHECKING:
    from .aliases import Aliases
    from .documents import Article
    from .index import IndexStats
    from .indexer import IndexReport, Progress
    from .integrity import CheckReport
    from .query import QueryBuilder
    from .search import SearchResults, Sort, Span

__all__ = ["SearchIndex", "bundled_seeds"]

PathLike = str | os.PathLike[str]


def bundled_seeds() -> Path:
    """The folder of seed articles shipped with searchidx (the default corpus)."""
    package = Path(__file__).resolve().parent
    # Inside the package once installed from a wheel; the checkout's seeds/ when editable.
    for candidate in (package / "seeds", package.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise IndexNotFound("the bundled seed articles are missing from this installation")


class SearchIndex:
    """A searchable index of news articles, kept in a folder on disk.

    Open one with :meth:`open`; use it as a context manager or call :meth:`close`.
    One open ``SearchIndex`` keeps its searcher between searches and notices when
    another process has updated or rebuilt the index.
    """

    def __init__(self, store: IndexStore, aliases_file: PathLike | None = None) -> None:
        self._store = store
        self._aliases_file = aliases_file
        self._aliases: Aliases | None = None
        self._whoosh_index = None
        self._searcher = None
        self._generation: Path | None = None

    @classmethod
    def open(cls, location: PathLike | None = None, *, create: bool = False,
             aliases_file: PathLike | None = None) -> SearchIndex:
        """Open the index at ``location``.

        With no location: ``$SEARCHIDX_INDEX``, else a per-user data folder, which is
        built from the bundled seed articles the first time. With ``create=True`` an
        empty index is made where there is none; otherwise a missing index raises
        :class:`~searchidx.errors.IndexNotFound`. Searches expand the shipped aliases
        plus those of ``aliases_file`` (default: ``$SEARCHIDX_ALIASES``, if set).
        """
        if location is None:
            path, per_user_default = default_location()
            store = IndexStore(path)
            if per_user_default:
                from .indexer import ensure_index

                ensure_index(store, [bundled_seeds()])
        else:
            store = IndexStore(Path(location).expanduser())
        if not store.exists():
            if not create:
                raise IndexNotFound(f"no index at {store.location} (create one with "
                                    f"`searchidx index PATH --index {store.location}`)")
            from .indexer import update

            update(store, [])
        return cls(store, aliases_file)

    @property
    def location(self) -> Path:
        """The folder that holds the index."""
        return self._store.location

    def index(self, paths: Sequence[PathLike], *, progress: Progress | None = None,
              wait: float = LOCK_WAIT_SECONDS) -> IndexReport:
        """Add new articles, update changed ones and remove those whose files are gone.

        ``paths`` are files or folders (read recursively). Unchanged files are passed
        over by size and modification time. Files that cannot be read are listed in
        ``report.skipped`` and the others are indexed all the same.
        """
        from .indexer import update

        return update(self._store, paths, progress, wait)

    def rebuild(self, paths: Sequence[PathLike], *, progress: Progress | None = None,
                wait: float = LOCK_WAIT_SECONDS) -> IndexReport:
        """Build a fresh index from ``paths`` and swap it in atomically.

        Searches running meanwhile see the old index or the new one, never a mix.
        """
        from .indexer import rebuild

        return rebuild(self._store, paths, progress, wait)

    def search(self, query: str, *, limit: int = DEFAULT_LIMIT, since: dt.date | None = None,
               until: dt.date | None = None, sort: Sort = "relevance",
               expand_aliases: bool = True) -> SearchResults:
        """Search the index; every word must match, in the title or the body.

        ``since``/``until`` keep articles dated within those days (inclusive);
        ``sort="date"`` puts the newest first; ``expand_aliases=False`` searches the
        words as typed, without their aliases. If nothing matches, a spelling correction
        (``results.suggestion``) or any-word matching is tried, and ``results.notice``
        says so. Raises :class:`~searchidx.errors.QueryError` for an empty query or bad
        arguments.
        """
        from .search import run_search

        searcher = self._current_searcher()
        return run_search(searcher, self._query_builder(searcher, expand_aliases), query,
                          limit, since, until, sort)

    def similar(self, article_id: str, *, limit: int = DEFAULT_LIMIT) -> SearchResults:
        """Articles related to the one with this id (never the article itself).

        Raises :class:`~searchidx.errors.ArticleNotFound` for an unknown id.
        """
        from .search import run_similar

        return run_similar(self._current_searcher(), article_id, limit)

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        from .documents import Article

        stored = self._current_searcher().document(id=article_id)
        if stored is None:
            return None
        date = stored.get("date")
        return Article(id=stored["id"], path=stored.get("path", ""), title=stored["title"],
                       body=stored["body"], date=date.date() if date else None,
                       place=stored.get("place"), source=stored.get("source"),
                       url=stored.get("url"))

    def matches(self, article_id: str, query: str) -> tuple[Span, ...]:
        """Where ``query`` matches in an article's body, for marking the words on display.

        Returns the ``(start, end)`` offsets in :attr:`Article.body` of every matched word,
        in text order. The query is read as :meth:`search` reads it, so these are the words
        a search marks in its snippets. Empty when the article does not exist, the query
        does not match it, or the query is blank.
        """
        from .search import match_spans

        searcher = self._current_searcher()
        return match_spans(searcher, self._query_builder(searcher, True), article_id, query)

    def check(self, *, repair: bool = False, wait: float = LOCK_WAIT_SECONDS) -> CheckReport:
        """Compare every article with the file it came from (gone, changed, unreadable,
        duplicated); with ``repair=True``, re-index what differs and check again."""
        from . import integrity

        report = integrity.check(self._store)
        return integrity.repair(self._store, report, wait) if repair else report

    def stats(self) -> IndexStats:
        """Where the index is, how many articles it holds, its size and last update, and
        whether a rebuild is needed to get the current analysis."""
        from .index import analysis_version

        searcher = self._current_searcher()
        return self._store.stats(searcher.doc_count(), analysis_version(searcher.schema))

    def close(self) -> None:
        """Release the open searcher and index."""
        if self._searcher is not None:
            self._searcher.close()
        if self._whoosh_index is not None:
            self._whoosh_index.close()
        self._searcher = self._whoosh_index = self._generation = None

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _query_builder(self, searcher, expand_aliases: bool) -> QueryBuilder:
        from .aliases import load_aliases
        from .query import QueryBuilder

        if expand_aliases and self._aliases is None:
            self._aliases = load_aliases(self._aliases_file)
        return QueryBuilder(searcher.schema, self._aliases if expand_aliases else None,
                            searcher.reader())

    def _current_searcher(self):
        """The open searcher, reopened after a rebuild or an update.

        (Whoosh's ``refresh()`` would keep the readers of the segments still there with the
        deletions they had when opened: articles an update replaced or removed would
        still be found.)
        """
        generation = self._store.live_generation()
        stale = self._searcher is None or generation != self._generation
        if stale or not self._searcher.up_to_date():
            self.close()
            from .search import scoring

            self._whoosh_index = self._store.open()
            self._searcher = self._whoosh_index.searcher(weighting=scoring())
            self._generation = generation
        return self._searcher
