"""The indexer: reads the files given and writes what changed into the index.

``update`` adds new and changed articles in place and drops those whose files are gone;
``rebuild`` writes a fresh generation and swaps it in (see :mod:`searchidx.index` for the
folder of generations). Searching never loads this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import settings
from .analysis import exact_text
from .engine import counters
from .errors import IndexWouldShrink
from .index import IndexStore
from .settings import LOCK_WAIT_SECONDS

if TYPE_CHECKING:
    from .documents import Article, FileContent, KnownLine, KnownLines, SourceFile
    from .engine.interface import Snapshot, Writer
    from .engine.local import LocalSnapshot

__all__ = ["IndexProgress", "IndexReport", "IndexedFile", "Progress", "ProgressWatcher",
           "RunOptions", "Skipped", "absolute_roots", "ensure_index", "file_stamp",
           "indexed_files", "rebuild", "reindex_files", "update"]

Progress = Callable[[int, int], None]
"""Called as ``progress(files_done, files_total)`` while files are read."""


@dataclass(frozen=True)
class IndexProgress:
    """How far an ``index`` or ``rebuild`` run has got: the files and bytes of files read,
    and the articles read. A JSON-lines file's bytes count as its lines are read."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    articles: int


ProgressWatcher = Callable[[IndexProgress], None]
"""Called with an :class:`IndexProgress` after each article and each file read."""


# --- reports ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Skipped:
    """A file (or a line of one) that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class IndexReport:
    """What an ``index`` or ``rebuild`` run did, counted in articles.

    ``unreadable_dates`` says where each date that could not be read was (those articles
    are indexed undated); ``warnings`` sums them up in one line.
    """

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreadable_dates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"added", "updated", "removed", "unchanged", "skipped": [...],
        "warnings": [...], "unreadable_dates": [...]}``."""
        return asdict(self)

    def sum_up_dates(self) -> None:
        """One warning line for the dates that could not be read: a count, a few examples."""
        count = len(self.unreadable_dates)
        if count:
            examples = "; ".join(self.unreadable_dates[:settings.REPORT_DATE_EXAMPLES])
            self.warnings.append(f"{count} article{'s' if count != 1 else ''} had a date that "
                                 f"could not be read (indexed undated), e.g. {examples}")


# --- what is indexed now ---------------------------------------------------------------------

@dataclass
class IndexedFile:
    """What the index holds from one file: its stamp (size:mtime) and its articles.

    Each article records the file's stamp and the number of the run that wrote it. A run
    that reads a changed file rewrites only the articles that changed (and at least one),
    so the stamp written by the latest run is the file's: the index matched the whole
    file then. ``run`` is that run's number. A file that failed part-way through its
    latest run has articles of that run with different stamps: its stamp is unknown.
    A file that had problems (bad lines, duplicate ids, unreadable dates) has its stamp
    marked on the article written last, so that the next run reads it again.

    An article read from a JSON line that gave no note also records the line's digest
    (after its content hash): a line with those bytes is not parsed again.
    """

    stamp: str
    hashes: dict[str, str] = field(default_factory=dict)  # article id -> content hash
    run: int = 0
    lines: dict[str, str] = field(default_factory=dict)  # line digest -> article id


def indexed_files(snapshot: Snapshot) -> dict[str, IndexedFile]:
    """Path -> what is indexed from it, read from columns (no stored text is loaded)."""
    files: dict[str, IndexedFile] = {}
    stamps: dict[str, tuple[str, int]] = {}  # recorded -> split: a few values, many times
    for article_id, path, digest, recorded in snapshot.recorded_columns(_RECORDED):
        if (split := stamps.get(recorded)) is None:
            split = stamps[recorded] = _split_stamp(recorded)
        stamp, run = split
        if (entry := files.get(path)) is None:
            entry = files[path] = IndexedFile(stamp, run=run)
        elif run > entry.run:
            entry.stamp, entry.run = stamp, run
        elif run == entry.run and stamp != entry.stamp:
            entry.stamp = _one_run_stamp(entry.stamp, stamp)
        entry.hashes[article_id], _, line = digest.partition(_LINE_SEPARATOR)
        if line:
            entry.lines[line] = article_id
    return files


def file_stamp(path: Path) -> str:
    status = path.stat()
    return f"{status.st_size}:{status.st_mtime_ns}"


_RUN_SEPARATOR = "/"
_RECORDED = ("id", "path", "hash", "stamp")  # the recorded fields indexed_files() reads
_LINE_SEPARATOR = "+"  # in a recorded hash: content hash + line digest (older indexes: none)
_UNKNOWN_STAMP = ""  # never the stamp of a file
_PROBLEM_MARK = "!"  # after a stamp: the file had problems, so it is read (and reported) again


def _with_problems(stamp: str) -> str:
    return f"{stamp}{_PROBLEM_MARK}"


def _one_run_stamp(one: str, other: str) -> str:
    """The file's stamp from two that articles of one run recorded: the same but for the
    problem mark (written last), else unknown (the file failed part-way)."""
    if one.rstrip(_PROBLEM_MARK) == other.rstrip(_PROBLEM_MARK):
        return _with_problems(one.rstrip(_PROBLEM_MARK))
    return _UNKNOWN_STAMP


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
                "body": article.body, "date": date, "place": article.place,
                "source": article.source, "url": article.url,
                "hash": _recorded_hash(article), "stamp": recorded_stamp}
    document.update(_unstored_fields(article.title, article.body))
    return {name: value for name, value in document.items() if value is not None}


def _recorded_hash(article: Article) -> str:
    """What an article records of its text: ``content hash+line digest``, or the content
    hash alone when it has no line digest."""
    if article.line_hash is None:
        return article.content_hash
    return f"{article.content_hash}{_LINE_SEPARATOR}{article.line_hash}"


def _unstored_fields(title: str, body: str) -> dict[str, str]:
    """The fields indexed from the title and body but not stored (made again when an
    article is copied from its stored fields)."""
    return {"exact": exact_text(title, body), "body_pairs": body, "body_pairs_long": body}


class _SchemaNames(dict):
    """Whether the writer's schema has a field of this name: asked once a name (Whoosh's
    schema answers in Python; every article asks for each of its fields)."""

    def __init__(self, schema) -> None:
        super().__init__()
        self.schema = schema

    def __missing__(self, name: str) -> bool:
        self[name] = found = name in self.schema
        return found


def _in_schema(names: _SchemaNames, document: dict[str, object]) -> dict[str, object]:
    """The fields of ``document`` that the index has (an index built by an earlier
    version lacks the newer ones, such as ``body_pairs``)."""
    if all(map(names.__getitem__, document)):
        return document
    return {name: value for name, value in document.items() if names[name]}


# --- indexing -----------------------------------------------------------------------------

@dataclass
class _FileWrites:
    """One file's articles as the indexer goes through them."""

    read: bool = False
    duplicates: list[str] = field(default_factory=list)  # why each was skipped
    last: tuple[Article, str | None] | None = None  # the latest changed one and its old hash,
    # held back until the file is read to the end (its stamp tells whether it was)
    unchanged: Article | KnownLine | None = None  # the first unchanged one


class _Indexer:
    """One pass over the files given: reads what changed and writes it through a writer.

    In place, unchanged files are passed over by size and mtime (files that had problems
    are read again, to report them again), and only articles under the paths given can be
    removed. Into a fresh index (a rebuild, given a snapshot of the old one as
    ``previous``) every file is read and every article added; duplicate ids are judged
    among the files read alone, and the counts still compare with the old index.
    """

    def __init__(self, writer, indexed: dict[str, IndexedFile], previous=None) -> None:
        self.writer = writer
        self.schema_names = _SchemaNames(writer.schema)
        self.indexed = indexed
        self.previous = previous  # a snapshot of the old index, when building a fresh one
        self.fresh = previous is not None or not indexed
        self.run_number = 1 + max((entry.run for entry in indexed.values()), default=0)
        self.force = False  # read every file, whatever its size and mtime
        self.date_order: str | None = None  # how to read 03/04/2024: "dmy", "mdy" or not at all
        self.allow_shrink = False  # go on even if the index would lose half its articles
        self.writes = 0
        self.report = IndexReport()
        self.seen_paths: set[str] = set()
        self.old_hashes = {i: h for entry in indexed.values() for i, h in entry.hashes.items()}
        # Who holds each id: the live index's files when updating it; in a fresh index,
        # only what this run has read.
        self.id_owner = {} if previous is not None else {
            i: path for path, entry in indexed.items() for i in entry.hashes}
        # id -> where it was read: (path, line), or the run of known lines it was in
        self.first_copy: dict[str, tuple[str, int | None] | _KnownRun] = {}
        self.kept_ids: set[str] = set()
        self.meter = _Meter(None, [])
        self.gone_from_disk = 0  # articles removed because their file no longer exists

    def run(self, roots: Sequence[Path], progress: ProgressWatcher | None,
            sources: Sequence[SourceFile] | None = None) -> IndexReport:
        """Index ``sources`` (by default, every file under ``roots``), then remove the
        articles of files under ``roots`` that are gone."""
        sources = list(self._sources(roots)) if sources is None else sources
        self.meter = _Meter(progress, [_size(source.path) for source in sources])
        for source in sources:
            self._index_file(source)
            self.meter.file_done()
        self._remove_gone(roots)
        self.report.warnings = list(dict.fromkeys(self.report.warnings))
        self.report.sum_up_dates()
        return self.report

    def refuse_to_shrink(self) -> None:
        """Stop (before anything is committed) a run that would leave fewer than half of
        the articles, not counting those whose files are gone from disk."""
        before = sum(len(entry.hashes) for entry in self.indexed.values())
        after = before + self.report.added - self.report.removed
        kept_on_disk = before - self.gone_from_disk
        if self.allow_shrink or after * 2 >= kept_on_disk:
            return
        first_skip = (f"; first skipped: {self.report.skipped[0].path}: "
                      f"{self.report.skipped[0].reason}" if self.report.skipped else "")
        raise IndexWouldShrink(
            f"stopped: this would leave {after:,} of the index's {before:,} articles, "
            f"and the files of {kept_on_disk - after:,} of those dropped are still on disk "
            f"(not under the paths given, or no longer read){first_skip}; the index is "
            f"unchanged (--force, or force=True, goes on)")

    def _sources(self, roots: Sequence[Path]) -> Iterator[SourceFile]:
        from .documents import find_files  # reading files: only writers need it

        listed: set[Path] = set()  # a file under two of the paths is read once, as first met
        for root in roots:
            if not root.exists():
                if not _is_under_any_indexed(self.indexed, root):
                    self._skip(str(root), "no such file or folder")
                continue
            for source in find_files(root):
                if source.path not in listed:
                    listed.add(source.path)
                    yield source

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
            # A fresh index needs every article; a forced run reads every line again.
            pass_known = known and not (self.fresh or self.force)
            content = stream_file(source, date_order=self.date_order,
                                  known_lines=known.lines if pass_known else None)
            self._write_articles(path, content, stamp, known)
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
        from .documents import KnownLines

        old_hashes = known.hashes if known else {}
        writes = _FileWrites()
        try:
            for article in content.articles:
                if type(article) is KnownLines:
                    self._take_known(path, article, old_hashes, writes, stamp)
                    self.meter.lines_read(article.raws, content.bytes_read)
                    continue
                self._take(path, article, False, old_hashes, writes, stamp, content.line)
                self.meter.article_read(content.bytes_read)
        except OSError:  # failed part-way: the articles not read yet keep what they had
            self._finish_file(writes, _UNKNOWN_STAMP, known)
            raise
        if not writes.read:
            from .documents import UnreadableFile

            raise UnreadableFile(content.unreadable_reason())
        self.report.warnings.extend(content.warnings)
        self.report.unreadable_dates.extend(content.unreadable_dates)
        for reason in [*content.problems, *writes.duplicates]:
            self._skip(path, reason)
        had_problems = (content.problems or writes.duplicates or content.warnings
                        or content.unreadable_dates)
        self._finish_file(writes, _with_problems(stamp) if had_problems else stamp, known)
        for gone in set(old_hashes) - self.kept_ids:
            self._delete(gone)

    def _take(self, path: str, article: Article | KnownLine, known_line: bool,
              old_hashes: dict[str, str], writes: _FileWrites, stamp: str,
              line: int | None) -> None:
        """One article read from a file (at ``line`` of a JSON-lines file), or a known
        line (unchanged, not parsed): skipped, written, held back or kept."""
        writes.read = True
        counters["indexer: known line" if known_line else "indexer: article parsed"] += 1
        owner = self.id_owner.get(article.id)
        if article.id in self.kept_ids or (owner not in (None, path) and Path(owner).exists()):
            first = _place(*self._first_read(article.id, owner))
            writes.duplicates.append(f"duplicate id {article.id!r} (already indexed from {first})")
            return
        self.first_copy[article.id] = (path, line)  # said only for a duplicate: kept raw
        if not known_line and (self.fresh or old_hashes.get(article.id) != article.content_hash):
            if writes.last:
                self._write(*writes.last, stamp)
            writes.last = (article, self.old_hashes.get(article.id))
            self.kept_ids.add(article.id)
        elif writes.unchanged is None:
            writes.unchanged = article
            self.kept_ids.add(article.id)
        else:
            self._keep(article.id)

    def _take_known(self, path: str, run: KnownLines, old_hashes: dict[str, str],
                    writes: _FileWrites, stamp: str) -> None:
        """A run of known lines, each taken as :meth:`_take` takes it, at once where none
        is a duplicate: no id twice, none kept already, none held by another file."""
        ids = run.ids
        owners = set(map(self.id_owner.get, ids))
        if len(set(ids)) < len(ids) or not self.kept_ids.isdisjoint(ids) \
                or not owners <= {None, path}:
            for number, line in run.lines():
                self._take(path, line, True, old_hashes, writes, stamp, number)
            return
        writes.read = True
        counters["indexer: known line"] += len(ids)
        self.first_copy.update(zip(ids, itertools.repeat(_KnownRun(path, run.first, ids))))
        self.kept_ids.update(ids)
        self.report.unchanged += len(ids)
        if writes.unchanged is None:  # kept, but not counted as kept until the file ends
            writes.unchanged = next(run.lines())[1]
            self.report.unchanged -= 1

    def _first_read(self, article_id: str, owner: str | None) -> tuple[str, int | None]:
        """Where an article was first read in this run: ``(path, line)`` (the line None if
        not in a JSON-lines file); else ``(owner, None)``."""
        where = self.first_copy.get(article_id, (owner, None))
        return where.line_of(article_id) if isinstance(where, _KnownRun) else where

    def _finish_file(self, writes: _FileWrites, stamp: str, known: IndexedFile | None) -> None:
        """Write the article held back with ``stamp``; if none changed, rewrite the first
        unchanged one, so that the index records ``stamp`` for the file (unless it has)."""
        if writes.last:
            self._write(*writes.last, stamp)
            if writes.unchanged:
                self._keep(writes.unchanged.id)
        elif writes.unchanged and known and known.stamp == stamp:
            self._keep(writes.unchanged.id)
        elif writes.unchanged:
            article = _parsed(writes.unchanged)
            self._write(article, article.content_hash, stamp)

    def _keep(self, article_id: str) -> None:
        """An article already indexed as it is now."""
        self.kept_ids.add(article_id)
        self.report.unchanged += 1

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
        document = _in_schema(self.schema_names, document)
        self.writes += 1
        if self.fresh or previous_hash is None:  # no live article has the id: none to replace
            self.writer.add_document(**document)
        else:
            self.writer.update_document(**document)

    def _keep_old(self, path: str, known: IndexedFile) -> None:
        """Keep a file's indexed articles (those this run has not already written, if the
        file failed part-way); a fresh index copies them from the old one."""
        remaining = [article_id for article_id in known.hashes if article_id not in self.kept_ids]
        if self.previous is not None:
            remaining = [article_id for article_id in remaining if self._copy_old(path, article_id)]
        self.kept_ids.update(remaining)
        self.first_copy.update(dict.fromkeys(remaining, (path, None)))
        self.report.unchanged += len(remaining)

    def _copy_old(self, path: str, article_id: str) -> bool:
        """Copy an article from the old index into the fresh one; False if the old index
        is too damaged to give it (the article is lost, with a warning)."""
        try:
            stored = self.previous.document(article_id)
        except Exception:  # noqa: BLE001 (Whoosh raises many kinds on damaged files)
            stored = None
        if stored is None:
            self.report.warnings.append(f"{path}: the article {article_id!r} could not be kept "
                                        f"from the damaged index it replaces")
            return False
        unstored = _unstored_fields(stored.get("title", ""), stored.get("body", ""))
        self.writer.add_document(**_in_schema(self.schema_names, {**stored, **unstored}))
        return True

    def _remove_gone(self, roots: Sequence[Path]) -> None:
        """Remove the articles of files that are gone (under the paths given, unless fresh)."""
        for path, entry in self.indexed.items():
            if path in self.seen_paths or not (self.fresh or _is_under_any(path, roots)):
                continue
            gone = set(entry.hashes) - self.kept_ids
            if not os.path.lexists(path):
                self.gone_from_disk += len(gone)
            for article_id in gone:
                self._delete(article_id)

    def _delete(self, article_id: str) -> None:
        self.report.removed += 1
        self.kept_ids.discard(article_id)
        if not self.fresh:
            self.writes += 1
            self.writer.delete_by_term("id", article_id)

    def _skip(self, path: str, reason: str) -> None:
        self.report.skipped.append(Skipped(path, reason))


@dataclass(frozen=True)
class _KnownRun:
    """Where a run of known lines was read: one record for all its articles (a tuple
    each took a fifteenth of an update's line pass)."""

    path: str
    first: int  # the number of its first line
    ids: list[str]

    def line_of(self, article_id: str) -> tuple[str, int]:
        return self.path, self.first + self.ids.index(article_id)


def _place(path: str | None, line: int | None) -> str | None:
    """Where an article was read: ``path, line 3`` in a JSON-lines file, else the path."""
    return f"{path}, line {line}" if line else path


def _parsed(article: Article | KnownLine) -> Article:
    from .documents import KnownLine

    if not isinstance(article, KnownLine):
        return article
    counters["indexer: article parsed"] += 1
    return article.parse()


class _Meter:
    """Counts what a run has read, and tells ``watch`` after each article and each file."""

    def __init__(self, watch: ProgressWatcher | None, sizes: list[int]) -> None:
        self.watch = watch
        self.sizes = sizes
        self.bytes_total = sum(sizes)
        self.files_done = 0
        self.bytes_before = 0  # the sizes of the files done
        self.articles = 0

    def article_read(self, bytes_into_file: int) -> None:
        self.articles += 1
        if self.watch:  # asked once an article: nothing more to do when no one watches
            self._tell(self.bytes_before + min(bytes_into_file, self.sizes[self.files_done]))

    def lines_read(self, lines: list[bytes], bytes_into_file: int) -> None:
        """:meth:`article_read` for each of these lines, the last ending ``bytes_into_file``."""
        if not self.watch:
            self.articles += len(lines)
            return
        start = bytes_into_file - sum(map(len, lines))
        for read in itertools.accumulate(map(len, lines)):
            self.article_read(start + read)

    def file_done(self) -> None:
        self.bytes_before += self.sizes[self.files_done]
        self.files_done += 1
        self._tell(self.bytes_before)

    def _tell(self, bytes_done: int) -> None:
        if self.watch:
            self.watch(IndexProgress(self.files_done, len(self.sizes), bytes_done,
                                     self.bytes_total, self.articles))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone or unreadable: the indexer says why when it comes to it
        return 0


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


@dataclass(frozen=True)
class RunOptions:
    """How a run reads and what it may do: the order of all-numeric dates (``"dmy"``,
    ``"mdy"``, or None: such a date is not read), and ``force`` to go on even if the
    index would lose half of its articles (see :meth:`_Indexer.refuse_to_shrink`)."""

    date_order: str | None = None
    force: bool = False


def _runner(roots: Sequence[Path], progress: ProgressWatcher | None, options: RunOptions,
            sources: Sequence[SourceFile] | None = None) -> Callable[[_Indexer], IndexReport]:
    """What a run does with its indexer: read, then stop before a commit that would
    leave the index with fewer than half of its articles."""
    def run(indexer: _Indexer) -> IndexReport:
        indexer.date_order = options.date_order
        indexer.allow_shrink = indexer.allow_shrink or options.force
        indexer.force = sources is not None
        report = indexer.run(roots, progress, sources)
        indexer.refuse_to_shrink()
        return report

    return run


def update(store: IndexStore, paths: Sequence[str | os.PathLike[str]],
           progress: ProgressWatcher | None = None, wait: float = LOCK_WAIT_SECONDS,
           options: RunOptions = RunOptions(), demo: Path | None = None) -> IndexReport:
    """Add new files, update changed ones, remove the articles of files gone from ``paths``.

    ``demo`` is the folder of the bundled seeds when ``store`` is the per-user default
    index, which starts as a demo of them: while it holds nothing else, other ``paths``
    are indexed afresh, without the seeds (a report warning says so)."""
    roots = absolute_roots(paths)

    def demo_leaves(indexed: dict[str, IndexedFile]) -> str | None:
        if demo is None or all(_is_under(str(root), demo) for root in roots) \
                or not all(_is_under(path, demo) for path in indexed):
            return None
        count = sum(len(entry.hashes) for entry in indexed.values())
        return (f"the {count} demo articles bundled with searchidx left the default index "
                f"{store.location}: it holds your own articles now")

    return _in_place(store, wait, _runner(roots, progress, options),
                     lambda: _input_bytes(roots), demo_leaves)


def reindex_files(store: IndexStore, files: dict[str, str], wait: float = LOCK_WAIT_SECONDS,
                  options: RunOptions = RunOptions()) -> IndexReport:
    """Read these files again whatever their size and mtime, each keeping its article id
    (``{path: id}``); the articles of those that are gone are removed."""
    from .documents import SourceFile

    roots = [Path(path) for path in files]
    sources = [SourceFile(root, files[str(root)]) for root in roots
               if root.exists() or root.is_symlink()]
    return _in_place(store, wait, _runner(roots, None, options, sources),
                     lambda: _input_bytes(roots))


InputBytes = Callable[[], int]
"""How many bytes of files an indexing run will read, asked only for a fresh build."""


def _in_place(store: IndexStore, wait: float, run: Callable[[_Indexer], IndexReport],
              input_bytes: InputBytes,
              afresh: Callable[[dict[str, IndexedFile]], str | None] = lambda indexed: None,
              ) -> IndexReport:
    """Run an indexer on the live index under the writer lock; one commit, or none.
    An empty index is built afresh instead (see :func:`_build_fresh`), and so is one for
    which ``afresh(indexed)`` gives a reason (added to the report's warnings)."""
    with store.writing(wait):
        snapshot = store.open_snapshot() if store.exists() else None
        if snapshot is None or snapshot.is_empty():
            if snapshot is not None:
                snapshot.close()  # _build_fresh opens the index afresh
            return _build_fresh(store, run, input_bytes)
        indexed = indexed_files(snapshot)
        if reason := afresh(indexed):
            snapshot.close()
            report = _build_fresh(store, run, input_bytes, demo_leaves=True)
            report.warnings.append(reason)
            return report
        writer = snapshot.open_writer(memory_mb=settings.WRITER_MEMORY_MB)
        indexer = _Indexer(writer, indexed)
        with _objects_so_far_frozen():
            try:
                report = run(indexer)
            except BaseException:
                writer.cancel()
                raise
            if indexer.writes:
                writer.commit(merge=True)
            else:
                writer.cancel()
        snapshot.close()
        return report


@contextlib.contextmanager
def _objects_so_far_frozen() -> Iterator[None]:
    """Keep the objects that exist now (the open index, what it holds of every file, the
    caller's own) out of the garbage collector's passes until the block ends: they outlive
    it. In a program holding many objects (the benchmark holds its corpus) passing over
    them again and again took a sixth of the time an update of 1 % of Reuters spent
    analysing articles. A program that froze objects itself is left as it is (unfreezing
    would thaw its objects too)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Let the garbage collector pass less often while a fresh index is written (worker
    processes forked meanwhile inherit it): a writer's postings are many containers that
    live until it commits, and each pass over the older generations goes over them again
    (the measurements: docs/performance.md). A higher threshold set by the caller is kept."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], settings.WRITER_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def rebuild(store: IndexStore, paths: Sequence[str | os.PathLike[str]],
            progress: ProgressWatcher | None = None, wait: float = LOCK_WAIT_SECONDS,
            options: RunOptions = RunOptions()) -> IndexReport:
    """Build a fresh index from ``paths`` beside the live one and swap it in atomically."""
    with store.writing(wait):
        return _rebuild_locked(store, absolute_roots(paths), progress, options)


def _rebuild_locked(store: IndexStore, roots: list[Path], progress: ProgressWatcher | None,
                    options: RunOptions = RunOptions()) -> IndexReport:
    return _build_fresh(store, _runner(roots, progress, options), lambda: _input_bytes(roots))


def _build_fresh(store: IndexStore, run: Callable[[_Indexer], IndexReport],
                 input_bytes: InputBytes, demo_leaves: bool = False) -> IndexReport:
    """Write a new generation with ``run`` (the old one's articles are compared, and kept
    where a file fails) and swap it in once complete. When the demo's articles leave
    (``demo_leaves``), the index may shrink: they were never the user's."""
    old = store.open_readable() if store.exists() else None
    indexed = indexed_files(old) if old else {}
    folder, fresh = store.create_generation()
    try:
        with _fewer_collections():
            writer = _fresh_writer(store, fresh, input_bytes())
            indexer = _Indexer(writer, indexed, previous=old)
            indexer.allow_shrink = demo_leaves
            try:
                report = run(indexer)
            except BaseException:
                writer.cancel()
                raise
            writer.commit(optimize=True)
        fresh.close()
    except BaseException:
        store.discard(folder)
        raise
    finally:
        if old is not None:
            old.close()
    store.publish(folder)
    return report


def _fresh_writer(store: IndexStore, fresh: LocalSnapshot, input_bytes: int) -> Writer:
    """One writer; several worker processes for a large build where there are cores."""
    processes = min(settings.WRITER_PROCESSES, _usable_cpus())
    if processes > 1 and input_bytes >= settings.PARALLEL_MIN_BYTES:
        return fresh.open_writer(processes, store.lock_fd, settings.WRITER_MEMORY_MB)
    return fresh.open_writer(memory_mb=settings.WRITER_MEMORY_MB)


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
