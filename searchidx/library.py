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
import functools
import os
import threading
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .errors import IndexNotFound, SearchIdxError
from .index import IndexStore, default_location, may_be_default_location
from .settings import DEFAULT_LIMIT, LOCK_WAIT_SECONDS, SEARCH_TIME_BUDGET_SECONDS

# The modules for writing, searching (they load Whoosh's query parser), checking and
# articles are imported by the methods that use them: a command loads only what it needs.
if TYPE_CHECKING:
    from .aliases import Aliases
    from .cluster import ClusterStore
    from .documents import Article
    from .engine.interface import Snapshot
    from .index import IndexStats
    from .indexer import IndexProgress, IndexReport, Progress, ProgressWatcher
    from .integrity import CheckReport
    from .query import QueryBuilder
    from .search import SearchResults, Sort, Span

__all__ = ["SearchIndex", "bundled_seeds", "default_index", "SearchResults", "Span", "mark_html",
           "marked"]

# The search module's names the CLI and the web page use, imported on first use: a search
# loads that module anyway, and other commands need not.
_FROM_SEARCH = frozenset({"SearchResults", "Span", "mark_html", "marked"})


def __getattr__(name: str) -> object:
    if name not in _FROM_SEARCH:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import search

    return getattr(search, name)

PathLike = str | os.PathLike[str]


def bundled_seeds() -> Path:
    """The folder of seed articles shipped with searchidx (the default corpus)."""
    package = Path(__file__).resolve().parent
    # Inside the package once installed from a wheel; the checkout's seeds/ when editable.
    for candidate in (package / "seeds", package.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise IndexNotFound("the bundled seed articles are missing from this installation")


def default_index() -> tuple[Path, bool]:
    """Where the default index is (``$SEARCHIDX_INDEX``, else a per-user folder), and
    whether opening it builds it first from the bundled seeds (the per-user one, not
    built yet)."""
    if _is_cluster_url(os.environ.get("SEARCHIDX_INDEX", "")):
        return os.environ["SEARCHIDX_INDEX"], False
    location, per_user_default = default_location()
    return location, per_user_default and not IndexStore(location).exists()


def _is_cluster_url(location: object) -> bool:
    """Whether ``location`` is a URL (an OpenSearch index), not a folder; the engine that
    reads such URLs is imported only for one."""
    if "://" not in str(location):
        return False
    from .engine.opensearch.location import is_cluster_url

    return is_cluster_url(location)


def _create_empty(store: IndexStore | ClusterStore) -> None:
    """Make an empty index where there is none: in a folder at once (no writer is opened,
    there being nothing to write); on a cluster as a run of the indexer with no files."""
    if isinstance(store, IndexStore):
        store.create_empty()
        return
    from .indexer import update

    update(store, [])


# The search and query modules, imported by the first search. (An import statement in a
# method costs every search as much as its freshness check: a module's look-ups by name.)
@functools.cache
def _searching() -> types.ModuleType:
    from . import search

    return search


@functools.cache
def _querying() -> types.ModuleType:
    from . import query

    return query


def _reads_index(method: Callable) -> Callable:
    """Report an error met reading a damaged index as :class:`~searchidx.errors.IndexDamaged`,
    naming the damaged file (see :meth:`IndexStore.reading`)."""

    @functools.wraps(method)
    def reading(self: SearchIndex, *args, **kwargs):
        with self._store.reading():
            return method(self, *args, **kwargs)

    return reading


def _watcher(progress: Progress | None,
             on_progress: ProgressWatcher | None) -> ProgressWatcher | None:
    """One watcher for the indexer: ``on_progress`` at every step, ``progress`` once a file."""
    if progress is None:
        return on_progress
    files_told = 0

    def watch(state: IndexProgress) -> None:
        nonlocal files_told
        if on_progress:
            on_progress(state)
        if state.files_done > files_told:
            files_told = state.files_done
            progress(state.files_done, state.files_total)

    return watch


class SearchIndex:
    """A searchable index of news articles, kept in a folder on disk.

    Open one with :meth:`open`; use it as a context manager or call :meth:`close`.
    One open ``SearchIndex`` keeps its searchers between searches and notices when
    another process has updated or rebuilt the index. Several threads may search one
    ``SearchIndex`` at once: each searches with a snapshot of its own (an engine's snapshot
    must not be shared by threads), so a slow search holds up only its own thread.
    """

    def __init__(self, store: IndexStore, aliases_file: PathLike | None = None) -> None:
        self._store = store
        self._aliases_file = aliases_file
        self._aliases: Aliases | None = None
        self._local = threading.local()  # this thread's _Reader
        self._readers: list[_Reader] = []  # every thread's, to close them all
        self._readers_lock = threading.Lock()

    @classmethod
    def open(cls, location: PathLike | None = None, *, create: bool = False,
             aliases_file: PathLike | None = None, shards: int | None = None,
             replicas: int | None = None) -> SearchIndex:
        """Open the index at ``location``.

        With no location: ``$SEARCHIDX_INDEX``, else a per-user data folder, which is
        built from the bundled seed articles the first time. With ``create=True`` an
        empty index is made where there is none; otherwise a missing index raises
        :class:`~searchidx.errors.IndexNotFound`. Searches expand the shipped aliases
        plus those of ``aliases_file`` (default: ``$SEARCHIDX_ALIASES``, if set).

        A location ``opensearch://HOST:PORT/NAME`` (or ``opensearchs://``, ``https://``)
        is an index on an OpenSearch cluster (``pip install 'searchidx[opensearch]'``);
        ``shards`` and ``replicas`` are those of a new one (settings.OPENSEARCH_SHARDS,
        OPENSEARCH_REPLICAS by default).
        """
        url = os.environ.get("SEARCHIDX_INDEX", "") if location is None else location
        if _is_cluster_url(url):
            from .cluster import ClusterStore

            store = ClusterStore(str(url), shards, replicas)
        elif shards is not None or replicas is not None:
            raise SearchIdxError("shards and replicas are for an OpenSearch index "
                                 "(opensearch://HOST:PORT/NAME), not for an index folder")
        elif location is None:
            path, per_user_default = default_location()
            store = IndexStore(path)
            if per_user_default and not store.exists():  # (the indexer is imported only then)
                from .indexer import ensure_index

                ensure_index(store, [bundled_seeds()])
        else:
            store = IndexStore(Path(location).expanduser())
        if not store.exists():
            if not create:
                raise IndexNotFound(f"no index at {store.location} (create one with "
                                    f"`searchidx index PATH --index {store.location}`)")
            _create_empty(store)
        return cls(store, aliases_file)

    @property
    def location(self) -> Path:
        """The folder that holds the index."""
        return self._store.location

    @_reads_index
    def index(self, paths: Sequence[PathLike], *, progress: Progress | None = None,
              wait: float = LOCK_WAIT_SECONDS,
              on_progress: ProgressWatcher | None = None, date_order: str | None = None,
              force: bool = False) -> IndexReport:
        """Add new articles, update changed ones and remove those whose files are gone.

        ``paths`` are files or folders (read recursively). Unchanged files are passed
        over by size and modification time. Files that cannot be read are listed in
        ``report.skipped`` and the others are indexed all the same. The per-user default
        index starts as a demo of the bundled seeds: the first time other files are
        indexed into it, the seeds' articles leave it (``report.warnings`` says so).
        ``progress`` is called as ``progress(files_done, files_total)`` after each file;
        ``on_progress`` with an :class:`~searchidx.indexer.IndexProgress` (files, bytes
        and articles read) after each article and each file.

        ``date_order`` (``"dmy"`` or ``"mdy"``) reads all-numeric dates such as
        03/04/2024; without it such a date is not read (the article is indexed undated
        and ``report.warnings`` says so). A run that would leave fewer than half of the
        articles, other than those whose files are gone, raises
        :class:`~searchidx.errors.IndexWouldShrink` before changing anything, unless
        ``force=True``.
        """
        from .indexer import RunOptions, update

        return update(self._store, paths, _watcher(progress, on_progress), wait,
                      RunOptions(date_order, force), demo=self._demo_seeds())

    def rebuild(self, paths: Sequence[PathLike], *, progress: Progress | None = None,
                wait: float = LOCK_WAIT_SECONDS, on_progress: ProgressWatcher | None = None,
                date_order: str | None = None, force: bool = False) -> IndexReport:
        """Build a fresh index of exactly the articles of ``paths`` and swap it in atomically.

        Searches running meanwhile see the old index or the new one, never a mix.
        ``progress``, ``on_progress``, ``date_order`` and ``force`` are as for :meth:`index`.
        """
        from .indexer import RunOptions, rebuild

        return rebuild(self._store, paths, _watcher(progress, on_progress), wait,
                       RunOptions(date_order, force))

    @_reads_index
    def search(self, query: str, *, limit: int = DEFAULT_LIMIT, since: dt.date | None = None,
               until: dt.date | None = None, sort: Sort = "relevance",
               expand_aliases: bool = True,
               time_budget: float = SEARCH_TIME_BUDGET_SECONDS) -> SearchResults:
        """Search the index; every word must match, in the title or the body.

        ``since``/``until`` keep articles dated within those days (inclusive);
        ``sort="date"`` puts the newest first; ``expand_aliases=False`` searches the
        words as typed, without their aliases. If nothing matches, a spelling correction
        (``results.suggestion``) or any-word matching is tried, and ``results.notice``
        says so. A search that has taken ``time_budget`` seconds stops at its next check
        of the clock and returns what it has found, and the notice says so. Raises
        :class:`~searchidx.errors.QueryError` for an empty query or bad arguments.
        """
        snapshot = self._current_snapshot()
        return _searching().run_search(snapshot, self._query_builder(snapshot, expand_aliases),
                                       query, limit, since, until, sort, time_budget)

    @_reads_index
    def similar(self, article_id: str, *, limit: int = DEFAULT_LIMIT) -> SearchResults:
        """Articles related to the one with this id (never the article itself).

        Raises :class:`~searchidx.errors.ArticleNotFound` for an unknown id.
        """
        from .search import run_similar

        return run_similar(self._current_snapshot(), article_id, limit)

    @_reads_index
    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        from .documents import Article

        stored = self._current_snapshot().document(article_id)
        if stored is None:
            return None
        date = stored.get("date")
        return Article(id=stored["id"], path=stored.get("path", ""), title=stored["title"],
                       body=stored["body"], date=date.date() if date else None,
                       place=stored.get("place"), source=stored.get("source"),
                       url=stored.get("url"))

    @_reads_index
    def matches(self, article_id: str, query: str) -> tuple[Span, ...]:
        """Where ``query`` matches in an article's body, for marking the words on display.

        Returns the ``(start, end)`` offsets in :attr:`Article.body` of every matched word,
        in text order. The query is read as :meth:`search` reads it, so these are the words
        a search marks in its snippets. Empty when the article does not exist, the query
        does not match it, or the query is blank.
        """
        from .search import match_spans

        snapshot = self._current_snapshot()
        return match_spans(snapshot, self._query_builder(snapshot, True), article_id, query)

    @_reads_index
    def common_words(self, limit: int = 2) -> list[str]:
        """Words in the titles of many articles, most common first: examples of queries
        that find something here. They are words as the index holds them (folded, and
        stemmed: "compani"), which find the articles when searched."""
        terms = self._current_snapshot().most_frequent_terms("title", limit * 50)
        words = [term for _, term in sorted(terms, reverse=True)]
        return [word for word in words if word.isalpha() and len(word) >= _EXAMPLE_LETTERS][:limit]

    def check(self, *, repair: bool = False, wait: float = LOCK_WAIT_SECONDS,
              date_order: str | None = None, force: bool = False) -> CheckReport:
        """Compare every article with the file it came from (gone, changed, unreadable,
        duplicated); with ``repair=True``, re-index what differs and check again.
        ``date_order`` should be the one the articles were indexed with; ``force`` is as
        for :meth:`index`."""
        from . import integrity
        from .indexer import RunOptions

        options = RunOptions(date_order, force)
        report = integrity.check(self._store, options)
        return integrity.repair(self._store, report, wait, options) if repair else report

    @_reads_index
    def stats(self) -> IndexStats:
        """Where the index is, how many articles it holds, its size and last update, and
        whether a rebuild is needed to get the current analysis."""
        snapshot = self._current_snapshot()
        return self._store.stats(snapshot.doc_count(), snapshot.analysis_version())

    def close(self) -> None:
        """Release the open searchers and index, every thread's."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _demo_seeds(self) -> Path | None:
        """The bundled seeds if this is the per-user default index, which starts as their
        demo; their articles leave it when the user first indexes their own files."""
        if not may_be_default_location(self.location):
            return None
        location, per_user_default = default_location()
        return bundled_seeds() if per_user_default and location == self.location else None

    def _query_builder(self, snapshot: Snapshot, expand_aliases: bool) -> QueryBuilder:
        if expand_aliases and self._aliases is None:
            from .aliases import load_aliases

            self._aliases = load_aliases(self._aliases_file)
        return _querying().QueryBuilder(self._aliases if expand_aliases else None, snapshot)

    def _current_snapshot(self) -> Snapshot:
        """This thread's open snapshot of the index, reopened after a rebuild or an update.

        (Whoosh's ``refresh()`` would keep the readers of the segments still there with the
        deletions they had when opened: articles an update replaced or removed would
        still be found.)
        """
        generation = self._store.live_generation()
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None or reader.closed or not reader.is_current(generation):
            if reader is not None:
                reader.close()
            self._local.reader = reader = _Reader(self._store, generation)
            with self._readers_lock:
                self._readers = [*(other for other in self._readers if not other.closed), reader]
        return reader.snapshot


# The least letters of a word that common_words() offers as an example ("the" is no example).
_EXAMPLE_LETTERS = 5


class _Reader:
    """One thread's open snapshot, of one generation of the index."""

    def __init__(self, store: IndexStore, generation: Path) -> None:
        self.generation = generation
        self.snapshot = store.open_snapshot()
        self.closed = False

    def is_current(self, generation: Path) -> bool:
        return generation == self.generation and self.snapshot.is_current()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.snapshot.close()
