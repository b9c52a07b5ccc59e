"""The index: its schema, where it lives, and how it is built, updated and rebuilt.

On disk an index is a folder holding Whoosh indexes in generations::

    DIR/CURRENT          names the live generation ("gen-000002")
    DIR/gen-000002/      a complete Whoosh index
    DIR/write.lock       held by the one process writing

``index`` updates the live generation in place (Whoosh commits atomically). ``rebuild``
writes a new generation beside it and swaps ``CURRENT`` with an atomic rename, so a
search sees the old index or the new one, never a half-built one. The generation before
the live one is kept, so a reader that was opening it when the swap came still succeeds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from whoosh.fields import ID, TEXT
from whoosh.system import pack_uint

from . import settings
from .analysis import exact_terms, prose_terms, spelling_words
from .errors import IndexLocked, IndexNotFound, IndexUnusable
from .settings import LOCK_WAIT_SECONDS, PLACE_BOOST, TITLE_BOOST, WRITER_MEMORY_MB

if TYPE_CHECKING:
    from .documents import Article, FileContent, SourceFile

__all__ = ["IndexReport", "IndexStats", "IndexStore", "Progress", "Skipped", "build_schema",
           "default_location", "ensure_index", "indexed_files", "rebuild", "reindex_files",
           "update"]

Progress = Callable[[int, int], None]
"""Called as ``progress(files_done, files_total)`` while files are read."""

_GENERATION_PREFIX = "gen-"


# --- reports ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Skipped:
    """A file (or a line of one) that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class IndexReport:
    """What an ``index`` or ``rebuild`` run did, counted in articles."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"added", "updated", "removed", "unchanged", "skipped": [...]}``."""
        report = asdict(self)
        del report["warnings"]
        return report


@dataclass(frozen=True)
class IndexStats:
    """Where an index is and what it holds."""

    location: str
    articles: int
    size_bytes: int
    updated: dt.datetime

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"index", "articles", "size_bytes", "updated"}``."""
        return {"index": self.location, "articles": self.articles,
                "size_bytes": self.size_bytes, "updated": self.updated.isoformat()}


# --- schema and location -----------------------------------------------------------------

class SpelledText(TEXT):
    """A prose field (title, body) indexed in one pass, its spelling words written once.

    Whoosh runs the analyzer's chain of filters once per token, then again for the
    spelling words; :func:`~searchidx.analysis.prose_terms` makes the same terms in one
    pass, folding and stemming each distinct word once. And Whoosh adds the words of
    every article to the field's spelling list, one posting per article and word, only
    to record which words exist: a writer gets its own copy of the schema, so here each
    word is written once per writer. Index files name this class: keep its name and module.
    """

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        terms, plain = prose_terms(value)
        if self.spelling:
            self.__dict__["_last_words"] = (value, plain)
        encode, boost = self.format.encode, self.format.field_boost
        for term, occurrences in terms.items():
            yield term.encode("utf-8"), len(occurrences), boost * len(occurrences), encode(occurrences)

    def spellable_words(self, value: str) -> Iterator[str]:
        last_value, plain = self.__dict__.pop("_last_words", (None, None))
        words = plain if last_value is value else spelling_words(value)
        written = self.__dict__.setdefault("_written_words", set())
        words = words - written
        written.update(words)
        return iter(sorted(words))

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_written_words", None)  # the words of one writer, never saved
        state.pop("_last_words", None)
        return state


class ExactText(TEXT):
    """The exact-forms field, indexed in one pass like :class:`SpelledText`."""

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for term, frequency in exact_terms(value).items():
            yield term.encode("utf-8"), frequency, boost * frequency, pack_uint(frequency)


class Recorded(ID):
    """A value the indexer keeps for each article (stored, in a column) but never
    searches: it makes no index terms. Index files name this class: keep its name."""

    indexed = False


def build_schema():
    """The Whoosh schema. Stored text is the original NFC text, so snippets keep accents."""
    from whoosh.columns import NumericColumn
    from whoosh.fields import DATETIME, STORED, Schema

    from .analysis import exact_analyzer, name_analyzer, prose_analyzer

    prose, names = prose_analyzer(), name_analyzer()
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        path=Recorded(stored=True, sortable=True),
        # No spelling list of its own: corrections come from the body's words, and the
        # title's would double the terms written for a fifth more words.
        title=SpelledText(analyzer=prose, stored=True, chars=True, field_boost=TITLE_BOOST),
        body=SpelledText(analyzer=prose, stored=True, chars=True, spelling=True),
        # The words of title and body whose exact form matters (accented words, acronyms):
        # to rank exact spellings first, and to tell "UN" from "Jong-un". Not stored.
        exact=ExactText(analyzer=exact_analyzer(), phrase=False),
        # Undated articles sort as the oldest (Whoosh's default would make them the newest).
        date=DATETIME(stored=True, sortable=NumericColumn("Q", default=0)),
        place=TEXT(analyzer=names, stored=True, field_boost=PLACE_BOOST),
        source=TEXT(analyzer=names, stored=True),
        url=STORED(),
        hash=Recorded(stored=True, sortable=True),
        stamp=Recorded(stored=True, sortable=True),
    )


def default_location() -> tuple[Path, bool]:
    """The index folder to use when none is given, and whether it is the per-user default.

    ``SEARCHIDX_INDEX`` wins; otherwise the per-user data folder (``platformdirs``).
    """
    configured = os.environ.get("SEARCHIDX_INDEX")
    if configured:
        return Path(configured).expanduser(), False
    import platformdirs

    return Path(platformdirs.user_data_dir("searchidx", appauthor=False)) / "index", True


# --- the folder of generations ------------------------------------------------------------------

class IndexStore:
    """An index folder: its generations, the pointer to the live one, and the writer lock."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self._pointer = location / "CURRENT"
        self.lock_fd: int | None = None  # the open lock file's descriptor, while writing

    def exists(self) -> bool:
        """Whether the folder holds a usable index."""
        return self._pointer.is_file()

    def live_generation(self) -> Path:
        """The folder of the live Whoosh index."""
        try:
            name = self._pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexNotFound(f"no index at {self.location}") from None
        except OSError as error:
            raise IndexUnusable(f"cannot read the index at {self.location}: {error}") from None
        if not name.startswith(_GENERATION_PREFIX) or "/" in name or "\\" in name:
            raise IndexUnusable(f"the index at {self.location} is damaged "
                                f"(CURRENT names {name!r}); run `searchidx rebuild`")
        return self.location / name

    def open(self):
        """Open the live Whoosh index, retrying once if a rebuild swapped it meanwhile."""
        from whoosh import index as whoosh_index

        for attempt in range(3):
            generation = self.live_generation()
            try:
                return _storage(generation).open_index()
            except (FileNotFoundError, whoosh_index.EmptyIndexError):
                if attempt == 2:
                    break
                time.sleep(0.05)
            except Exception as error:  # Whoosh raises many kinds on damaged files
                raise IndexUnusable(f"cannot open the index at {self.location}: {error}") from None
        raise IndexUnusable(f"the index at {self.location} is damaged; run `searchidx rebuild`")

    def create_generation(self):
        """Make a new, empty generation folder and return ``(path, whoosh_index)``."""
        self.location.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[len(_GENERATION_PREFIX):]) for p in self._generations()]
        folder = self.location / f"{_GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"
        folder.mkdir()
        return folder, _storage(folder).create_index(build_schema())

    def publish(self, generation: Path) -> None:
        """Make ``generation`` the live one (an atomic rename), then drop the older ones."""
        previous = self.live_generation() if self.exists() else None
        temporary = self._pointer.with_name("CURRENT.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(generation.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._pointer)
        keep = {generation, previous}
        for folder in self._generations():
            if folder not in keep:
                self.discard(folder)

    def discard(self, generation: Path) -> None:
        """Remove a generation folder (one never published, or one no longer needed)."""
        import shutil  # only writers remove folders: kept out of start-up

        shutil.rmtree(generation, ignore_errors=True)

    def _discard_unpublished(self) -> None:
        """Remove generations newer than the live one: a rebuild that was killed left them."""
        if not self.exists():
            return
        live = self.live_generation().name
        for folder in self._generations():
            if folder.name > live:
                self.discard(folder)

    def _generations(self) -> list[Path]:
        if not self.location.is_dir():
            return []
        return [p for p in self.location.iterdir() if p.is_dir()
                and p.name.startswith(_GENERATION_PREFIX)
                and p.name[len(_GENERATION_PREFIX):].isdigit()]

    @contextlib.contextmanager
    def writing(self, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
        """Hold the writer lock; raise :class:`IndexLocked` after ``wait`` seconds.

        The lock is an OS file lock, so the kernel drops it when its process dies:
        a killed writer never leaves a stale lock behind.
        """
        self.location.mkdir(parents=True, exist_ok=True)
        lock_path = self.location / "write.lock"
        with open(lock_path, "a+b") as handle:
            self.lock_fd = handle.fileno()
            deadline = time.monotonic() + wait
            while not _try_lock(handle):
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"the index at {self.location} is being written by "
                                      f"another process (lock {lock_path}); try again later")
                time.sleep(0.1)
            try:
                self._discard_unpublished()
                yield
            finally:
                self.lock_fd = None
                _unlock(handle)

    def stats(self, articles: int) -> IndexStats:
        """Size and last update of the live generation."""
        files = [p for p in self.live_generation().iterdir() if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        newest = max((p.stat().st_mtime for p in files), default=time.time())
        updated = dt.datetime.fromtimestamp(newest, tz=dt.timezone.utc).replace(microsecond=0)
        return IndexStats(str(self.location), articles, size, updated)


def _storage(folder: Path):
    """Whoosh's storage for a generation folder, reading files without ``mmap``.

    Whoosh copies each memory-mapped file it opens into a buffer of its own, so opening
    an index read the whole index into memory: time and memory that grew with the
    archive, for every search command and every writer. Plain reads open at once.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(folder), supports_mmap=False)


def _try_lock(handle) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle) -> None:
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- what is indexed now ---------------------------------------------------------------------

@dataclass
class IndexedFile:
    """What the index holds from one file: its stamp (size:mtime) and its articles.

    Each article records the file's stamp and the number of the run that wrote it. A run
    that reads a changed file rewrites only the articles that changed (and at least one),
    so the stamp written by the latest run is the file's: the index matched the whole
    file then. ``run`` is that run's number. A file that failed part-way through its
    latest run has articles of that run with different stamps: its stamp is unknown.
    """

    stamp: str
    hashes: dict[str, str] = field(default_factory=dict)  # article id -> content hash
    run: int = 0


def indexed_files(reader) -> dict[str, IndexedFile]:
    """Path -> what is indexed from it, read from columns (no stored text is loaded)."""
    if reader.doc_count_all() == 0:
        return {}  # an empty reader has no columns
    live = set(reader.all_doc_ids()) if reader.has_deletions() else None
    # Each column read whole, front to back: twice as fast as by document number.
    rows = zip(*[list(reader.column_reader(name)) for name in ("id", "path", "hash", "stamp")])
    files: dict[str, IndexedFile] = {}
    for docnum, (article_id, path, digest, recorded) in enumerate(rows):
        if live is not None and docnum not in live:
            continue
        stamp, run = _split_stamp(recorded)
        entry = files.setdefault(path, IndexedFile(stamp, run=run))
        if run > entry.run:
            entry.stamp, entry.run = stamp, run
        elif run == entry.run and stamp != entry.stamp:
            entry.stamp = _UNKNOWN_STAMP
        entry.hashes[article_id] = digest
    return files


def file_stamp(path: Path) -> str:
    status = path.stat()
    return f"{status.st_size}:{status.st_mtime_ns}"


_RUN_SEPARATOR = "/"
_UNKNOWN_STAMP = ""  # never the stamp of a file


def _recorded_stamp(stamp: str, run: int) -> str:
    """What an article records of its file: ``size:mtime/run``."""
    return f"{stamp}{_RUN_SEPARATOR}{run}"


def _split_stamp(recorded: str) -> tuple[str, int]:
    """A recorded ``size:mtime/run`` as ``(stamp, run)``; older indexes have no run (0)."""
    stamp, _, run = recorded.partition(_RUN_SEPARATOR)
    return stamp, int(run or 0)


def _document(article: Article, recorded_stamp: str) -> dict[str, object]:
    date = dt.datetime.combine(article.date, dt.time()) if article.date else None
    document = {"id": article.id, "path": article.path, "title": article.title,
                "body": article.body, "exact": f"{article.title}\n{article.body}",
                "date": date, "place": article.place,
                "source": article.source, "url": article.url,
                "hash": article.content_hash, "stamp": recorded_stamp}
    return {name: value for name, value in document.items() if value is not None}


# --- indexing -----------------------------------------------------------------------------

@dataclass
class _FileWrites:
    """One file's articles as the indexer goes through them."""

    read: bool = False
    duplicates: list[str] = field(default_factory=list)  # why each was skipped
    last: tuple[Article, str | None] | None = None  # the latest changed one and its old hash,
    # held back until the file is read to the end (its stamp tells whether it was)
    unchanged: Article | None = None  # the first unchanged one


class _Indexer:
    """One pass over the files given: reads what changed and writes it through a writer.

    In place, unchanged files are passed over by size and mtime, and only articles under
    the paths given can be removed. Into a fresh index (a rebuild, given a searcher on the
    old one as ``previous``) every file is read and every article added; the counts still
    compare with the old index.
    """

    def __init__(self, writer, indexed: dict[str, IndexedFile], previous=None) -> None:
        self.writer = writer
        self.indexed = indexed
        self.previous = previous  # a searcher on the old index, when building a fresh one
        self.fresh = previous is not None or not indexed
        self.run_number = 1 + max((entry.run for entry in indexed.values()), default=0)
        self.force = False  # read every file, whatever its size and mtime
        self.writes = 0
        self.report = IndexReport()
        self.seen_paths: set[str] = set()
        self.id_owner = {i: path for path, entry in indexed.items() for i in entry.hashes}
        self.kept_ids: set[str] = set()

    def run(self, roots: Sequence[Path], progress: Progress | None,
            sources: Sequence[SourceFile] | None = None) -> IndexReport:
        """Index ``sources`` (by default, every file under ``roots``), then remove the
        articles of files under ``roots`` that are gone."""
        sources = list(self._sources(roots)) if sources is None else sources
        for done, source in enumerate(sources, start=1):
            self._index_file(source)
            if progress:
                progress(done, len(sources))
        self._remove_gone(roots)
        self.report.warnings = list(dict.fromkeys(self.report.warnings))
        return self.report

    def _sources(self, roots: Sequence[Path]) -> Iterator[SourceFile]:
        from .documents import find_files  # reading files: only writers need it

        for root in roots:
            if not root.exists():
                if not _is_under_any_indexed(self.indexed, root):
                    self._skip(str(root), "no such file or folder")
                continue
            yield from find_files(root)

    def _index_file(self, source: SourceFile) -> None:
        from .documents import UnreadableFile, os_error_reason, stream_file

        path = str(source.path)
        self.seen_paths.add(path)
        known = self.indexed.get(path)
        try:
            stamp = file_stamp(source.path)
            if known and not (self.fresh or self.force) and known.stamp == stamp:
                self.report.unchanged += len(known.hashes)
                self.kept_ids.update(known.hashes)
                return
            self._write_articles(path, stream_file(source), stamp, known)
        except FileNotFoundError:
            if not source.path.is_symlink():  # vanished meanwhile: gone, like a deleted file
                self.seen_paths.discard(path)
                return
            self._not_read(path, known, "broken symbolic link")
        except UnreadableFile as error:
            self._not_read(path, known, str(error))
        except OSError as error:
            self._not_read(path, known, os_error_reason(error))

    def _not_read(self, path: str, known: IndexedFile | None, reason: str) -> None:
        self._skip(path, reason)
        if known:  # a file gone bad keeps the articles it had
            self._keep_old(path, known)

    def _write_articles(self, path: str, content: FileContent, stamp: str,
                        known: IndexedFile | None) -> None:
        """Write the file's new and changed articles as they are read, then remove those
        gone from it. Unchanged articles are not rewritten, except one when nothing else
        was, so that the index records the file's new stamp (see :class:`IndexedFile`)."""
        old_hashes = known.hashes if known else {}
        writes = _FileWrites()
        try:
            for article in content.articles:
                self._take(path, article, old_hashes, writes, stamp)
        except OSError:  # failed part-way: the articles not read yet keep what they had
            self._finish_file(writes, _UNKNOWN_STAMP)
            raise
        if not writes.read:
            from .documents import UnreadableFile

            raise UnreadableFile(content.unreadable_reason())
        self.report.warnings.extend(content.warnings)
        for reason in [*content.problems, *writes.duplicates]:
            self._skip(path, reason)
        self._finish_file(writes, stamp)
        for gone in set(old_hashes) - self.kept_ids:
            self._delete(gone)

    def _take(self, path: str, article: Article, old_hashes: dict[str, str],
              writes: _FileWrites, stamp: str) -> None:
        """One article read from a file: skipped, written, held back or kept."""
        writes.read = True
        owner = self.id_owner.get(article.id)
        if article.id in self.kept_ids or (owner not in (None, path) and Path(owner).exists()):
            writes.duplicates.append(f"duplicate id {article.id!r} (already indexed from {owner})")
        elif self.fresh or old_hashes.get(article.id) != article.content_hash:
            if writes.last:
                self._write(*writes.last, stamp)
            writes.last = (article, self._previous_hash(article.id, owner))
            self.kept_ids.add(article.id)
        elif writes.unchanged is None:
            writes.unchanged = article
            self.kept_ids.add(article.id)
        else:
            self._keep(article.id)

    def _finish_file(self, writes: _FileWrites, stamp: str) -> None:
        """Write the article held back with ``stamp``; if none changed, rewrite the first
        unchanged one, so that the index records ``stamp`` for the file."""
        if writes.last:
            self._write(*writes.last, stamp)
            if writes.unchanged:
                self._keep(writes.unchanged.id)
        elif writes.unchanged:
            self._write(writes.unchanged, writes.unchanged.content_hash, stamp)

    def _keep(self, article_id: str) -> None:
        """An article already indexed as it is now."""
        self.kept_ids.add(article_id)
        self.report.unchanged += 1

    def _previous_hash(self, article_id: str, owner: str | None) -> str | None:
        return self.indexed[owner].hashes[article_id] if owner else None

    def _write(self, article: Article, previous_hash: str | None, stamp: str) -> None:
        self.kept_ids.add(article.id)
        self.id_owner[article.id] = article.path
        if previous_hash is None:
            self.report.added += 1
        elif previous_hash == article.content_hash:
            self.report.unchanged += 1
        else:
            self.report.updated += 1
        document = _document(article, _recorded_stamp(stamp, self.run_number))
        self.writes += 1
        if self.fresh:
            self.writer.add_document(**document)
        else:
            self.writer.update_document(**document)

    def _keep_old(self, path: str, known: IndexedFile) -> None:
        """Keep a file's indexed articles (those this run has not already written, if the
        file failed part-way); a fresh index copies them from the old one."""
        remaining = [article_id for article_id in known.hashes if article_id not in self.kept_ids]
        self.kept_ids.update(remaining)
        self.report.unchanged += len(remaining)
        if self.previous is not None:
            for article_id in remaining:
                self.writer.add_document(**self.previous.document(id=article_id))

    def _remove_gone(self, roots: Sequence[Path]) -> None:
        """Remove the articles of files that are gone (under the paths given, unless fresh)."""
        for path, entry in self.indexed.items():
            if path in self.seen_paths or not (self.fresh or _is_under_any(path, roots)):
                continue
            for article_id in set(entry.hashes) - self.kept_ids:
                self._delete(article_id)

    def _delete(self, article_id: str) -> None:
        self.report.removed += 1
        self.kept_ids.discard(article_id)
        if not self.fresh:
            self.writes += 1
            self.writer.delete_by_term("id", article_id)

    def _skip(self, path: str, reason: str) -> None:
        self.report.skipped.append(Skipped(path, reason))


def _is_under_any_indexed(indexed: dict[str, IndexedFile], root: Path) -> bool:
    return any(_is_under(path, root) for path in indexed)


def _is_under(path: str, root: Path) -> bool:
    root_text = str(root)
    return path == root_text or path.startswith(root_text.rstrip(os.sep) + os.sep)


def _is_under_any(path: str, roots: Sequence[Path]) -> bool:
    """Whether ``path`` is one of ``roots`` or inside one of them."""
    return any(_is_under(path, root) for root in roots)


def absolute_roots(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The paths given, made absolute (symbolic links are kept as named)."""
    return [Path(os.path.abspath(os.fspath(p))) for p in paths]


def update(store: IndexStore, paths: Sequence[str | os.PathLike[str]],
           progress: Progress | None = None, wait: float = LOCK_WAIT_SECONDS) -> IndexReport:
    """Add new files, update changed ones, remove the articles of files gone from ``paths``."""
    roots = absolute_roots(paths)
    return _in_place(store, wait, lambda indexer: indexer.run(roots, progress),
                     lambda: _input_bytes(roots))


def reindex_files(store: IndexStore, files: dict[str, str],
                  wait: float = LOCK_WAIT_SECONDS) -> IndexReport:
    """Read these files again whatever their size and mtime, each keeping its article id
    (``{path: id}``); the articles of those that are gone are removed."""
    from .documents import SourceFile

    roots = [Path(path) for path in files]
    sources = [SourceFile(root, files[str(root)]) for root in roots
               if root.exists() or root.is_symlink()]

    def run(indexer: _Indexer) -> IndexReport:
        indexer.force = True
        return indexer.run(roots, None, sources)

    return _in_place(store, wait, run, lambda: _input_bytes(roots))


InputBytes = Callable[[], int]
"""How many bytes of files an indexing run will read, asked only for a fresh build."""


def _in_place(store: IndexStore, wait: float, run: Callable[[_Indexer], IndexReport],
              input_bytes: InputBytes) -> IndexReport:
    """Run an indexer on the live index under the writer lock; one commit, or none.
    An empty index is built afresh instead (see :func:`_build_fresh`)."""
    with store.writing(wait):
        whoosh_index = store.open() if store.exists() else None
        if whoosh_index is None or whoosh_index.doc_count_all() == 0:
            return _build_fresh(store, run, input_bytes)
        with whoosh_index.reader() as reader:
            indexed = indexed_files(reader)
        writer = whoosh_index.writer(limitmb=WRITER_MEMORY_MB)
        indexer = _Indexer(writer, indexed)
        try:
            report = run(indexer)
        except BaseException:
            writer.cancel()
            raise
        if indexer.writes:
            writer.commit(merge=True)
        else:
            writer.cancel()
        whoosh_index.close()
        return report


def rebuild(store: IndexStore, paths: Sequence[str | os.PathLike[str]],
            progress: Progress | None = None, wait: float = LOCK_WAIT_SECONDS) -> IndexReport:
    """Build a fresh index from ``paths`` beside the live one and swap it in atomically."""
    with store.writing(wait):
        return _rebuild_locked(store, absolute_roots(paths), progress)


def _rebuild_locked(store: IndexStore, roots: list[Path], progress: Progress | None) -> IndexReport:
    return _build_fresh(store, lambda indexer: indexer.run(roots, progress),
                        lambda: _input_bytes(roots))


def _build_fresh(store: IndexStore, run: Callable[[_Indexer], IndexReport],
                 input_bytes: InputBytes) -> IndexReport:
    """Write a new generation with ``run`` (the old one's articles are compared, and kept
    where a file fails) and swap it in once complete."""
    indexed: dict[str, IndexedFile] = {}
    old_searcher = None
    if store.exists():
        old_searcher = store.open().searcher()
        indexed = indexed_files(old_searcher.reader())
    folder, whoosh_index = store.create_generation()
    try:
        writer = _fresh_writer(store, whoosh_index, input_bytes())
        indexer = _Indexer(writer, indexed, previous=old_searcher)
        try:
            report = run(indexer)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=True)
        whoosh_index.close()
    except BaseException:
        store.discard(folder)
        raise
    finally:
        if old_searcher is not None:
            old_searcher.close()
    store.publish(folder)
    return report


def _fresh_writer(store: IndexStore, whoosh_index, input_bytes: int):
    """One writer; several worker processes for a large build where there are cores."""
    processes = min(settings.WRITER_PROCESSES, _usable_cpus())
    if processes > 1 and input_bytes >= settings.PARALLEL_MIN_BYTES:
        from .parallel import ParallelWriter

        return ParallelWriter(whoosh_index, processes, store.lock_fd,
                              limitmb=WRITER_MEMORY_MB // processes)
    return whoosh_index.writer(limitmb=WRITER_MEMORY_MB)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _input_bytes(roots: Sequence[Path]) -> int:
    """The size of the files under ``roots`` (a directory walk; no file is read)."""
    from .documents import find_files

    total = 0
    for root in roots:
        with contextlib.suppress(OSError):
            for source in find_files(root) if root.exists() else ():
                with contextlib.suppress(OSError):
                    total += source.path.stat().st_size
    return total


def ensure_index(store: IndexStore, seed_paths: Sequence[Path]) -> IndexReport | None:
    """Build the index from ``seed_paths`` if the store holds none yet."""
    if store.exists():
        return None
    with store.writing():
        if store.exists():  # another process built it while we waited
            return None
        return _rebuild_locked(store, absolute_roots(seed_paths), None)
